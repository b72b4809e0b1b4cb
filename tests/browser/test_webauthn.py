"""Security keys (WebAuthn) as a second factor, with Chromium's virtual authenticator."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def _virtual_authenticator(page):
    """Attach a platform-independent virtual security key to the page (Chrome DevTools)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, result["authenticatorId"]


def test_add_a_security_key_and_sign_in_with_it(page, sign_in, check_axe):
    from allauth.mfa.models import Authenticator

    from locus.core.testing.factories import PASSWORD
    from locus.core.testing.world import build_world

    world = build_world()
    user = world.a.users["caseworker"]
    cdp, authenticator_id = _virtual_authenticator(page)
    sign_in(page, user)

    page.goto("/accounts/2fa/webauthn/add/")
    if "/reauthenticate/" in page.url:  # allauth asks for the password before adding a key
        check_axe(page)
        page.get_by_label("Password").fill(PASSWORD)
        submit(page.get_by_role("button", name="Confirm"))
    expect(page).to_have_url(re.compile(r"/accounts/2fa/webauthn/add/$"))
    check_axe(page)
    page.get_by_label("Name").fill("Office key")
    with page.expect_navigation():
        page.get_by_role("button", name="Add").click()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).exists()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert credentials["credentials"], "the virtual key holds no credential"

    # Sign out, then sign in again with the key instead of a code.
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    submit(page.get_by_role("button", name="Sign in"))
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    with page.expect_navigation():
        page.get_by_role("button", name="Use a security key").click()
    assert "/accounts/2fa/" not in page.url and "/accounts/login/" not in page.url, page.url


def test_a_security_key_chosen_instead_leads_back_to_the_page_asked_for(page, check_axe):
    """Sent to set up an authenticator app on the way to a staff page, the person opens the
    Security page and adds a security key instead: Continue under the recovery codes leads back
    to the staff page asked for."""
    from allauth.mfa.models import Authenticator

    from locus.core.testing.factories import PASSWORD, MembershipFactory, UserFactory
    from locus.core.testing.world import build_world

    world = build_world()
    user = UserFactory(email="key.instead@alpha.test")
    MembershipFactory(user=user, organisation=world.a.organisation, role="coordinator")
    _virtual_authenticator(page)
    page.goto("/alpha/staff/cases/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    submit(page.get_by_role("button", name="Sign in"))
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/\?next="))
    submit(page.get_by_role("link", name="Security", exact=True))
    check_axe(page)
    submit(page.get_by_role("link", name="Add"))
    expect(page).to_have_url(re.compile(r"/accounts/2fa/webauthn/add/\?next="))
    page.get_by_label("Name").fill("Office key")
    with page.expect_navigation():
        page.get_by_role("button", name="Add").click()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).exists()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/\?next="))
    submit(page.get_by_role("link", name="Continue to the staff area"))
    expect(page).to_have_url(re.compile(r"/alpha/staff/cases/$"))
