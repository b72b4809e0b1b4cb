import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from allauth.mfa.models import Authenticator


def password_just_typed(request, user):
    """Record that `user` typed their password in this request or a moment ago, as allauth
    records a confirmed password ("reauthenticated"), so that setting up two-factor
    authentication right after does not ask for it a second time. Only for a person with no
    second factor yet: with one, allauth's rule stands (sensitive changes, such as showing the
    recovery codes, always ask for the password again)."""
    record_authentication(request, user, method="password", email=user.email, reauthenticated=True)


class AccountAdapter(DefaultAccountAdapter):
    """No open sign-up: staff join through an invitation from their organisation."""

    def is_open_for_signup(self, request):
        return False

    def post_login(self, request, user, **kwargs):
        # A staff member who must set up two-factor authentication is sent to its set-up right
        # after signing in; without this allauth would ask for the password a second time.
        records = get_authentication_records(request, user)
        passwords = [r for r in records if r.get("method") == "password"]
        if (
            passwords
            and time.time() - passwords[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT
            and not Authenticator.objects.filter(user=user).exists()
        ):
            password_just_typed(request, user)
        return super().post_login(request, user, **kwargs)
