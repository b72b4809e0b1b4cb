import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from pytest_django.asserts import assertContains

from locus.accounts.decorators import SESSION_ORG_KEY
from locus.accounts.middleware import LAST_SEEN_KEY
from locus.accounts.models import ApiToken, Invitation, Membership
from locus.accounts.services import invitation_create
from locus.core.models import AuditEvent
from locus.core.tenancy import place_scope
from locus.core.testing.factories import MembershipFactory, OrganisationFactory, UserFactory
from locus.core.testing.mfa import add_security_key, continue_link, set_up_authenticator_app
from locus.directory.services import organisation_list_in_place


def _invite(world, email="new.person@example.org", role="caseworker"):
    return invitation_create(
        actor_membership=world.a.memberships["admin"],
        email=email,
        role=role,
        place=world.a.place,
        accept_url_builder=lambda s: f"http://testserver/invitations/{s}/",
    )


class TestMfaRequirement:
    def test_roles_that_see_personal_data_must_set_up_mfa(self, world, client):
        user = UserFactory()
        MembershipFactory(user=user, organisation=world.a.organisation, role="caseworker")
        client.force_login(user)
        response = client.get(reverse("places:staff_home", args=["alpha"]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_activate_totp"))

    def test_signing_in_then_setting_up_mfa_asks_for_the_password_once(self, world, client):
        """A new caseworker signs in and is sent to the two-factor set-up: allauth's "confirm
        access" page (the password again, a moment after typing it) is not shown."""
        user = UserFactory(email="new.caseworker@alpha.test")
        user.set_password("a-long-passphrase-1")
        user.save()
        MembershipFactory(user=user, organisation=world.a.organisation, role="caseworker")
        response = client.post(
            reverse("account_login"),
            {"login": user.email, "password": "a-long-passphrase-1"},
            follow=True,
        )
        assert response.redirect_chain[-1][0].startswith(reverse("mfa_activate_totp"))
        assert response.status_code == 200

    def test_with_two_factor_set_up_sensitive_changes_still_ask_for_the_password(
        self, world, client
    ):
        from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

        user = world.a.users["caseworker"]  # has an authenticator app
        RecoveryCodes.activate(user)
        user.set_password("a-long-passphrase-1")
        user.save()
        import time

        from allauth.mfa import app_settings
        from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

        step = client.post(
            reverse("account_login"), {"login": user.email, "password": "a-long-passphrase-1"}
        )
        assert step["Location"] == reverse("mfa_authenticate")
        counter = int(time.time()) // app_settings.TOTP_PERIOD
        signed_in = client.post(
            reverse("mfa_authenticate"),
            {"code": format_hotp_value(hotp_value("JBSWY3DPEHPK3PXP", counter))},
        )
        assert signed_in.status_code == 302 and "2fa" not in signed_in["Location"]
        response = client.get(reverse("mfa_view_recovery_codes"))
        assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]

    def test_confirming_the_password_is_still_asked_later(self, world, client, settings):
        settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
        user = UserFactory(email="slow.caseworker@alpha.test")
        user.set_password("a-long-passphrase-1")
        user.save()
        MembershipFactory(user=user, organisation=world.a.organisation, role="caseworker")
        response = client.post(
            reverse("account_login"),
            {"login": user.email, "password": "a-long-passphrase-1"},
            follow=True,
        )
        assert "/accounts/reauthenticate/" in response.redirect_chain[-1][0]

    def test_after_setting_up_mfa_the_recovery_codes_lead_on_to_the_staff_area(self, world, client):
        """allauth shows the new recovery codes after the authenticator app is set up, and drops
        the page the person was going to: the codes page links on to the staff area."""
        import time

        from allauth.mfa import app_settings
        from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

        user = UserFactory(email="fresh@alpha.test")
        user.set_password("a-long-passphrase-1")
        user.save()
        MembershipFactory(user=user, organisation=world.a.organisation, role="caseworker")
        client.post(
            reverse("account_login"), {"login": user.email, "password": "a-long-passphrase-1"}
        )
        page = client.get(reverse("mfa_activate_totp"))
        secret = page.context["form"].secret
        code = format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))
        response = client.post(reverse("mfa_activate_totp"), {"code": code}, follow=True)
        assert response.redirect_chain[-1][0] == reverse("mfa_view_recovery_codes")
        assert f'href="{reverse("accounts:home")}"' in response.content.decode()
        assert "Continue to the staff area" in response.content.decode()

    def test_after_setting_up_mfa_the_staff_page_asked_for_opens(self, world, client):
        """Sent to the two-factor set-up on the way to a staff page, the person lands back on
        that page, not on the workspaces page."""
        user = UserFactory(email="going.somewhere@alpha.test")
        user.set_password("a-long-passphrase-1")
        user.save()
        MembershipFactory(user=user, organisation=world.a.organisation, role="admin")
        wanted = reverse("accounts:members", args=["alpha"]) + "?from=welcome&page=2"
        page = client.post(
            reverse("account_login") + "?" + urlencode({"next": wanted}),
            {"login": user.email, "password": "a-long-passphrase-1"},
            follow=True,
        )
        assert page.redirect_chain[-1][0].startswith(reverse("mfa_activate_totp"))
        codes = set_up_authenticator_app(client, page)
        assert continue_link(codes) == wanted
        assert "Continue to the staff area" in codes.content.decode()

    def test_choosing_a_security_key_instead_still_opens_the_staff_page_asked_for(
        self, world, client, monkeypatch
    ):
        """Sent to set up an authenticator app, the person opens the Security page (header) and
        adds a security key instead: they still land back on the page asked for."""
        user = UserFactory(email="with.a.key@alpha.test")
        user.set_password("a-long-passphrase-1")
        user.save()
        MembershipFactory(user=user, organisation=world.a.organisation, role="admin")
        wanted = reverse("accounts:members", args=["alpha"])
        page = client.post(
            reverse("account_login") + "?next=" + wanted,
            {"login": user.email, "password": "a-long-passphrase-1"},
            follow=True,
        )
        next_query = "?" + urlencode({"next": wanted})
        assert page.context["security_url"] == reverse("mfa_index") + next_query
        assert f'href="{reverse("mfa_add_webauthn")}{next_query}"' in page.content.decode()
        security = client.get(page.context["security_url"])
        assert f'href="{reverse("mfa_activate_totp")}{next_query}"' in security.content.decode()
        add_url = security.context["add_webauthn_url"]
        assert add_url == reverse("mfa_add_webauthn") + next_query
        assert f'href="{add_url}"' in security.content.decode()
        add_page = client.get(add_url)
        assert add_page.context["form_action"] == add_url
        codes = add_security_key(client, add_page, monkeypatch)
        assert codes.redirect_chain[-1][0] == reverse("mfa_view_recovery_codes") + next_query
        assert continue_link(codes) == wanted
        assert client.get(wanted).status_code == 200

    def test_a_security_key_added_later_goes_straight_on(self, world, client, monkeypatch):
        """With two-factor already set up there are no new recovery codes to show: adding a key
        with a `next` goes there; one from another site is ignored."""
        from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

        from locus.core.testing.factories import PASSWORD

        user = world.a.users["admin"]  # has an authenticator app
        RecoveryCodes.activate(user)
        client.force_login(user)
        wanted = reverse("accounts:members", args=["alpha"])
        asked = client.get(reverse("mfa_add_webauthn") + "?" + urlencode({"next": wanted}))
        assert asked["Location"].startswith(reverse("account_reauthenticate"))
        page = client.post(asked["Location"], {"password": PASSWORD}, follow=True)
        assert page.context["form_action"] == (
            reverse("mfa_add_webauthn") + "?" + urlencode({"next": wanted})
        )
        foreign = client.get(reverse("mfa_add_webauthn") + "?next=//elsewhere.example/")
        assert foreign.context["form_action"] == reverse("mfa_add_webauthn")
        assert add_security_key(client, page, monkeypatch).redirect_chain[0][0] == wanted

    def test_roles_without_personal_data_need_no_mfa(self, world, client):
        user = UserFactory()
        MembershipFactory(user=user, organisation=world.a.organisation, role="analyst")
        client.force_login(user)
        assert client.get(reverse("places:staff_home", args=["alpha"])).status_code == 200

    def test_demo_accounts_skip_mfa_only_in_demo_mode(self, world, client, settings):
        user = UserFactory()
        user.is_demo = True
        user.save()
        MembershipFactory(user=user, organisation=world.a.organisation, role="admin")
        client.force_login(user)
        url = reverse("places:staff_home", args=["alpha"])
        settings.LOCUS_DEMO_MODE = False
        assert client.get(url).status_code == 302
        settings.LOCUS_DEMO_MODE = True
        assert client.get(url).status_code == 200

    def test_login_page_mentions_demo_only_in_demo_mode(self, client, settings, db):
        settings.LOCUS_DEMO_MODE = False
        assert b"Demo installation" not in client.get(reverse("account_login")).content
        settings.LOCUS_DEMO_MODE = True
        assert b"Demo installation" in client.get(reverse("account_login")).content


class TestLogin:
    def test_login_rotates_the_session_and_is_audited(self, world, client):
        from locus.core.testing.factories import PASSWORD

        client.get(reverse("account_login"))
        before = client.cookies.get("sessionid")
        user = UserFactory()  # no MFA: the login completes in one step
        response = client.post(
            reverse("account_login"), {"login": user.email, "password": PASSWORD}
        )
        assert response.status_code == 302
        after = client.cookies["sessionid"].value
        assert before is None or before.value != after
        assert AuditEvent.objects.filter(action="login", actor=user).exists()

    def test_user_with_totp_is_asked_for_a_code(self, world, client):
        from locus.core.testing.factories import PASSWORD

        user = world.a.users["admin"]
        response = client.post(
            reverse("account_login"), {"login": user.email, "password": PASSWORD}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_authenticate")

    def test_failed_logins_are_rate_limited(self, world, client):
        from locus.core.testing.factories import PASSWORD

        user = UserFactory()
        for _ in range(5):
            response = client.post(
                reverse("account_login"), {"login": user.email, "password": "wrong"}
            )
            assert response.status_code == 200
        assert AuditEvent.objects.filter(action="login_failed").count() == 5
        # Even the right password is refused until the window has passed.
        response = client.post(
            reverse("account_login"), {"login": user.email, "password": PASSWORD}
        )
        assert response.status_code in (200, 429)
        assert b"Too many failed login attempts" in response.content

    def test_open_signup_is_closed(self, db, client):
        response = client.get(reverse("account_signup"))
        assert b"closed" in response.content.lower() or response.status_code in (302, 403, 404)


class TestIdleTimeout:
    def test_staff_are_signed_out_after_inactivity(self, world, client, settings):
        settings.LOCUS_STAFF_IDLE_TIMEOUT = 60
        client.force_login(world.a.users["member"])
        url = reverse("places:staff_home", args=["alpha"])
        assert client.get(url).status_code == 200
        session = client.session
        session[LAST_SEEN_KEY] = int(time.time()) - 120
        session.save()
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


class TestInvitations:
    def test_invitation_is_emailed_and_accepted_by_a_new_person(
        self, world, client, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            invitation, link = _invite(world)
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["new.person@example.org"]
        assert link in mail.outbox[0].body
        secret = link.rstrip("/").rsplit("/", 1)[1]
        response = client.post(
            reverse("accounts:invitation_accept", args=[secret]),
            {
                "name": "New Person",
                "password1": "a-long-passphrase-1",
                "password2": "a-long-passphrase-1",
            },
        )
        assert response.status_code == 302
        membership = Membership.objects.get(user__email="new.person@example.org")
        assert membership.role == "caseworker" and membership.organisation == world.a.organisation
        invitation.refresh_from_db()
        assert invitation.accepted_at is not None
        assert AuditEvent.objects.filter(action="invitation_accepted").exists()

    def test_a_new_person_sets_up_two_factor_without_typing_the_password_again(self, world, client):
        """They chose the password a moment ago on the invitation page: that sign-in counts
        for the two-factor set-up, which otherwise asks for the password once more."""
        _invitation, link = _invite(world)
        secret = link.rstrip("/").rsplit("/", 1)[1]
        accepted = client.post(
            reverse("accounts:invitation_accept", args=[secret]),
            {"name": "New", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
            follow=True,
        )
        # A caseworker sees personal data: sent straight on to the authenticator app's set-up.
        assert accepted.redirect_chain[-1][0].startswith(reverse("mfa_activate_totp"))
        assert accepted.status_code == 200
        assert "reauthenticate" not in accepted.redirect_chain[-1][0]

    def test_invitation_form_keeps_input_and_shows_errors(self, world, client):
        with place_scope(world.a.place):
            _invitation, link = _invite(world)
        secret = link.rstrip("/").rsplit("/", 1)[1]
        response = client.post(
            reverse("accounts:invitation_accept", args=[secret]),
            {
                "name": "Typed Name",
                "password1": "short",
                "password2": "other",
            },
        )
        assert response.status_code == 422
        assert b"Typed Name" in response.content
        assert b"The two passwords differ" in response.content

    def test_expired_or_used_invitations_cannot_be_used(self, world, client):
        from django.utils import timezone

        with place_scope(world.a.place):
            invitation, link = _invite(world)
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
        secret = link.rstrip("/").rsplit("/", 1)[1]
        assert client.get(reverse("accounts:invitation_accept", args=[secret])).status_code == 410
        assert (
            client.get(reverse("accounts:invitation_accept", args=["nonsense"])).status_code == 404
        )

    def test_an_administrator_withdraws_a_pending_invitation(self, world, client):
        invitation, link = _invite(world)
        secret = link.rstrip("/").rsplit("/", 1)[1]
        members = reverse("accounts:members", args=["alpha"])
        withdraw = reverse("accounts:invitation_withdraw", args=["alpha", invitation.pk])
        client.force_login(world.a.users["admin"])
        assert withdraw in client.get(members).content.decode()
        # Another place's administrator cannot reach it; a member of the same one may not.
        client.force_login(world.b.users["admin"])
        assert client.post(withdraw.replace("/alpha/", "/beta/")).status_code == 404
        client.force_login(world.a.users["member"])
        assert client.post(withdraw).status_code == 403
        client.force_login(world.a.users["admin"])
        response = client.post(withdraw, follow=True)
        assert "its link no longer works" in response.content.decode()
        assert withdraw not in response.content.decode()  # no longer pending
        event = AuditEvent.objects.get(action="invitation_withdrawn")
        assert event.actor == world.a.users["admin"] and event.target_id == str(invitation.pk)
        client.logout()
        assert client.get(reverse("accounts:invitation_accept", args=[secret])).status_code == 410
        # Withdrawn already: nothing to withdraw, and no second audit line.
        client.force_login(world.a.users["admin"])
        assert client.post(withdraw).status_code == 404
        assert AuditEvent.objects.filter(action="invitation_withdrawn").count() == 1

    def test_only_the_hash_of_the_link_is_stored(self, world):
        invitation, link = _invite(world)
        assert link.rstrip("/").rsplit("/", 1)[1] not in invitation.secret_hash

    def test_members_page_invites_and_reports_errors_next_to_the_field(self, world, client):
        client.force_login(world.a.users["admin"])
        url = reverse("accounts:members", args=["alpha"])
        response = client.post(url, {"email": "not-an-email", "role": "member"})
        assert response.status_code == 422 and b"not-an-email" in response.content
        response = client.post(url, {"email": world.a.users["member"].email, "role": "member"})
        assert response.status_code == 422 and b"already a member" in response.content
        response = client.post(url, {"email": "fresh@example.org", "role": "analyst"})
        assert response.status_code == 200
        assert Invitation.objects.filter(email="fresh@example.org", role="analyst").exists()

    def test_the_invitation_says_whether_two_factor_authentication_will_be_needed(
        self, world, client, django_capture_on_commit_callbacks
    ):
        needs = "Locus will ask you to set up two-factor authentication"
        for role, told in [("caseworker", True), ("analyst", False)]:
            with django_capture_on_commit_callbacks(execute=True):
                _invitation, link = _invite(world, email=f"{role}@example.org", role=role)
            assert (needs in mail.outbox[-1].body) is told
            assert (needs in client.get(link).content.decode()) is told

    def test_pending_invitations_expire_at_a_date_in_words_and_the_place_s_time(
        self, world, client, settings
    ):
        """Not "06/12/2026" in UTC: the date in words and the time in the place's zone."""
        import zoneinfo

        world.a.place.timezone = "Europe/Stockholm"
        world.a.place.save()
        invitation, _link = _invite(world)
        client.force_login(world.a.users["admin"])
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
        page = client.get(reverse("accounts:members", args=["alpha"])).content.decode()
        local = invitation.expires_at.astimezone(zoneinfo.ZoneInfo("Europe/Stockholm"))
        months = "januari februari mars april maj juni juli augusti september oktober november"
        month = (months + " december").split()[local.month - 1]
        assert f"slutar gälla den {local.day} {month} {local.year} kl. {local:%H:%M}" in page


class TestRoles:
    def test_admin_changes_a_role_and_it_is_audited(self, world, client):
        client.force_login(world.a.users["admin"])
        target = world.a.memberships["member"]
        response = client.post(
            reverse("accounts:member_role", args=["alpha", target.pk]), {"role": "analyst"}
        )
        assert response.status_code == 302
        target.refresh_from_db()
        assert target.role == "analyst"
        event = AuditEvent.objects.get(action="role_changed")
        assert event.data == {"from": "member", "to": "analyst"}
        assert event.place == world.a.place

    def test_admin_cannot_change_own_role(self, world, client):
        admin = world.a.memberships["admin"]
        client.force_login(admin.user)
        client.post(reverse("accounts:member_role", args=["alpha", admin.pk]), {"role": "member"})
        admin.refresh_from_db()
        assert admin.role == "admin"

    def test_invalid_role_is_refused(self, world, client):
        client.force_login(world.a.users["admin"])
        target = world.a.memberships["member"]
        client.post(reverse("accounts:member_role", args=["alpha", target.pk]), {"role": "emperor"})
        target.refresh_from_db()
        assert target.role == "member"


class TestTokens:
    def test_token_is_shown_once_and_stored_hashed(self, world, client):
        client.force_login(world.a.users["caseworker"])
        response = client.post(
            reverse("accounts:tokens", args=["alpha"]), {"name": "export script", "lifetime": "90"}
        )
        assert response.status_code == 200
        secret = response.context["secret"]
        assert secret.startswith("locus_")
        token = ApiToken.objects.get(name="export script")
        assert secret not in (token.key_hash, token.key_prefix)
        assert token.membership == world.a.memberships["caseworker"]
        again = client.get(reverse("accounts:tokens", args=["alpha"]))
        assert secret.encode() not in again.content

    def test_empty_name_shows_an_error(self, world, client):
        client.force_login(world.a.users["caseworker"])
        response = client.post(reverse("accounts:tokens", args=["alpha"]), {"name": ""})
        assert response.status_code == 422
        assert not ApiToken.objects.exists()

    def test_revoked_token_no_longer_authenticates(self, world, client):
        from locus.accounts.services import token_create

        _token, secret = token_create(membership=world.a.memberships["admin"], name="t")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        assert client.get("/api/v1/me", **auth).status_code == 200
        client.force_login(world.a.users["admin"])
        client.post(reverse("accounts:token_revoke", args=["alpha", _token.pk]))
        client.logout()
        assert client.get("/api/v1/me", **auth).status_code == 401


class TestTokenExpiry:
    """A token's lifetime is chosen when it is made; the list says when each expires and
    flags those close to it, so that the next one is made before a system stops working."""

    def test_the_lifetime_chosen_sets_the_expiry_and_is_shown_once_made(self, world, client):
        client.force_login(world.a.users["analyst"])
        url = reverse("accounts:tokens", args=["alpha"])
        form = client.get(url).context["form"]
        assert [days for days, _label in form.fields["lifetime"].choices] == [30, 90, 180, 365]
        assert form.fields["lifetime"].initial == 90
        response = client.post(url, {"name": "yearly report", "lifetime": "365"})
        assert response.status_code == 200
        token = ApiToken.objects.get(name="yearly report")
        assert timedelta(days=364) < token.expires_at - timezone.now() <= timedelta(days=365)
        assertContains(response, "It works until")
        assertContains(response, "Expires in 365 days")

    @pytest.mark.parametrize("lifetime", ["", "0", "7", "never", "3650"])
    def test_another_lifetime_is_refused_next_to_the_field(self, world, client, lifetime):
        client.force_login(world.a.users["analyst"])
        response = client.post(
            reverse("accounts:tokens", args=["alpha"]), {"name": "kept", "lifetime": lifetime}
        )
        assert response.status_code == 422
        assert response.context["form"].errors["lifetime"]
        assertContains(response, 'id="id_lifetime_error"', status_code=422)
        assertContains(response, 'value="kept"', status_code=422)
        assert not ApiToken.objects.exists()

    def test_the_list_shows_each_state(self, world, client):
        from locus.accounts.services import token_create, token_revoke

        membership = world.a.memberships["analyst"]
        now = timezone.now()
        states = {
            "in forty days": now + timedelta(days=39, hours=12),
            "in five days": now + timedelta(days=4, hours=12),
            "in a few hours": now + timedelta(hours=5),
            "past": now - timedelta(seconds=1),
            "revoked": now + timedelta(days=60),
        }
        for name, expires_at in states.items():
            token, _secret = token_create(membership=membership, name=name)
            ApiToken.objects.filter(pk=token.pk).update(expires_at=expires_at)
        token_revoke(token=ApiToken.objects.get(name="revoked"), actor=membership.user)
        client.force_login(membership.user)
        response = client.get(reverse("accounts:tokens", args=["alpha"]))
        rows = {
            row.split("</th>", 1)[0]: row for row in response.text.split('<tr><th scope="row">')[1:]
        }
        assert '<span class="status">Expires in 40 days</span>' in rows["in forty days"]
        assert "status-expiring" in rows["in five days"]
        assert "Expires in 5 days" in rows["in five days"]
        assert "Expires within a day" in rows["in a few hours"]
        assert "status-expired" in rows["past"] and "Expired" in rows["past"]
        assert "Revoked" in rows["revoked"] and "Expires in" not in rows["revoked"]
        # Only tokens that still work can be revoked.
        assert "Revoke" in rows["in five days"]
        assert "Revoke" not in rows["past"] and "button" not in rows["revoked"]
        # The two that expire within a week are announced above the list.
        assertContains(response, "2 of your tokens expire within a week.")
        assert {t.name for t in response.context["expiring_soon"]} == {
            "in five days",
            "in a few hours",
        }

    def test_no_warning_without_tokens_close_to_expiry(self, world, client):
        from locus.accounts.services import token_create

        membership = world.a.memberships["analyst"]
        token_create(membership=membership, name="fresh")
        client.force_login(membership.user)
        response = client.get(reverse("accounts:tokens", args=["alpha"]))
        assert "expiring-soon" not in response.text

    def test_an_expired_token_no_longer_authenticates(self, world, client):
        from locus.accounts.services import token_create

        token, secret = token_create(membership=world.a.memberships["admin"], name="t")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        assert client.get("/api/v1/me", **auth).status_code == 200
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
        response = client.get("/api/v1/me", **auth)
        assert response.status_code == 401 and response.json()["code"] == "token_expired"


class TestTokenExpiryNotice:
    """A week before a token expires its owner is e-mailed once, in the language of the place
    the organisation works in, with the tokens page's link (`manage.py tokens_remind`)."""

    def _token(self, membership, name, expires_in):
        from locus.accounts.services import token_create

        token, _secret = token_create(membership=membership, name=name)
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + expires_in)
        return token

    def test_the_owner_is_told_once_a_week_before(self, world, django_capture_on_commit_callbacks):
        from locus.accounts.services import tokens_send_expiry_notices

        membership = world.a.memberships["analyst"]
        token = self._token(membership, "nightly export", timedelta(days=5))
        with django_capture_on_commit_callbacks(execute=True):
            assert tokens_send_expiry_notices(base_url="https://locus.example") == 1
        assert len(mail.outbox) == 1
        notice = mail.outbox[0]
        assert notice.to == [membership.user.email]
        assert "“nightly export”" in notice.subject
        assert token.key_prefix in notice.body and "401 token_expired" in notice.body
        assert "https://locus.example/alpha/staff/tokens/" in notice.body
        # Told once: the next day's run sends nothing.
        with django_capture_on_commit_callbacks(execute=True):
            assert tokens_send_expiry_notices() == 0
        assert len(mail.outbox) == 1

    def test_only_working_tokens_close_to_expiry(self, world, django_capture_on_commit_callbacks):
        from locus.accounts.services import token_revoke, tokens_send_expiry_notices

        analyst = world.a.memberships["analyst"]
        self._token(analyst, "far", timedelta(days=20))
        self._token(analyst, "gone", -timedelta(minutes=1))
        revoked = self._token(analyst, "revoked", timedelta(days=3))
        token_revoke(token=revoked, actor=analyst.user)
        admin = world.a.memberships["admin"]
        self._token(admin, "left", timedelta(days=3))
        Membership.objects.filter(pk=admin.pk).update(is_active=False)
        with django_capture_on_commit_callbacks(execute=True):
            assert tokens_send_expiry_notices() == 0
        assert mail.outbox == []

    def test_in_the_places_language(self, world, django_capture_on_commit_callbacks):
        from locus.accounts.services import tokens_send_expiry_notices

        place = world.a.place
        place.default_language = "fr"
        place.save(update_fields=["default_language"])
        self._token(world.a.memberships["analyst"], "export", timedelta(days=2))
        with django_capture_on_commit_callbacks(execute=True):
            tokens_send_expiry_notices()
        subject = "Votre jeton d’API Locus «\u00a0export\u00a0» expire bientôt"
        assert mail.outbox[0].subject == subject

    def test_the_command(self, world, django_capture_on_commit_callbacks):
        from io import StringIO

        from django.core.management import call_command

        self._token(world.a.memberships["analyst"], "export", timedelta(days=2))
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("tokens_remind", stdout=out)
        assert "1 token owners told" in out.getvalue() and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_tokens_90_days_from_the_upgrade(world):
    """Tokens made before expiry existed keep working for the default lifetime from the
    upgrade, however old they are: no integration stops at once. SQLite and PostgreSQL."""
    executor = MigrationExecutor(connection)
    before, after = [("accounts", "0001_initial")], [("accounts", "0002_apitoken_expires_at")]
    executor.migrate(before)
    executor.loader.build_graph()
    old_token = executor.loader.project_state(before).apps.get_model("accounts", "ApiToken")
    made = old_token.objects.create(
        membership_id=world.a.memberships["admin"].pk,
        name="old",
        key_prefix="locus_abcd",
        key_hash="0" * 64,
    )
    old_token.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(days=800))
    start = timezone.now()
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    upgraded = executor.loader.project_state(after).apps.get_model("accounts", "ApiToken")
    expires_at = upgraded.objects.get(pk=made.pk).expires_at
    # Back to the latest schema for the tests that follow.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("accounts"))
    assert start + timedelta(days=90) <= expires_at <= timezone.now() + timedelta(days=90)
    assert ApiToken.objects.get(pk=made.pk).is_active


class TestSwitcher:
    @pytest.fixture
    def multi(self, world):
        org = OrganisationFactory(name="Across Both")
        for place in (world.a.place, world.b.place):
            with place_scope(place):
                organisation_list_in_place(organisation=org, place=place)
        user = world.a.users["analyst"]
        MembershipFactory(user=user, organisation=org, role="editor")
        return user, org

    def test_home_lists_every_workspace(self, world, client, multi):
        user, _org = multi
        client.force_login(user)
        response = client.get(reverse("accounts:home"))
        assert response.status_code == 200
        assert len(response.context["contexts"]) == 3

    def test_switching_changes_organisation_and_place(self, world, client, multi):
        user, org = multi
        client.force_login(user)
        membership = Membership.objects.get(user=user, organisation=org)
        response = client.post(reverse("accounts:switch"), {"context": f"{membership.pk}:beta"})
        assert response["Location"] == reverse("places:staff_home", args=["beta"])
        assert client.session[SESSION_ORG_KEY] == org.pk
        page = client.get(response["Location"])
        assert page.context["membership"].organisation == org

    def test_cannot_switch_into_someone_elses_context(self, world, client, multi):
        client.force_login(world.a.users["member"])
        other = world.b.memberships["admin"]
        response = client.post(reverse("accounts:switch"), {"context": f"{other.pk}:beta"})
        assert response.status_code == 404


class TestNetwork:
    def test_a_refusal_gives_the_views_own_reason(self, world, client):
        """A network's member opening "Contribute a resource" was told their "role in this
        organisation" forbids it, though they have none: the 403 page gives the reason the view
        raised, and the general one only when there is none."""
        from locus.accounts.models import NetworkMembership

        viewer = UserFactory()
        NetworkMembership.objects.create(user=viewer, network=world.a.place.network)
        client.force_login(viewer)
        response = client.get(reverse("library:contribute"), HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 403
        assertContains(
            response,
            "Seuls les membres d’une organisation peuvent contribuer à la bibliothèque.",
            status_code=403,
        )
        assert "Votre rôle dans cette organisation" not in response.content.decode()
        client.force_login(world.a.users["member"])
        response = client.get(f"/{world.a.place.slug}/staff/areas/")
        assertContains(response, "Your role in this organisation", status_code=403)

    def test_network_member_sees_counts_and_others_get_404(self, world, client):
        from locus.accounts.models import NetworkMembership

        viewer = UserFactory()
        NetworkMembership.objects.create(user=viewer, network=world.a.place.network)
        url = reverse("places:network", args=[world.a.place.network.slug])
        client.force_login(viewer)
        response = client.get(url)
        assert response.status_code == 200
        assert response.context["rows"][0]["areas"] == 2
        # The roll-up of incidents is reached from here (it was linked from nowhere).
        roll_up = reverse("insights_data:network", args=[world.a.place.network.slug])
        assertContains(response, f'href="{roll_up}"')
        client.force_login(world.b.users["admin"])
        assert client.get(url).status_code == 404
        client.logout()
        assert client.get(url).status_code == 302
