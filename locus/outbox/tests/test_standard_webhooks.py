"""Our signatures against the reference implementation of Standard Webhooks."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from locus.outbox.standard_webhooks import (
    generate_message_id,
    generate_secret,
    secret_key,
    sign,
    signature_headers,
)

BODY = json.dumps({"type": "case.routed", "data": {"case": 42}}).encode()


def headers_for(secret, body=BODY, *, timestamp=None, message_id="msg_test1"):
    return signature_headers(
        secrets_=[secret],
        message_id=message_id,
        timestamp=time.time() if timestamp is None else timestamp,
        body=body,
    )


def test_secret_has_the_standard_format():
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret_key(secret) == base64.b64decode(secret[6:])
    assert generate_secret() != secret
    for bad in ("abc", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError):
            secret_key(bad)
    with pytest.raises(ValueError):
        generate_secret(16)


def test_message_ids_are_prefixed_and_unique():
    ids = {generate_message_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("msg_") and len(i) <= 40 for i in ids)


def test_reference_library_verifies_our_signature():
    secret = generate_secret()
    assert Webhook(secret).verify(BODY, headers_for(secret)) == json.loads(BODY)


def test_our_signature_equals_the_reference_signature():
    secret = generate_secret()
    ts = 1_700_000_000
    ours = sign(secret=secret, message_id="msg_x", timestamp=ts, body=BODY)
    theirs = Webhook(secret).sign("msg_x", datetime.fromtimestamp(ts, tz=UTC), BODY.decode())
    assert ours == theirs


def test_tampered_body_is_rejected():
    secret = generate_secret()
    headers = headers_for(secret)
    tampered = BODY.replace(b"42", b"43")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)


def test_another_id_or_secret_is_rejected():
    secret = generate_secret()
    headers = headers_for(secret)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "msg_other"})
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


@pytest.mark.parametrize("offset", [-10 * 60, +10 * 60])
def test_replay_with_an_old_or_future_timestamp_is_rejected(offset):
    """A captured request replayed later fails: the timestamp is signed and checked."""
    secret = generate_secret()
    headers = headers_for(secret, timestamp=time.time() + offset)
    with pytest.raises(WebhookVerificationError, match="too (old|new)"):
        Webhook(secret).verify(BODY, headers)
    # Moving the timestamp forward breaks the signature instead.
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-timestamp": str(int(time.time()))})


def test_during_rotation_both_secrets_verify():
    old, new = generate_secret(), generate_secret()
    headers = signature_headers(
        secrets_=[new, old], message_id="msg_rot", timestamp=time.time(), body=BODY
    )
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(BODY, headers)
    assert Webhook(old).verify(BODY, headers)


@settings(max_examples=50, deadline=None)
@given(
    data=st.dictionaries(
        st.text(min_size=1, max_size=20),
        st.one_of(st.integers(), st.text(max_size=50), st.booleans(), st.none()),
        max_size=8,
    )
)
def test_any_json_payload_verifies(data):
    secret = generate_secret()
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    assert Webhook(secret).verify(body, headers_for(secret, body)) == data


def test_endpoint_signs_with_the_old_secret_only_during_the_grace_period(
    world, endpoint_for, in_place
):
    from locus.outbox.services import webhook_endpoint_rotate_secret

    endpoint, old = endpoint_for(world.a, "https://hooks.example.org/locus")
    now = datetime.now(UTC)
    with in_place(world.a.place):
        new = webhook_endpoint_rotate_secret(place=world.a.place, endpoint=endpoint, now=now)
    assert new != old and endpoint.secret == new
    assert endpoint.signing_secrets(now + timedelta(hours=23)) == [new, old]
    assert endpoint.signing_secrets(now + timedelta(hours=25)) == [new]
    with in_place(world.a.place):
        newest = webhook_endpoint_rotate_secret(
            place=world.a.place, endpoint=endpoint, grace=timedelta(0), now=now
        )
    assert endpoint.signing_secrets(now) == [newest]
