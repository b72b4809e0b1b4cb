"""Staff sessions end after a period without activity."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import gettext as _

from locus.core.sessions import idle_for_too_long

LAST_SEEN_KEY = "locus_last_seen"


class StaffIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and idle_for_too_long(request.session, LAST_SEEN_KEY, settings.LOCUS_STAFF_IDLE_TIMEOUT)
        ):
            logout(request)
            messages.info(request, _("You were signed out after a period of inactivity."))
        return self.get_response(request)
