from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """No open sign-up: staff join through an invitation from their organisation."""

    def is_open_for_signup(self, request):
        return False
