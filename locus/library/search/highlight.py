"""Matched words come back from the database between two private-use characters; this turns
them into <mark> after escaping everything else, so a record's text can never inject HTML."""

import re

from django.utils.html import escape
from django.utils.safestring import mark_safe

MARK_START = "\ue000"
MARK_END = "\ue001"
# PostgreSQL's ts_headline replaces anything that parses as an HTML tag with a space; the
# PostgreSQL backend hands it "<" and ">" as these stand-ins and `restore_angles` puts them back.
LT_STANDIN = "\ue002"
GT_STANDIN = "\ue003"
RESERVED_CHARACTERS = (MARK_START, MARK_END, LT_STANDIN, GT_STANDIN)
_SPLIT_RE = re.compile(f"([{MARK_START}{MARK_END}])")


def strip_marks(text):
    """The text without any of the characters the highlighting reserves."""
    text = text or ""
    for char in RESERVED_CHARACTERS:
        text = text.replace(char, "")
    return text


def restore_angles(text):
    return (text or "").replace(LT_STANDIN, "<").replace(GT_STANDIN, ">")


def has_marks(text):
    return MARK_START in (text or "")


def render_marked(text):
    """Escaped HTML with the marked runs in <mark>…</mark>, always balanced."""
    out, open_ = [], False
    for piece in _SPLIT_RE.split(text or ""):
        if piece == MARK_START:
            if not open_:
                out.append("<mark>")
                open_ = True
        elif piece == MARK_END:
            if open_:
                out.append("</mark>")
                open_ = False
        elif piece:
            out.append(escape(piece))
    if open_:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text is escaped above
