"""Staff sessions end after a period without activity."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import gettext as _

LAST_SEEN_KEY = "locus_last_seen"


class StaffIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - last_seen > settings.LOCUS_STAFF_IDLE_TIMEOUT:
                logout(request)
                messages.info(request, _("You were signed out after a period of inactivity."))
            elif last_seen is None or now - last_seen >= 30:
                # At most every 30 s, so busy pages do not rewrite the session each time.
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)
