"""One way to switch the language of a request (locus/core/languages.py)."""

from pathlib import Path

from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

import locus
from locus.core.languages import remember_language, use_language


def test_use_language_switches_the_translations_and_the_request():
    request = RequestFactory().get("/")
    request.LANGUAGE_CODE = "en"
    with translation.override("en"):
        use_language(request, "sv")
        assert translation.get_language() == "sv"
        assert request.LANGUAGE_CODE == "sv"
        assert translation.gettext("Change language") != "Change language"


def test_remember_language_sets_the_cookie_like_set_language(settings):
    response = remember_language(HttpResponse(), "de")
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "de"
    assert cookie["httponly"] is True and cookie["samesite"] == settings.LANGUAGE_COOKIE_SAMESITE


def test_only_the_helper_activates_a_language_by_hand():
    """Activating a language without setting `request.LANGUAGE_CODE` leaves the page's
    `<html lang>` in the old language: views go through `use_language` (or `override`)."""
    root = Path(locus.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "tests" not in path.parts
        and path.name != "languages.py"
        and ("translation.activate(" in path.read_text() or "LANGUAGE_CODE = " in path.read_text())
    ]
    assert offenders == []
