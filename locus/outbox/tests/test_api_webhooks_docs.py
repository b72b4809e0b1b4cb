"""docs/webhooks.md tells partners how to verify Locus's webhooks: its Python examples are run
here against requests signed the way Locus signs them, and the event types it lists are the
ones Locus sends."""

import json
import re
import time
from pathlib import Path

import pytest

from locus.outbox.endpoint_services import EVENT_TYPES
from locus.outbox.standard_webhooks import generate_secret, signature_headers

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
BODY = json.dumps(
    {"type": "report.routed", "timestamp": "2026-03-01T10:15:00Z", "data": {"case": 42}}
).encode()


@pytest.fixture(scope="module")
def examples():
    """The functions defined by the page's Python code blocks."""
    namespace = {}
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace


def signed(secrets_, *, timestamp=None, body=BODY, message_id="msg_doc1"):
    headers = signature_headers(
        secrets_=secrets_,
        message_id=message_id,
        timestamp=time.time() if timestamp is None else timestamp,
        body=body,
    )
    # As a web framework hands them over: any case.
    return {name.title(): value for name, value in headers.items()}


@pytest.mark.parametrize("name", ["verify", "verify_with_library"])
def test_the_examples_accept_a_genuine_request(examples, name):
    secret = generate_secret()
    assert examples[name](secret, signed([secret]), BODY) == json.loads(BODY)


@pytest.mark.parametrize("name", ["verify", "verify_with_library"])
def test_the_examples_accept_either_signature_during_a_rotation(examples, name):
    old, new = generate_secret(), generate_secret()
    headers = signed([new, old])
    assert examples[name](old, headers, BODY) == examples[name](new, headers, BODY)


@pytest.mark.parametrize("name", ["verify", "verify_with_library"])
@pytest.mark.parametrize("attack", ["tampered", "other-secret", "replayed", "unsigned", "other-id"])
def test_the_examples_reject_forgeries_and_replays(examples, name, attack):
    secret = generate_secret()
    headers, body = signed([secret]), BODY
    if attack == "tampered":
        body = BODY.replace(b"42", b"43")
    elif attack == "other-secret":
        headers = signed([generate_secret()])
    elif attack == "replayed":
        headers = signed([secret], timestamp=time.time() - 10 * 60)
    elif attack == "unsigned":
        del headers["Webhook-Signature"]
    else:
        headers["Webhook-Id"] = "msg_other"
    errors = (examples["InvalidWebhook"], examples["WebhookVerificationError"])
    with pytest.raises(errors):
        examples[name](secret, headers, body)


def test_the_page_lists_every_event_type_locus_sends():
    text = DOC.read_text()
    for event_type in EVENT_TYPES:
        assert f"| `{event_type}` |" in text


def test_the_event_types_are_the_ones_the_code_sends():
    from locus.alerts.choices import ALERT_EVENT
    from locus.cases.choices import ROUTED_EVENT
    from locus.reporting import services as reporting

    assert set(EVENT_TYPES) == {ROUTED_EVENT, reporting.ERASED_EVENT, ALERT_EVENT}


# --- a partner's verifier, written from the page alone, against a real delivery ------------


class Rejected(Exception):
    pass


def partner_verifier(secret, headers, raw_body, now):
    """What an integrator writes reading only "What Locus sends" and "Verifying a request":
    the three headers, a ±5 minute window, HMAC-SHA256 over "{id}.{timestamp}.{body}" with the
    base64 key after `whsec_`, `v1,` signatures separated by spaces, the raw bytes."""
    import base64
    import hashlib
    import hmac

    lower = {name.lower(): value for name, value in headers.items()}
    if not {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(lower):
        raise Rejected("missing header")
    if abs(now - int(lower["webhook-timestamp"])) > 300:
        raise Rejected("stale")
    key = base64.b64decode(secret[len("whsec_") :])
    signed = b".".join(
        [lower["webhook-id"].encode(), lower["webhook-timestamp"].encode(), raw_body]
    )
    mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [
        s.split(",", 1)[1] for s in lower["webhook-signature"].split(" ") if s.startswith("v1,")
    ]
    if not any(hmac.compare_digest(mac, signature) for signature in offered):
        raise Rejected("bad signature")
    return json.loads(raw_body)


def _table_row(event_type):
    """The `data` keys the page's events table promises for one event type."""
    row = next(
        line for line in DOC.read_text().splitlines() if line.startswith(f"| `{event_type}` |")
    )
    data_cell = row.split("|")[3]
    return set(re.findall(r"`([a-z_]+)` \(", data_cell)) | set(
        re.findall(r"^ *`([a-z_]+)`", data_cell)
    )


def test_a_partner_verifies_a_real_delivery_with_only_the_page(
    client, world, in_place, receivers, django_capture_on_commit_callbacks
):
    """A police force's administrator makes an endpoint with the API, a resident reports
    through the public API, the report is routed to the force and delivered to its receiver:
    the verifier above accepts it, rejects a tampered or replayed copy, and the envelope is
    what the page says, down to the `data` keys of `report.routed`."""
    from locus.api.tests.test_api import bearer, secret_for
    from locus.cases.tests.factories import REPORT, route_to
    from locus.core.testing.factories import MembershipFactory, OrganisationFactory, UserFactory
    from locus.core.testing.world import enable_totp
    from locus.directory.choices import OrganisationType
    from locus.directory.services import organisation_list_in_place

    force = OrganisationFactory(name="Alpha Police", type=OrganisationType.POLICE)
    with in_place(world.a.place):
        organisation_list_in_place(organisation=force, place=world.a.place)
    admin = UserFactory()
    enable_totp(admin)
    token = bearer(secret_for(MembershipFactory(user=admin, organisation=force, role="admin")))
    receiver = receivers()
    created = client.post(
        f"/api/v1/places/{world.a.place.slug}/webhooks",
        {"url": receiver.url, "event_types": ["report.routed"]},
        content_type="application/json",
        headers=token,
    ).json()
    route_to(world.a.place, [force])
    with django_capture_on_commit_callbacks(execute=True):
        submitted = client.post(
            f"/api/v1/places/{world.a.place.slug}/reports",
            {key: value for key, value in REPORT.items() if key != "police_reference"},
            content_type="application/json",
        )
    assert submitted.status_code == 201, submitted.content
    [delivery] = receiver.requests
    now = time.time()

    event = partner_verifier(created["secret"], delivery.headers, delivery.body, now)
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["webhook-id"].startswith("msg_")
    assert set(event) == {"type", "timestamp", "data"} and event["type"] == "report.routed"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", event["timestamp"])
    assert set(event["data"]) == _table_row("report.routed")
    assert event["data"]["report"] == submitted.json()["reference"]
    assert event["data"]["link"] == f"/{world.a.place.slug}/staff/cases/{event['data']['case']}/"
    taxonomy = client.get(f"/api/v1/places/{world.a.place.slug}/taxonomy").content.decode()
    assert f'"{event["data"]["incident_type"]}"' in taxonomy

    for forged_body, at in (
        (delivery.body.replace(b"threat", b"graffiti"), now),
        (delivery.body, now + 600),
    ):
        with pytest.raises(Rejected):
            partner_verifier(created["secret"], delivery.headers, forged_body, at)
