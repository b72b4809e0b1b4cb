"""Every page of the app, as the person who would see it, checked with axe and photographed.

Each test walks a group of pages and collects the axe violations of all of them, so that one
run lists every page that needs fixing. Screenshots land in /tmp/shots/every/ for a person to
look at. Signing in goes through the login and TOTP pages once (for the administrator); the
other people get a session made on the server side, which is much faster.
"""

import os
import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from .conftest import SHOTS, submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

EVERY = os.path.join(SHOTS, "every")


@pytest.fixture
def world(transactional_db):
    """The two-place world, committed, so that the live server's thread sees it."""
    from locus.core.testing.world import build_world

    return build_world()


@pytest.fixture
def pages(check_axe):
    """`pages.check(page, name)`: axe on the page as it is now, plus a full-page screenshot.

    Violations are collected, not raised at once; the test fails at teardown with all of them.
    """

    class Pages:
        failures = []

        def check(self, page, name):
            os.makedirs(EVERY, exist_ok=True)
            page.screenshot(path=os.path.join(EVERY, f"{name}.png"), full_page=True)
            try:
                check_axe(page)
            except pytest.fail.Exception as exc:
                self.failures.append(f"[{name}] {exc}")

        def visit(self, page, path, name, *, status=200, lands=None):
            """Open `path`, expecting `status` at `lands` (a regex; by default `path` itself)."""
            response = page.goto(path)
            assert response is not None and response.status == status, (
                f"{path}: {response and response.status}, expected {status}"
            )
            expect(page).to_have_url(re.compile(lands or re.escape(path) + "$"))
            self.check(page, name)
            return response

    collected = Pages()
    yield collected
    if collected.failures:
        pytest.fail("\n\n".join(collected.failures), pytrace=False)


def log_in(page, user, live_server):
    """Start a signed-in session for `user` (password and TOTP just used) in the page's browser."""
    from django.conf import settings
    from django.contrib.auth import login
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import HttpRequest

    request = HttpRequest()
    request.session = SessionStore()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    now = time.time()
    # As allauth records a completed sign-in, so that its pages need no re-authentication.
    request.session["account_authentication_methods"] = [
        {"method": "password", "at": now, "email": user.email, "reauthenticated": True},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    request.session["account_authentication_methods_user"] = str(user.pk)
    request.session.save()
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": request.session.session_key,
                "url": live_server.url,
            }
        ]
    )


def test_public_pages(page, world, pages):
    from django.utils import timezone

    from locus.accounts.services import invitation_create

    pages.visit(page, "/", "index")
    pages.visit(page, "/alpha/", "place_home")
    expect(page.get_by_role("link", name="Quick exit")).to_be_visible()
    pages.visit(page, "/accounts/login/", "login")
    pages.visit(page, "/accounts/password/reset/", "password_reset")
    pages.visit(page, "/nowhere/at/all/", "404_anonymous", status=404)

    links = {}
    for email in ("new.person@example.test", "late.person@example.test"):
        invitation, links[email] = invitation_create(
            actor_membership=world.a.memberships["admin"],
            email=email,
            role="member",
            place=world.a.place,
            accept_url_builder=lambda secret: f"/invitations/{secret}/",
        )
    pages.visit(page, links["new.person@example.test"], "invitation_accept")
    expect(page.get_by_label("Your name")).to_be_visible()
    invitation.expires_at = timezone.now() - timedelta(days=1)
    invitation.save(update_fields=["expires_at"])
    pages.visit(page, links["late.person@example.test"], "invitation_expired", status=410)


def test_an_administrators_pages(page, world, pages, sign_in, live_server):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from locus.core.services import job_create
    from locus.core.tenancy import place_scope
    from locus.core.testing.factories import PASSWORD

    admin = world.a.users["admin"]
    RecoveryCodes.activate(admin)
    with place_scope(world.a.place):
        job = job_create(
            place=world.a.place, kind="areas.import", title="Import wards.geojson", created_by=admin
        )

    sign_in(page, admin)  # the login and TOTP code pages, with axe
    expect(page).to_have_url(re.compile(r"/alpha/staff/$"))
    pages.check(page, "staff_home_admin")

    pages.visit(page, "/alpha/staff/areas/", "areas")
    submit(page.get_by_role("button", name="Import"))  # no file chosen
    expect(page.locator(".field-invalid")).not_to_have_count(0)
    pages.check(page, "areas_error")

    pages.visit(page, "/alpha/staff/settings/", "settings")
    page.get_by_label("Suppression threshold").fill("0")
    submit(page.get_by_role("button", name="Save settings"))
    expect(page.locator(".field-invalid")).not_to_have_count(0)
    pages.check(page, "settings_error")

    pages.visit(page, "/alpha/staff/jobs/", "jobs")
    expect(page.get_by_text("Import wards.geojson")).to_be_visible()
    pages.visit(page, f"/alpha/staff/jobs/{job.pk}/", "job")
    pages.visit(page, "/alpha/staff/jobs/999999/", "404", status=404)

    pages.visit(page, "/alpha/staff/members/", "members")
    page.get_by_label("E-mail address").fill(world.a.users["member"].email)  # already a member
    submit(page.get_by_role("button", name="Send invitation"))
    expect(page.locator(".field-invalid")).not_to_have_count(0)
    pages.check(page, "members_error")

    pages.visit(page, "/alpha/staff/tokens/", "tokens")
    page.get_by_label("Token name").fill("weekly export script")
    submit(page.get_by_role("button", name="Create token"))
    expect(page.locator("#new-token")).to_be_visible()
    pages.check(page, "tokens_secret")

    pages.visit(page, "/accounts/2fa/", "mfa_index")
    # Seeing the recovery codes asks for the password again first.
    pages.visit(page, "/accounts/2fa/recovery-codes/", "reauthenticate", lands=r"/reauthenticate/")
    page.get_by_label("Password").fill(PASSWORD)
    submit(page.get_by_role("button", name="Confirm"))
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    expect(page.get_by_label("Unused codes")).to_be_visible()
    pages.check(page, "mfa_recovery_codes")
    pages.visit(page, "/accounts/logout/", "logout")


def test_other_peoples_pages(page, world, pages, live_server):
    from locus.accounts.models import Membership, NetworkMembership
    from locus.core.tenancy import place_scope
    from locus.core.testing.factories import OrganisationFactory, UserFactory
    from locus.core.testing.world import enable_totp
    from locus.directory.services import organisation_list_in_place

    log_in(page, world.a.users["member"], live_server)
    pages.visit(page, "/alpha/staff/", "staff_home_member")
    pages.visit(page, "/alpha/staff/areas/", "403", status=403)

    log_in(page, world.a.users["analyst"], live_server)
    pages.visit(page, "/alpha/staff/", "staff_home_analyst")

    trust = OrganisationFactory(name="Öresund Trust")
    for side in (world.a, world.b):
        with place_scope(side.place):
            organisation_list_in_place(organisation=trust, place=side.place)
    both = UserFactory(email="both@trust.test", name="Both Places")
    enable_totp(both)
    Membership.objects.create(user=both, organisation=trust, role="coordinator")
    log_in(page, both, live_server)
    pages.visit(page, "/accounts/home/", "accounts_home")

    viewer = UserFactory(email="viewer@network.test", name="Network Viewer")
    NetworkMembership.objects.create(user=viewer, network=world.a.place.network)
    log_in(page, viewer, live_server)
    pages.visit(page, f"/network/{world.a.place.network.slug}/", "network")

    newcomer = UserFactory(email="new.caseworker@alpha.test", name="New Caseworker")
    Membership.objects.create(user=newcomer, organisation=world.a.organisation, role="caseworker")
    log_in(page, newcomer, live_server)
    pages.visit(page, "/alpha/staff/", "mfa_totp_activate", lands=r"/accounts/2fa/totp/activate/")


def test_pages_in_swedish(page, world, pages, live_server):
    log_in(page, world.a.users["admin"], live_server)
    page.context.add_cookies([{"name": "django_language", "value": "sv", "url": live_server.url}])

    pages.visit(page, "/alpha/", "sv_place_home")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    pages.visit(page, "/alpha/staff/", "sv_staff_home")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
