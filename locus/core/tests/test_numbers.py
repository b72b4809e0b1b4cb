"""Figures on charts read the reader's way, and the same on every chart: thousands grouped,
the reader's decimal mark; SVG coordinates stay plain numbers."""

import re
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from locus.core.numbers import chart_number
from locus.core.testing.markup import unreadable_svg_numbers

NARROW_NBSP, NBSP = "\u202f", "\u00a0"

# language: (12345, 2.5, 1234567)
EXPECTED = {
    "en": ("12,345", "2.5", "1,234,567"),
    "fr": (f"12{NARROW_NBSP}345", "2,5", f"1{NARROW_NBSP}234{NARROW_NBSP}567"),
    "de": ("12.345", "2,5", "1.234.567"),
    "sv": (f"12{NBSP}345", "2,5", f"1{NBSP}234{NBSP}567"),
}
LANGUAGES = list(EXPECTED)


@pytest.mark.parametrize("language", LANGUAGES)
def test_thousands_and_decimals_the_readers_way(language):
    thousands, fraction, millions = EXPECTED[language]
    with translation.override(language):
        assert chart_number(12345) == thousands
        assert chart_number(12345.0) == thousands
        assert chart_number(Decimal("12345.00")) == thousands
        assert chart_number(2.5) == fraction
        assert chart_number(1234567) == millions
        assert chart_number(-12345) == f"-{thousands}"
        assert chart_number(0) == "0"
        assert chart_number(None) == "—"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0125, "0.0125"),  # a small tick keeps its digits
        (Decimal("62.50"), "62.5"),
        (62.55, "62.55"),
        (333.3333, "333.3"),  # four significant digits
        (1234.5, "1,235"),  # never fewer than the whole part
        (999.96, "1,000"),
        (float("nan"), "nan"),
    ],
)
def test_four_significant_digits_at_most(value, expected):
    with translation.override("en"):
        assert chart_number(value) == expected


def _time_chart(values):
    from locus.insights.charts import time_chart

    periods = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(len(values))]
    return time_chart(
        periods=periods,
        period_ends=[p + timedelta(days=7) for p in periods],
        labels=[p.isoformat() for p in periods],
        values=values,
        provisional=[False] * len(values),
    )


def _texts(svg):
    """The texts drawn in an SVG (in <text> or its <tspan>s)."""
    return re.findall(r"<(?:text|tspan)\b[^>]*>([^<]+)</(?:text|tspan)>", svg)


@pytest.mark.parametrize("language", LANGUAGES)
def test_insights_chart_axis_and_values(language):
    with translation.override(language):
        chart = _time_chart([12345, 8000, 15001])
        svg = render_to_string(
            "insights/_chart.html",
            {"chart": chart, "chart_id": "c", "title": "t", "bar_name": "b", "marks": []},
        )
        expected = chart_number(15000)
    assert [t.label for t in chart.y_ticks][-2] == expected  # 0, 5k, 10k, 15k, 20k
    assert expected in _texts(svg)
    assert chart.bars[0].value_label == EXPECTED[language][0]
    assert f"{EXPECTED[language][0]}</title>" in svg  # the bar's own figure
    assert not unreadable_svg_numbers(svg)


@pytest.mark.parametrize("language", LANGUAGES)
def test_context_indicator_axis(language):
    from locus.places.indicator_selectors import scatter_chart

    with translation.override(language):
        chart = scatter_chart([(12000.0, 1.5, "North"), (14000.0, 2.0, "South")])
    labels = [t["label"] for t in chart["x_ticks"]]
    assert EXPECTED[language][0].replace("345", "000") in labels  # "12,000" and so on
    half = "0.5" if language == "en" else "0,5"
    assert [t["label"] for t in chart["y_ticks"]][:2] == ["0", half]
    assert all(isinstance(t["at"], float) for t in chart["x_ticks"] + chart["y_ticks"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_programme_progress_chart(language):
    from locus.programmes.charts import progress_svg

    indicator = SimpleNamespace(title="Reach", target=Decimal("15000"), baseline=None)
    results = [
        SimpleNamespace(value=Decimal("12345"), period=SimpleNamespace(start=date(2026, 7, 1)))
    ]
    with translation.override(language):
        svg = progress_svg(indicator, results, title_id="c")
    texts = _texts(svg)
    assert EXPECTED[language][0] in texts  # the bar's value
    target = EXPECTED[language][0].replace("12", "15").replace("345", "000")
    assert any(text.endswith(f" {target}") for text in texts)  # "target 15,000"
    assert not unreadable_svg_numbers(svg)


@pytest.mark.parametrize("language", LANGUAGES)
def test_alarm_chart_axis(language):
    from locus.alerts.selectors import series_chart

    alarm = SimpleNamespace(week=date(2026, 3, 2), expected=9000.0, upper_bound=11000.0)
    points = [(date(2026, 3, 2) - timedelta(weeks=i), 12345, 12345) for i in range(4)]
    with translation.override(language):
        chart = series_chart(points, alarm=alarm)
    assert chart["bars"][0]["count_label"] == EXPECTED[language][0]
    grouped = [t["label"] for t in chart["ticks"] if len(t["label"]) > 3]
    assert grouped and all(not label.isdigit() for label in grouped)  # "4,000", not "4000"
