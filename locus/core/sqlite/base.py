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

Checkpoints run after the queue's lock is released. SQLite copies the WAL back into the
database (a checkpoint, with an fsync of each file) inside the COMMIT that takes the WAL past
`wal_autocheckpoint` frames: every ~40 submissions one of them held the queue for several
milliseconds more (tens on a slow disk) while every other writer waited. Here a connection
commits, releases the lock, and then, when `CHECKPOINT_FRAMES` or more frames wait in the WAL
(read from the WAL index, sqlite.org/walformat.html), runs a PASSIVE checkpoint, which never
waits for other connections: writers keep going meanwhile. SQLite's own automatic checkpoint
stays as a safety net at `SAFETY_CHECKPOINT_FRAMES` (for a process that never commits a
transaction). Commits are as durable as before: the WAL is the same, only who copies it back
and when changes.
"""

import contextlib
import fcntl
import os
import struct
import sys
import time

from django.db.backends.sqlite3 import base

QUIET_SECONDS = 0.05
MAX_YIELD_SECONDS = 0.25
CHECKPOINT_FRAMES = 1000  # SQLite's default `wal_autocheckpoint`
SAFETY_CHECKPOINT_FRAMES = 10000
# The WAL index (the `-shm` file): frames in the WAL (`mxFrame`, offset 16) and frames already
# copied back (`nBackfill`, offset 96), in the machine's byte order.
_WAL_INDEX = struct.Struct("=16xI76xI")
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
    _wal_index_fd = None
    background = _BACKGROUND

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        if self._writer_lock_path() is not None:
            conn.execute(f"PRAGMA wal_autocheckpoint={SAFETY_CHECKPOINT_FRAMES}")
        return conn

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
            result = super()._commit()
        finally:
            self._release_writer_lock()
        self._checkpoint_if_due()
        return result

    def _checkpoint_if_due(self):
        """After a commit, outside the queue: copy the WAL back into the database once
        `CHECKPOINT_FRAMES` wait in it (see above)."""
        if self.connection is None or self._wal_frames_waiting() < CHECKPOINT_FRAMES:
            return
        # The commit is done whatever happens here: a checkpoint refused (another connection
        # is checkpointing) or failed is tried again after the next commit.
        with contextlib.suppress(base.Database.Error):
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _wal_frames_waiting(self):
        """Frames in the WAL not yet copied back into the database (0 without a queue or WAL)."""
        if self._writer_lock_path() is None or self._writer_lock_fd is None:
            return 0  # no queue: SQLite checkpoints as usual
        if self._wal_index_fd is None:
            try:
                self._wal_index_fd = os.open(
                    f"{self.settings_dict['NAME']}-shm", os.O_RDONLY | os.O_CLOEXEC
                )
            except FileNotFoundError:  # not in WAL mode
                return 0
        raw = os.pread(self._wal_index_fd, _WAL_INDEX.size, 0)
        if len(raw) < _WAL_INDEX.size:
            return 0
        frames, copied = _WAL_INDEX.unpack(raw)
        return frames - copied

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
            if self._wal_index_fd is not None:
                os.close(self._wal_index_fd)
                self._wal_index_fd = None


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
