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


def test_a_second_writer_waits_for_the_first_to_commit_without_busy_errors(
    tmp_path, django_db_blocker
):
    django_db_blocker.unblock()
    path = tmp_path / "queue.sqlite3"
    second = _wrapper(path, "second")
    with second.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE t (n integer)")
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
