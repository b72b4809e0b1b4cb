"""Model fields encrypted at rest (see locus.core.crypto).

`EncryptedTextField` holds a str, `EncryptedJSONField` any JSON value; the column is TEXT on
SQLite and PostgreSQL and holds a Fernet token. Reading a row decrypts; saving encrypts with the
newest key. `manage.py rotate_keys` finds every such field by type and re-encrypts it.

What the database cannot do with ciphertext:

- Lookups: each encryption is randomised, so `filter(field="x")`, `icontains`, `in`, ranges…
  can never match. They raise `FieldError`. Only `isnull` and, on the text field,
  `exact=""` (the unencrypted empty value) are allowed. Search or aggregate on separate
  non-identifying fields instead.
- Ordering by the field is allowed by the database but meaningless (it sorts ciphertext).
- `unique` and `db_index` make no sense and are refused by a system check (locus.E101).

Empty values cost nothing: None is stored as NULL and the empty string as "" for the text
field, both unencrypted, so "no contact details" is visible without a key but nothing else is.
A value that no configured key decrypts raises `DecryptionError` naming the model and field,
never returning garbage. `dumpdata` writes plaintext (like any field's value): treat its output
as personal data.
"""

import json
from functools import cache

from django import forms
from django.core import checks
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull, Lookup
from django.utils.functional import Promise

from locus.core.crypto import DecryptionError, decrypt_text, encrypt_text

__all__ = ["DecryptionError", "EncryptedJSONField", "EncryptedTextField"]


def _refusal(field, lookup_name):
    return FieldError(
        f"{type(field).__name__} '{field.name}' is encrypted: the lookup '{lookup_name}' cannot "
        'work on ciphertext (only __isnull, and ="" on EncryptedTextField, are allowed)'
    )


class _RefusedLookup(Lookup):
    """Stands in for every lookup an encrypted field cannot support and raises when used.

    Returned (rather than raising from get_lookup) so that code probing whether a lookup exists,
    such as the admin's lookup_allowed, keeps working and the error comes when a query is built.
    """

    def __init__(self, lhs, rhs):
        raise _refusal(lhs.output_field, self.lookup_name)


@cache
def _refused(lookup_name):
    return type(f"Refused_{lookup_name}", (_RefusedLookup,), {"lookup_name": lookup_name})


class _EmptyOnlyExact(Exact):
    """`field=""` finds rows with no value; any other value could never match a ciphertext."""

    def get_prep_lookup(self):
        if self.rhs != "":
            raise _refusal(self.lhs.output_field, 'exact (with a value other than "")')
        return super().get_prep_lookup()


class _EncryptedField(models.TextField):
    """Shared behaviour: encrypt on the way in, decrypt on the way out, refuse lookups."""

    allowed_lookups = {"isnull": IsNull}

    # Hooks each concrete field (EncryptedTextField, EncryptedJSONField) defines.
    def _encode(self, value):
        """The plaintext of a Python value."""
        raise NotImplementedError

    def _decode(self, text):
        """The Python value of a decrypted plaintext."""
        raise NotImplementedError

    def _from_empty_column(self):
        """The Python value of an empty column (nothing was ever encrypted)."""
        raise NotImplementedError

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.unique or self.db_index or self.primary_key:
            errors.append(
                checks.Error(
                    "An encrypted field cannot be unique, indexed or a primary key: "
                    "its ciphertext is different every time it is written.",
                    obj=self,
                    id="locus.E101",
                )
            )
        return errors

    def get_lookup(self, lookup_name):
        return self.allowed_lookups.get(lookup_name) or _refused(lookup_name)

    def get_transform(self, lookup_name):
        return None

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if value == "":
            return self._from_empty_column()
        try:
            return self._decode(decrypt_text(value))
        except DecryptionError:
            model = getattr(self, "model", None)
            where = f"{model._meta.label}.{self.name}" if model else self.name
            raise DecryptionError(
                f"Could not decrypt {where}: no key in LOCUS_FIELD_KEYS matches, or the stored "
                "value is corrupted"
            ) from None

    def get_prep_value(self, value):
        if isinstance(value, Promise):
            value = str(value)
        if value is None:
            return None
        text = self._encode(value)
        if text == "":
            return ""
        return encrypt_text(text)


class EncryptedTextField(_EncryptedField):
    """A TextField whose value is encrypted at rest. Python value: str (or None if null=True)."""

    description = "Text encrypted at rest"
    allowed_lookups = {"isnull": IsNull, "exact": _EmptyOnlyExact}

    def to_python(self, value):
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def _encode(self, value):
        return self.to_python(value)

    def _decode(self, text):
        return text

    def _from_empty_column(self):
        return ""


class EncryptedJSONField(_EncryptedField):
    """A JSON value (dict, list, str, number, bool) serialised and encrypted at rest.

    Python None is SQL NULL (use null=True, or a default such as `dict`). Values must be
    plain JSON: anything `json.dumps` refuses raises TypeError when saving rather than being
    silently turned into a string.
    """

    description = "JSON encrypted at rest"
    empty_strings_allowed = False
    empty_values = [None]

    def to_python(self, value):
        return value

    def _encode(self, value):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def _decode(self, text):
        return json.loads(text)

    def _from_empty_column(self):
        return None

    def value_to_string(self, obj):
        return self.value_from_object(obj)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.JSONField, **kwargs})
