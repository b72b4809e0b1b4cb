"""The webhook staff pages: an organisation's administrators create endpoints (the secret shown
once), rotate the secret, disable and enable them, read the delivery log and retry failed
messages; the place team's administrators see every endpoint read-only; every change is
audited; a receiver gets a retried message signed with the secret the page showed."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.core.testing.factories import MembershipFactory, OrganisationFactory, UserFactory
from locus.core.testing.world import enable_totp
from locus.directory.choices import OrganisationType
from locus.directory.services import organisation_list_in_place
from locus.outbox.choices import MessageStatus
from locus.outbox.models import DeliveryAttempt, OutboxMessage, WebhookEndpoint
from locus.outbox.services import outbox_enqueue_webhook, webhook_endpoint_create
from locus.outbox.standard_webhooks import secret_key

URL = "https://hooks.example.org/locus"


def url(name, place, **kwargs):
    return reverse(f"outbox:{name}", kwargs={"place_slug": place.slug, **kwargs})


@pytest.fixture
def partner(world, in_place):
    """A police force listed in place A, with its own administrator."""
    organisation = OrganisationFactory(name="Alpha Police", type=OrganisationType.POLICE)
    with in_place(world.a.place):
        organisation_list_in_place(organisation=organisation, place=world.a.place)
    admin = UserFactory(name="Police Admin")
    enable_totp(admin)
    MembershipFactory(user=admin, organisation=organisation, role="admin")
    return organisation, admin


@pytest.fixture
def admin(world, client):
    client.force_login(world.a.users["admin"])
    return client


def endpoint_of(side, organisation, in_place, url=URL, **kwargs):
    with in_place(side.place):
        return webhook_endpoint_create(
            place=side.place, organisation=organisation, url=url, **kwargs
        )[0]


def message_for(side, endpoint, in_place, *, status=MessageStatus.PENDING, source=1, attempts=()):
    """A webhook message of the endpoint in `status`, with delivery attempts (status codes)."""
    from django.utils import timezone

    with in_place(side.place):
        with transaction.atomic():
            message = outbox_enqueue_webhook(
                place=side.place,
                endpoint=endpoint,
                event_type="report.routed",
                payload={"report": "TEST-0001", "case": source},
                source=("cases.case", source),
            )
        for code in attempts:
            DeliveryAttempt.objects.create(
                place=side.place,
                message=message,
                at=timezone.now(),
                status_code=code,
                error=f"HTTP {code}" if code and code >= 300 else "",
            )
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=status,
            attempts=len(attempts),
            last_error="HTTP 503" if status != MessageStatus.DELIVERED else "",
        )
        message.refresh_from_db()
        return message


def changes(endpoint):
    return [
        e.data
        for e in AuditEvent.objects.filter(
            action=AuditAction.WEBHOOK_ENDPOINT_CHANGED, target_id=str(endpoint.pk)
        ).order_by("id")
    ]


def shown_secret(response):
    match = re.search(r'id="signing-secret">(whsec_[A-Za-z0-9+/=]+)<', response.content.decode())
    assert match, "the secret is shown"
    return match.group(1)


# --- create --------------------------------------------------------------------------------


def test_create_shows_the_secret_once_and_audits(world, admin, in_place):
    response = admin.post(
        url("endpoint_new", world.a.place),
        {"url": URL, "description": "Case system", "event_types": ["report.routed"]},
    )
    with in_place(world.a.place):
        endpoint = WebhookEndpoint.objects.get()
    secret_page = url("endpoint_secret", world.a.place, endpoint_id=endpoint.pk)
    assert response.status_code == 303 and response["Location"] == secret_page
    response = admin.get(secret_page)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = shown_secret(response)
    assert len(secret_key(secret)) == 32
    assert endpoint.secret == secret and endpoint.organisation == world.a.organisation
    assert endpoint.event_types == ["report.routed"] and endpoint.description == "Case system"
    assert changes(endpoint) == [
        {"endpoint": endpoint.pk, "organisation": world.a.organisation.pk, "created": True}
    ]
    # Never again: not on the endpoint's page, not in the list, not on its own page reloaded.
    for page in (
        url("endpoint", world.a.place, endpoint_id=endpoint.pk),
        url("endpoints", world.a.place),
        secret_page,
    ):
        assert secret not in admin.get(page, follow=True).content.decode()
    response = admin.get(secret_page)
    assert response.status_code == 302
    assert response["Location"] == url("endpoint", world.a.place, endpoint_id=endpoint.pk)
    assert "shown only once" in admin.get(secret_page, follow=True).content.decode()


def test_a_double_click_or_a_reload_creates_one_endpoint(world, admin, in_place):
    """The form sent twice with its token (a double click; a reload of the POST's answer, as
    browsers offer it) makes one endpoint and lands both on its secret, shown once."""
    page = admin.get(url("endpoint_new", world.a.place)).content.decode()
    token = re.search(r'name="idempotency_token" value="([^"]+)"', page).group(1)
    data = {"url": URL, "idempotency_token": token}
    first = admin.post(url("endpoint_new", world.a.place), data)
    second = admin.post(url("endpoint_new", world.a.place), data)
    with in_place(world.a.place):
        endpoint = WebhookEndpoint.objects.get()
        assert len(changes(endpoint)) == 1
    secret_page = url("endpoint_secret", world.a.place, endpoint_id=endpoint.pk)
    assert first["Location"] == second["Location"] == secret_page
    assert shown_secret(admin.get(secret_page)) == endpoint.secret
    # The same token with another address is refused next to the form, nothing created.
    response = admin.post(url("endpoint_new", world.a.place), data | {"url": URL + "/2"})
    assert response.status_code == 422 and response.context["form"].non_field_errors()
    with in_place(world.a.place):
        assert WebhookEndpoint.objects.count() == 1


def test_a_rotation_sent_twice_rotates_once(world, admin, in_place):
    """A second rotation would make the secret just shown the "old" one and drop the secret
    the receiver still uses at once, without its day of grace."""
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    original = endpoint.secret
    page = admin.get(url("endpoint", world.a.place, endpoint_id=endpoint.pk)).content.decode()
    token = re.search(r'name="idempotency_token" value="([^"]+)"', page).group(1)
    rotate = url("endpoint_rotate", world.a.place, endpoint_id=endpoint.pk)
    first = admin.post(rotate, {"idempotency_token": token})
    second = admin.post(rotate, {"idempotency_token": token})
    assert first["Location"] == second["Location"]
    response = admin.get(second["Location"])
    with in_place(world.a.place):
        endpoint.refresh_from_db()
    assert endpoint.previous_secret == original and shown_secret(response) == endpoint.secret
    assert len(changes(endpoint)) == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "ftp://files.example.org/x"}, "url"),
        ({"url": "not an address"}, "url"),
        ({"url": ""}, "url"),
        ({"url": URL, "event_types": ["report.nonsense"]}, "event_types"),
        ({"url": URL, "description": "x" * 201}, "description"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_kept(world, admin, in_place, data, field):
    response = admin.post(
        url("endpoint_new", world.a.place), data | {"description": data.get("description", "Kept")}
    )
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    if field != "description":
        assert 'value="Kept"' in response.content.decode()
    with in_place(world.a.place):
        assert not WebhookEndpoint.objects.exists()


def test_plain_http_is_refused_outside_tests_and_debug(world, admin, settings, in_place):
    settings.TESTING = False
    settings.DEBUG = False
    response = admin.post(url("endpoint_new", world.a.place), {"url": "http://hooks.example.org/x"})
    assert response.status_code == 422
    assert response.context["form"].errors["url"] == ["A webhook address must start with https://."]


# --- rotate, disable, edit -----------------------------------------------------------------


def test_rotate_shows_a_new_secret_and_keeps_the_old_one_signing_for_a_while(
    world, admin, in_place
):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    old = endpoint.secret
    response = admin.post(url("endpoint_rotate", world.a.place, endpoint_id=endpoint.pk))
    assert response.status_code == 303
    response = admin.get(response["Location"])
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    new = shown_secret(response)
    with in_place(world.a.place):
        endpoint.refresh_from_db()
    assert new != old and endpoint.secret == new and endpoint.previous_secret == old
    assert "still signs too" in response.content.decode()

    response = admin.post(
        url("endpoint_rotate", world.a.place, endpoint_id=endpoint.pk),
        {"revoke_old": "on"},
        follow=True,
    )
    with in_place(world.a.place):
        endpoint.refresh_from_db()
    assert endpoint.secret == shown_secret(response) and endpoint.previous_secret == ""
    assert [(c.get("fields"), c.get("revoke_old")) for c in changes(endpoint)] == [
        (["secret"], False),
        (["secret"], True),
    ]
    assert not any(old in str(c) or new in str(c) for c in changes(endpoint))


def test_the_events_are_named_in_words_in_the_persons_language(world, admin, in_place):
    """They were shown as codes ("report.routed") next to the boxes ticked in words."""
    with in_place(world.a.place):
        endpoint = webhook_endpoint_create(
            place=world.a.place,
            organisation=world.a.organisation,
            url=URL,
            event_types=["report.routed", "report.erased"],
        )[0]
    headers = {"Accept-Language": "fr"}
    words = (
        "Un signalement est parvenu à l’organisation (par une règle de transmission ou transmis "
        "par une autre organisation); Les données personnelles d’un signalement ont été "
        "effacées à la demande de la personne qui a signalé"
    )
    for page in (
        url("endpoint", world.a.place, endpoint_id=endpoint.pk),
        url("endpoints", world.a.place),
    ):
        html = admin.get(page, headers=headers).content.decode()
        assert f"<dd>{words}</dd>" in html or re.search(
            rf"<td[^>]*>{re.escape(words)}</td>", html
        ), page
        assert "report.routed, report.erased" not in html


def test_disable_enable_and_edit_are_audited(world, admin, in_place):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    admin.post(url("endpoint_active", world.a.place, endpoint_id=endpoint.pk), {"is_active": "0"})
    with in_place(world.a.place):
        endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert (
        "Disabled"
        in admin.get(url("endpoint", world.a.place, endpoint_id=endpoint.pk)).content.decode()
    )
    admin.post(url("endpoint_active", world.a.place, endpoint_id=endpoint.pk), {"is_active": "1"})
    response = admin.post(
        url("endpoint", world.a.place, endpoint_id=endpoint.pk),
        {"url": "https://new.example.org/hook", "description": "", "event_types": []},
    )
    assert response.status_code == 302
    with in_place(world.a.place):
        endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.url == "https://new.example.org/hook"
    assert [c["fields"] for c in changes(endpoint)] == [["is_active"], ["is_active"], ["url"]]


def test_a_bad_edit_is_422_and_changes_nothing(world, admin, in_place):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    response = admin.post(
        url("endpoint", world.a.place, endpoint_id=endpoint.pk), {"url": "javascript:alert(1)"}
    )
    assert response.status_code == 422
    assert "url" in response.context["form"].errors
    with in_place(world.a.place):
        endpoint.refresh_from_db()
    assert endpoint.url == URL and changes(endpoint) == []


# --- the delivery log and retries ----------------------------------------------------------


def test_delivery_log_shows_messages_attempts_and_next_retry(world, admin, in_place):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    dead = message_for(
        world.a, endpoint, in_place, status=MessageStatus.DEAD, source=1, attempts=[503, None, 500]
    )
    waiting = message_for(
        world.a, endpoint, in_place, status=MessageStatus.PENDING, source=2, attempts=[502]
    )
    done = message_for(
        world.a, endpoint, in_place, status=MessageStatus.DELIVERED, source=3, attempts=[200]
    )
    response = admin.get(url("endpoint", world.a.place, endpoint_id=endpoint.pk))
    html = response.content.decode()
    assert response.status_code == 200
    for message in (dead, waiting, done):
        assert message.message_id in html
    assert "HTTP 503" in html and "no answer" in html and "HTTP 200" in html
    retry = url("message_retry", world.a.place, endpoint_id=endpoint.pk, message_id=dead.message_id)
    assert retry in html
    assert (
        url("message_retry", world.a.place, endpoint_id=endpoint.pk, message_id=done.message_id)
        not in html
    )
    # Filtered by status.
    response = admin.get(
        url("endpoint", world.a.place, endpoint_id=endpoint.pk), {"status": "dead"}
    )
    assert [m.message_id for m in response.context["page"]] == [dead.message_id]
    listing = admin.get(url("endpoints", world.a.place)).content.decode()
    assert "1 delivered, 1 waiting" in listing and "1 failed" in listing


def test_retry_now_sends_a_dead_message_again_signed_with_the_shown_secret(
    world, admin, in_place, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers()
    response = admin.post(url("endpoint_new", world.a.place), {"url": receiver.url}, follow=True)
    receiver.secret = shown_secret(response)
    with in_place(world.a.place):
        endpoint = WebhookEndpoint.objects.get()
    dead = message_for(world.a, endpoint, in_place, status=MessageStatus.DEAD, attempts=[503] * 3)
    retry = url("message_retry", world.a.place, endpoint_id=endpoint.pk, message_id=dead.message_id)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(retry)
    assert response.status_code == 302
    [request] = receiver.requests
    assert request.verified and request.webhook_id == dead.message_id
    with in_place(world.a.place):
        dead.refresh_from_db()
    assert dead.status == MessageStatus.DELIVERED
    assert changes(endpoint)[-1]["retried"] == dead.message_id


def test_a_test_event_reaches_the_receiver_signed_and_shows_in_the_log(
    world, admin, in_place, receivers, django_capture_on_commit_callbacks
):
    """Sent whatever the endpoint subscribed to; a double click sends one; audited."""
    import json

    receiver = receivers()
    response = admin.post(
        url("endpoint_new", world.a.place),
        {"url": receiver.url, "event_types": ["report.erased"]},
        follow=True,
    )
    receiver.secret = shown_secret(response)
    with in_place(world.a.place):
        endpoint = WebhookEndpoint.objects.get()
    page = url("endpoint", world.a.place, endpoint_id=endpoint.pk)
    html = admin.get(page).content.decode()
    test = url("endpoint_test", world.a.place, endpoint_id=endpoint.pk)
    form = html.split(f'action="{test}"')[1].split("</form>")[0]
    token = re.search(r'name="idempotency_token" value="([^"]+)"', form).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        first = admin.post(test, {"idempotency_token": token})
        second = admin.post(test, {"idempotency_token": token})
    assert first.status_code == second.status_code == 303 and first["Location"] == page
    [request] = receiver.requests
    event = json.loads(request.body)
    assert request.verified and event["type"] == "webhook.test"
    assert event["data"] == {"endpoint": endpoint.pk, "test": 1, "link": page}
    with in_place(world.a.place):
        [message] = OutboxMessage.objects.filter(endpoint=endpoint)
    assert message.status == MessageStatus.DELIVERED
    assert changes(endpoint)[-1]["tested"] == message.message_id
    html = admin.get(page).content.decode()
    assert message.message_id in html and "webhook.test" in html
    assert f"Test event {message.message_id} sent" in html


def test_a_disabled_endpoint_gets_no_test_event(world, admin, in_place):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    with in_place(world.a.place):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    test = url("endpoint_test", world.a.place, endpoint_id=endpoint.pk)
    html = admin.post(test, follow=True).content.decode()
    assert "Enable the endpoint to send it a test event." in html
    assert f'action="{test}"' not in html  # the button is offered only when enabled
    with in_place(world.a.place):
        assert not OutboxMessage.objects.filter(endpoint=endpoint).exists()


def test_only_failed_or_dead_messages_can_be_retried(world, admin, in_place):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    done = message_for(world.a, endpoint, in_place, status=MessageStatus.DELIVERED, attempts=[200])
    retry = url("message_retry", world.a.place, endpoint_id=endpoint.pk, message_id=done.message_id)
    response = admin.post(retry, follow=True)
    assert "Only a failed or dead message can be retried." in response.content.decode()
    with in_place(world.a.place):
        done.refresh_from_db()
    assert done.status == MessageStatus.DELIVERED and changes(endpoint) == []


def test_a_message_of_another_endpoint_is_404(world, admin, in_place):
    mine = endpoint_of(world.a, world.a.organisation, in_place)
    other = endpoint_of(world.a, world.a.organisation, in_place, url="https://other.example.org/")
    message = message_for(world.a, other, in_place, status=MessageStatus.DEAD)
    retry = url("message_retry", world.a.place, endpoint_id=mine.pk, message_id=message.message_id)
    assert admin.post(retry).status_code == 404
    # Not an id Locus makes: never compared with the database (PostgreSQL: 500 on a NUL).
    nul = f"/{world.a.place.slug}/staff/webhooks/{other.pk}/messages/msg%00/retry/"
    assert admin.post(nul).status_code == 404


# --- who sees what -------------------------------------------------------------------------


def test_a_partners_admin_sees_and_manages_only_its_own_endpoints(world, partner, client, in_place):
    organisation, police_admin = partner
    own = endpoint_of(world.a, organisation, in_place, url="https://police.example.org/")
    team = endpoint_of(world.a, world.a.organisation, in_place)
    client.force_login(police_admin)
    response = client.get(url("endpoints", world.a.place))
    assert [e.pk for e in response.context["own"]] == [own.pk]
    assert response.context["others"] == [] and not response.context["sees_all"]
    assert team.url not in response.content.decode()
    assert client.get(url("endpoint", world.a.place, endpoint_id=team.pk)).status_code == 404
    assert (
        client.post(url("endpoint_rotate", world.a.place, endpoint_id=team.pk)).status_code == 404
    )
    assert client.get(url("endpoint_secret", world.a.place, endpoint_id=team.pk)).status_code == 404
    response = client.post(
        url("endpoint_new", world.a.place), {"url": "https://police.example.org/2"}
    )
    assert response.status_code == 303
    with in_place(world.a.place):
        assert WebhookEndpoint.objects.filter(organisation=organisation).count() == 2


def test_the_place_teams_admin_sees_every_endpoint_read_only(world, partner, admin, in_place):
    organisation, _police_admin = partner
    police = endpoint_of(world.a, organisation, in_place, url="https://police.example.org/")
    dead = message_for(world.a, police, in_place, status=MessageStatus.DEAD, attempts=[500])
    response = admin.get(url("endpoints", world.a.place))
    assert [e.pk for e in response.context["others"]] == [police.pk]
    assert "Alpha Police" in response.content.decode()
    response = admin.get(url("endpoint", world.a.place, endpoint_id=police.pk))
    html = response.content.decode()
    assert response.status_code == 200 and "Read-only" in html
    assert dead.message_id in html and "Retry now" not in html and "Make a new secret" not in html
    for name, data in [
        ("endpoint", {"url": "https://evil.example.org/"}),
        ("endpoint_rotate", {}),
        ("endpoint_test", {}),
        ("endpoint_active", {"is_active": "0"}),
    ]:
        assert admin.post(url(name, world.a.place, endpoint_id=police.pk), data).status_code == 403
    assert (
        admin.get(url("endpoint_secret", world.a.place, endpoint_id=police.pk)).status_code == 403
    )
    retry = url("message_retry", world.a.place, endpoint_id=police.pk, message_id=dead.message_id)
    assert admin.post(retry).status_code == 403
    with in_place(world.a.place):
        police.refresh_from_db()
        dead.refresh_from_db()
    assert police.is_active and police.url == "https://police.example.org/"
    assert dead.status == MessageStatus.DEAD and len(changes(police)) == 0


def test_other_roles_of_the_team_may_not_open_the_pages(world, client):
    client.force_login(world.a.users["coordinator"])
    assert client.get(url("endpoints", world.a.place)).status_code == 403


def test_the_staff_navigation_links_to_the_webhooks(world, admin, client):
    html = admin.get(reverse("places:staff_home", args=[world.a.place.slug])).content
    assert url("endpoints", world.a.place).encode() in html
    client.force_login(world.a.users["coordinator"])
    html = client.get(reverse("places:staff_home", args=[world.a.place.slug])).content
    assert url("endpoints", world.a.place).encode() not in html


@pytest.mark.parametrize("extra", [0, 10])
def test_page_query_budgets(world, admin, in_place, django_assert_max_num_queries, extra):
    endpoint = endpoint_of(world.a, world.a.organisation, in_place)
    for i in range(1 + extra):
        endpoint_of(world.a, world.a.organisation, in_place, url=f"https://h{i}.example.org/")
        message_for(
            world.a, endpoint, in_place, status=MessageStatus.DEAD, source=i, attempts=[500, 502]
        )
    admin.get(url("endpoints", world.a.place))
    with django_assert_max_num_queries(12):
        assert admin.get(url("endpoints", world.a.place)).status_code == 200
    with django_assert_max_num_queries(14):
        assert admin.get(url("endpoint", world.a.place, endpoint_id=endpoint.pk)).status_code == 200
