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


def continue_link(page):
    """Where the recovery codes page's "Continue to …" leads."""
    return html.unescape(
        re.search(r'<a class="button" href="([^"]*)">Continue to ', page.content.decode())[1]
    )
