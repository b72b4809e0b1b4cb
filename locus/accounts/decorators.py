"""The one permission funnel for staff pages in a place: login → membership here → role → MFA."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .policies import Capability, membership_can, user_needs_mfa_setup
from .selectors import membership_for_place

SESSION_ORG_KEY = "locus_organisation_id"


def staff_view(capability=Capability.STAFF_HOME):
    """Anonymous → login; no membership in this place → 404; wrong role → 403;
    a role that sees personal data without MFA → MFA set-up."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, place_slug=None, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for_place(
                user=request.user,
                place=request.place,
                organisation_id=request.session.get(SESSION_ORG_KEY),
            )
            if membership is None:
                raise Http404
            if not membership_can(membership, capability):
                raise PermissionDenied
            if user_needs_mfa_setup(request.user, membership.role):
                messages.warning(
                    request,
                    _("Your role can see personal data: set up two-factor authentication first."),
                )
                url = (
                    reverse("mfa_activate_totp")
                    + "?"
                    + urlencode({"next": request.get_full_path()})
                )
                return redirect(url)
            request.membership = membership
            return view(request, *args, **kwargs)

        wrapper.locus_capability = capability
        return wrapper

    return decorator
