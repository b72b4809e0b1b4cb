"""What each process keeps of the library in memory is reloaded when its search generation
changes: a random token in a `SearchGeneration` row, replaced by every write that changes what
was loaded (docs/library.md, "Search in memory"). Two rows: RECORDS (published records, their
facets and order: the facet index) and VECTORS (stored embeddings: the vector index)."""

import abc
import secrets
import threading
import time

from django.db import connection
from django.db.models.signals import post_delete
from django.dispatch import receiver

RECORDS = 1
VECTORS = 2


def bump(row=RECORDS):
    """A new token, in the caller's transaction: the change and the token commit together."""
    from locus.library.models import SearchGeneration

    token = secrets.token_hex(16)
    if not SearchGeneration.objects.filter(pk=row).update(token=token):
        SearchGeneration.objects.update_or_create(pk=row, defaults={"token": token})


def current(row=RECORDS):
    """The committed token ("" before the first change). Plain SQL: it runs before every
    search, and compiling the ORM's query would cost more than the read."""
    from locus.library.models import SearchGeneration

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT token FROM {SearchGeneration._meta.db_table} WHERE id = %s",  # noqa: S608
            [row],
        )
        row = cursor.fetchone()
    return row[0] if row else ""


class Loaded(abc.ABC):
    """Something loaded from the database for one generation, reloaded when it changes.
    Subclasses implement `load()`; `get()` returns the current load (one query to check).
    `row`: the generation followed; `min_interval`: seconds a load is kept even when the
    generation changed (what may be a little stale without harm, such as vectors while the
    worker embeds thousands of records, batch after batch)."""

    row = RECORDS
    min_interval = 0.0

    def __init__(self):
        self._lock = threading.Lock()
        self._value = None
        self._token = None
        self._loaded_at = 0.0
        self.load_seconds = 0.0
        self.loads = 0

    def clear(self):
        with self._lock:
            self._value = None
            self._token = None

    @abc.abstractmethod
    def load(self):
        """What to keep in memory, read from the database."""

    def get(self):
        # The token is read before the data: a change committed in between is loaded under the
        # older token and loaded again on the next search — never the other way round.
        token = current(self.row)
        if self._value is not None and (self._token == token or self._fresh_enough()):
            return self._value
        with self._lock:
            if self._value is None or self._token != token:
                started = time.perf_counter()
                self._value = self.load()
                self._token = token
                self._loaded_at = time.monotonic()
                self.load_seconds = time.perf_counter() - started
                self.loads += 1
            return self._value

    def _fresh_enough(self):
        return time.monotonic() - self._loaded_at < self.min_interval


@receiver(post_delete, sender="library.Record")
def _record_deleted(sender, **kwargs):
    """Deletes that bypass the services (an organisation's cascade, the admin)."""
    bump()
