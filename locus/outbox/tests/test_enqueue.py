"""Enqueueing: in the caller's transaction, once per (source, destination, event), validated."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from locus.core.errors import ValidationFailed
from locus.outbox.choices import MessageKind, MessageStatus
from locus.outbox.models import OutboxMessage
from locus.outbox.services import (
    OutboxMisuse,
    outbox_enqueue_email,
    outbox_enqueue_event,
    outbox_enqueue_webhook,
    webhook_endpoint_create,
    webhook_endpoint_update,
)

URL = "https://hooks.example.org/locus"


def test_a_rolled_back_enqueue_leaves_no_message_and_sends_nothing(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers()
    endpoint, _secret = endpoint_for(world.a, receiver.url)
    place = world.a.place
    with in_place(place), django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox_enqueue_webhook(
                place=place, endpoint=endpoint, event_type="case.routed", payload={"case": 1}
            )
            outbox_enqueue_email(
                place=place, to="team@example.org", subject="New case", body="https://x/1"
            )
            raise RuntimeError("the report could not be saved")
        assert not OutboxMessage.objects.exists()
    assert callbacks == []
    assert receiver.requests == []
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused_and_inside_one_is_sent_after_commit(
    world, in_place, endpoint_for, receivers
):
    receiver = receivers()
    endpoint, secret = endpoint_for(world.a, receiver.url)
    receiver.secret = secret
    place = world.a.place
    with in_place(place):
        with pytest.raises(OutboxMisuse):
            outbox_enqueue_webhook(place=place, endpoint=endpoint, event_type="x", payload={})
        with transaction.atomic():
            message = outbox_enqueue_webhook(
                place=place, endpoint=endpoint, event_type="case.routed", payload={"case": 7}
            )
            assert receiver.requests == []  # nothing leaves before commit
        message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert [r.webhook_id for r in receiver.requests] == [message.message_id]
    assert receiver.requests[0].verified


def test_unique_constraint_allows_one_message_per_source_endpoint_and_event(
    world, in_place, endpoint_for
):
    endpoint, _secret = endpoint_for(world.a, URL)
    other, _secret = endpoint_for(world.a, URL + "/2")
    with in_place(world.a.place):

        def create(**kwargs):
            fields = {
                "kind": MessageKind.WEBHOOK,
                "endpoint": endpoint,
                "event_type": "case.routed",
                "source_type": "cases.case",
                "source_id": "1",
            }
            return OutboxMessage.objects.create(**{**fields, **kwargs})

        create()
        with pytest.raises(IntegrityError), transaction.atomic():
            create()
        # Another endpoint, event or source is another message; no source is never deduplicated.
        create(endpoint=other)
        create(event_type="case.closed")
        create(source_id="2")
        create(source_type="", source_id="")
        create(source_type="", source_id="")
        # E-mails: one per (source, address, event).
        email = {"kind": MessageKind.EMAIL, "endpoint": None, "email_to": "team@example.org"}
        create(**email)
        with pytest.raises(IntegrityError), transaction.atomic():
            create(**email)
        create(**{**email, "email_to": "other@example.org"})
        assert OutboxMessage.objects.count() == 8


def test_the_destination_must_match_the_kind(world, in_place, endpoint_for):
    endpoint, _secret = endpoint_for(world.a, URL)
    with in_place(world.a.place):
        for fields in (
            {"kind": MessageKind.WEBHOOK},
            {"kind": MessageKind.EMAIL},
            {"kind": MessageKind.EMAIL, "endpoint": endpoint, "email_to": "a@example.org"},
        ):
            with pytest.raises(IntegrityError), transaction.atomic():
                OutboxMessage.objects.create(event_type="x", **fields)


def test_enqueue_with_a_source_is_idempotent(
    world, in_place, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint, _secret = endpoint_for(world.a, URL)
    place = world.a.place
    with in_place(place), django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            kwargs = {"place": place, "endpoint": endpoint, "event_type": "case.routed"}
            first = outbox_enqueue_webhook(**kwargs, payload={"n": 1}, source=("cases.case", 5))
            again = outbox_enqueue_webhook(**kwargs, payload={"n": 2}, source=("cases.case", 5))
            mail_kwargs = {"place": place, "subject": "New case", "body": "https://x/5"}
            email = outbox_enqueue_email(
                to="team@example.org", source=("cases.case", 5), **mail_kwargs
            )
            email_again = outbox_enqueue_email(
                to="team@EXAMPLE.org", source=("cases.case", 5), **mail_kwargs
            )
        assert first.pk == again.pk and again.payload == {"n": 1}
        assert email.pk == email_again.pk
        assert OutboxMessage.objects.count() == 2
    assert len(callbacks) == 2  # one delivery kick per message


def test_a_model_instance_can_be_the_source(world, in_place, endpoint_for):
    endpoint, _secret = endpoint_for(world.a, URL)
    area = world.a.areas[0]
    with in_place(world.a.place), transaction.atomic():
        message = outbox_enqueue_webhook(
            place=world.a.place,
            endpoint=endpoint,
            event_type="area.changed",
            payload={},
            source=area,
        )
    assert (message.source_type, message.source_id) == ("places.area", str(area.pk))


def test_fan_out_reaches_every_subscribed_active_endpoint(world, in_place, endpoint_for):
    everything, _ = endpoint_for(world.a, URL + "/all")
    routed_only, _ = endpoint_for(world.a, URL + "/routed", event_types=["case.routed"])
    closed_only, _ = endpoint_for(world.a, URL + "/closed", event_types=["case.closed"])
    switched_off, _ = endpoint_for(world.a, URL + "/off")
    endpoint_for(world.b, URL + "/b")  # another place's endpoint
    place = world.a.place
    with in_place(place), transaction.atomic():
        webhook_endpoint_update(place=place, endpoint=switched_off, is_active=False)
        messages = outbox_enqueue_event(
            place=place,
            organisation=world.a.organisation,
            event_type="case.routed",
            payload={"case": 3},
            source=("cases.case", 3),
        )
    assert {m.endpoint_id for m in messages} == {everything.pk, routed_only.pk}


def test_enqueue_refuses_another_places_or_an_unsubscribed_endpoint(world, in_place, endpoint_for):
    b_endpoint, _ = endpoint_for(world.b, URL)
    closed_only, _ = endpoint_for(world.a, URL, event_types=["case.closed"])
    place = world.a.place
    with in_place(place), transaction.atomic():
        for endpoint in (b_endpoint, closed_only):
            with pytest.raises(ValidationFailed):
                outbox_enqueue_webhook(
                    place=place, endpoint=endpoint, event_type="case.routed", payload={}
                )


def test_email_is_validated(world, in_place):
    place = world.a.place
    with in_place(place), transaction.atomic():
        with pytest.raises(ValidationFailed):
            outbox_enqueue_email(place=place, to="not an address", subject="s", body="b")
        with pytest.raises(ValidationFailed):
            outbox_enqueue_email(
                place=place, to="a@example.org", subject="two\nlines", body="https://x"
            )


def test_endpoint_urls_need_https_outside_development(world, in_place, settings):
    place, organisation = world.a.place, world.a.organisation

    def create(url):
        with in_place(place):
            return webhook_endpoint_create(place=place, organisation=organisation, url=url)

    settings.DEBUG = settings.TESTING = False
    assert create("https://hooks.example.org/x")[0].pk
    assert create("http://127.0.0.1:8080/x")[0].pk  # loopback, e.g. a local relay
    assert create("http://localhost/x")[0].pk
    for bad in ("http://hooks.example.org/x", "ftp://hooks.example.org/x", "file:///etc/passwd"):
        with pytest.raises(ValidationFailed) as exc:
            create(bad)
        assert "url" in exc.value.fields
    settings.DEBUG = True
    assert create("http://hooks.example.org/x")[0].pk
    settings.PRODUCTION = True
    for bad in ("http://hooks.example.org/x", "http://127.0.0.1/x"):
        with pytest.raises(ValidationFailed):
            create(bad)


def test_endpoint_organisation_must_work_in_the_place(world, in_place):
    with in_place(world.a.place), pytest.raises(ValidationFailed) as exc:
        webhook_endpoint_create(place=world.a.place, organisation=world.b.organisation, url=URL)
    assert "organisation" in exc.value.fields


def test_created_secret_is_returned_once_and_never_in_the_admin(world, endpoint_for):
    from locus.outbox.admin import WebhookEndpointAdmin

    endpoint, secret = endpoint_for(world.a, URL)
    assert secret.startswith("whsec_") and endpoint.secret == secret
    assert "secret" not in WebhookEndpointAdmin.fields
    assert not any("secret" in f for f in WebhookEndpointAdmin.fields)


def test_a_concurrent_duplicate_returns_the_first_message_and_keeps_the_transaction_usable(
    world, in_place, endpoint_for
):
    """Another transaction inserted the same (source, endpoint, event) between our check and
    our insert: the unique constraint stops ours, and the caller's transaction goes on."""
    from locus.outbox.services import _insert_once

    endpoint, _ = endpoint_for(world.a, URL)
    place = world.a.place
    with in_place(place), transaction.atomic():
        kwargs = {"endpoint": endpoint, "event_type": "case.routed"}
        first = outbox_enqueue_webhook(place=place, payload={}, source=("cases.case", 1), **kwargs)
        real = OutboxMessage.objects.filter(source_type="cases.case", source_id="1", **kwargs)

        class RacingCheck:  # the pre-check ran before the other transaction committed
            checks = 0

            def first(self):
                self.checks += 1
                return None if self.checks == 1 else real.first()

        duplicate = OutboxMessage(
            place=place, kind=MessageKind.WEBHOOK, source_type="cases.case", source_id="1", **kwargs
        )
        found, created = _insert_once(duplicate, RacingCheck())
        assert (found.pk, created) == (first.pk, False)
        assert OutboxMessage.objects.count() == 1  # on PostgreSQL too: not aborted


def test_the_messages_of_one_transaction_share_one_delivery_task(
    world, in_place, endpoint_for, receivers, django_capture_on_commit_callbacks, settings
):
    from django.tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    backend = task_backends["default"]
    backend.clear()
    receiver = receivers()
    endpoint, secret = endpoint_for(world.a, receiver.url)
    receiver.secret = secret
    place = world.a.place
    with (
        in_place(place),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        messages = [
            outbox_enqueue_webhook(
                place=place, endpoint=endpoint, event_type="case.routed", payload={"case": n}
            )
            for n in range(3)
        ]
    (queued,) = [r for r in backend.results if r.task.name == "deliver_messages"]
    assert queued.kwargs == {
        "place_id": place.pk,
        "message_ids": [m.message_id for m in messages],
    }
    statuses = queued.task.call(**queued.kwargs)  # what the worker does
    assert set(statuses.values()) == {MessageStatus.DELIVERED}
    assert len(receiver.requests) == 3
