"""The platform administration (Django admin) behind Locus's own sign-in and its second factor.

A platform administrator can do anything a place's staff can and more: reset an account,
remove someone's authenticator. So `/admin/` asks what the staff pages ask of roles that see
personal data: two-factor authentication (demo accounts in demo mode excepted, as there). And it
has no sign-in form of its own: Django admin's form takes a password alone, past the second
factor and the sign-in rate limits, so it sends people to Locus's sign-in page instead."""

from functools import update_wrapper

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# allauth's authenticators have no translatable name (Django makes one from the class name).
MODEL_NAMES = {"mfa.authenticator": gettext_lazy("Authenticators")}


def needs_second_factor(user):
    from allauth.mfa.utils import is_mfa_enabled

    from locus.accounts.policies import mfa_waived

    return not (mfa_waived(user) or is_mfa_enabled(user))


class LocusAdminSite(admin.AdminSite):
    # Django's own titles said "Django administration" ("Administration de Django"…).
    site_header = gettext_lazy("Locus platform administration")
    site_title = "Locus"
    index_title = gettext_lazy("Platform administration")

    def has_permission(self, request):
        return super().has_permission(request) and not needs_second_factor(request.user)

    def _build_app_dict(self, request, label=None):
        app_dict = super()._build_app_dict(request, label)
        apps = [app_dict] if label else app_dict.values()
        for app in apps:
            for model in app["models"]:
                model["name"] = MODEL_NAMES.get(model["model"]._meta.label_lower, model["name"])
        return app_dict

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Signed in but not a platform administrator: Locus's sign-in page would send them
            # straight back here.
            raise PermissionDenied
        return redirect_to_login(
            request.GET.get("next") or reverse("admin:index"), reverse("account_login")
        )

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def wrapper(request, *args, **kwargs):
            user = request.user
            if user.is_active and user.is_staff and needs_second_factor(user):
                messages.warning(
                    request,
                    _("Platform administration needs two-factor authentication: set it up first."),
                )
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('mfa_activate_totp')}?{query}")
            return inner(request, *args, **kwargs)

        return update_wrapper(wrapper, view)
