"""The interface language of one request, when something other than Django's LocaleMiddleware
chooses it: a place's default language (PlaceMiddleware), or the language picked with the
header's switcher on a page that sends its own form with it (the report journey, the follow-up
page), so that the page comes back in that language with everything typed kept."""

from django.conf import settings
from django.utils import translation


def use_language(request, code):
    """Speak `code` for the rest of this request: the translations (forms made from now on
    read their labels in it) and `request.LANGUAGE_CODE` (templates, `<html lang>`), which
    LocaleMiddleware set before and which would otherwise still name the old language."""
    translation.activate(code)
    request.LANGUAGE_CODE = translation.get_language()


def remember_language(response, code):
    """Set the language cookie on `response`, as Django's `set_language` view writes it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
