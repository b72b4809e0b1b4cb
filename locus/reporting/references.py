"""References and follow-up codes: short to read out, impossible to guess.

The alphabet is Crockford's base 32 without I, L, O and U, so nothing can be misread
(0/O, 1/I/L) and no word can be spelt by accident. A reference has 8 characters (40 bits,
unique per place); a follow-up code has 20 (100 bits) and only its keyed hash is stored.
"""

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 8
CODE_LENGTH = 20
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
# Base 32 (RFC 4648) → ALPHABET, symbol for symbol: both have 32 symbols of 5 bits.
_FROM_BASE32 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())


def _random(length):
    """`length` symbols of ALPHABET, each uniform and independent: 5 random bits per symbol
    (one call for the random bytes instead of one `secrets.choice` per symbol)."""
    raw = secrets.token_bytes((length * 5 + 7) // 8)
    return base64.b32encode(raw)[:length].translate(_FROM_BASE32).decode("ascii")


def _group(text, size):
    return "-".join(text[i : i + size] for i in range(0, len(text), size))


def new_reference():
    """E.g. 'K7QD-3MXA'."""
    return _group(_random(REFERENCE_LENGTH), 4)


def new_followup_code():
    """E.g. 'H2ZC-8RTB-W4KQ-N6PE-5YJD'. Shown once to the reporter."""
    return _group(_random(CODE_LENGTH), 4)


def normalise(text):
    """What a person typed → canonical form: case, spaces, dashes and look-alikes forgiven."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum()).translate(_CONFUSABLE)
    return "".join(ch for ch in cleaned if ch in ALPHABET)


def normalise_reference(text):
    raw = normalise(text)
    return _group(raw, 4) if len(raw) == REFERENCE_LENGTH else ""


@lru_cache(maxsize=4)
def _code_key(secret_key):
    return hashlib.sha256(b"locus-followup-code:" + secret_key.encode()).digest()


def hash_code(code):
    """Keyed hash of a follow-up code (the code has 100 bits: no slow hash needed)."""
    key = _code_key(settings.SECRET_KEY)
    return hmac.new(key, normalise(code).encode(), hashlib.sha256).hexdigest()


def code_matches(code, code_hash):
    return hmac.compare_digest(hash_code(code), code_hash or "")


# Follow-up attempts on one reference, whoever makes them: a guesser spread over many clients
# still meets this limit (the per-client limit is on the views). LOCUS_RATE_LIMITS
# ["followup.reference"] overrides it.
REFERENCE_RATE = "20/h"


def followup_attempt(request, *, place, reference):
    """Count one follow-up attempt on `reference` in `place`; returns the rate-limit Decision.
    The reference is keyed with a hash, so neither it nor the client reaches the cache."""
    from locus.core.ratelimit import rate_check

    subject = hmac.new(
        settings.SECRET_KEY.encode(), f"{place.pk}:{normalise(reference)}".encode(), "sha256"
    ).hexdigest()[:32]
    return rate_check(request, "followup.reference", REFERENCE_RATE, client=subject)
