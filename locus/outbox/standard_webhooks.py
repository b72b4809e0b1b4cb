"""Standard Webhooks (https://www.standardwebhooks.com/), the sending side: secrets, message
ids and signatures. Pure functions, no database.

- A secret is `whsec_` + base64 of 24–64 random bytes; the HMAC key is the decoded bytes.
- `webhook-id` is the message id: unique per message and the same on every retry, so a
  receiver can drop duplicates (delivery is at least once).
- `webhook-timestamp` is the time of the attempt in integer unix seconds; receivers reject
  timestamps too far from their clock (the reference library: ±5 minutes), which stops replays.
- `webhook-signature` is `v1,` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")); several
  space-separated signatures are sent while a rotated secret is still valid.

`locus/outbox/tests/test_standard_webhooks.py` checks all of this against the reference
implementation (`standardwebhooks`).
"""

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32  # the spec allows 24–64
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
MESSAGE_ID_PREFIX = "msg_"


def generate_secret(nbytes=SECRET_BYTES):
    if not MIN_SECRET_BYTES <= nbytes <= MAX_SECRET_BYTES:
        raise ValueError("a Standard Webhooks secret has 24 to 64 random bytes")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")


def secret_key(secret):
    """The HMAC key of a `whsec_…` secret. Raises ValueError when the format is wrong."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a Standard Webhooks secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise ValueError("a Standard Webhooks secret is base64 after whsec_") from exc
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError("a Standard Webhooks secret has 24 to 64 random bytes")
    return key


def generate_message_id():
    """`msg_` + 24 URL-safe random characters (144 bits)."""
    return MESSAGE_ID_PREFIX + secrets.token_urlsafe(18)


def sign(*, secret, message_id, timestamp, body):
    """One `v1,<base64>` signature of `body` (bytes) for this id and integer unix timestamp."""
    signed = f"{message_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(*, secrets_, message_id, timestamp, body):
    """The three Standard Webhooks headers, signed with every secret in `secrets_` (the current
    one first, then any rotated-out secret still inside its grace period)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": " ".join(
            sign(secret=s, message_id=message_id, timestamp=timestamp, body=body) for s in secrets_
        ),
    }
