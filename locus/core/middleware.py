"""Request plumbing: the active place from the URL, headers Django does not set itself, and
the session middleware a cookie-less request to a public API operation passes by."""

import functools
import zoneinfo

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.http import Http404
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.translation import get_supported_language_variant, gettext
from django.utils.translation.trans_real import parse_accept_lang_header

from .errors import json_error
from .languages import use_language
from .tenancy import place_scope

PLACE_URL_KWARG = "place_slug"

# The attribute of a view naming the HTTP methods it answers without authentication (the API
# marks ninja's operations declared `auth=None`, `locus.api.urls`).
PUBLIC_API_METHODS = "locus_public_api_methods"


def mark_public_api(view, methods):
    """Declare that `view` answers `methods` to anyone: no session, user or CSRF token used."""
    setattr(view, PUBLIC_API_METHODS, frozenset(methods))
    return view


def url_match(request):
    """The `ResolverMatch` of the request's URL, or None: resolved once per request and shared
    by the public API decision and `PlaceMiddleware` (Locus's URLs are not translated, so the
    answer does not depend on the language activated in between)."""
    try:
        return request._locus_url_match
    except AttributeError:
        pass
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    request._locus_url_match = match
    return match


def is_public_api(request):
    """Whether this request goes to an API operation declared `auth=None` without a session
    cookie. Then the user is anonymous, no session is read or written and the view is
    CSRF-exempt, so sessions, authentication and messages are passed by (about 0.05–0.08 ms of
    a submission's CPU; docs/operations.md, "Intake"). Decided once per request; with a session
    cookie, or for any other view, the whole stack runs. `LOCUS_PUBLIC_API_BYPASS = False`
    turns it off."""
    try:
        return request._locus_public_api
    except AttributeError:
        pass
    public = False
    if settings.LOCUS_PUBLIC_API_BYPASS and settings.SESSION_COOKIE_NAME not in request.COOKIES:
        match = url_match(request)
        public = match is not None and request.method in getattr(match.func, PUBLIC_API_METHODS, ())
    request._locus_public_api = public
    return public


class SessionMiddleware(sessions_middleware.SessionMiddleware):
    """Django's, passed by for a public API request (`is_public_api`): the request gets the
    empty, unsaved session a request without a cookie starts with, and the answer the
    `Vary: Cookie` the full stack gives it (with a session cookie it could differ, e.g. the
    idempotency hash names the signed-in user). Nothing written to that session is kept: no
    public operation writes one (the tests compare every public answer with the full stack's)."""

    sync_capable, async_capable = True, False

    def __call__(self, request):
        if not is_public_api(request):
            return super().__call__(request)
        request.session = self.SessionStore()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        return response


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, passed by for a public API request: the user is anonymous (no session cookie),
    set at once instead of lazily from the session. `StaffIdleTimeoutMiddleware` then has
    nothing to do."""

    sync_capable, async_capable = True, False

    def __call__(self, request):
        if not is_public_api(request):
            return super().__call__(request)
        request.user = AnonymousUser()
        request.auser = _anonymous_user
        return self.get_response(request)


async def _anonymous_user():
    return AnonymousUser()


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's, passed by for a public API request: an API answer shows no messages (without
    a message store, `messages.get_messages` is empty and adding one fails loudly)."""

    sync_capable, async_capable = True, False

    def __call__(self, request):
        if not is_public_api(request):
            return super().__call__(request)
        return self.get_response(request)


class PlaceMiddleware:
    """Activates the place named in the URL (`/<place>/…`, `/api/v1/places/<place>/…`).

    The URL is the only source of the tenant: never a form field, header or session value.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.place = None
        match = url_match(request)
        if match is None:
            return self.get_response(request)
        slug = match.kwargs.get(PLACE_URL_KWARG)
        if slug is None:
            return self.get_response(request)
        from locus.places.selectors import place_for_url

        place = place_for_url(slug)
        if place is None:
            if request.path_info.startswith("/api/"):
                return json_error(404, gettext("No such place."), "not_found")
            raise Http404("No such place")
        request.place = place
        _use_place_language(request, place)
        # Times on the place's pages are its local times (a case received at 15:26 UTC was
        # received at 16:26 in Lyon); stored values and the API stay in UTC.
        with place_scope(place), timezone.override(place_zone(place.timezone)):
            return self.get_response(request)


@functools.lru_cache(maxsize=64)
def place_zone(name):
    """The place's time zone; UTC for a name this machine does not know (the place's form
    offers only known ones)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _use_place_language(request, place):
    """A place's pages speak its default language unless the person chose one (cookie) or
    their browser asks for one Locus has."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            continue
        try:
            get_supported_language_variant(code)
        except LookupError:
            continue
        return
    use_language(request, place.default_language)


class PrivateNoStoreMiddleware:
    """Nothing shown to a signed-in person is kept by the browser or a cache in between: case
    pages with a reporter's account, the API's answers (token or session), a new token's secret
    or MFA recovery codes would otherwise stay in the browser's cache and history after sign-out
    or the idle timeout (OWASP ASVS 5.0, V14.3.2). A response that chose its own
    `Cache-Control` keeps it; anonymous visitors' pages are untouched (the reporter's pages
    say `no-store` themselves)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Signed in: a session cookie or an API token. Without either the user is not looked at
        # (that would read the session and add `Vary: Cookie` to anonymous answers).
        signed_in = getattr(request, "api_token", None) is not None or (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            and getattr(request, "user", None) is not None
            and request.user.is_authenticated
        )
        if signed_in and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
