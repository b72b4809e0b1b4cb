"""Re-encrypt all data encrypted at rest with the newest key in LOCUS_FIELD_KEYS.

Covers every EncryptedTextField/EncryptedJSONField of every model (found by field type) and
every file under each EncryptedFileSystemStorage location (STORAGES entries and storages of
model file fields). Works across all places, so tenant-owned tables are read with `unscoped()`.

Safe to run again: values already made with the newest key are recognised by their signature
and left alone, so a second run changes nothing. Rows are handled in batches, one transaction
per batch with the rows locked, so a concurrent edit is never overwritten with an older value.
A value or file that no configured key can decrypt is left unchanged and reported, and the
command then fails: do not drop an old key until it succeeds.
"""

import os
import stat
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models import ExpressionWrapper, F, Value

from locus.core.crypto import DecryptionError, is_current, rotate_token
from locus.core.fields import EncryptedJSONField, EncryptedTextField
from locus.core.storage import EncryptedFileSystemStorage, storages_in_use
from locus.core.tenancy import TenantModel

ENCRYPTED_FIELDS = (EncryptedTextField, EncryptedJSONField)
TEMP_PREFIX = ".rotating-"


def encrypted_models():
    """[(model, [fields])] for each concrete model with encrypted fields of its own table."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        fields = [
            field
            for field in model._meta.local_concrete_fields
            if isinstance(field, ENCRYPTED_FIELDS)
        ]
        if fields:
            found.append((model, fields))
    return found


def encrypted_storages():
    """Every EncryptedFileSystemStorage in STORAGES or on a model's file field, by location."""
    return list(storages_in_use(EncryptedFileSystemStorage).values())


def _rows(model):
    if issubclass(model, TenantModel):
        # Rotation is platform maintenance over every place's rows at once.
        return model.objects.unscoped()
    return model._base_manager.all()


def rotate_model(model, fields, *, batch_size, dry_run, problems):
    """Re-encrypt one model's encrypted columns. Returns (rows, rows rotated, values rotated)."""
    queryset = _rows(model)
    # The raw tokens, without the field's decryption (a plain TextField output).
    raw = {
        f"_raw_{field.attname}": ExpressionWrapper(
            F(field.attname), output_field=models.TextField()
        )
        for field in fields
    }
    rows_seen = rows_rotated = values_rotated = 0
    last_pk = None
    while True:
        with transaction.atomic():
            batch = queryset if dry_run else queryset.select_for_update()
            if last_pk is not None:
                batch = batch.filter(pk__gt=last_pk)
            rows = list(batch.order_by("pk").annotate(**raw).values_list("pk", *raw)[:batch_size])
            if not rows:
                break
            last_pk = rows[-1][0]
            changed = []
            for pk, *tokens in rows:
                rows_seen += 1
                new_tokens = []
                for field, token in zip(fields, tokens, strict=True):
                    if token in (None, "") or is_current(token):
                        new_tokens.append(token)
                        continue
                    try:
                        new_tokens.append(rotate_token(token))
                        values_rotated += 1
                    except DecryptionError:
                        problems.append(f"{model._meta.label}.{field.name} pk={pk}")
                        new_tokens.append(token)
                if new_tokens != tokens:
                    rows_rotated += 1
                    obj = model(pk=pk)
                    for field, token in zip(fields, new_tokens, strict=True):
                        # A Value with a plain TextField output is written as is: the token is
                        # already encrypted and must not be encrypted again.
                        setattr(obj, field.attname, Value(token, output_field=models.TextField()))
                    changed.append(obj)
            if changed and not dry_run:
                queryset.bulk_update(changed, [field.name for field in fields])
    return rows_seen, rows_rotated, values_rotated


def _replace_file(path, content):
    """Write `content` to a temporary file beside `path`, then atomically replace it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        if not path.exists():
            # Deleted meanwhile (e.g. retention): never bring it back.
            raise FileNotFoundError(path)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def rotate_files(storage, *, dry_run, problems):
    """Re-encrypt every file under the storage's location. Returns (files, files rotated)."""
    root = Path(storage.location)
    if not root.is_dir():
        return 0, 0
    seen = rotated = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith(TEMP_PREFIX):
            continue
        try:
            token = path.read_bytes()
        except FileNotFoundError:
            continue  # deleted while we walked the tree
        seen += 1
        if is_current(token):
            continue
        try:
            new_token = rotate_token(token)
        except DecryptionError:
            problems.append(f"file {path.relative_to(root)} in {root}")
            continue
        if not dry_run:
            try:
                _replace_file(path, new_token)
            except FileNotFoundError:
                continue
        rotated += 1
    return seen, rotated


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field value and encrypted file with the newest key in "
        "LOCUS_FIELD_KEYS (all places). Idempotent; --dry-run only counts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        self.stdout.write(
            f"LOCUS_FIELD_KEYS has {len(settings.LOCUS_FIELD_KEYS)} key(s); "
            "re-encrypting with the first." + (" Dry run: nothing is written." if dry_run else "")
        )
        problems = []
        for model, fields in encrypted_models():
            seen, rotated, values = rotate_model(
                model, fields, batch_size=batch_size, dry_run=dry_run, problems=problems
            )
            self.stdout.write(
                f"{model._meta.label}: {rotated} of {seen} rows {verb} ({values} values)"
            )
        for storage in encrypted_storages():
            seen, rotated = rotate_files(storage, dry_run=dry_run, problems=problems)
            self.stdout.write(f"files in {storage.location}: {rotated} of {seen} {verb}")
        if problems:
            for problem in problems[:50]:
                self.stderr.write(f"  cannot decrypt: {problem}")
            if len(problems) > 50:
                self.stderr.write(f"  … and {len(problems) - 50} more")
            raise CommandError(
                f"{len(problems)} values or files could not be decrypted with any configured key "
                "and were left unchanged; keep every old key until this is resolved"
            )
        self.stdout.write(self.style.SUCCESS("Done." if not dry_run else "Dry run done."))
