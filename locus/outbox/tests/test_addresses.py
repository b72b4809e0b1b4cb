"""Webhooks never reach into the network Locus runs in (SSRF): an organisation's administrator
cannot point an endpoint at loopback, a private network or the cloud metadata address, neither
written as an address nor behind a host name that resolves there when Locus connects."""

import socket

import pytest
from django.db import transaction

from locus.core.errors import ValidationFailed
from locus.outbox import transport
from locus.outbox.choices import MessageStatus
from locus.outbox.services import outbox_enqueue_webhook, webhook_endpoint_create
from locus.outbox.transport import address_allowed

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",  # the cloud metadata service
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "not an address",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"]


@pytest.fixture
def production(settings):
    settings.PRODUCTION = True
    settings.DEBUG = settings.TESTING = False
    settings.LOCUS_WEBHOOK_ALLOWED_NETWORKS = []
    return settings


@pytest.mark.parametrize("address", REFUSED)
def test_local_and_private_addresses_are_refused_in_production(production, address):
    assert not address_allowed(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(production, address):
    assert address_allowed(address)


def test_the_operator_can_allow_a_private_network(production):
    production.LOCUS_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert address_allowed("10.20.1.1")
    assert not address_allowed("10.21.0.1")
    assert not address_allowed("169.254.169.254")


def test_loopback_is_allowed_outside_production(settings):
    settings.PRODUCTION = False
    assert address_allowed("127.0.0.1") and address_allowed("::1")
    assert not address_allowed("169.254.169.254") and not address_allowed("10.0.0.5")


def _create(world, in_place, url):
    place = world.a.place
    with in_place(place):
        return webhook_endpoint_create(place=place, organisation=world.a.organisation, url=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://127.0.0.1:8443/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/hooks",
        "https://192.168.0.10:9200/_search",
        "https://[::1]/hooks",
        "https://[::ffff:7f00:1]/hooks",
        "https://[fd00::5]/hooks",
        "https://localhost/hooks",
        "https://api.localhost/hooks",
    ],
)
def test_an_endpoint_at_a_local_address_is_refused_with_the_reason(
    world, in_place, production, url
):
    with pytest.raises(ValidationFailed) as exc:
        _create(world, in_place, url)
    assert "private network" in exc.value.fields["url"][0]


def test_an_endpoint_at_a_public_address_or_name_is_accepted(world, in_place, production):
    assert _create(world, in_place, "https://hooks.example.org/x")[0].pk
    assert _create(world, in_place, "https://93.184.216.34/x")[0].pk


def test_an_endpoint_page_shows_the_refusal_next_to_the_address(
    world, client, production, in_place
):
    from django.urls import reverse

    client.force_login(world.a.users["admin"])
    url = reverse("outbox:endpoint_new", args=[world.a.place.slug])
    response = client.post(url, {"url": "https://169.254.169.254/latest/"})
    assert response.status_code == 422
    assert "private network" in response.context["form"].errors["url"][0]


def _resolving_to(monkeypatch, address):
    """Every host name resolves to `address` (a name rebinding to a local address)."""
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(transport.socket, "getaddrinfo", fake)


def test_a_host_name_resolving_to_loopback_is_never_connected_to(
    production, receivers, monkeypatch
):
    receiver = receivers()
    _resolving_to(monkeypatch, "127.0.0.1")
    outcome = transport.post_json(
        url=f"http://rebind.example.org:{receiver.port}/hooks", body=b"{}", headers={}
    )
    assert not outcome.ok and "AddressNotAllowed" in outcome.error
    assert receiver.requests == []
    # The same request outside production reaches the loopback receiver: the refusal above
    # is the address check, not a broken request.
    production.PRODUCTION = False
    outcome = transport.post_json(
        url=f"http://rebind.example.org:{receiver.port}/hooks", body=b"{}", headers={}
    )
    assert outcome.ok and len(receiver.requests) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f.1", "localhost"])
def test_an_address_in_the_url_is_checked_when_connecting_too(production, receivers, host):
    """Also in the spellings the resolver understands but an address parser does not (a
    decimal or hexadecimal 127.0.0.1), which the check when saving cannot recognise."""
    receiver = receivers()
    outcome = transport.post_json(
        url=f"http://{host}:{receiver.port}/hooks", body=b"{}", headers={}
    )
    assert not outcome.ok and "AddressNotAllowed" in outcome.error
    assert receiver.requests == []


def test_delivery_to_an_endpoint_that_now_resolves_locally_fails_and_sends_nothing(
    world, in_place, settings, receivers, monkeypatch, django_capture_on_commit_callbacks
):
    receiver = receivers()
    endpoint, _secret = _create(world, in_place, f"https://hooks.example.org:{receiver.port}/hooks")
    settings.PRODUCTION = True
    settings.DEBUG = settings.TESTING = False
    _resolving_to(monkeypatch, "127.0.0.1")
    place = world.a.place
    with (
        in_place(place),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        message = outbox_enqueue_webhook(
            place=place, endpoint=endpoint, event_type="report.routed", payload={"case": 1}
        )
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING and message.attempts == 1
    assert "AddressNotAllowed" in message.last_error
    assert receiver.requests == []
