"""Request plumbing: the active place from the URL, and headers Django does not set itself."""

from django.conf import settings
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

from .tenancy import place_scope

PLACE_URL_KWARG = "place_slug"


class PlaceMiddleware:
    """Activates the place named in the URL (`/<place>/…`, `/api/v1/places/<place>/…`).

    The URL is the only source of the tenant: never a form field, header or session value.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.place = None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        slug = match.kwargs.get(PLACE_URL_KWARG)
        if slug is None:
            return self.get_response(request)
        from locus.places.selectors import place_for_url

        place = place_for_url(slug)
        if place is None:
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {"message": "No such place.", "code": "not_found", "fields": {}}, status=404
                )
            raise Http404("No such place")
        request.place = place
        _use_place_language(request, place)
        with place_scope(place):
            return self.get_response(request)


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
    translation.activate(place.default_language)
    request.LANGUAGE_CODE = translation.get_language()


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
