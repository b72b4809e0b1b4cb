"""SQLite with a queue for writers.

SQLite lets one transaction write at a time. A second writer that finds the database locked
polls: its busy handler sleeps 1, 2, 5 … up to 100 ms between tries, so under concurrent
submissions most of the time goes to sleeping, not writing. Here every write transaction
(`BEGIN IMMEDIATE`, Django's `transaction.atomic()`) first takes an exclusive `flock` on a
file next to the database and holds it until COMMIT or ROLLBACK: waiting writers block in the
kernel and go in as soon as the lock is released. The kernel drops the lock if a process dies.
Reads and autocommit statements are unchanged; in-memory databases (tests) need no queue.

Background writers yield to requests. A process whose writes nobody waits for (the task
worker, the outbox sweep: `LOCUS_SQLITE_WRITER=background`, which `manage.py db_worker` and
`deliver_outbox` get by default) holds long write transactions (routing a report writes some
30 rows); while it does, every submission waits. So every other process stamps the time of
each write transaction it starts in a small file next to the database, and a background
writer first waits until no such transaction has started for `QUIET_SECONDS`, or at most
`MAX_YIELD_SECONDS`: under a sustained load the worker still writes a few times a second
(routing is never stopped, only paced), and catches up as soon as the load eases.

Every write of a background writer goes through the queue, not only `transaction.atomic()`'s:
django-tasks-db claims a task in a `BEGIN EXCLUSIVE` transaction and marks it finished with an
autocommit UPDATE. Outside the queue, such a write takes SQLite's lock under a request that
already holds the queue's, whose `BEGIN IMMEDIATE` then sleeps in SQLite's busy handler (1, 2,
5 … ms) while every other request waits behind it (docs/operations.md, "Intake").
"""

import fcntl
import os
import struct
import sys
import time

from django.db.backends.sqlite3 import base

QUIET_SECONDS = 0.05
MAX_YIELD_SECONDS = 0.25
_BACKGROUND_COMMANDS = {"db_worker", "deliver_outbox"}
_STAMP = struct.Struct("d")
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")  # the statements that take the write lock
_QUEUED_MODES = ("IMMEDIATE", "EXCLUSIVE")  # the transactions that take it at BEGIN


def is_background_writer():
    """Whether this process's writes wait for nobody (see above)."""
    role = os.environ.get("LOCUS_SQLITE_WRITER", "")
    if role:
        return role == "background"
    return bool(_BACKGROUND_COMMANDS & set(sys.argv[1:2]))


_BACKGROUND = is_background_writer()


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_lock_fd = None
    _stamp_fd = None
    background = _BACKGROUND

    def _writer_lock_path(self):
        name = str(self.settings_dict["NAME"])
        if not name or name == ":memory:" or "mode=memory" in name:
            return None
        return f"{name}.writers.lock"

    def _acquire_writer_lock(self):
        path = self._writer_lock_path()
        if path is None or self.transaction_mode not in _QUEUED_MODES:
            return
        if self._writer_lock_fd is None:
            # One open file per connection: flock locks of separate opens exclude each other,
            # also between threads of one process.
            self._writer_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if self._stamp_fd is None:
            self._stamp_fd = os.open(f"{path}.stamp", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if self.background:
            self._yield_to_requests()
        else:  # CLOCK_MONOTONIC: one clock for every process of the machine
            os.pwrite(self._stamp_fd, _STAMP.pack(time.monotonic()), 0)
        fcntl.flock(self._writer_lock_fd, fcntl.LOCK_EX)

    def _yield_to_requests(self):
        """Wait until no request has started a write for QUIET_SECONDS (at most
        MAX_YIELD_SECONDS)."""
        deadline = time.monotonic() + MAX_YIELD_SECONDS
        while True:
            raw = os.pread(self._stamp_fd, _STAMP.size, 0)
            last = _STAMP.unpack(raw)[0] if len(raw) == _STAMP.size else 0.0
            now = time.monotonic()
            quiet_for = now - last
            if quiet_for >= QUIET_SECONDS or now >= deadline:
                return
            time.sleep(min(QUIET_SECONDS - quiet_for, deadline - now))

    def _release_writer_lock(self):
        if self._writer_lock_fd is not None:
            fcntl.flock(self._writer_lock_fd, fcntl.LOCK_UN)

    def create_cursor(self, name=None):
        if not self.background or self._writer_lock_path() is None:
            return super().create_cursor(name)
        cursor = self.connection.cursor(factory=QueuedWriteCursor)
        cursor.queue = self
        return cursor

    def _start_transaction_under_autocommit(self):
        self._acquire_writer_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            if self._writer_lock_fd is not None:
                os.close(self._writer_lock_fd)  # also releases a lock still held
                self._writer_lock_fd = None
            if self._stamp_fd is not None:
                os.close(self._stamp_fd)
                self._stamp_fd = None


class QueuedWriteCursor(base.SQLiteCursorWrapper):
    """A background writer's cursor: a write outside a transaction (autocommit) waits in the
    writers' queue like a transaction does."""

    queue = None

    def _queued(self, query):
        db = self.queue
        return (
            not db.in_atomic_block
            and db.get_autocommit()
            and query.lstrip()[:6].upper() in _WRITES
            and db.transaction_mode in _QUEUED_MODES
        )

    def execute(self, query, params=None):
        if not self._queued(query):
            return super().execute(query, params)
        self.queue._acquire_writer_lock()
        try:
            return super().execute(query, params)
        finally:
            self.queue._release_writer_lock()

    def executemany(self, query, param_list):
        if not self._queued(query):
            return super().executemany(query, param_list)
        self.queue._acquire_writer_lock()
        try:
            return super().executemany(query, param_list)
        finally:
            self.queue._release_writer_lock()
