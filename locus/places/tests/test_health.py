"""The health endpoint: 200 while the database answers, "degraded" when a background task has
waited too long to start, 503 when the database does not answer; it names and counts nothing."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

pytestmark = pytest.mark.django_db
LAG = timedelta(seconds=900)  # LOCUS_HEALTH_TASK_LAG's default


def health(client):
    response = client.get("/healthz")
    return response.status_code, response.json(), response


def queued(*, enqueued_ago, run_after_ago=None, status="READY"):
    """A routing task waiting for a worker since `enqueued_ago` (or, retried, due since
    `run_after_ago`)."""
    now = timezone.now()
    task = DBTaskResult.objects.create(
        task_path="locus.cases.tasks.route_report",
        args_kwargs={"args": [], "kwargs": {"report_id": 1}},
        queue_name="default",
        backend_name="default",
        status=status,
        run_after=get_date_max() if run_after_ago is None else now - run_after_ago,
    )
    DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=now - enqueued_ago)
    return task


def test_healthy_with_tasks_waiting_less_than_the_lag(client):
    queued(enqueued_ago=LAG - timedelta(minutes=1))
    queued(enqueued_ago=LAG * 4, run_after_ago=timedelta(minutes=1))  # a retry, due just now
    queued(enqueued_ago=LAG * 4, status="SUCCESSFUL")  # done long ago
    status, body, response = health(client)
    assert (status, body) == (200, {"status": "ok", "checks": {"database": "ok", "tasks": "ok"}})
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("retried", [False, True])
def test_a_task_waiting_longer_than_the_lag_degrades(client, retried):
    if retried:
        queued(enqueued_ago=LAG * 4, run_after_ago=LAG + timedelta(minutes=1))
    else:
        queued(enqueued_ago=LAG + timedelta(minutes=1))
    status, body, _response = health(client)
    assert (status, body["status"], body["checks"]["tasks"]) == (200, "degraded", "late")


def test_the_lag_is_a_setting(client, settings):
    settings.LOCUS_HEALTH_TASK_LAG = 30
    queued(enqueued_ago=timedelta(minutes=1))
    assert health(client)[1]["checks"]["tasks"] == "late"


def test_an_unreachable_database_answers_503(client, monkeypatch):
    def unreachable(self, sql, params=None):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", unreachable)
    status, body, _response = health(client)
    assert status == 503
    assert body == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "tasks": "unknown"},
    }


def test_an_unreadable_task_queue_degrades_instead_of_answering_500(client, monkeypatch):
    """The database answers, but the queue's table cannot be read (the connection dropped
    between the two queries, or the worker's tables were never migrated): a JSON answer, not
    an error page."""
    from django.db.models import QuerySet

    def unreadable(self):
        raise DatabaseError("no such table: django_tasks_database_dbtaskresult")

    monkeypatch.setattr(QuerySet, "exists", unreadable)
    status, body, _response = health(client)
    assert (status, body) == (
        200,
        {"status": "degraded", "checks": {"database": "ok", "tasks": "unknown"}},
    )
