"""Dates with a short month name, written as each language writes them.

Django's "M" is one three-letter abbreviation per month, capitalised in every language: French
read "Fév" and "Jui" (for both juin and juillet), Swedish "Feb". Its "N" holds each language's
own abbreviations ("fév.", "juil.", "feb"), so every language but English uses it, and German
puts its ordinal point after the day.
"""

from django.utils.formats import date_format
from django.utils.translation import get_language

# language: (day month year, day month, month year)
_FORMATS = {"en": ("j M Y", "j M", "M Y"), "de": ("j. N Y", "j. N", "N Y")}
_OTHERS = ("j N Y", "j N", "N Y")


def _formats():
    return _FORMATS.get((get_language() or "en").split("-")[0], _OTHERS)


def short_date(value):
    """ "21 Feb 2026", "21 fév. 2026", "21. Feb. 2026", "21 feb 2026"."""
    return date_format(value, _formats()[0]) if value else ""


def short_day_month(value):
    """ "21 Feb", "21 fév.", "21. Feb.", "21 feb"."""
    return date_format(value, _formats()[1]) if value else ""


def short_month_year(value):
    """ "Feb 2026", "fév. 2026", "Feb. 2026", "feb 2026"."""
    return date_format(value, _formats()[2]) if value else ""
