"""Short dates with a month name read as each language writes them."""

from datetime import date

import pytest
from django.utils import translation

from locus.core.dates import short_date, short_day_month, short_month_year

EXPECTED = {
    "en": ("21 Jun 2026", "21 Jul 2026", "1 Feb", "Sep 2026"),
    "fr": ("21 juin 2026", "21 juil. 2026", "1 fév.", "sept. 2026"),
    "de": ("21. Juni 2026", "21. Juli 2026", "1. Feb.", "Sept. 2026"),
    "sv": ("21 juni 2026", "21 juli 2026", "1 feb", "sep 2026"),
}


@pytest.mark.parametrize("language", EXPECTED)
def test_short_dates_in_each_language(language):
    with translation.override(language):
        got = (
            short_date(date(2026, 6, 21)),
            short_date(date(2026, 7, 21)),
            short_day_month(date(2026, 2, 1)),
            short_month_year(date(2026, 9, 1)),
        )
    assert got == EXPECTED[language]
    assert got[0] != got[1]  # French once wrote "Jui" for both June and July
    assert short_date(None) == ""
