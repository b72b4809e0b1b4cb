"""CSV cells a spreadsheet will not run as formulas (CSV injection, OWASP): text typed by
staff, partners or an imported file that starts with =, +, - or @ (or a tab or carriage
return, which some spreadsheets skip before one) gets an apostrophe in front."""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A phone number or a signed number ("+44 20 7946 0000", "-0.12"): nothing a spreadsheet
# could call, so an interchange file keeps it as it is.
_NUMBER_LIKE = re.compile(r"[+-]?[\d\s().,/-]*\d[\d\s().,/-]*")


def spreadsheet_safe(text: str) -> str:
    return "'" + text if text[:1] in FORMULA_STARTS else text


def spreadsheet_safe_keeping_numbers(text: str) -> str:
    """As spreadsheet_safe, but phone numbers and signed numbers stay as they are."""
    if _NUMBER_LIKE.fullmatch(text):
        return text
    return spreadsheet_safe(text)


def spreadsheet_unescape(text: str) -> str:
    """The text spreadsheet_safe was given: the apostrophe it added goes when reading back."""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_STARTS else text
