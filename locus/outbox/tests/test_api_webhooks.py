"""The webhooks API: endpoints (create with the secret once, list, get, change, rotate), the
delivery log and "retry now"; errors naming the field; audit; idempotency; who sees what; and
a report routed to a partner reaching its receiver signed with the secret the API gave."""

import pytest
from django.db import transaction
from django.utils import timezone

from locus.api.tests.test_api import assert_error, bearer, secret_for
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.core.testing.factories import MembershipFactory, OrganisationFactory, UserFactory
from locus.core.testing.world import enable_totp
from locus.directory.choices import OrganisationType
from locus.directory.services import organisation_list_in_place
from locus.outbox.choices import MessageStatus
from locus.outbox.models import DeliveryAttempt, OutboxMessage, WebhookEndpoint
from locus.outbox.services import outbox_enqueue_webhook, webhook_endpoint_create

API = "/api/v1/places"
URL = "https://hooks.example.org/locus"


@pytest.fixture
def police(world, in_place):
    """A police force listed in place A and a token of its administrator."""
    organisation = OrganisationFactory(name="Alpha Police", type=OrganisationType.POLICE)
    with in_place(world.a.place):
        organisation_list_in_place(organisation=organisation, place=world.a.place)
    user = UserFactory()
    enable_totp(user)  # an administrator's token works only with two-factor authentication
    membership = MembershipFactory(user=user, organisation=organisation, role="admin")
    return organisation, bearer(secret_for(membership))


@pytest.fixture
def admin(world):
    return bearer(secret_for(world.a.memberships["admin"]))


def hooks(place, suffix=""):
    return f"{API}/{place.slug}/webhooks{suffix}"


def send(client, method, url, body, headers, **extra):
    return getattr(client, method)(
        url, body, content_type="application/json", headers=headers | extra
    )


def endpoint_of(side, organisation, in_place, url=URL):
    with in_place(side.place):
        return webhook_endpoint_create(place=side.place, organisation=organisation, url=url)[0]


def message_for(side, endpoint, in_place, *, status, source=1, codes=()):
    with in_place(side.place):
        with transaction.atomic():
            message = outbox_enqueue_webhook(
                place=side.place,
                endpoint=endpoint,
                event_type="report.routed",
                payload={"case": source},
                source=("cases.case", source),
            )
        for code in codes:
            DeliveryAttempt.objects.create(
                place=side.place, message=message, at=timezone.now(), status_code=code
            )
        OutboxMessage.objects.filter(pk=message.pk).update(status=status, attempts=len(codes))
        message.refresh_from_db()
        return message


def changes():
    return list(
        AuditEvent.objects.filter(action=AuditAction.WEBHOOK_ENDPOINT_CHANGED)
        .order_by("id")
        .values_list("data", flat=True)
    )


# --- create --------------------------------------------------------------------------------


def test_create_returns_the_secret_once(client, world, admin, in_place):
    body = {"url": URL, "description": "Case system", "event_types": ["report.routed"]}
    response = send(client, "post", hooks(world.a.place), body, admin)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["can_manage"] and created["event_types"] == ["report.routed"]
    assert created["deliveries"] == {"waiting": 0, "delivered": 0, "problems": 0}
    with in_place(world.a.place):
        assert WebhookEndpoint.objects.get().secret == created["secret"]
    got = client.get(hooks(world.a.place, f"/{created['id']}"), headers=admin).json()
    assert "secret" not in got and got["url"] == URL
    assert changes() == [
        {"endpoint": created["id"], "organisation": world.a.organisation.pk, "created": True}
    ]


def test_create_replayed_with_the_same_key_creates_nothing_and_hides_the_secret(
    client, world, admin, in_place
):
    body = {"url": URL}
    first = send(client, "post", hooks(world.a.place), body, admin, **{"Idempotency-Key": "w-1"})
    again = send(client, "post", hooks(world.a.place), body, admin, **{"Idempotency-Key": "w-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["secret"] is None
    with in_place(world.a.place):
        assert WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"url": "ftp://files.example.org/"}, {"url"}),
        ({"url": "nonsense"}, {"url"}),
        ({"url": ""}, {"url"}),
        ({"url": URL, "event_types": ["report.nonsense"]}, {"event_types.0"}),
        ({"url": URL, "description": "a\x00b"}, {"description"}),
        ({"url": URL, "secret": "whsec_mine"}, {"secret"}),
        ({}, {"url"}),
    ],
)
def test_bad_endpoints_are_422_naming_the_field(client, world, admin, in_place, body, fields):
    error = assert_error(send(client, "post", hooks(world.a.place), body, admin), 422)
    assert set(error["fields"]) == fields
    with in_place(world.a.place):
        assert not WebhookEndpoint.objects.exists()


# --- list, get, change ---------------------------------------------------------------------


def test_a_partners_admin_sees_only_its_own(client, world, police, in_place):
    organisation, police_admin = police
    own = endpoint_of(world.a, organisation, in_place, "https://police.example.org/")
    team = endpoint_of(world.a, world.a.organisation, in_place)
    body = client.get(hooks(world.a.place), headers=police_admin).json()
    assert [e["id"] for e in body] == [own.pk]
    assert_error(client.get(hooks(world.a.place, f"/{team.pk}"), headers=police_admin), 404)
    assert_error(
        send(
            client, "patch", hooks(world.a.place, f"/{team.pk}"), {"is_active": False}, police_admin
        ),
        404,
    )


def test_the_place_teams_admin_sees_every_endpoint_read_only(
    client, world, police, admin, in_place
):
    organisation, _ = police
    other = endpoint_of(world.a, organisation, in_place, "https://police.example.org/")
    dead = message_for(world.a, other, in_place, status=MessageStatus.DEAD, codes=[500])
    body = client.get(hooks(world.a.place), headers=admin).json()
    assert [(e["organisation"]["name"], e["can_manage"]) for e in body] == [("Alpha Police", False)]
    assert body[0]["deliveries"]["problems"] == 1
    assert (
        client.get(hooks(world.a.place, f"/{other.pk}/messages"), headers=admin).status_code == 200
    )
    for method, suffix, payload in [
        ("patch", "", {"is_active": False}),
        ("post", "/rotate-secret", {}),
        ("post", "/test", {}),
        ("post", f"/messages/{dead.message_id}/retry", {}),
    ]:
        response = send(
            client, method, hooks(world.a.place, f"/{other.pk}{suffix}"), payload, admin
        )
        assert_error(response, 403, "forbidden")
    assert changes() == []


def test_change_an_endpoint(client, world, admin, in_place):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    url = hooks(world.a.place, f"/{endpoint.pk}")
    response = send(
        client, "patch", url, {"is_active": False, "event_types": ["report.erased"]}, admin
    )
    assert response.status_code == 200
    assert not response.json()["is_active"] and response.json()["event_types"] == ["report.erased"]
    assert changes()[-1]["fields"] == ["event_types", "is_active"]
    error = assert_error(send(client, "patch", url, {"url": "http//broken"}, admin), 422)
    assert list(error["fields"]) == ["url"]
    error = assert_error(send(client, "patch", url, {"url": None}, admin), 422)
    assert list(error["fields"]) == ["url"]
    # Nothing changed: nothing recorded.
    send(client, "patch", url, {"is_active": False}, admin)
    assert len(changes()) == 1


# --- rotate --------------------------------------------------------------------------------


def test_rotate_the_secret(client, world, admin, in_place):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    url = hooks(world.a.place, f"/{endpoint.pk}/rotate-secret")
    body = send(client, "post", url, {}, admin).json()
    with in_place(world.a.place):
        endpoint.refresh_from_db()
    assert body["secret"] == endpoint.secret and body["previous_secret_expires_at"]
    body = send(client, "post", url, {"revoke_old": True}, admin).json()
    with in_place(world.a.place):
        endpoint.refresh_from_db()
    assert body["secret"] == endpoint.secret and body["previous_secret_expires_at"] is None
    assert endpoint.previous_secret == ""
    assert [c["revoke_old"] for c in changes()] == [False, True]


def test_rotate_replayed_rotates_once(client, world, admin, in_place):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    url = hooks(world.a.place, f"/{endpoint.pk}/rotate-secret")
    first = send(client, "post", url, {}, admin, **{"Idempotency-Key": "r-1"})
    again = send(client, "post", url, {}, admin, **{"Idempotency-Key": "r-1"})
    assert first.status_code == again.status_code == 200
    assert again.json()["secret"] is None
    assert again.json()["previous_secret_expires_at"] is not None
    with in_place(world.a.place):
        endpoint.refresh_from_db()
    assert endpoint.secret == first.json()["secret"] and len(changes()) == 1


# --- the delivery log and retries ----------------------------------------------------------


def test_delivery_log(client, world, admin, in_place):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    dead = message_for(
        world.a, endpoint, in_place, status=MessageStatus.DEAD, source=1, codes=[503, None]
    )
    message_for(world.a, endpoint, in_place, status=MessageStatus.DELIVERED, source=2, codes=[200])
    url = hooks(world.a.place, f"/{endpoint.pk}/messages")
    body = client.get(url, headers=admin).json()
    assert (body["count"], body["page"], body["pages"], body["page_size"]) == (2, 1, 1, 50)
    assert len(body["results"]) == 2
    body = client.get(url, {"status": "dead"}, headers=admin).json()
    assert [m["message_id"] for m in body["results"]] == [dead.message_id]
    assert [a["status_code"] for a in body["results"][0]["delivery_attempts"]] == [503, None]
    assert body["results"][0]["next_attempt_at"] is None
    page = client.get(url, {"page": 2, "page_size": 1}, headers=admin).json()
    assert (page["count"], page["pages"], len(page["results"])) == (2, 2, 1)
    # Past the last page: 422 naming `page`, as every paged list (locus/api/pagination.py).
    for past in (3, 2**63 - 1):
        error = assert_error(client.get(url, {"page": past, "page_size": 1}, headers=admin), 422)
        assert set(error["fields"]) == {"page"}
    assert_error(client.get(url, {"status": "lost"}, headers=admin), 422)
    assert_error(client.get(url, {"page": 0}, headers=admin), 422)
    assert_error(client.get(url, {"page_size": 201}, headers=admin), 422)


def test_retry_a_dead_message(client, world, admin, in_place):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    dead = message_for(world.a, endpoint, in_place, status=MessageStatus.DEAD, codes=[500] * 3)
    url = hooks(world.a.place, f"/{endpoint.pk}/messages/{dead.message_id}/retry")
    body = send(client, "post", url, {}, admin).json()
    assert body["status"] == "pending" and body["attempts"] == 0
    assert len(body["delivery_attempts"]) == 3  # the log keeps every earlier attempt
    assert changes() == [
        {
            "endpoint": endpoint.pk,
            "organisation": world.a.organisation.pk,
            "retried": dead.message_id,
        }
    ]
    error = assert_error(send(client, "post", url, {}, admin), 422)
    assert "failed or dead" in error["message"]
    missing = hooks(world.a.place, f"/{endpoint.pk}/messages/msg_nope/retry")
    assert_error(send(client, "post", missing, {}, admin), 404)
    # Not an id Locus makes: never compared with the database (PostgreSQL: 500 on a NUL).
    for odd in ("msg%00", "%01", "msg.nope"):
        unknown = hooks(world.a.place, f"/{endpoint.pk}/messages/{odd}/retry")
        assert_error(send(client, "post", unknown, {}, admin), 404)


def test_send_a_test_event(client, world, admin, in_place):
    """Whatever the endpoint subscribed to; a replay sends nothing; disabled: 422; audited."""
    with in_place(world.a.place):
        endpoint, _secret = webhook_endpoint_create(
            place=world.a.place,
            organisation=world.a.organisation,
            url=URL,
            event_types=["report.erased"],
        )
    url = hooks(world.a.place, f"/{endpoint.pk}/test")
    first = send(client, "post", url, {}, admin, **{"Idempotency-Key": "t-1"})
    again = send(client, "post", url, {}, admin, **{"Idempotency-Key": "t-1"})
    assert first.status_code == again.status_code == 201
    body = first.json()
    assert body["event_type"] == "webhook.test" and body["status"] == "pending"
    assert again.json()["message_id"] == body["message_id"]
    with in_place(world.a.place):
        [message] = OutboxMessage.objects.filter(endpoint=endpoint)
    assert message.payload == {
        "endpoint": endpoint.pk,
        "test": 1,
        "link": f"/{world.a.place.slug}/staff/webhooks/{endpoint.pk}/",
    }
    assert changes() == [
        {
            "endpoint": endpoint.pk,
            "organisation": world.a.organisation.pk,
            "tested": message.message_id,
        }
    ]
    send(client, "patch", hooks(world.a.place, f"/{endpoint.pk}"), {"is_active": False}, admin)
    error = assert_error(send(client, "post", url, {}, admin), 422)
    assert "Enable the endpoint" in error["message"]
    assert_error(send(client, "post", hooks(world.a.place, "/999999/test"), {}, admin), 404)


# --- end to end ----------------------------------------------------------------------------


def test_a_routed_report_reaches_the_partner_signed_with_the_secret_the_api_gave(
    client, world, police, in_place, receivers, django_capture_on_commit_callbacks
):
    from locus.cases.tests.factories import REPORT, route_to, submit

    organisation, police_admin = police
    receiver = receivers()
    created = send(client, "post", hooks(world.a.place), {"url": receiver.url}, police_admin).json()
    receiver.secret = created["secret"]
    route_to(world.a.place, [organisation])
    with django_capture_on_commit_callbacks(execute=True):
        report = submit(world.a.place, REPORT)
    [request] = receiver.requests
    assert request.verified
    import json

    envelope = json.loads(request.body)
    assert envelope["type"] == "report.routed"
    assert set(envelope["data"]) == {"report", "case", "incident_type", "level", "link"}
    assert (
        envelope["data"]["report"] == report.reference and envelope["data"]["level"] == "anonymised"
    )
    log = client.get(
        hooks(world.a.place, f"/{created['id']}/messages"), headers=police_admin
    ).json()
    assert [(m["message_id"], m["status"]) for m in log["results"]] == [
        (request.webhook_id, "delivered")
    ]
