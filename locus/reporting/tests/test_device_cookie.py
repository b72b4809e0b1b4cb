"""The follow-up's device cookie (locus/reporting/devices.py): someone who knows a report's
reference can use up its attempts with wrong codes, but the browser that sent the report, or
opened it with its code, still opens it; it has its own limit of wrong codes instead, and a
forged cookie or one given for another report gives no way round the limits."""

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from locus.reporting import devices

from .conftest import send_and_route
from .test_journey import send_report

ATTACKER = "198.51.100.66"


@pytest.fixture
def tight(settings):
    """Three attempts per reference and per client an hour, two wrong codes and five
    openings per device."""
    settings.LOCUS_RATE_LIMITS = {
        **settings.LOCUS_RATE_LIMITS,
        "followup.reference": "3/h",
        "followup.open": "3/h",
        "followup.device": "2/h",
        "followup.device_open": "5/h",
    }
    return settings


def url(place):
    return reverse("reporting:followup", kwargs={"place_slug": place.slug})


def try_open(client, place, reference, code, **extra):
    return client.post(
        url(place), {"reference": reference, "code": code, "action": "open"}, **extra
    )


def lock_out(place, reference):
    """Someone else uses up the reference's attempts with wrong codes, from many addresses."""
    attacker = Client()
    for n in range(10):
        status = try_open(attacker, place, reference, "WRONG", REMOTE_ADDR=f"203.0.113.{n}")
        if status.status_code == 429:
            return
        assert status.status_code == 422
    pytest.fail("the reference was never locked")


def test_the_receipt_gives_the_sending_browser_a_device_cookie(client, world, settings):
    place = world.a.place
    reference, _code = send_report(client, world)
    morsel = client.cookies[devices.COOKIE_NAME]
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    assert morsel["path"] == f"/{place.slug}/"
    assert int(morsel["max-age"]) == settings.LOCUS_FOLLOWUP_DEVICE_DAYS * 86400
    assert not morsel["secure"]  # like the session cookie outside production
    # Nothing readable: neither the reference (in any spelling) nor anything of the report.
    value = morsel.value
    assert reference not in value and reference.replace("-", "") not in value
    assert len(value) < 400
    # In production it is Secure, like the session cookie.
    settings.SESSION_COOKIE_SECURE = True
    receipt = client.get(reverse("reporting:receipt", args=[place.slug, reference]))
    assert receipt.cookies[devices.COOKIE_NAME]["secure"]


def test_the_reporters_browser_still_opens_a_reference_someone_else_locked(client, world, tight):
    place = world.a.place
    reference, code = send_report(client, world)
    lock_out(place, reference)
    # Any other browser, even with the right code, is kept out as before.
    assert try_open(Client(), place, reference, code).status_code == 429
    # The browser that sent the report opens it, even from the attacker's own address
    # (a shared household connection) after that address used up its attempts too.
    for _ in range(3):
        try_open(Client(), place, "ZZZZ-ZZZZ", "WRONG", REMOTE_ADDR=ATTACKER)
    assert try_open(Client(), place, "ZZZZ-ZZZZ", "X", REMOTE_ADDR=ATTACKER).status_code == 429
    opened = try_open(client, place, reference, code, REMOTE_ADDR=ATTACKER)
    assert opened.status_code == 303
    assert reference in client.get(url(place)).content.decode()


def test_opening_with_the_right_code_makes_a_browser_trusted(client, followed, tight):
    place, reference = followed.place, followed.report.reference
    assert try_open(client, place, reference, followed.code).status_code == 303
    assert devices.COOKIE_NAME in client.cookies
    client.post(url(place), {"action": "close"})
    lock_out(place, reference)
    assert try_open(client, place, reference, followed.code).status_code == 303


def test_a_forged_cookie_or_one_for_another_report_gives_no_way_round(client, followed, tight):
    place, reference = followed.place, followed.report.reference
    other, other_code = send_and_route(place)
    # This browser is trusted for another report only.
    assert try_open(client, place, other.reference, other_code).status_code == 303
    lock_out(place, reference)
    assert try_open(client, place, reference, followed.code).status_code == 429
    # A genuine cookie (trusted for yet another report) with its signature broken.
    genuine = Client()
    extra, extra_code = send_and_route(place)
    opened = try_open(genuine, place, extra.reference, extra_code, REMOTE_ADDR="192.0.2.1")
    assert opened.status_code == 303
    value = genuine.cookies[devices.COOKIE_NAME].value
    forged = Client()
    forged.cookies[devices.COOKIE_NAME] = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    assert (
        try_open(forged, place, reference, followed.code, REMOTE_ADDR="192.0.2.2").status_code
        == 429
    )
    # Nor one without its signature.
    unsigned = Client()
    unsigned.cookies[devices.COOKIE_NAME] = value.split(":")[0]
    assert (
        try_open(unsigned, place, reference, followed.code, REMOTE_ADDR="192.0.2.3").status_code
        == 429
    )
    # The genuine one, on the report it was given for, still goes round the lock.
    lock_out(place, extra.reference)
    assert (
        try_open(genuine, place, extra.reference, extra_code, REMOTE_ADDR="192.0.2.1").status_code
        == 303
    )


def test_a_cookie_is_bound_to_its_place(client, world, followed, tight):
    place, reference = followed.place, followed.report.reference
    assert try_open(client, place, reference, followed.code).status_code == 303
    device = devices.read(_request_with(client))
    assert device.trusts(place, reference)
    assert device.trusts(place, reference.lower().replace("-", " "))  # as a person may type it
    assert not device.trusts(world.b.place, reference)
    assert not device.trusts(place, "ZZZZ-ZZZZ")


def _request_with(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    return request


def test_a_trusted_browser_has_its_own_limit_of_wrong_codes(client, followed, tight):
    place, reference, code = followed.place, followed.report.reference, followed.code
    assert try_open(client, place, reference, code).status_code == 303
    # Right codes are not wrong codes: opening it again and again is fine (up to its own limit
    # of openings, below).
    for _ in range(4):
        client.post(url(place), {"action": "close"})
        assert try_open(client, place, reference, code).status_code == 303
    # Wrong codes do: two, then even the right code waits.
    assert try_open(client, place, reference, "WRONG").status_code == 422
    assert try_open(client, place, reference, "WRONG").status_code == 422
    refused = try_open(client, place, reference, code)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    # A copy of the cookie on another device is the same device: no more guesses there.
    thief = Client()
    thief.cookies[devices.COOKIE_NAME] = client.cookies[devices.COOKIE_NAME].value
    assert try_open(thief, place, reference, "WRONG", REMOTE_ADDR="192.0.2.9").status_code == 429
    # The device's wrong codes were not counted on the reference: others still have theirs.
    assert try_open(Client(), place, reference, code).status_code == 303


def test_a_trusted_browser_opens_its_report_a_limited_number_of_times(client, followed, tight):
    """The device goes round the per-client and per-reference limits, so the reports it opens
    with the right code are counted on its own limit: a copy of its cookie, with the code,
    does not open the report without bound."""
    place, reference, code = followed.place, followed.report.reference, followed.code
    assert try_open(client, place, reference, code).status_code == 303  # not yet trusted
    for _ in range(5):
        client.post(url(place), {"action": "close"})
        assert try_open(client, place, reference, code).status_code == 303
    client.post(url(place), {"action": "close"})
    refused = try_open(client, place, reference, code)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    content = refused.content.decode()
    assert "opened many times from this browser in the last hour" in content
    assert "Nothing has been lost." in content
    assert f'value="{reference}"' in content  # what was typed is kept
    assert "Enter the reference" in content
    assert 'name="code"' in client.get(url(place)).content.decode()  # not opened
    # A copy of the cookie elsewhere is the same device, and wrong codes wait as well.
    thief = Client()
    thief.cookies[devices.COOKIE_NAME] = client.cookies[devices.COOKIE_NAME].value
    assert try_open(thief, place, reference, code, REMOTE_ADDR="192.0.2.9").status_code == 429
    assert try_open(thief, place, reference, "WRONG", REMOTE_ADDR="192.0.2.9").status_code == 429
    # Counted on the device only: another browser meets the usual limits and opens it.
    assert try_open(Client(), place, reference, code, REMOTE_ADDR="192.0.2.8").status_code == 303


def test_an_untrusted_browser_keeps_both_limits(client, followed, tight):
    place, reference, code = followed.place, followed.report.reference, followed.code
    statuses = [try_open(client, place, reference, "WRONG").status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]  # per client
    assert devices.COOKIE_NAME not in client.cookies  # wrong codes give no cookie
    assert try_open(Client(), place, reference, code, REMOTE_ADDR="192.0.2.7").status_code == 429


def test_close_and_forget_this_device_deletes_the_cookie(client, followed, tight):
    place, reference, code = followed.place, followed.report.reference, followed.code
    assert try_open(client, place, reference, code).status_code == 303
    page = client.get(url(place)).content.decode()
    assert 'value="forget"' in page and "Close and forget this device" in page
    forgotten = client.post(url(place), {"action": "forget"})
    assert forgotten.status_code == 303
    morsel = forgotten.cookies[devices.COOKIE_NAME]
    assert (
        morsel.value == "" and int(morsel["max-age"]) == 0 and morsel["path"] == f"/{place.slug}/"
    )
    assert "Enter the reference" in client.get(url(place)).content.decode()  # closed too
    lock_out(place, reference)
    assert try_open(client, place, reference, code).status_code == 429


def test_a_device_holds_a_few_references_and_keeps_its_nonce(rf, world):
    place = world.a.place
    request = rf.get("/")
    nonces = set()
    references = [f"{n:04d}-AAAA" for n in range(devices.MAX_REFERENCES + 2)]
    for reference in references:
        request.COOKIES[devices.COOKIE_NAME] = _given(request, place, reference)
        device = devices.read(request)
        nonces.add(device.nonce)
    assert len(nonces) == 1
    assert len(device.entries) == devices.MAX_REFERENCES
    assert device.trusts(place, references[-1]) and device.trusts(place, references[2])
    assert not device.trusts(place, references[0]) and not device.trusts(place, references[1])
    # Another device given the same reference holds something else for it.
    other = _given(rf.get("/"), place, references[-1])
    assert other.split(":")[0].split(".")[1] not in request.COOKIES[devices.COOKIE_NAME]


def _given(request, place, reference):
    """The cookie's value `remember` gives with `request`."""
    response = HttpResponse()
    devices.remember(request, response, place=place, reference=reference)
    return response.cookies[devices.COOKIE_NAME].value


def test_the_api_keeps_both_limits_whatever_the_cookie(client, world, tight):
    """The API has no device cookies: a reporter kept out there opens the report on the web
    in the browser that sent it (docs/reporting.md)."""
    place = world.a.place
    reference, code = send_report(client, world)
    lock_out(place, reference)
    api = f"/api/v1/places/{place.slug}/reports/follow-up"
    refused = client.post(
        api, {"reference": reference, "code": code}, content_type="application/json"
    )
    assert refused.status_code == 429
    assert try_open(client, place, reference, code).status_code == 303


def test_the_receipt_says_so_and_an_erased_report_offers_to_forget_the_device(client, world):
    place = world.a.place
    reference, code = send_report(client, world)
    receipt = client.get(reverse("reporting:receipt", args=[place.slug, reference]))
    assert "This browser now keeps a cookie for 30 days" in receipt.content.decode()
    assert try_open(client, place, reference, code).status_code == 303
    erase = reverse("reporting:followup_erase", kwargs={"place_slug": place.slug})
    assert client.post(erase, {"confirm": "on"}).status_code == 303
    page = client.get(url(place)).content.decode()
    assert "Your personal data has been erased" in page and 'value="forget"' in page
    forgotten = client.post(url(place), {"action": "forget"})
    assert forgotten.cookies[devices.COOKIE_NAME].value == ""
