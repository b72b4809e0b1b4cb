"""The health endpoint: 200 while the database answers, "degraded" when a background task has
waited too long to start, 503 when the database does not answer; it names and counts nothing."""

import io
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
    assert (status, body) == (
        200,
        {"status": "ok", "checks": {"database": "ok", "tasks": "ok", "deliveries": "ok"}},
    )
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
        "checks": {"database": "unavailable", "tasks": "unknown", "deliveries": "unknown"},
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
        {
            "status": "degraded",
            "checks": {"database": "ok", "tasks": "unknown", "deliveries": "unknown"},
        },
    )


# --- outbox deliveries: the sweep (deliver_outbox) runs outside the task queue ---


def due_message(place, *, due_ago, status="pending"):
    """An e-mail in the outbox due since `due_ago` (delivering: its claim ran out then)."""
    from locus.core.tenancy import place_scope
    from locus.outbox.models import OutboxMessage

    with place_scope(place):
        return OutboxMessage.objects.create(
            place=place,
            kind="email",
            email_to="team@example.org",
            event_type="report.routed",
            payload={"subject": "s", "body": "b"},
            status=status,
            next_attempt_at=timezone.now() - due_ago,
        )


def swept(ago):
    from locus.core.services import heartbeat_stamp
    from locus.outbox.sweep import HEARTBEAT

    heartbeat_stamp(name=HEARTBEAT, now=timezone.now() - ago)


def test_messages_due_less_than_the_lag_or_done_are_healthy_without_a_sweep(client, world):
    """A fresh install whose sweep never ran is healthy while nothing waits for it."""
    place = world.a.place
    due_message(place, due_ago=LAG - timedelta(minutes=1))
    for status in ("delivered", "dead", "failed"):
        due_message(place, due_ago=LAG * 10, status=status)
    assert health(client)[1] == {
        "status": "ok",
        "checks": {"database": "ok", "tasks": "ok", "deliveries": "ok"},
    }


@pytest.mark.parametrize("status", ["pending", "delivering"])
@pytest.mark.parametrize("last_sweep", [None, LAG + timedelta(minutes=1)])
def test_a_message_due_past_the_lag_with_no_sweep_since_says_deliveries_stopped(
    client, world, status, last_sweep
):
    """Retries are made only by the sweep: no run within the lag (or ever) means cron or the
    sidecar is not running. The answer names and counts nothing."""
    due_message(world.a.place, due_ago=LAG + timedelta(minutes=2), status=status)
    due_message(world.b.place, due_ago=LAG + timedelta(minutes=5))
    if last_sweep is not None:
        swept(last_sweep)
    code, body, response = health(client)
    assert (code, body) == (
        200,
        {
            "status": "degraded",
            "checks": {"database": "ok", "tasks": "ok", "deliveries": "stopped"},
        },
    )
    assert "team@example.org" not in response.content.decode()


def test_a_message_due_past_the_lag_while_the_sweep_runs_says_deliveries_behind(client, world):
    due_message(world.a.place, due_ago=LAG + timedelta(minutes=2))
    swept(timedelta(seconds=20))
    code, body, _response = health(client)
    assert (code, body["status"], body["checks"]["deliveries"]) == (200, "degraded", "behind")


def test_the_delivery_lag_is_a_setting(client, world, settings):
    settings.LOCUS_HEALTH_DELIVERY_LAG = 60
    due_message(world.a.place, due_ago=timedelta(minutes=2))
    assert health(client)[1]["checks"]["deliveries"] == "stopped"
    settings.LOCUS_HEALTH_DELIVERY_LAG = 300
    assert health(client)[1]["checks"]["deliveries"] == "ok"


def test_each_sweep_stamps_its_heartbeat_and_clears_the_alarm(client, world):
    """`deliver_outbox` (cron or --loop) stamps before each batch; the message it attempts is
    delivered (or rescheduled), so nothing is overdue any more."""
    from django.core.management import call_command

    from locus.core.models import Heartbeat
    from locus.outbox.sweep import HEARTBEAT

    message = due_message(world.a.place, due_ago=LAG * 2)
    assert health(client)[1]["checks"]["deliveries"] == "stopped"
    before = timezone.now()
    call_command("deliver_outbox", stdout=io.StringIO())
    assert Heartbeat.objects.get(name=HEARTBEAT).at >= before
    message.refresh_from_db()
    assert message.status == "delivered"
    assert health(client)[1] == {
        "status": "ok",
        "checks": {"database": "ok", "tasks": "ok", "deliveries": "ok"},
    }


def test_the_platform_administration_shows_the_sweeps_last_run_read_only(platform_admin):
    swept(timedelta(minutes=3))
    page = platform_admin.get("/admin/core/heartbeat/")
    assert page.status_code == 200 and "outbox.sweep" in page.content.decode()
    assert platform_admin.get("/admin/core/heartbeat/add/").status_code == 403
