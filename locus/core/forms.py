"""Form fields shared by the apps."""

from django import forms
from django.core.exceptions import ValidationError

from .ids import parse_id


class ModelMultipleIdField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField whose posted ids are checked as ids (`core.ids.parse_id`)
    before any query: Django's own check looks them up with `pk__in`, which SQLite cannot even
    bind past 2**63 (an OverflowError: a 500 for a tampered form). An id that could not exist
    is an invalid choice, next to the field, as an unknown one is."""

    def _check_values(self, value):
        if self.to_field_name is None:
            for pk in value:
                if parse_id(str(pk)) is None:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": pk},
                    )
        return super()._check_values(value)
