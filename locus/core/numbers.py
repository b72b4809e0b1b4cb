"""Figures people read on a chart, written as each language writes them.

One formatter for every chart's axis ticks and value labels (insights, alarms, context
indicators, programmes), so that the same figure reads the same everywhere: thousands grouped
the reader's way — "12,345" in English, "12 345" in French (a narrow no-break space,
`locus/formats/fr`), "12.345" in German, "12 345" in Swedish (a no-break space) — and the
reader's decimal mark ("2.5", "2,5").

Only for text. SVG coordinates and lengths are plain numbers, rendered under
`{% localize off %}`: a decimal comma in an attribute (x="164,67") blanks the whole chart.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.formats import number_format

SIGNIFICANT_DIGITS = 4


def chart_number(value) -> str:
    """`value` for a reader: whole numbers grouped ("12,345"); others with at most four
    significant digits and never fewer than their whole part ("2.5", "0.0125", "62.55",
    "1,235" for 1234.5). None is a dash."""
    if value is None:
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    whole = number.to_integral_value(rounding=ROUND_HALF_UP)
    if number == whole or abs(number) >= 10 ** (SIGNIFICANT_DIGITS - 1):
        return number_format(int(whole), force_grouping=True)
    text = f"{float(number):.{SIGNIFICANT_DIGITS}g}"
    if "e" in text:  # smaller than 0.0001: no chart here draws such a figure
        return text
    rounded = Decimal(text)
    decimals = max(0, -rounded.as_tuple().exponent)
    return number_format(rounded, decimals, force_grouping=True)
