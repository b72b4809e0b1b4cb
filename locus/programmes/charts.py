"""Server-rendered SVG: the theory-of-change diagram and progress charts. No JavaScript, no
style attributes (the site's CSP), classes styled by programmes.css (and the PDF's CSS). Every
drawing has a text version beside it on the page; the SVG itself is labelled for screen readers
and its text is the same as the table's."""

import textwrap
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from locus.core.dates import short_month_year
from locus.core.numbers import chart_number

BOX_W, BOX_GAP, COL_GAP, LINE_H, PAD = 176, 10, 34, 15, 8
WRAP = 24
HEADING_WRAP = 21  # the column headings are bold: fewer characters fit a box's width


def _wrap(text, width=WRAP, max_lines=6):
    lines = textwrap.wrap(text, width=width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [lines[max_lines - 1][: width - 1] + "…"]
    return lines


def _text(x, y, lines, css):
    spans = "".join(
        f'<tspan x="{x}" dy="{0 if index == 0 else LINE_H}">{escape(line)}</tspan>'
        for index, line in enumerate(lines)
    )
    return f'<text class="{css}" x="{x}" y="{y}">{spans}</text>'


def toc_columns(programme):
    """The diagram's columns, left to right: (heading, items)."""
    return [
        (_("Activities"), programme.toc_items("activities")),
        (_("Outputs"), programme.toc_items("outputs")),
        (_("Short-term outcomes"), programme.toc_items("outcomes_short")),
        (_("Medium-term outcomes"), programme.toc_items("outcomes_medium")),
        (_("Impact"), programme.toc_items("impact")),
    ]


def toc_svg(programme, *, title_id="toc-title"):
    """The theory of change as boxes in five columns joined by arrows, with the problem above."""
    columns = toc_columns(programme)
    width = len(columns) * BOX_W + (len(columns) - 1) * COL_GAP + 2 * PAD
    parts, y0 = [], PAD
    problem = " ".join(programme.toc_items("problem"))
    if problem:
        lines = _wrap(problem, width=int((width - 4 * PAD) / 7), max_lines=4)
        height = len(lines) * LINE_H + 2 * PAD + LINE_H
        parts.append(
            f'<rect class="toc-problem" x="{PAD}" y="{y0}" width="{width - 2 * PAD}" '
            f'height="{height}" rx="6"/>'
        )
        parts.append(_text(2 * PAD, y0 + PAD + 11, [_("The problem")], "toc-heading"))
        parts.append(_text(2 * PAD, y0 + PAD + 11 + LINE_H, lines, "toc-item"))
        y0 += height + 2 * BOX_GAP
    column_bottoms = []
    # Headings wrap ("Langfristige Wirkung (Impact)" is wider than a box); the boxes of every
    # column start below the tallest heading.
    headings = [_wrap(heading, width=HEADING_WRAP, max_lines=3) for heading, _items in columns]
    boxes_top = y0 + max(len(lines) for lines in headings) * LINE_H + BOX_GAP
    for index, (_heading, items) in enumerate(columns):
        x = PAD + index * (BOX_W + COL_GAP)
        parts.append(_text(x, y0 + 12, headings[index], "toc-heading"))
        y = boxes_top
        for item in items or ["—"]:
            lines = _wrap(item)
            height = len(lines) * LINE_H + 2 * PAD
            parts.append(
                f'<rect class="toc-box toc-col-{index}" x="{x}" y="{y}" width="{BOX_W}" '
                f'height="{height}" rx="4"/>'
            )
            parts.append(_text(x + PAD, y + PAD + 11, lines, "toc-item"))
            y += height + BOX_GAP
        column_bottoms.append(y)
    mid = boxes_top + 20
    for index in range(len(columns) - 1):
        x1 = PAD + index * (BOX_W + COL_GAP) + BOX_W + 3
        x2 = x1 + COL_GAP - 6
        parts.append(
            f'<path class="toc-arrow" d="M{x1} {mid} H{x2 - 6} M{x2 - 10} {mid - 5} L{x2} {mid} '
            f'L{x2 - 10} {mid + 5}"/>'
        )
    height = max(column_bottoms) + PAD
    label = escape(_("Theory of change of %(title)s") % {"title": programme.title})
    svg = (
        f'<svg class="toc-diagram" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{title_id}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{title_id}">{label}</title>{"".join(parts)}</svg>'
    )
    return mark_safe(svg)  # noqa: S308 - every text above is escaped


def progress_svg(indicator, results, *, title_id):
    """Bars of the actual value per period, the target as a line and the baseline dashed."""
    width, height, left, bottom, top = 460, 200, 44, 34, 14
    values = [r.value for r in results if r.value is not None]
    reference = [v for v in (indicator.target, indicator.baseline) if v is not None]
    peak = max([Decimal(1), *values, *reference])
    scale = (height - bottom - top) / float(peak)

    def y(value):
        return round(height - bottom - float(value) * scale, 1)

    parts = [
        f'<line class="chart-axis" x1="{left}" y1="{height - bottom}" x2="{width - 8}" '
        f'y2="{height - bottom}"/>',
        _text(4, y(peak) + 4, [chart_number(peak)], "chart-label"),
        _text(4, height - bottom + 4, ["0"], "chart-label"),
    ]
    slots = max(len(results), 1)
    slot = (width - left - 16) / slots
    bar = min(48, slot * 0.6)
    for index, result in enumerate(results):
        x = left + 8 + index * slot + (slot - bar) / 2
        if result.value is not None:
            top_y = y(result.value)
            parts.append(
                f'<rect class="chart-bar" x="{x:.1f}" y="{top_y}" width="{bar:.1f}" '
                f'height="{max(0.0, height - bottom - top_y):.1f}"/>'
            )
            parts.append(_text(round(x, 1), top_y - 4, [chart_number(result.value)], "chart-value"))
        parts.append(
            _text(
                round(x, 1),
                height - bottom + 16,
                [short_month_year(result.period.start)],
                "chart-label",
            )
        )
    if indicator.target is not None:
        ty = y(indicator.target)
        parts.append(
            f'<line class="chart-target" x1="{left}" y1="{ty}" x2="{width - 8}" y2="{ty}"/>'
        )
        label = _("target %(value)s") % {"value": chart_number(indicator.target)}
        parts.append(_text(width - 90, ty - 4, [label], "chart-label"))
    if indicator.baseline is not None:
        by = y(indicator.baseline)
        parts.append(
            f'<line class="chart-baseline" x1="{left}" y1="{by}" x2="{width - 8}" y2="{by}"/>'
        )
    label = escape(
        _("%(indicator)s: actual value per period against the target")
        % {"indicator": indicator.title}
    )
    svg = (
        f'<svg class="progress-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{title_id}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{title_id}">{label}</title>{"".join(parts)}</svg>'
    )
    return mark_safe(svg)  # noqa: S308 - every text above is escaped
