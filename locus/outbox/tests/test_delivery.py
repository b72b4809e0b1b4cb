"""Delivery against a real receiver on 127.0.0.1. Retries are driven by handing the sweep a
clock moved forward — no sleeping."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from locus.core.tenancy import get_active_place
from locus.outbox import services
from locus.outbox.backoff import JITTER, MAX_ATTEMPTS, RETRY_DELAYS
from locus.outbox.choices import MessageStatus
from locus.outbox.models import DeliveryAttempt, OutboxMessage
from locus.outbox.selectors import delivery_attempt_list, outbox_message_list
from locus.outbox.services import (
    outbox_claim,
    outbox_enqueue_email,
    outbox_enqueue_webhook,
    outbox_retry,
    webhook_endpoint_update,
)
from locus.outbox.sweep import outbox_deliver_due
from locus.outbox.tasks import deliver_message


def enqueue(side, endpoint, in_place, capture, *, n=1, kick=True, event_type="case.routed"):
    """Enqueue n messages in one transaction; with `kick` the on-commit delivery runs."""
    with in_place(side.place), capture(execute=kick), transaction.atomic():
        return [
            outbox_enqueue_webhook(
                place=side.place,
                endpoint=endpoint,
                event_type=event_type,
                payload={"case": i, "category": "religion"},
                source=("cases.case", i),
            )
            for i in range(n)
        ]


def _reload(message):
    message.refresh_from_db()
    return message


def test_a_flaky_receiver_gets_every_message_exactly_once_with_a_stable_id(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers(answer=lambda n: 500 if n < 5 else 200)
    endpoint, receiver.secret = endpoint_for(world.a, receiver.url)
    start = timezone.now()
    messages = enqueue(world.a, endpoint, in_place, django_capture_on_commit_callbacks, n=3)
    # The three on-commit attempts met 500s; each message waits for its retry.
    assert len(receiver.requests) == 3
    with in_place(world.a.place):
        assert {_reload(m).status for m in messages} == {MessageStatus.PENDING}
        assert all(m.attempts == 1 and m.last_error == "HTTP 500" for m in messages)
    # Not due yet: the first retry waits ≈ 5 s.
    assert outbox_deliver_due(now=start + timedelta(seconds=4)) == {}
    now = start
    for _ in range(5):
        now += timedelta(minutes=40)
        outbox_deliver_due(now=now)
    with in_place(world.a.place):
        for message in messages:
            _reload(message)
            assert message.status == MessageStatus.DELIVERED
            log = list(delivery_attempt_list(place=world.a.place, message=message))
            assert [a.status_code for a in log][-1] == 200
            assert [a.status_code for a in log][:-1] == [500] * (len(log) - 1)
            assert message.attempts == len(log)
    # 5 failures then one success per message; every request verified by the reference library.
    assert len(receiver.requests) == 8
    assert all(r.verified for r in receiver.requests), [r.error for r in receiver.requests]
    by_id = receiver.by_id()
    assert set(by_id) == {m.message_id for m in messages}
    for message in messages:
        requests = by_id[message.message_id]
        assert [r.status for r in requests].count(200) == 1  # delivered exactly once
        assert len({r.body for r in requests}) == 1  # the same bytes on every retry
        body = json.loads(requests[0].body)
        assert body["type"] == "case.routed" and body["data"] == message.payload
        assert requests[0].headers["content-type"] == "application/json"
    # Nothing more is sent afterwards.
    assert outbox_deliver_due(now=now + timedelta(days=5)) == {}
    assert len(receiver.requests) == 8


def test_a_receiver_down_for_two_days_gets_the_message_when_it_is_back(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers()
    endpoint, secret = endpoint_for(world.a, receiver.url)
    port = receiver.port
    receiver.stop()  # connection refused from now on
    (message,) = enqueue(world.a, endpoint, in_place, django_capture_on_commit_callbacks)
    with in_place(world.a.place):
        _reload(message)
    assert message.status == MessageStatus.PENDING
    assert "refused" in message.last_error.lower()
    # Follow the schedule for two days: every attempt fails, the message stays pending.
    while message.next_attempt_at < message.created_at + timedelta(days=2):
        due = message.next_attempt_at
        outbox_deliver_due(now=due)
        with in_place(world.a.place):
            _reload(message)
        assert message.status == MessageStatus.PENDING
        gap = message.next_attempt_at - due
        assert RETRY_DELAYS[message.attempts - 1] * (1 - JITTER) <= gap
        assert gap <= RETRY_DELAYS[message.attempts - 1] * (1 + JITTER)
    assert 8 <= message.attempts < MAX_ATTEMPTS
    # The receiver comes back on the same address; the next scheduled attempt delivers.
    back = receivers(port=port, secret=secret)
    assert outbox_deliver_due(now=message.next_attempt_at - timedelta(seconds=1)) == {}
    assert outbox_deliver_due(now=message.next_attempt_at) == {MessageStatus.DELIVERED: 1}
    assert [r.webhook_id for r in back.requests] == [message.message_id]
    assert back.requests[0].verified


def test_a_receiver_down_for_days_leaves_the_message_dead_never_lost(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers()
    endpoint, secret = endpoint_for(world.a, receiver.url)
    port = receiver.port
    receiver.stop()
    (message,) = enqueue(world.a, endpoint, in_place, django_capture_on_commit_callbacks)
    now = timezone.now()
    for _ in range(5 * 24):  # sweep every hour for five days
        now += timedelta(hours=1)
        outbox_deliver_due(now=now)
    with in_place(world.a.place):
        _reload(message)
        attempts = list(delivery_attempt_list(place=world.a.place, message=message))
    assert message.status == MessageStatus.DEAD
    assert message.attempts == MAX_ATTEMPTS == len(attempts)
    assert all(a.status_code is None and "refused" in a.error.lower() for a in attempts)
    assert attempts[-1].at - attempts[0].at > timedelta(days=2.8)
    # An operator retries once the receiver is back: delivered, same id, log kept.
    back = receivers(port=port, secret=secret)
    with (
        in_place(world.a.place),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        outbox_retry(place=world.a.place, message=message)
    with in_place(world.a.place):
        _reload(message)
        assert DeliveryAttempt.objects.filter(message=message).count() == MAX_ATTEMPTS + 1
    assert message.status == MessageStatus.DELIVERED
    assert [r.webhook_id for r in back.requests] == [message.message_id]


def test_a_worker_that_dies_mid_delivery_loses_nothing(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers()
    endpoint, receiver.secret = endpoint_for(world.a, receiver.url)
    (message,) = enqueue(
        world.a, endpoint, in_place, django_capture_on_commit_callbacks, kick=False
    )
    now = timezone.now()
    with in_place(world.a.place):
        assert outbox_claim(message=message, now=now) is not None  # then the worker dies
        assert outbox_claim(message=message, now=now) is None  # nobody else can take it
        assert _reload(message).status == MessageStatus.DELIVERING
    assert outbox_deliver_due(now=now + timedelta(minutes=1)) == {}
    assert receiver.requests == []
    # The claim expires; the sweep takes the message over.
    assert outbox_deliver_due(now=now + timedelta(minutes=6)) == {MessageStatus.DELIVERED: 1}
    assert [r.webhook_id for r in receiver.requests] == [message.message_id]


def test_each_message_is_delivered_in_its_own_place(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks, monkeypatch
):
    receiver = receivers()
    a_endpoint, _ = endpoint_for(world.a, receiver.url)
    b_endpoint, _ = endpoint_for(world.b, receiver.url)
    (a_message,) = enqueue(
        world.a, a_endpoint, in_place, django_capture_on_commit_callbacks, kick=False
    )
    (b_message,) = enqueue(
        world.b, b_endpoint, in_place, django_capture_on_commit_callbacks, kick=False
    )
    # Place B's queries do not see A's message, and B's task cannot deliver it.
    with in_place(world.b.place):
        assert not OutboxMessage.objects.filter(pk=a_message.pk).exists()
        assert list(outbox_message_list(place=world.b.place)) == [b_message]
    assert deliver_message.call(place_id=world.b.place.pk, message_id=a_message.message_id) is None
    assert receiver.requests == []

    active = {}
    real_post = services.transport.post_json

    def spy(**kwargs):
        active[kwargs["headers"]["webhook-id"]] = get_active_place()
        return real_post(**kwargs)

    monkeypatch.setattr(services.transport, "post_json", spy)
    assert outbox_deliver_due() == {MessageStatus.DELIVERED: 2}  # no place active here
    assert active == {a_message.message_id: world.a.place, b_message.message_id: world.b.place}
    with in_place(world.a.place):
        assert DeliveryAttempt.objects.get(message=a_message).place_id == world.a.place.pk


def test_redirects_are_not_followed(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers(answer=lambda n: 302)
    endpoint, _ = endpoint_for(world.a, receiver.url)
    (message,) = enqueue(world.a, endpoint, in_place, django_capture_on_commit_callbacks)
    with in_place(world.a.place):
        _reload(message)
    assert message.status == MessageStatus.PENDING and message.last_error == "HTTP 302"
    assert len(receiver.requests) == 1  # no GET to the Location


def test_a_switched_off_endpoint_fails_the_message_until_an_operator_retries(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers()
    endpoint, _ = endpoint_for(world.a, receiver.url)
    (message,) = enqueue(
        world.a, endpoint, in_place, django_capture_on_commit_callbacks, kick=False
    )
    place = world.a.place
    with in_place(place):
        webhook_endpoint_update(place=place, endpoint=endpoint, is_active=False)
    assert outbox_deliver_due() == {MessageStatus.FAILED: 1}
    assert receiver.requests == []
    with in_place(place), django_capture_on_commit_callbacks(execute=True):
        webhook_endpoint_update(place=place, endpoint=endpoint, is_active=True)
        outbox_retry(place=place, message=_reload(message))
    with in_place(place):
        assert _reload(message).status == MessageStatus.DELIVERED
    assert len(receiver.requests) == 1


def test_a_delivered_message_cannot_be_retried(world, in_place, endpoint_for, receivers):
    from locus.core.errors import ValidationFailed

    receiver = receivers()
    endpoint, _ = endpoint_for(world.a, receiver.url)
    with in_place(world.a.place), transaction.atomic():
        message = outbox_enqueue_webhook(
            place=world.a.place, endpoint=endpoint, event_type="x", payload={}
        )
    outbox_deliver_due()
    with in_place(world.a.place), pytest.raises(ValidationFailed):
        outbox_retry(place=world.a.place, message=_reload(message))


def test_email_carries_only_the_link(
    world, in_place, endpoint_for, django_capture_on_commit_callbacks
):
    """The pattern the enqueuing code follows: case data may go to the organisation's own
    system (webhook), the e-mail holds a neutral sentence and a link, nothing else."""
    endpoint, _ = endpoint_for(world.a, "https://hooks.example.org/locus")
    case = {"case": 9, "narrative": "Shouted at near the mosque", "reporter": "Sam Doe"}
    link = "https://locus.example.org/alpha/staff/cases/9/"
    place = world.a.place
    with (
        in_place(place),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        outbox_enqueue_webhook(
            place=place,
            endpoint=endpoint,
            event_type="case.routed",
            payload=case,
            source=("cases.case", 9),
        )
        email = outbox_enqueue_email(
            place=place,
            to="Inbox@Alphaville.Example",
            subject="A case was routed to your organisation",
            body=f"A case was routed to your organisation:\n{link}\n",
            source=("cases.case", 9),
            event_type="case.routed",
        )
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["Inbox@alphaville.example"]
    assert sent.subject == "A case was routed to your organisation"
    assert sent.body == f"A case was routed to your organisation:\n{link}\n"
    for value in ("Shouted", "mosque", "Sam Doe", "narrative", "reporter"):
        assert value not in sent.body and value not in sent.subject
    with in_place(place):
        _reload(email)
        (attempt,) = delivery_attempt_list(place=place, message=email)
    assert email.status == MessageStatus.DELIVERED and attempt.status_code is None
    assert set(email.payload) == {"subject", "body"}


def test_a_failing_mail_server_is_retried(
    world, in_place, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(services.transport, "send_mail", broken)
    place = world.a.place
    with (
        in_place(place),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        email = outbox_enqueue_email(place=place, to="a@example.org", subject="s", body="b")
    with in_place(place):
        _reload(email)
    assert email.status == MessageStatus.PENDING and "refused" in email.last_error
    monkeypatch.undo()
    assert outbox_deliver_due(now=timezone.now() + timedelta(minutes=1)) == {
        MessageStatus.DELIVERED: 1
    }
    assert len(mail.outbox) == 1


def test_410_gone_disables_the_endpoint(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks
):
    """Standard Webhooks: 410 Gone means the receiver wants no more messages — the endpoint is
    disabled (audited, by nobody), the message fails without retries, nothing more is sent."""
    from locus.core.models import AuditEvent

    receiver = receivers(answer=lambda n: 410)
    endpoint, _ = endpoint_for(world.a, receiver.url)
    (message,) = enqueue(world.a, endpoint, in_place, django_capture_on_commit_callbacks)
    with in_place(world.a.place):
        _reload(message)
        endpoint.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.last_error.startswith("HTTP 410") and "disabled" in message.last_error
    assert not endpoint.is_active
    event = AuditEvent.objects.get(target_id=str(endpoint.pk), data__reason="410 Gone")
    assert event.actor is None and event.data["fields"] == ["is_active"]
    from locus.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):  # a disabled endpoint receives no new event
        enqueue(world.a, endpoint, in_place, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_a_retry_after_longer_than_the_backoff_is_honoured(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks, status
):
    """Standard Webhooks: a Retry-After (e.g. with 503) is taken into account when scheduling
    the next attempt — here an hour instead of the schedule's 5 seconds."""
    receiver = receivers(answer=lambda n: status, retry_after="3600")
    endpoint, _ = endpoint_for(world.a, receiver.url)
    before = timezone.now()
    (message,) = enqueue(world.a, endpoint, in_place, django_capture_on_commit_callbacks)
    with in_place(world.a.place):
        _reload(message)
    assert message.status == MessageStatus.PENDING
    assert timedelta(minutes=59) < message.next_attempt_at - before < timedelta(minutes=61)


def test_retry_after_reads_seconds_and_dates_within_a_day():
    from datetime import UTC, datetime

    from locus.outbox.transport import RETRY_AFTER_MAX, retry_after

    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert retry_after("120") == timedelta(seconds=120)
    assert retry_after("Sun, 01 Mar 2026 12:30:00 GMT", now=now) == timedelta(minutes=30)
    assert retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now=now) == timedelta(0)
    assert retry_after("99999999999") == RETRY_AFTER_MAX
    for bad in (None, "", "soon", "-5", "١٢", "1.5"):
        assert retry_after(bad) is None, bad
