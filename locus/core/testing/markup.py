"""Checks on rendered HTML that several apps' tests share."""

import re

_TAG = re.compile(r"<(?:svg|rect|line|circle|text|g)\b[^>]*>")
# Attributes that hold coordinates or lengths: a browser reads "164,67" as no number at all.
_GEOMETRY = re.compile(
    r"\s(x|y|x1|x2|y1|y2|cx|cy|r|dx|dy|width|height|viewBox|transform)=\"([^\"]*)\""
)
_PLAIN = re.compile(r"^[-+0-9. ]*$|^rotate\([-0-9. ]+\)$")


def unreadable_svg_numbers(html):
    """The SVG geometry attributes in `html` that are not plain numbers (such as a decimal
    comma from the reader's language): [] when every chart can be drawn."""
    return [
        f'{name}="{value}"'
        for tag in _TAG.findall(html)
        for name, value in _GEOMETRY.findall(tag)
        if not _PLAIN.match(value)
    ]
