"""An invited person's first steps, in a real browser, in German and Swedish, on a desktop and
a phone: the invitation e-mail's link → a name and a password → two-factor set-up (the
authenticator app, the recovery codes) → the staff home of their organisation's place.

Every page is checked with axe and for a page wider than the screen; screenshots go to
/tmp/shots (`invite_<language>_<width>_<step>.png`)."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import submit, totp_now

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "Ein-langes-Passwort-2026"  # noqa: S105 - a test account's


@pytest.fixture
def world(transactional_db):
    from locus.core.testing.world import build_world

    return build_world()


def overflow(page):
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize(
    ("language", "viewport"),
    [
        ("de", {"width": 1280, "height": 800}),
        ("de", {"width": 360, "height": 740}),
        ("sv", {"width": 1280, "height": 800}),
        ("sv", {"width": 360, "height": 740}),
    ],
)
def test_an_invited_caseworker_reaches_the_staff_home(
    page, world, check_axe, shot, settings, live_server, language, viewport
):
    from locus.accounts.models import Membership
    from locus.accounts.services import invitation_create

    settings.MFA_TOTP_TOLERANCE = 1
    page.set_viewport_size(viewport)
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    _invitation, link = invitation_create(
        actor_membership=world.a.memberships["admin"],
        email="neue.person@alpha.test",
        role="caseworker",
        place=world.a.place,
        accept_url_builder=lambda secret: f"{live_server.url}/invitations/{secret}/",
    )
    name = f"{language}_{viewport['width']}"

    def look(step):
        check_axe(page)
        assert overflow(page) <= 0, f"{step}: the page is wider than the screen"
        shot(page, f"invite_{name}_{step}")

    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", language)
    look("1_accept")
    page.locator("input[name=name]").fill("Neue Person")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    submit(page.locator("main button[type=submit]"))

    # Straight on to two-factor authentication (the role sees personal data), without being
    # asked for the password again, and keeping the staff page asked for.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/\?next=%2Falpha%2Fstaff%2F"))
    look("2_authenticator")
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(totp_now(secret))
    submit(page.locator("main form[method=post] button[type=submit]"))

    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    look("3_recovery_codes")
    submit(page.locator("main a[href='/alpha/staff/']"))

    expect(page).to_have_url(re.compile(r"/alpha/staff/$"))
    look("4_staff_home")
    membership = Membership.objects.get(user__email="neue.person@alpha.test")
    assert membership.role == "caseworker"
