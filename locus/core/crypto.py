"""Encryption at rest for personal data: Fernet tokens under a MultiFernet with key rotation.

Keys come from `settings.LOCUS_FIELD_KEYS`, newest first. The newest key encrypts; every key
decrypts, so a new key can be put in front while old values are still readable. `rotate_keys`
re-encrypts everything with the newest key, after which the old key can be dropped.

Settings are read on each call, never at import time; the MultiFernet is built once per tuple
of keys and cached, so `override_settings(LOCUS_FIELD_KEYS=...)` works in tests.

Fernet gives authenticated encryption (AES-128-CBC + HMAC-SHA256): a tampered token, or one
made with a key that is no longer configured, raises `DecryptionError`; it never decrypts to
garbage. Tokens are url-safe base64 text and carry their creation time.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(RuntimeError):
    """A stored token could not be decrypted with any configured key.

    A RuntimeError, not an ApplicationError: it means a key was dropped before `rotate_keys`
    ran, the wrong keys are configured, or the data is corrupted. It is an operator's problem,
    never something to show a resident as a validation message. The message never contains the
    token or any plaintext.
    """


@lru_cache(maxsize=8)
def _fernets(keys):
    try:
        fernets = [Fernet(key) for key in keys]
    except (ValueError, TypeError):
        # Never echo the key itself.
        raise ImproperlyConfigured(
            "LOCUS_FIELD_KEYS contains a value that is not a Fernet key"
        ) from None
    return MultiFernet(fernets), fernets[0]


def _current():
    keys = tuple(settings.LOCUS_FIELD_KEYS)
    if not keys:
        raise ImproperlyConfigured("LOCUS_FIELD_KEYS is empty: no key to encrypt or decrypt with")
    return _fernets(keys)


def _as_bytes(token):
    if isinstance(token, str):
        try:
            return token.encode("ascii")
        except UnicodeEncodeError:
            raise DecryptionError("Not a Fernet token (non-ASCII characters)") from None
    if isinstance(token, bytes | bytearray | memoryview):
        return bytes(token)
    raise TypeError(f"A token is str or bytes, not {type(token).__name__}")


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 text) for LOCUS_FIELD_KEYS."""
    return Fernet.generate_key().decode("ascii")


def encrypt_bytes(data: bytes) -> bytes:
    """Encrypt with the newest key; returns the Fernet token (ASCII bytes)."""
    multi, _ = _current()
    return multi.encrypt(bytes(data))


def decrypt_bytes(token: bytes) -> bytes:
    """Decrypt a token made with any configured key; raises DecryptionError otherwise."""
    multi, _ = _current()
    try:
        return multi.decrypt(_as_bytes(token))
    except InvalidToken:
        raise DecryptionError(
            "Could not decrypt: no key in LOCUS_FIELD_KEYS matches, or the data is corrupted"
        ) from None


def encrypt_text(value: str) -> str:
    """Encrypt a str (UTF-8) with the newest key; returns the token as str."""
    return encrypt_bytes(value.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    """Decrypt a token made by `encrypt_text`; raises DecryptionError when no key matches."""
    return decrypt_bytes(token).decode("utf-8")


def rotate_token(token: str | bytes) -> str | bytes:
    """Re-encrypt a token with the newest key, keeping its creation time (MultiFernet.rotate).

    Returns the same type it was given. Raises DecryptionError when no key matches.
    """
    multi, _ = _current()
    try:
        rotated = multi.rotate(_as_bytes(token))
    except InvalidToken:
        raise DecryptionError(
            "Could not rotate: no key in LOCUS_FIELD_KEYS matches, or the data is corrupted"
        ) from None
    return rotated.decode("ascii") if isinstance(token, str) else rotated


def is_current(token: str | bytes) -> bool:
    """True when the token was made with the newest key (checks the HMAC; does not decrypt).

    `rotate_keys` uses it to skip what is already rotated, which makes the command idempotent
    and cheap to run again.
    """
    _, newest = _current()
    try:
        newest.extract_timestamp(_as_bytes(token))
    except (InvalidToken, DecryptionError):
        return False
    return True
