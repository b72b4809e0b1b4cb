"""SQLite with a queue for writers.

SQLite lets one transaction write at a time. A second writer that finds the database locked
polls: its busy handler sleeps 1, 2, 5 … up to 100 ms between tries, so under concurrent
submissions most of the time goes to sleeping, not writing. Here every write transaction
(`BEGIN IMMEDIATE`, Django's `transaction.atomic()`) first takes an exclusive `flock` on a
file next to the database and holds it until COMMIT or ROLLBACK: waiting writers block in the
kernel and go in as soon as the lock is released. The kernel drops the lock if a process dies.
Reads and autocommit statements are unchanged; in-memory databases (tests) need no queue.
"""

import fcntl
import os

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_lock_fd = None

    def _writer_lock_path(self):
        name = str(self.settings_dict["NAME"])
        if not name or name == ":memory:" or "mode=memory" in name:
            return None
        return f"{name}.writers.lock"

    def _acquire_writer_lock(self):
        path = self._writer_lock_path()
        if path is None or self.transaction_mode != "IMMEDIATE":
            return
        if self._writer_lock_fd is None:
            # One open file per connection: flock locks of separate opens exclude each other,
            # also between threads of one process.
            self._writer_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._writer_lock_fd, fcntl.LOCK_EX)

    def _release_writer_lock(self):
        if self._writer_lock_fd is not None:
            fcntl.flock(self._writer_lock_fd, fcntl.LOCK_UN)

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
