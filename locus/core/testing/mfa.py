"""Setting up two-factor authentication in tests as a person does, through the pages."""

import html
import re
import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value


def set_up_authenticator_app(client, page):
    """Send the set-up form of `page` (the authenticator-app page) with a valid code to the
    address its form names, and follow on."""
    form = r'<form[^>]*action="(/accounts/2fa/totp/activate/[^"]*)"'
    action = html.unescape(re.search(form, page.content.decode())[1])
    secret = page.context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))
    return client.post(action, {"code": code}, follow=True)


def add_security_key(client, page, monkeypatch):
    """Send the security-key form of `page` to the address its form names, and follow on. The
    key's answer to the browser's WebAuthn ceremony is taken as valid (tests/browser/
    test_webauthn.py goes through it with a virtual key)."""
    from allauth.mfa.webauthn.internal import auth

    monkeypatch.setattr(auth, "parse_registration_response", lambda credential: None)
    monkeypatch.setattr(auth, "complete_registration", lambda credential: None)
    form = r'<form[^>]*action="(/accounts/2fa/webauthn/add/[^"]*)"'
    action = html.unescape(re.search(form, page.content.decode())[1])
    credential = '{"id": "a-key", "type": "public-key"}'
    return client.post(action, {"name": "Office key", "credential": credential}, follow=True)


def continue_link(page):
    """Where the recovery codes page's "Continue to …" leads."""
    return html.unescape(
        re.search(r'<a class="button" href="([^"]*)">Continue to ', page.content.decode())[1]
    )
