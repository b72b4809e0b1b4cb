"""Platform admin: every place's messages with their delivery log; dead ones can be retried."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from locus.core.testing.world import enable_totp
from locus.outbox.choices import MessageStatus
from locus.outbox.models import OutboxMessage
from locus.outbox.services import outbox_enqueue_webhook
from locus.outbox.sweep import outbox_deliver_due


def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        email="platform@example.org", password="platform-password-1"
    )
    enable_totp(user)
    client.force_login(user)
    return client


def test_admin_lists_every_place_and_retries_dead_messages(
    world,
    in_place,
    endpoint_for,
    receivers,
    client,
    django_user_model,
    django_capture_on_commit_callbacks,
):
    down = True
    receiver = receivers(answer=lambda n: 503 if down else 200)
    a_endpoint, _ = endpoint_for(world.a, receiver.url)
    b_endpoint, _ = endpoint_for(world.b, receiver.url)
    messages = []
    for side, endpoint in ((world.a, a_endpoint), (world.b, b_endpoint)):
        with in_place(side.place), transaction.atomic():
            messages.append(
                outbox_enqueue_webhook(
                    place=side.place,
                    endpoint=endpoint,
                    event_type="case.routed",
                    payload={"secret-ish": "never shown"},
                )
            )
    now = timezone.now()
    for _ in range(90):
        now += timedelta(hours=1)
        outbox_deliver_due(now=now)
    for message, side in zip(messages, (world.a, world.b), strict=True):
        with in_place(side.place):
            assert OutboxMessage.objects.get(pk=message.pk).status == MessageStatus.DEAD
    down = False
    admin = superuser_client(client, django_user_model)
    page = admin.get("/admin/outbox/outboxmessage/")
    assert page.status_code == 200
    for message in messages:
        assert message.message_id in page.content.decode()
    a_message = messages[0]
    detail = admin.get(f"/admin/outbox/outboxmessage/{a_message.pk}/change/").content.decode()
    assert detail.count("HTTP 503") == 13 + 1  # the delivery log (13 rows) + last error
    assert "never shown" not in detail  # payloads are not displayed
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/admin/outbox/outboxmessage/",
            {"action": "retry", "_selected_action": [m.pk for m in messages]},
        )
    assert response.status_code == 302
    for side, message in zip((world.a, world.b), messages, strict=True):
        with in_place(side.place):
            message = OutboxMessage.objects.get(pk=message.pk)
        assert message.status == MessageStatus.DELIVERED
    endpoints = admin.get("/admin/outbox/webhookendpoint/")
    assert endpoints.status_code == 200
    change = admin.get(f"/admin/outbox/webhookendpoint/{a_endpoint.pk}/change/").content.decode()
    assert a_endpoint.secret not in change
