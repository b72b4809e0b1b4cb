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
