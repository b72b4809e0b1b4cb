"""Rate limits: N allowed then 429 with Retry-After (a page, or the API's error shape), windows
that reset, independent clients, no raw address in the database, X-Forwarded-For only behind
trusted proxies, expired counts purged, and a failing database that lets requests through
without breaking the caller's transaction. Time is the module's clock."""

import logging
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from django.test import RequestFactory
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from locus.core import ratelimit
from locus.core.models import RateCount
from locus.core.ratelimit import client_key, parse_rate, rate_limit

URLS = "locus.core.tests.ratelimit_urls"
START = 1_800_000_000.0  # a round minute


class Clock:
    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def clock(db, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ratelimit, "clock", clock)
    return clock


def request_from(ip="203.0.113.7", forwarded=None):
    extra = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def hit(scope="s", limit=3, period=60, **client):
    return rate_limit(request_from(**client), scope=scope, limit=limit, period=period)


# --- views ---------------------------------------------------------------------------------


@pytest.mark.urls(URLS)
def test_html_view_allows_n_then_answers_429_with_a_reassuring_page(db, client):
    for _ in range(3):
        assert client.get("/test-limited/").status_code == 200
    response = client.get("/test-limited/")
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 120
    assert "Nothing you sent before has been lost" in response.text
    assert f"try again in {retry_after} second" in response.text


@pytest.mark.urls(URLS)
def test_long_waits_are_said_in_hours_and_minutes(db, client, settings, clock):
    """A wait over an hour reads "1 hour, 35 minutes", not "95 minutes", on the page and in the
    API's message, in the person's language."""
    settings.LOCUS_RATE_LIMITS = {"test.html": "1/h", "test.api": "1/h"}
    # 25 min 30 s into the hour: the wait is 1 h 34 min 30 s (and the limiter's second), said
    # rounded up to the minute, never shorter than it is.
    clock.now = START + 25 * 60 + 30
    client.get("/test-limited/")
    response = client.get("/test-limited/")
    assert response.status_code == 429 and int(response["Retry-After"]) == 94 * 60 + 31
    assert "try again in 1\xa0hour, 35\xa0minutes." in response.text
    assert "minutes." in response.text and "95" not in response.text
    client.post("/api/test-ratelimit/ping")
    api = client.post("/api/test-ratelimit/ping", HTTP_ACCEPT_LANGUAGE="sv")
    assert api.status_code == 429 and api["Retry-After"] == str(94 * 60 + 31)
    assert "1\xa0timme, 35\xa0minuter" in api.json()["message"]


@pytest.mark.parametrize(
    ("seconds", "en", "fr", "de", "sv"),
    [
        (1, "1 second", "1 seconde", "1 Sekunde", "1 sekund"),
        (95, "95 seconds", "95 secondes", "95 Sekunden", "95 sekunder"),
        (120, "2 minutes", "2 minutes", "2 Minuten", "2 minuter"),
        (3599.2, "1 hour", "1 heure", "1 Stunde", "1 timme"),
        (
            5700,
            "1 hour, 35 minutes",
            "1 heure, 35 minutes",
            "1 Stunde, 35 Minuten",
            "1 timme, 35 minuter",
        ),
        (
            7201,
            "2 hours, 1 minute",
            "2 heures, 1 minute",
            "2 Stunden, 1 Minute",
            "2 timmar, 1 minut",
        ),
        (90061, "1 day, 2 hours", "1 jour, 2 heures", "1 Tag, 2 Stunden", "1 dag, 2 timmar"),
    ],
)
def test_a_wait_is_said_naturally_in_every_language(seconds, en, fr, de, sv):
    """`wait_text`: seconds under two minutes, then whole minutes rounded up (never shorter
    than the real wait) with the hours and days they make; from a day on, whole hours."""
    from django.utils import translation

    for language, expected in {"en": en, "fr": fr, "de": de, "sv": sv}.items():
        with translation.override(language):
            assert ratelimit.wait_text(seconds).replace("\xa0", " ") == expected, language


@pytest.mark.urls(URLS)
def test_api_view_answers_429_in_the_error_shape(db, client):
    for _ in range(3):
        assert client.post("/api/test-ratelimit/ping").status_code == 200
    response = client.post("/api/test-ratelimit/ping")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "code", "fields"}
    assert body["code"] == "rate_limited" and body["fields"] == {}
    assert response["Retry-After"] in body["message"]


@pytest.mark.urls(URLS)
def test_settings_override_the_rate_and_none_switches_it_off(db, client, settings):
    settings.LOCUS_RATE_LIMITS = {"test.html": "1/m"}
    assert client.get("/test-limited/").status_code == 200
    assert client.get("/test-limited/").status_code == 429
    settings.LOCUS_RATE_LIMITS = {"test.html": None}
    assert all(client.get("/test-limited/").status_code == 200 for _ in range(5))


@pytest.mark.urls(URLS)
def test_methods_limits_only_those_methods(db, client):
    assert all(client.get("/test-limited-form/").status_code == 200 for _ in range(3))
    assert client.post("/test-limited-form/").status_code == 200
    assert client.post("/test-limited-form/").status_code == 429


# --- the limiter ---------------------------------------------------------------------------


def test_windows_reset(clock):
    assert [hit().allowed for _ in range(4)] == [True, True, True, False]
    denied = hit()
    assert not denied.allowed and denied.retry_after >= 1
    clock.now += denied.retry_after
    assert hit().allowed
    clock.now = START + 180  # once a whole window passed quietly, nothing is remembered
    assert [hit().allowed for _ in range(4)] == [True, True, True, False]


def test_the_previous_window_still_counts_while_it_overlaps(clock):
    assert all(hit().allowed for _ in range(3))
    clock.now = START + 60 + 6  # 10 % into the next window: 90 % of 3 still weigh
    assert not hit().allowed
    clock.now = START + 60 + 30  # half of the old count left: one more fits
    assert hit().allowed
    assert not hit().allowed


def test_different_clients_and_scopes_are_independent():
    assert all(hit(ip="203.0.113.7").allowed for _ in range(3))
    assert not hit(ip="203.0.113.7").allowed
    assert hit(ip="203.0.113.8").allowed
    assert hit(ip="203.0.113.7", scope="other").allowed


def test_asking_without_counting_counts_nothing():
    """`count=False` (a limit on failures: ask first, count a failure afterwards)."""
    request = request_from()

    def ask():
        return rate_limit(request, scope="s", limit=3, period=60, count=False)

    assert all(ask().allowed for _ in range(10))  # nothing was counted
    assert all(hit().allowed for _ in range(3))
    refused = ask()
    assert not refused.allowed and refused.retry_after >= 1
    assert not hit().allowed


def test_an_ipv6_client_is_one_slash_64():
    assert client_key(request_from("2001:db8:1:2::1")) == client_key(
        request_from("2001:db8:1:2:ffff::9")
    )
    assert client_key(request_from("2001:db8:1:2::1")) != client_key(
        request_from("2001:db8:1:3::1")
    )
    assert client_key(request_from("::ffff:203.0.113.7")) == client_key(request_from("203.0.113.7"))


def test_the_raw_address_never_reaches_the_database():
    ip = "198.51.100.23"
    for _ in range(5):
        hit(ip=ip)
    stored = list(RateCount.objects.values_list("bucket", flat=True))
    assert stored
    assert not [bucket for bucket in stored if ip in bucket or "198.51" in bucket]
    assert client_key(request_from(ip)) not in {ip, ip.replace(".", "")}


def test_counts_are_one_row_per_window_and_expire_after_the_next(clock):
    """The count of a window is one row, incremented in place; it is kept while the next
    window still reads it, and the sweep's purge deletes it afterwards."""
    for _ in range(3):
        hit(limit=5)
    (row,) = RateCount.objects.all()
    assert row.count == 3
    assert row.expires_at.timestamp() == START + 120  # the end of the next 60-second window
    assert ratelimit.purge_expired_counts(now=row.expires_at) == 0
    assert ratelimit.purge_expired_counts(now=row.expires_at.replace(microsecond=1)) == 1
    assert not RateCount.objects.exists()


def test_a_client_too_long_for_the_key_is_still_counted_on_its_own():
    long_a, long_b = "a" * 300, "a" * 299 + "b"
    request = request_from()
    for _ in range(2):
        rate_limit(request, scope="s", limit=2, period=60, client=long_a)
    assert not rate_limit(request, scope="s", limit=2, period=60, client=long_a).allowed
    assert rate_limit(request, scope="s", limit=2, period=60, client=long_b).allowed


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(settings):
    settings.LOCUS_TRUSTED_PROXY_COUNT = 0
    assert client_key(request_from(forwarded="192.0.2.1")) == client_key(
        request_from(forwarded="192.0.2.2")
    )
    assert all(hit(forwarded=f"192.0.2.{n}").allowed for n in range(3))
    assert not hit(forwarded="192.0.2.99").allowed  # a forged header does not help


def test_behind_a_trusted_proxy_the_address_it_saw_counts(settings):
    settings.LOCUS_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    assert client_key(request_from(proxy, "192.0.2.1")) != client_key(
        request_from(proxy, "192.0.2.2")
    )
    # Hops further left are written by the client and may be forged.
    assert client_key(request_from(proxy, "1.1.1.1, 192.0.2.1")) == client_key(
        request_from(proxy, "8.8.8.8, 192.0.2.1")
    )
    assert client_key(request_from(proxy, "192.0.2.1:5678")) == client_key(
        request_from(proxy, "192.0.2.1")
    )
    settings.LOCUS_TRUSTED_PROXY_COUNT = 2
    assert client_key(request_from(proxy, "192.0.2.1, 10.0.0.2")) == client_key(
        request_from("10.9.9.9", "192.0.2.1, 10.0.0.3")
    )
    # No header behind a proxy: the connection's address.
    assert client_key(request_from(proxy)) == client_key(request_from(proxy, ""))


def _broken(*args, **kwargs):
    raise OperationalError("database is locked")


@pytest.mark.parametrize("step", ["_counts", "_count_one"])
def test_a_failing_database_lets_requests_through_and_logs_no_address(monkeypatch, caplog, step):
    monkeypatch.setattr(ratelimit, step, _broken)
    ip = "203.0.113.99"
    with caplog.at_level(logging.WARNING, logger="locus.core.ratelimit"):
        decisions = [hit(ip=ip, limit=1) for _ in range(5)]
    assert all(d.allowed and d.retry_after == 0 for d in decisions)
    assert "rate limit not applied" in caplog.text and "OperationalError" in caplog.text
    assert ip not in caplog.text and client_key(request_from(ip)) not in caplog.text


def test_a_failing_count_leaves_the_callers_transaction_usable(monkeypatch):
    """A real database error (the table is gone) inside a caller's transaction: the limiter
    lets the request through, and the caller's transaction goes on (PostgreSQL would refuse
    every later statement without the limiter's savepoints)."""
    from django.db import transaction

    from locus.core.models import Heartbeat

    monkeypatch.setattr(RateCount._meta, "db_table", "locus_no_such_table")
    with transaction.atomic():
        assert hit(limit=1).allowed
        Heartbeat.objects.create(name="test", at="2026-01-01T00:00:00Z")
        assert Heartbeat.objects.filter(name="test").exists()


@pytest.mark.urls(URLS)
def test_a_failing_database_never_makes_a_view_fail(db, client, monkeypatch):
    monkeypatch.setattr(ratelimit, "_counts", _broken)
    assert all(client.get("/test-limited/").status_code == 200 for _ in range(5))


def test_parse_rate():
    assert parse_rate("10/m") == (10, 60)
    assert parse_rate("10/h") == (10, 3600)
    assert parse_rate(" 5 / 15m ") == (5, 900)
    assert parse_rate("100/d") == (100, 86400)
    for bad in ["", "10", "0/m", "10/0m", "10/w", "-1/m", "ten/m"]:
        with pytest.raises(ImproperlyConfigured):
            parse_rate(bad)


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    limit=st.integers(1, 8),
    period=st.sampled_from([1, 7, 60, 3600]),
    steps=st.lists(st.floats(0, 2, allow_nan=False), min_size=1, max_size=40),
)
def test_waiting_retry_after_is_enough_and_no_window_allows_more_than_the_limit(
    limit, period, steps
):
    clock = Clock(START + 0.123)
    ratelimit.clock = clock  # the fixture restores it
    scope, request = uuid.uuid4().hex, request_from()
    allowed_per_window = {}
    for step in steps:
        clock.now += step * period / 3
        decision = rate_limit(request, scope=scope, limit=limit, period=period)
        if decision.allowed:
            window = int(clock.now // period)
            allowed_per_window[window] = allowed_per_window.get(window, 0) + 1
            assert allowed_per_window[window] <= limit
            assert allowed_per_window[window] <= limit
        else:
            clock.now += decision.retry_after
            after = rate_limit(request, scope=scope, limit=limit, period=period)
            assert after.allowed, (decision, clock.now)
            window = int(clock.now // period)
            allowed_per_window[window] = allowed_per_window.get(window, 0) + 1
            assert allowed_per_window[window] <= limit
