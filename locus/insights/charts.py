"""Server-rendered SVG time-series charts: geometry only (pure, no database, no HTML).

`time_chart` turns periods and series into coordinates the template `insights/_chart.html`
draws: bars for the main series (hatched where provisional), lines for comparisons, shaded
bands with a number for trigger-event annotations, and axis ticks. No JavaScript and no chart
library: the chart is part of the page, prints, and works under the strict CSP (classes, no
style attributes). Every chart has its table beside it in the template.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from locus.core.numbers import chart_number

WIDTH = 760
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 38


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str
    provisional: bool
    value_label: str = ""  # the value as the reader writes it ("1 234")


@dataclass
class Band:
    number: int
    x: float
    width: float
    text: str


@dataclass
class Line:
    name: str
    css: str
    path: str


@dataclass
class Tick:
    pos: float
    label: str


@dataclass
class Chart:
    width: int
    height: int
    plot_top: float
    plot_bottom: float
    plot_left: float
    plot_right: float
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_max: int = 0
    has_provisional: bool = False

    @property
    def plot_height(self) -> float:
        return self.plot_bottom - self.plot_top


def nice_ceiling(value: float) -> int:
    """The smallest 'round' number (1, 2, 2.5, 5 × 10^k) at or above value (at least 1)."""
    if value <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * exponent >= value:
            return int(math.ceil(step * exponent))
    return int(10 * exponent)  # pragma: no cover


def time_chart(
    *,
    periods: list[date],
    period_ends: list[date],
    labels: list[str],
    values: list[int],
    provisional: list[bool],
    lines: list[tuple[str, str, list[int | None]]] = (),
    annotations: list[tuple[int, date, date, str]] = (),
) -> Chart:
    """Coordinates of a bar chart of `values` over `periods` (starts) and `period_ends`
    (exclusive), with comparison `lines` ((name, css class, values)), and `annotations`
    ((number, first day, last day, text)) as bands over the periods they touch."""
    count = len(periods)
    chart = Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_top=TOP,
        plot_bottom=HEIGHT - BOTTOM,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
    )
    if not count:
        return chart
    peak = max([*values, *[v for _n, _c, vs in lines for v in vs if v is not None], 0])
    chart.y_max = y_max = nice_ceiling(peak)
    plot_w = chart.plot_right - chart.plot_left
    plot_h = chart.plot_bottom - chart.plot_top
    slot = plot_w / count
    gap = min(4.0, slot * 0.2)

    def y_of(value):
        return chart.plot_bottom - plot_h * (value / y_max)

    for index, (value, label, late) in enumerate(zip(values, labels, provisional, strict=True)):
        top = y_of(value)
        chart.bars.append(
            Bar(
                x=round(chart.plot_left + index * slot + gap / 2, 2),
                y=round(top, 2),
                width=round(max(slot - gap, 1), 2),
                height=round(chart.plot_bottom - top, 2),
                value=value,
                label=label,
                provisional=late,
                value_label=chart_number(value),
            )
        )
    chart.has_provisional = any(provisional)
    for name, css, series in lines:
        parts, pen_down = [], False
        for index, value in enumerate(series):
            if value is None:
                pen_down = False
                continue
            x = chart.plot_left + (index + 0.5) * slot
            parts.append(f"{'L' if pen_down else 'M'}{x:.1f} {y_of(value):.1f}")
            pen_down = True
        if parts:
            chart.lines.append(Line(name=name, css=css, path=" ".join(parts)))
    for number, first, last, text in annotations:
        touched = [i for i in range(count) if periods[i] <= last and period_ends[i] > first]
        if touched:
            chart.bands.append(
                Band(
                    number=number,
                    x=round(chart.plot_left + touched[0] * slot, 2),
                    width=round(len(touched) * slot, 2),
                    text=text,
                )
            )
    steps = 4
    chart.y_ticks = [
        Tick(pos=round(y_of(y_max * i / steps), 2), label=chart_number(y_max * i / steps))
        for i in range(steps + 1)
    ]
    every = max(1, math.ceil(count / 12))
    chart.x_ticks = [
        Tick(pos=round(chart.plot_left + (i + 0.5) * slot, 2), label=labels[i])
        for i in range(0, count, every)
    ]
    return chart
