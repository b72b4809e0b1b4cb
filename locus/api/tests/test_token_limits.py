"""Personal API tokens expire on the date chosen when they are made (401 `token_expired` from
that moment on; docs/api.md, "Expiry and revocation")."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from locus.accounts.models import ApiToken
from locus.accounts.services import token_create
from locus.api.tests.test_api import API, assert_error, bearer
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent

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
