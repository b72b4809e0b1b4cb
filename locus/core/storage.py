"""File storage encrypted at rest, for evidence files and other personal documents.

Each file is one Fernet token (locus.core.crypto) written to disk; opening a file decrypts it
and returns a `ContentFile` of the plaintext. `manage.py rotate_keys` re-encrypts every file
under the storage's location with the newest key.

Rules for callers:

- Names are opaque: pass a random name (`opaque_name()`), never the reporter's filename, which
  can itself be personal data. Keep the original name, if needed at all, in an encrypted field.
  Prefix it with the place (`opaque_name(prefix=f"place-{place.pk}")`) so paths carry the place.
- Encrypted files have no URL: serve them through a view that checks access and writes an audit
  event (`url()` raises).
- Fernet is not a streaming cipher: a file is encrypted and decrypted whole in memory, and the
  file on disk is about a third larger than the plaintext. Fine for evidence within the upload
  limits; not for large video.
- Django spools uploads larger than FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file in
  plaintext until the request ends; this storage never moves that file into place, it writes
  a new encrypted one.

The default location is `VAR_DIR/evidence`, outside MEDIA_ROOT so that nothing ever serves it
as static media; pass `location` (or STORAGES OPTIONS) to choose another. Files and directories
are created owner-only (0600/0700) unless told otherwise.
"""

import logging
import uuid

from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.db import models, transaction
from django.utils.functional import cached_property
from django.utils.module_loading import import_string

from locus.core.crypto import decrypt_bytes, encrypt_bytes

__all__ = [
    "EncryptedFileSystemStorage",
    "delete_on_commit",
    "opaque_name",
    "open_stored",
    "storages_in_use",
]

logger = logging.getLogger(__name__)


def opaque_name(*, prefix: str = "", suffix: str = "") -> str:
    """A random file name (`<prefix>/<32 hex digits><suffix>`) that reveals nothing."""
    name = uuid.uuid4().hex + suffix
    prefix = prefix.strip("/")
    return f"{prefix}/{name}" if prefix else name


def delete_on_commit(storage, name):
    """Delete the stored file `name` once the current transaction commits (at once outside
    one). Call it where the row that names the file is deleted: a rolled-back deletion then
    keeps the row *and* its file, and a committed one leaves no file behind. A process killed
    between the commit and the deletion, or a deletion that fails (logged here, never raised
    after the commit), leaves a file no record names; the orphan purges of `purge_expired`
    delete it (docs/operations.md, "What happens to stored files")."""
    if not name:
        return

    def delete():
        try:
            storage.delete(name)
        except Exception:  # any storage's error (S3's are not OSError): the change is saved
            # The name is opaque (`opaque_name`): it says nothing about anyone.
            logger.warning("storage: %s could not be deleted", name, exc_info=True)

    transaction.on_commit(delete)


def open_stored(field_file):
    """The stored file of a row, opened for reading, or None when it is missing (restored from
    an incomplete backup, deleted by hand): a download answers 404 for it instead of a server
    error, and writes no audit event for a file nobody received. Logged with the opaque name."""
    try:
        return field_file.open("rb")
    except FileNotFoundError:
        logger.warning("storage: %s is named by a row but missing", field_file.name)
        return None


class EncryptedFileSystemStorage(FileSystemStorage):
    """FileSystemStorage that stores each file as a Fernet token and decrypts on open."""

    def __init__(
        self, location=None, file_permissions_mode=0o600, directory_permissions_mode=0o700, **kwargs
    ):
        kwargs.pop("base_url", None)  # never served by URL
        super().__init__(
            location=location,
            file_permissions_mode=file_permissions_mode,
            directory_permissions_mode=directory_permissions_mode,
            **kwargs,
        )

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.VAR_DIR / "encrypted")

    def _save(self, name, content):
        plaintext = b"".join(content.chunks())
        return super()._save(name, ContentFile(encrypt_bytes(plaintext)))

    def _open(self, name, mode="rb"):
        if mode != "rb":
            raise ValueError("Encrypted files are opened read-only; save a new file to change one")
        with open(self.path(name), "rb") as handle:
            token = handle.read()
        return ContentFile(decrypt_bytes(token), name=name)

    def size(self, name):
        """The plaintext size (decrypts the file: keep the size in the model if used often)."""
        with self.open(name) as handle:
            return handle.size

    def url(self, name):
        raise ValueError(
            "Encrypted files have no URL: serve them through a view that checks access "
            "and writes an audit event"
        )


def storages_in_use(kind=FileSystemStorage):
    """{name: storage} for every storage of class `kind` that files are stored in: the STORAGES
    entries (by alias; static files are rebuilt by collectstatic and left out) and the storages
    of models' file fields (by model label), once per location, under the first name found.
    Shared by `manage.py rotate_keys` and `manage.py backup`, so that both see the same files."""
    found = {}
    for alias, config in storages.backends.items():
        if alias != "staticfiles" and issubclass(import_string(config["BACKEND"]), kind):
            storage = storages[alias]
            found.setdefault(str(storage.location), (alias, storage))
    for model in apps.get_models():
        for field in model._meta.local_concrete_fields:
            storage = getattr(field, "storage", None)
            if isinstance(field, models.FileField) and isinstance(storage, kind):
                found.setdefault(str(storage.location), (model._meta.label_lower, storage))
    return dict(found.values())
