"""What each process keeps of the library in memory (facet index, vectors) is reloaded when the
search generation changes: a random token in `SearchGeneration`, replaced by every write that
changes published records, their facets, their order or their vectors (docs/library.md,
"Search in memory")."""

import secrets
import threading
import time

from django.db import connection
from django.db.models.signals import post_delete
from django.dispatch import receiver

ROW = 1


def bump():
    """A new token, in the caller's transaction: the change and the token commit together."""
    from locus.library.models import SearchGeneration

    token = secrets.token_hex(16)
    if not SearchGeneration.objects.filter(pk=ROW).update(token=token):
        SearchGeneration.objects.update_or_create(pk=ROW, defaults={"token": token})


def current():
    """The committed token ("" before the first change). Plain SQL: it runs before every
    search, and compiling the ORM's query would cost more than the read."""
    from locus.library.models import SearchGeneration

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT token FROM {SearchGeneration._meta.db_table} WHERE id = %s",  # noqa: S608
            [ROW],
        )
        row = cursor.fetchone()
    return row[0] if row else ""


class Loaded:
    """Something loaded from the database for one generation, reloaded when it changes.
    Subclasses implement `load()`; `get()` returns the current load (one query to check)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._value = None
        self._token = None
        self.load_seconds = 0.0
        self.loads = 0

    def clear(self):
        with self._lock:
            self._value = None
            self._token = None

    def load(self):
        raise NotImplementedError

    def get(self):
        # The token is read before the data: a change committed in between is loaded under the
        # older token and loaded again on the next search — never the other way round.
        token = current()
        if self._value is not None and self._token == token:
            return self._value
        with self._lock:
            if self._value is None or self._token != token:
                started = time.perf_counter()
                self._value = self.load()
                self._token = token
                self.load_seconds = time.perf_counter() - started
                self.loads += 1
            return self._value


@receiver(post_delete, sender="library.Record")
def _record_deleted(sender, **kwargs):
    """Deletes that bypass the services (an organisation's cascade, the admin)."""
    bump()
