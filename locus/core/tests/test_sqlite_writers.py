"""The SQLite backend queues writers on a file lock instead of letting them poll."""

import threading
import time

import pytest
from django.db import connection
from django.db.utils import load_backend

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")


def _wrapper(path, alias):
    backend = load_backend("locus.core.sqlite")
    settings = dict(connection.settings_dict) | {
        "NAME": str(path),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 0.05},
    }
    return backend.DatabaseWrapper(settings, alias=alias)


def _wal_database(path, alias):
    """A connection to a new WAL database at `path` with one table, `t`."""
    wrapper = _wrapper(path, alias)
    with wrapper.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE t (n integer)")
    return wrapper


def test_a_second_writer_waits_for_the_first_to_commit_without_busy_errors(
    tmp_path, django_db_blocker
):
    django_db_blocker.unblock()
    path = tmp_path / "queue.sqlite3"
    second = _wal_database(path, "second")
    events = []

    def hold():
        first = _wrapper(path, "first")  # a connection belongs to the thread that made it
        with first.cursor() as cursor:
            first.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
            cursor.execute("INSERT INTO t VALUES (1)")
            events.append("first wrote")
            time.sleep(0.3)  # far longer than the 50 ms busy timeout
            first.commit()
            events.append("first committed")
            first.set_autocommit(True)
        first.close()

    thread = threading.Thread(target=hold)
    thread.start()
    while not events:
        time.sleep(0.005)
    # BEGIN IMMEDIATE, as transaction.atomic() does: waits on the queue, not on busy polls
    # (which would give up after the 50 ms timeout), and goes in once the first committed.
    second.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with second.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone() == (1,)  # the first writer's row, committed
        cursor.execute("INSERT INTO t VALUES (2)")
    second.commit()
    second.set_autocommit(True)
    thread.join()
    assert events == ["first wrote", "first committed"]
    with second.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone() == (2,)
    second.close()
    django_db_blocker.restore()
    assert (tmp_path / "queue.sqlite3.writers.lock").exists()


def test_in_memory_databases_take_no_lock(tmp_path):
    memory = _wrapper(":memory:", "memory")
    assert memory._writer_lock_path() is None


# --- background writers yield to requests (the task worker, the outbox sweep) --------------


def test_who_is_a_background_writer(monkeypatch):
    from locus.core.sqlite import base

    monkeypatch.delenv("LOCUS_SQLITE_WRITER", raising=False)
    monkeypatch.setattr("sys.argv", ["manage.py", "db_worker", "--interval", "1"])
    assert base.is_background_writer()
    monkeypatch.setattr("sys.argv", ["manage.py", "deliver_outbox", "--loop", "15"])
    assert base.is_background_writer()
    monkeypatch.setattr("sys.argv", ["granian", "--interface", "wsgi", "config.wsgi:application"])
    assert not base.is_background_writer()
    monkeypatch.setenv("LOCUS_SQLITE_WRITER", "background")
    assert base.is_background_writer()
    monkeypatch.setenv("LOCUS_SQLITE_WRITER", "request")
    monkeypatch.setattr("sys.argv", ["manage.py", "db_worker"])
    assert not base.is_background_writer()


def _write(wrapper):
    wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with wrapper.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    wrapper.commit()
    wrapper.set_autocommit(True)


def test_a_background_writer_waits_for_a_quiet_moment_but_not_for_ever(tmp_path, django_db_blocker):
    from locus.core.sqlite import base

    django_db_blocker.unblock()
    path = tmp_path / "yield.sqlite3"
    request = _wal_database(path, "request")
    worker = _wrapper(path, "worker")
    worker.background = True
    try:
        _write(request)  # a request has just written, and stamped when
        assert (tmp_path / "yield.sqlite3.writers.lock.stamp").exists()
        start = time.monotonic()
        _write(worker)
        waited = time.monotonic() - start
        assert base.QUIET_SECONDS * 0.8 <= waited < base.MAX_YIELD_SECONDS

        time.sleep(base.QUIET_SECONDS)  # quiet: the worker goes in at once
        start = time.monotonic()
        _write(worker)
        assert time.monotonic() - start < base.QUIET_SECONDS

        # Requests that never pause: their last write's stamp stays ahead of the clock. (A
        # thread writing every few milliseconds leaves gaps longer than QUIET_SECONDS on a
        # busy machine, and the worker rightly goes in during one.)
        stamp = tmp_path / "yield.sqlite3.writers.lock.stamp"
        stamp.write_bytes(base._STAMP.pack(time.monotonic() + 60))
        start = time.monotonic()
        _write(worker)  # never quiet: it still goes in after MAX_YIELD_SECONDS
        waited = time.monotonic() - start
        assert base.MAX_YIELD_SECONDS * 0.9 <= waited < base.MAX_YIELD_SECONDS + 0.5
    finally:
        request.close()
        worker.close()
        django_db_blocker.restore()


def _hold_the_queue(path, seconds, events):
    """A request's write transaction, in a thread, holding the queue for `seconds`."""
    first = _wrapper(path, "request")  # a connection belongs to the thread that made it
    first.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    events.append("request wrote")
    time.sleep(seconds)  # far longer than the 50 ms busy timeout
    events.append("request committing")
    first.commit()
    first.set_autocommit(True)
    first.close()


@pytest.mark.parametrize("how", ["autocommit", "exclusive"])
def test_every_write_of_a_background_writer_waits_in_the_queue(tmp_path, django_db_blocker, how):
    """django-tasks-db claims a task in a BEGIN EXCLUSIVE transaction and marks it done with an
    autocommit UPDATE: outside the queue, either would take SQLite's lock under a request that
    holds the queue (and make it sleep in the busy handler) or fail after the busy timeout."""
    django_db_blocker.unblock()
    path = tmp_path / "background.sqlite3"
    _wal_database(path, "setup").close()
    worker = _wrapper(path, "worker")
    worker.background = True
    events = []
    thread = threading.Thread(target=_hold_the_queue, args=(path, 0.3, events))
    thread.start()
    try:
        while not events:
            time.sleep(0.005)
        if how == "autocommit":
            with worker.cursor() as cursor:
                cursor.execute("INSERT INTO t VALUES (2)")  # no transaction: its own
        else:
            worker.transaction_mode = "EXCLUSIVE"  # what django-tasks-db's worker sets
            worker.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
            with worker.cursor() as cursor:
                cursor.execute("INSERT INTO t VALUES (2)")
            worker.commit()
            worker.set_autocommit(True)
        events.append("worker wrote")
    finally:
        thread.join()
    assert events == ["request wrote", "request committing", "worker wrote"]
    with worker.cursor() as cursor:
        cursor.execute("SELECT n FROM t ORDER BY rowid")
        assert cursor.fetchall() == [(1,), (2,)]
        cursor.execute("SELECT count(*) FROM t")  # reads are not queued
    worker.close()
    django_db_blocker.restore()


def test_only_a_background_writer_queues_its_autocommit_writes(tmp_path, django_db_blocker):
    from locus.core.sqlite.base import QueuedWriteCursor

    django_db_blocker.unblock()
    try:
        request = _wrapper(tmp_path / "stock.sqlite3", "stock")
        with request.cursor() as cursor:
            assert not isinstance(cursor.cursor, QueuedWriteCursor)
        request.background = True
        with request.cursor() as cursor:
            assert isinstance(cursor.cursor, QueuedWriteCursor)
        request.close()
    finally:
        django_db_blocker.restore()


# --- checkpoints run after the queue's lock is released -------------------------------------


def test_the_wal_is_checkpointed_after_the_commit_outside_the_queue(
    tmp_path, django_db_blocker, monkeypatch
):
    from locus.core.sqlite import base

    django_db_blocker.unblock()
    monkeypatch.setattr(base, "CHECKPOINT_FRAMES", 20)
    path = tmp_path / "checkpoint.sqlite3"
    writer = _wrapper(path, "writer")
    events = []
    release, checkpoint = writer._release_writer_lock, writer._checkpoint_if_due
    monkeypatch.setattr(
        writer, "_release_writer_lock", lambda: events.append("released") or release()
    )
    monkeypatch.setattr(
        writer, "_checkpoint_if_due", lambda: events.append("checkpoint") or checkpoint()
    )
    try:
        with writer.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA wal_autocheckpoint")
            assert cursor.fetchone() == (base.SAFETY_CHECKPOINT_FRAMES,)  # SQLite's: a safety net
            cursor.execute("CREATE TABLE t (n integer)")
            cursor.execute("CREATE TABLE big (filler text)")
        for _ in range(5):
            _write(writer)
        assert 0 < writer._wal_frames_waiting() < base.CHECKPOINT_FRAMES  # not due yet

        writer.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        with writer.cursor() as cursor:
            cursor.executemany("INSERT INTO big VALUES (%s)", [("x" * 3000,) for _ in range(30)])
        events.clear()
        writer.commit()
        writer.set_autocommit(True)
        assert events == ["released", "checkpoint"]
        assert writer._wal_frames_waiting() == 0  # copied back into the database
        with writer.cursor() as cursor:
            cursor.execute("SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM big)")
            assert cursor.fetchone() == (5, 30)
    finally:
        writer.close()
        django_db_blocker.restore()
    assert writer._wal_index_fd is None


def test_without_wal_there_is_nothing_to_checkpoint(tmp_path, django_db_blocker):
    django_db_blocker.unblock()
    writer = _wrapper(tmp_path / "rollback-journal.sqlite3", "journal")
    try:
        with writer.cursor() as cursor:
            cursor.execute("CREATE TABLE t (n integer)")
        _write(writer)
        assert writer._wal_frames_waiting() == 0
    finally:
        writer.close()
        django_db_blocker.restore()
