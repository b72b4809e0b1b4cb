"""Device cookies: the browser that sent a report, or opened it with its code, is not locked out
of it by someone else's wrong codes (OWASP, "Slow Brute Force Prevention with Device Cookies").

A report's reference is short and may be shared, and attempts on one reference are limited
across all clients (`references.followup_attempt`), so anyone who knows it could use them up
and keep its reporter out. A browser that proved it is the reporter's (it sent the report, or
gave the right code once) gets a signed cookie naming that reference; the next time it tries
that reference it is counted on its own limit of wrong codes (`followup.device`) instead of
the reference's and the client's, so a stolen cookie is no licence to guess either; and the
reports it opens with the right code are counted on its own limit too (`followup.device_open`),
so a copy of the cookie with the code cannot open them without bound.

The cookie reveals nothing readable: a random per-device nonce and, per reference, an HMAC
(keyed with SECRET_KEY) of nonce, place and reference — never the reference — signed with a
timestamp so that it expires on the server too. It is HttpOnly, SameSite=Lax, Secure like the
session cookie, holds at most MAX_REFERENCES references, is scoped to the place's pages and
lasts LOCUS_FOLLOWUP_DEVICE_DAYS after the last time it was given; "Close and forget this
device" on the follow-up page deletes it (docs/reporting.md).
"""

import base64
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import salted_hmac

from locus.core.ratelimit import rate_check

from . import references

COOKIE_NAME = "locus_followup_device"
SALT = "locus.reporting.devices"
MAX_REFERENCES = 10
# Wrong codes from one trusted device on the references it holds.
DEVICE_SCOPE, DEVICE_RATE = "followup.device", "10/h"
# Openings with the right code from one trusted device: the device goes round the limits per
# client and per reference, so without this a copy of its cookie (with the code) would open
# the report without bound. As many as any client may try an hour (`followup.open`).
OPEN_SCOPE, OPEN_RATE = "followup.device_open", "20/h"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")  # 16 bytes, base64url without padding


def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _entry(nonce, place, reference):
    """What the cookie holds for one reference: unreadable and different on every device."""
    digest = salted_hmac(
        f"{SALT}.entry", f"{nonce}:{place.pk}:{reference}", algorithm="sha256"
    ).digest()
    return _b64(digest[:16])


def _max_age():
    return settings.LOCUS_FOLLOWUP_DEVICE_DAYS * 86400


def cookie_path(place):
    """The place's pages: the receipt, where the cookie is first given, and the follow-up."""
    return reverse("places:home", kwargs={"place_slug": place.slug})


@dataclass(frozen=True)
class Device:
    nonce: str
    entries: tuple[str, ...]

    def trusts(self, place, reference):
        """Whether this device was given `reference` (as typed: normalised here)."""
        reference = references.normalise_reference(reference)
        if not reference:
            return False
        entry = _entry(self.nonce, place, reference)
        return any(hmac.compare_digest(entry, held) for held in self.entries)

    @property
    def subject(self):
        """The rate limiter's key for this device (the nonce itself stays out of the cache)."""
        return salted_hmac(f"{SALT}.limit", self.nonce, algorithm="sha256").hexdigest()[:32]


def read(request):
    """The device this request's cookie names, or None (no cookie, forged, expired, damaged)."""
    try:
        value = request.get_signed_cookie(COOKIE_NAME, salt=SALT, max_age=_max_age())
    except (KeyError, signing.BadSignature):
        return None
    nonce, *entries = value.split(".")
    if not _TOKEN.match(nonce) or len(entries) > MAX_REFERENCES:
        return None
    if not all(_TOKEN.match(entry) for entry in entries):
        return None
    return Device(nonce=nonce, entries=tuple(entries))


def trusted_device(request, *, place, reference):
    """The device, when its cookie was given for `reference` in `place`; else None."""
    device = read(request)
    return device if device is not None and device.trusts(place, reference) else None


def wrong_code_allowed(request, device):
    """May this device try a code once more? Asks without counting: only wrong codes count."""
    return rate_check(request, DEVICE_SCOPE, DEVICE_RATE, client=device.subject, count=False)


def count_wrong_code(request, device):
    rate_check(request, DEVICE_SCOPE, DEVICE_RATE, client=device.subject)


def open_allowed(request, device):
    """May this device open a report once more? Asks without counting (`count_open` counts a
    report it opened)."""
    return rate_check(request, OPEN_SCOPE, OPEN_RATE, client=device.subject, count=False)


def count_open(request, device):
    rate_check(request, OPEN_SCOPE, OPEN_RATE, client=device.subject)


def remember(request, response, *, place, reference):
    """Give (or renew) the cookie on `response`, adding `reference` (the newest last; the
    oldest goes past MAX_REFERENCES). The device keeps its nonce."""
    reference = references.normalise_reference(reference)
    if not reference:
        return
    device = read(request) or Device(nonce=_b64(secrets.token_bytes(16)), entries=())
    entry = _entry(device.nonce, place, reference)
    entries = [held for held in device.entries if held != entry]
    entries = [*entries, entry][-MAX_REFERENCES:]
    response.set_signed_cookie(
        COOKIE_NAME,
        ".".join([device.nonce, *entries]),
        salt=SALT,
        max_age=_max_age(),
        path=cookie_path(place),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def forget(response, *, place):
    """Delete the cookie: the device is no longer trusted for any of the place's reports."""
    response.delete_cookie(COOKIE_NAME, path=cookie_path(place), samesite="Lax")
