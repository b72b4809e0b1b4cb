"""Personal API tokens expire on the date chosen when they are made (401 `token_expired` from
that moment on), and every authenticated request counts against its token's, or for a
signed-in session its person's, rate limit (429 naming the limit, with Retry-After). The
public operations are not counted (docs/api.md, "Expiry and revocation", "Rate limits")."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings as project_settings
from django.test import Client
from django.utils import timezone

from locus.accounts.models import ApiToken
from locus.accounts.services import token_create
from locus.api.tests.test_api import API, assert_error, bearer
from locus.core import ratelimit
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.core.tests.test_ratelimit import START, Clock

# --- expiry --------------------------------------------------------------------------------


def _expiring(membership, at):
    token, secret = token_create(membership=membership, name="expiring")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=at)
    return secret


@pytest.mark.parametrize("days", [30, 90, 180, 365])
def test_a_token_expires_after_the_lifetime_chosen(world, days):
    before = timezone.now()
    token, _secret = token_create(
        membership=world.a.memberships["analyst"], name="t", lifetime_days=days
    )
    assert before + timedelta(days=days) <= token.expires_at
    assert token.expires_at <= timezone.now() + timedelta(days=days)
    event = AuditEvent.objects.get(action=AuditAction.TOKEN_CREATED, target_id=str(token.pk))
    assert event.data == {"lifetime_days": days, "expires_at": token.expires_at.isoformat()}


def test_the_default_lifetime_is_90_days(world):
    token, _secret = token_create(membership=world.a.memberships["analyst"], name="t")
    assert timedelta(days=89, hours=23) < token.expires_at - timezone.now() <= timedelta(days=90)


@pytest.mark.parametrize("days", [0, 7, 366, 3650, None])
def test_no_other_lifetime_and_never_is_not_one(world, days):
    from locus.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        token_create(membership=world.a.memberships["analyst"], name="t", lifetime_days=days)
    assert "lifetime" in error.value.fields
    assert not ApiToken.objects.exists()


def test_expiry_boundary_on_the_model(world):
    token, _secret = token_create(membership=world.a.memberships["analyst"], name="t")
    assert not token.is_expired(now=token.expires_at - timedelta(microseconds=1))
    assert token.is_expired(now=token.expires_at)
    assert token.is_expired(now=token.expires_at + timedelta(seconds=1))


def test_a_token_works_until_its_expiry_then_answers_401_token_expired(client, world):
    membership = world.a.memberships["analyst"]
    soon = _expiring(membership, timezone.now() + timedelta(seconds=30))
    assert client.get(f"{API}/me", headers=bearer(soon)).status_code == 200
    expired_at = timezone.now() - timedelta(seconds=1)
    just_expired = _expiring(membership, expired_at)
    response = client.get(f"{API}/me", headers=bearer(just_expired))
    body = assert_error(response, 401, "token_expired")
    assert expired_at.date().isoformat() in body["message"]
    assert "/staff/tokens/" in body["message"]
    assert response["WWW-Authenticate"] == (
        'Bearer realm="Locus API", error="invalid_token", error_description="The token expired"'
    )
    # A place operation and a write answer the same, and the expired token leaves no trace.
    assert_error(
        client.get(f"{API}/places/alpha/jobs/1", headers=bearer(just_expired)),
        401,
        "token_expired",
    )
    assert_error(
        client.post(
            f"{API}/places/alpha/areas/import",
            {},
            content_type="application/json",
            headers=bearer(just_expired),
        ),
        401,
        "token_expired",
    )
    token = ApiToken.objects.get(key_hash=ApiToken.hash_secret(just_expired))
    assert token.last_used_at is None
    assert not AuditEvent.objects.filter(
        action=AuditAction.TOKEN_USED, target_id=str(token.pk)
    ).exists()


def test_the_expired_message_is_in_the_request_language(client, world):
    secret = _expiring(world.a.memberships["analyst"], timezone.now() - timedelta(days=1))
    response = client.get(f"{API}/me", headers={**bearer(secret), "Accept-Language": "de"})
    body = assert_error(response, 401, "token_expired")
    assert "abgelaufen" in body["message"]


def test_a_revoked_token_past_its_expiry_stays_a_plain_401(client, world):
    """Revoked is final: nothing more is said about it."""
    membership = world.a.memberships["analyst"]
    secret = _expiring(membership, timezone.now() - timedelta(days=1))
    ApiToken.objects.update(revoked_at=timezone.now())
    assert_error(client.get(f"{API}/me", headers=bearer(secret)), 401, "unauthorized")


def test_me_says_when_the_token_expires(client, world):
    membership = world.a.memberships["analyst"]
    token, secret = token_create(membership=membership, name="t", lifetime_days=30)
    body = client.get(f"{API}/me", headers=bearer(secret)).json()
    assert body["token_expires_at"].endswith("Z")
    said = datetime.fromisoformat(body["token_expires_at"])
    assert abs(said - token.expires_at) < timedelta(milliseconds=1)


# --- rate limits ---------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(START)
    monkeypatch.setattr(ratelimit, "clock", clock)
    return clock


@pytest.fixture
def limits(settings):
    settings.LOCUS_RATE_LIMITS = {
        **settings.LOCUS_RATE_LIMITS,
        "api.token": "3/m",
        "api.session": "3/m",
    }


def test_the_default_is_generous_and_set_in_the_settings():
    assert project_settings.LOCUS_RATE_LIMITS["api.token"] == "600/m"
    assert project_settings.LOCUS_RATE_LIMITS["api.session"] == "600/m"
    assert ratelimit.configured_rate("api.token", None) == (600, 60)


def _assert_limited(response, limit=3, period=60):
    body = assert_error(response, 429, "rate_limited")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 2 * period  # the sliding window: at worst into the next one
    assert f"at most {limit} every {period} seconds" in body["message"]
    assert f"Try again in {retry_after} second" in body["message"]
    return retry_after


def test_a_token_over_its_limit_gets_429_then_works_again(client, world, clock, limits):
    secret = _expiring(world.a.memberships["admin"], timezone.now() + timedelta(days=1))
    for _ in range(3):
        assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200
    retry_after = _assert_limited(client.get(f"{API}/me", headers=bearer(secret)))
    # Writes count in the same bucket, and are refused before anything is done.
    _assert_limited(
        client.post(
            f"{API}/places/alpha/areas/import",
            {},
            content_type="application/json",
            headers=bearer(secret),
        )
    )
    clock.now += retry_after
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200


def test_a_limited_token_does_not_limit_another_token_the_session_or_public_calls(
    client, world, clock, limits
):
    admin = world.a.memberships["admin"]
    busy = _expiring(admin, timezone.now() + timedelta(days=1))
    for _ in range(3):
        client.get(f"{API}/me", headers=bearer(busy))
    _assert_limited(client.get(f"{API}/me", headers=bearer(busy)))
    # The same person's other token, another person's token, the person's browser session.
    other = _expiring(admin, timezone.now() + timedelta(days=1))
    assert client.get(f"{API}/me", headers=bearer(other)).status_code == 200
    someone_else = _expiring(world.b.memberships["admin"], timezone.now() + timedelta(days=1))
    assert client.get(f"{API}/me", headers=bearer(someone_else)).status_code == 200
    browser = Client()
    browser.force_login(admin.user)
    assert browser.get(f"{API}/me").status_code == 200
    # Public operations run no authentication: a token sent along is not counted.
    assert client.get(f"{API}/places", headers=bearer(busy)).status_code == 200


def test_a_session_is_limited_per_person_across_browsers(world, clock, limits):
    user = world.a.users["analyst"]
    first, second, other = Client(), Client(), Client()
    first.force_login(user)
    second.force_login(user)
    other.force_login(world.a.users["admin"])
    for browser in (first, second, first):
        assert browser.get(f"{API}/me").status_code == 200
    _assert_limited(second.get(f"{API}/me"))
    assert other.get(f"{API}/me").status_code == 200


def test_a_limited_request_does_not_count_as_a_use(client, world, clock, limits):
    secret = _expiring(world.a.memberships["admin"], timezone.now() + timedelta(days=1))
    token = ApiToken.objects.get(key_hash=ApiToken.hash_secret(secret))
    for _ in range(3):
        client.get(f"{API}/me", headers=bearer(secret))
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=None)
    AuditEvent.objects.filter(action=AuditAction.TOKEN_USED).delete()
    _assert_limited(client.get(f"{API}/me", headers=bearer(secret)))
    token.refresh_from_db()
    assert token.last_used_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.TOKEN_USED).exists()


def test_the_limit_can_be_switched_off(client, world, clock, settings):
    settings.LOCUS_RATE_LIMITS = {**settings.LOCUS_RATE_LIMITS, "api.token": None}
    secret = _expiring(world.a.memberships["admin"], timezone.now() + timedelta(days=1))
    for _ in range(5):
        assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200


def test_the_429_message_is_in_the_request_language(client, world, clock, limits):
    secret = _expiring(world.a.memberships["admin"], timezone.now() + timedelta(days=1))
    for _ in range(3):
        client.get(f"{API}/me", headers=bearer(secret))
    response = client.get(f"{API}/me", headers={**bearer(secret), "Accept-Language": "fr"})
    body = assert_error(response, 429, "rate_limited")
    assert "au plus 3" in body["message"]
