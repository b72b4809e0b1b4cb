from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from locus.accounts import views as account_views
from locus.api.urls import api
from locus.library import oai_views

handler400 = "locus.core.views.bad_request"
handler403 = "locus.core.views.permission_denied"
handler404 = "locus.core.views.page_not_found"
handler500 = "locus.core.views.server_error"

# Each app's urls.py holds its global routes and its place routes (`<place_slug>/…`);
# PlaceMiddleware activates the place named in the URL. The catch-all place home comes last.
urlpatterns = [
    path("admin/", admin.site.urls),
    # allauth's two-factor set-up pages, keeping where the person was going (`next`).
    path("accounts/2fa/", account_views.security, name="mfa_index"),
    path("accounts/2fa/totp/activate/", account_views.activate_totp, name="mfa_activate_totp"),
    path("accounts/2fa/webauthn/add/", account_views.add_webauthn, name="mfa_add_webauthn"),
    path(
        "accounts/2fa/recovery-codes/",
        account_views.view_recovery_codes,
        name="mfa_view_recovery_codes",
    ),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("", include("locus.accounts.urls")),
    path("", include("locus.reporting.urls")),
    path("", include("locus.cases.urls")),
    path("", include("locus.outbox.urls")),
    path("", include("locus.library.urls")),
    path("", include("locus.insights.urls")),
    path("oai", oai_views.endpoint, name="oai"),  # the library's OAI-PMH (issue 5 §7)
    path("", include("locus.insights.public_urls")),
    path("", include("locus.alerts.urls")),
    path("", include("locus.places.indicator_urls")),
    path("", include("locus.programmes.urls")),
    path("", include("locus.directory.urls")),
    path("", include("locus.places.urls")),
]

if settings.DEBUG:
    urlpatterns.insert(0, path("__debug__/500/", lambda request: 1 / 0))
