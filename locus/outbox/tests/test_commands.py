"""`manage.py deliver_outbox`, `manage.py webhook_endpoint` and the `deliver_due` task."""

import io
import signal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from locus.outbox.choices import MessageStatus
from locus.outbox.management.commands import deliver_outbox
from locus.outbox.models import WebhookEndpoint
from locus.outbox.services import outbox_enqueue_webhook
from locus.outbox.tasks import deliver_due


def queue_one(world, in_place, endpoint):
    with in_place(world.a.place), transaction.atomic():  # not kicked: the test rolls back
        return outbox_enqueue_webhook(
            place=world.a.place, endpoint=endpoint, event_type="case.routed", payload={}
        )


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_deliver_outbox_sweeps_once(world, in_place, endpoint_for, receivers):
    receiver = receivers()
    endpoint, _ = endpoint_for(world.a, receiver.url)
    message = queue_one(world, in_place, endpoint)
    assert "delivered 1" in run("deliver_outbox")
    assert [r.webhook_id for r in receiver.requests] == [message.message_id]
    assert "nothing due" in run("deliver_outbox")


def test_the_sweep_deletes_expired_rate_limit_counts(db):
    from datetime import UTC, datetime, timedelta

    from locus.core.models import RateCount

    now = datetime.now(UTC)
    RateCount.objects.create(bucket="s:old:1", count=4, expires_at=now - timedelta(seconds=1))
    RateCount.objects.create(bucket="s:new:2", count=2, expires_at=now + timedelta(minutes=1))
    run("deliver_outbox")
    assert list(RateCount.objects.values_list("bucket", flat=True)) == ["s:new:2"]


def test_deliver_outbox_loops_until_stopped(world, in_place, endpoint_for, receivers, monkeypatch):
    receiver = receivers()
    endpoint, _ = endpoint_for(world.a, receiver.url)
    queue_one(world, in_place, endpoint)
    waits = []

    class StopAfterTwo:
        def __init__(self):
            self.stopped = False

        def is_set(self):
            return self.stopped

        def set(self):
            self.stopped = True

        def wait(self, seconds):
            waits.append(seconds)
            self.stopped = len(waits) >= 2

    monkeypatch.setattr(deliver_outbox, "Event", StopAfterTwo)
    handler = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(deliver_outbox, "close_old_connections", lambda: None)
    out = run("deliver_outbox", "--loop", "2.5")
    assert waits == [2.5, 2.5]
    assert out.count("Outbox sweep") == 1  # the idle second sweep prints nothing
    assert len(receiver.requests) == 1
    assert signal.getsignal(signal.SIGTERM) is handler  # restored on the way out
    with pytest.raises(CommandError):
        run("deliver_outbox", "--loop", "0")


def test_deliver_due_task(world, in_place, endpoint_for, receivers):
    receiver = receivers()
    endpoint, _ = endpoint_for(world.a, receiver.url)
    queue_one(world, in_place, endpoint)
    result = deliver_due.enqueue()
    assert result.return_value == {MessageStatus.DELIVERED: 1}
    assert len(receiver.requests) == 1


def test_webhook_endpoint_command(world, in_place):
    slug, org = world.a.place.slug, world.a.organisation
    url = "https://hooks.example.org/locus"
    out = run(
        "webhook_endpoint",
        "--place",
        slug,
        "create",
        "--organisation",
        str(org.pk),
        "--url",
        url,
        "--event",
        "case.routed",
    )
    secret = out.strip().splitlines()[-1]
    with in_place(world.a.place):
        endpoint = WebhookEndpoint.objects.get()
    assert secret.startswith("whsec_") and endpoint.secret == secret
    assert endpoint.event_types == ["case.routed"]
    assert url in run("webhook_endpoint", "--place", slug, "list")
    new = run("webhook_endpoint", "--place", slug, "rotate", "--endpoint", str(endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.secret == new.strip().splitlines()[-1] != secret
    assert endpoint.previous_secret == secret
    run("webhook_endpoint", "--place", slug, "disable", "--endpoint", str(endpoint.pk))
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    # Another place's endpoint or organisation is not found.
    for args in (
        ["rotate", "--endpoint", str(endpoint.pk)],
        ["create", "--organisation", str(org.pk), "--url", url],
    ):
        with pytest.raises(CommandError):
            run("webhook_endpoint", "--place", world.b.place.slug, *args)
    with pytest.raises(CommandError, match="https"):
        run(
            "webhook_endpoint",
            "--place",
            slug,
            "create",
            "--organisation",
            str(org.pk),
            "--url",
            "ftp://example.org/",
        )
