"""Routing after submission: the report commits with its routing task; the task worker (or, for
the web journey, the request right after commit) routes it; the sweep routes any report whose
task was lost. Tests elsewhere run tasks at once; these use a backend that only queues them."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from locus.cases.models import RoutingRun
from locus.cases.services import ROUTING_GRACE, reports_route_pending
from locus.reporting.models import Report
from locus.reporting.tests.test_api import BODY, send
from locus.reporting.tests.test_journey import post, walk_to_check

QUEUED = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def queued_tasks(settings):
    """Tasks are stored, not run, as with the database backend before the worker picks them
    (pytest-django's `settings` fires setting_changed, which resets the task backends)."""
    from django.tasks import task_backends

    settings.TASKS = QUEUED
    backend = task_backends["default"]
    backend.clear()
    return backend


def _routing_tasks(backend):
    return [r for r in backend.results if r.task.name == "route_report"]


def test_an_api_submission_queues_routing_and_says_it_is_pending(
    client, world, in_place, queued_tasks
):
    response = send(client, key="deferred-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["routing_pending"] is True and body["routing"] == []
    with in_place(world.a.place):
        report = Report.objects.get(reference=body["reference"])
        assert not RoutingRun.objects.filter(report=report).exists()
    (queued,) = _routing_tasks(queued_tasks)
    assert queued.kwargs == {"place_id": world.a.place.pk, "report_id": report.pk}

    queued.task.call(**queued.kwargs)  # what the worker does
    with in_place(world.a.place):
        assert RoutingRun.objects.filter(report=report).count() == 1
    # A replay now shows the routing, still without the one-time code.
    replay = send(client, key="deferred-1").json()
    assert replay["routing_pending"] is False and replay["routing"]
    assert replay["followup_code"] is None


@pytest.mark.django_db(transaction=True)  # the claim's release waits for a real commit
def test_the_submission_writes_little_and_releases_no_claim_after_commit(
    client, world, queued_tasks
):
    with CaptureQueriesContext(connection) as queries:
        assert send(client, key="deferred-2").status_code == 201
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any(s.startswith("DELETE") for s in statements), statements
    writes = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    # The key (completed, in the report's transaction), the report, its consent record (with
    # the database task backend, one more: the routing task's row; see reporting/test_intake),
    # and the client's rate count, in the same transaction.
    assert len(writes) == 4, writes
    assert "core_ratecount" in writes[-1]
    assert not any("cases_" in s for s in writes)


def test_the_web_journey_routes_before_the_receipt_is_shown(client, world, in_place, queued_tasks):
    place = world.a.place
    sent = post(client, place, walk_to_check(client, place, world.a.areas[0]), action="send")
    assert sent.status_code == 303
    receipt = client.get(sent["Location"])
    assert receipt.context["routing_pending"] is False and receipt.context["routing"]
    with in_place(place):
        (report,) = Report.objects.all()
        assert RoutingRun.objects.filter(report=report).count() == 1
    # The queued task, when the worker gets to it, finds the work done.
    (queued,) = _routing_tasks(queued_tasks)
    queued.task.call(**queued.kwargs)
    with in_place(place):
        assert RoutingRun.objects.filter(report=report).count() == 1


def test_the_sweep_routes_reports_whose_task_was_lost_after_a_grace_period(
    client, world, in_place, queued_tasks
):
    reference = send(client).json()["reference"]
    place = world.a.place
    with in_place(place):
        report = Report.objects.get(reference=reference)
        assert reports_route_pending(place=place) == 0  # its task may still come
        later = timezone.now() + ROUTING_GRACE + timedelta(seconds=1)
        assert reports_route_pending(place=place, now=later) == 1
        assert RoutingRun.objects.filter(report=report).count() == 1
        assert reports_route_pending(place=place, now=later) == 0


def test_deliver_outbox_routes_late_reports_first(client, world, in_place, queued_tasks, capsys):
    reference = send(client, json.loads(json.dumps(BODY))).json()["reference"]
    with in_place(world.a.place):
        Report.objects.filter(reference=reference).update(
            submitted_at=timezone.now() - ROUTING_GRACE - timedelta(minutes=1)
        )
    call_command("deliver_outbox")
    assert f"Routed late: {world.a.place.slug} 1" in capsys.readouterr().out
    with in_place(world.a.place):
        assert RoutingRun.objects.filter(report__reference=reference).count() == 1


def test_reconcile_outbox_fails_on_a_report_left_unrouted(client, world, in_place, queued_tasks):
    from django.core.management.base import CommandError

    reference = send(client).json()["reference"]
    with in_place(world.a.place):
        Report.objects.filter(reference=reference).update(
            submitted_at=timezone.now() - ROUTING_GRACE - timedelta(minutes=1)
        )
    with pytest.raises(CommandError):
        call_command("reconcile_outbox", "--place", world.a.place.slug)
    call_command("deliver_outbox")
    call_command("reconcile_outbox", "--place", world.a.place.slug)  # routed: passes
