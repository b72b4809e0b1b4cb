"""Reads for area indicators: their values, incident rates per area, the correlation between
the two and the scatter chart's geometry (docs/insights.md, "Context indicators")."""

import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.utils import timezone
from scipy import stats

from locus.core.numbers import chart_number
from locus.reporting.models import Report

from .models import Area, AreaIndicator

DEFAULT_DAYS = 365
MIN_PAIRS = 3


def indicator_names(*, place):
    """The place's indicators, each with its periods (newest first): [(name, [periods])]."""
    rows = (
        AreaIndicator.objects.filter(place=place)
        .values_list("indicator", "period")
        .distinct()
        .order_by("indicator", "-period")
    )
    result = {}
    for name, period in rows:
        result.setdefault(name, []).append(period)
    return list(result.items())


def indicator_values(*, place, indicator, period):
    """{area id: value} of one indicator and period."""
    return dict(
        AreaIndicator.objects.filter(place=place, indicator=indicator, period=period).values_list(
            "area_id", "value"
        )
    )


def incident_counts_by_area(*, place, start, end):
    """{area id: incidents} from `start` to `end` (dates, inclusive), by the day each happened
    (else the day it was reported). Reports of the same online content count once per area,
    like everywhere in the figures (a post reported 500 times is one incident)."""
    zone = ZoneInfo(place.timezone)
    first = datetime.combine(start, time.min, tzinfo=zone)
    last = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    reports = Report.objects.filter(place=place, area__isnull=False).filter(
        Q(occurred_on__gte=start, occurred_on__lte=end)
        | Q(occurred_on__isnull=True, submitted_at__gte=first, submitted_at__lt=last)
    )
    counts = {}
    single = reports.filter(content_key="").values("area_id").annotate(n=Count("id")).order_by()
    grouped = (
        reports.exclude(content_key="")
        .values("area_id")
        .annotate(n=Count("content_key", distinct=True))
        .order_by()
    )
    for row in [*single, *grouped]:
        counts[row["area_id"]] = counts.get(row["area_id"], 0) + row["n"]
    return counts


@dataclass
class AreaRow:
    area: Area
    incidents: int
    rate: float | None  # incidents a year per 1,000 residents; None without a population
    value: float | None  # the indicator's value; None when the area has none


@dataclass
class Correlation:
    n: int
    pearson: float | None = None
    pearson_p: float | None = None
    spearman: float | None = None
    spearman_p: float | None = None
    reason: str = ""  # why nothing was computed ("too_few", "constant")

    @property
    def computed(self):
        return self.pearson is not None


@dataclass
class ContextView:
    indicator: str | None
    period: str | None
    start: object
    end: object
    rows: list = field(default_factory=list)
    correlation: Correlation | None = None
    chart: dict | None = None


def area_rates(*, place, start, end):
    """Every area of the place with its incidents and rate from `start` to `end`."""
    counts = incident_counts_by_area(place=place, start=start, end=end)
    years = ((end - start).days + 1) / 365.25
    rows = []
    for area in Area.objects.filter(place=place).order_by("name"):
        incidents = counts.get(area.pk, 0)
        rate = None
        if area.population:
            rate = incidents / area.population * 1000 / years
        rows.append(AreaRow(area=area, incidents=incidents, rate=rate, value=None))
    return rows


def correlate(xs, ys):
    """Pearson's r and Spearman's rho of paired values, with their two-sided p-values."""
    n = len(xs)
    if n < MIN_PAIRS:
        return Correlation(n=n, reason="too_few")
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        return Correlation(n=n, reason="constant")
    pearson = stats.pearsonr(xs, ys)
    spearman = stats.spearmanr(xs, ys)
    values = [pearson.statistic, pearson.pvalue, spearman.statistic, spearman.pvalue]
    if not all(math.isfinite(v) for v in values):
        return Correlation(n=n, reason="constant")
    return Correlation(
        n=n,
        pearson=float(values[0]),
        pearson_p=float(values[1]),
        spearman=float(values[2]),
        spearman_p=float(values[3]),
    )


def context_view(*, place, indicator=None, period=None, days=DEFAULT_DAYS, today=None):
    """Indicators beside incident rates: the table, the correlation and the chart.

    Default indicator: the first by name; default period: its newest. Rates cover the `days`
    days up to yesterday (today is never complete)."""
    today = today or timezone.now().astimezone(ZoneInfo(place.timezone)).date()
    end = today - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    names = dict(indicator_names(place=place))
    if indicator not in names:
        indicator = next(iter(names), None)
    periods = names.get(indicator, [])
    if period not in periods:
        period = periods[0] if periods else None
    view = ContextView(indicator=indicator, period=period, start=start, end=end)
    view.rows = area_rates(place=place, start=start, end=end)
    if indicator is None:
        return view
    values = indicator_values(place=place, indicator=indicator, period=period)
    for row in view.rows:
        row.value = values.get(row.area.pk)
    pairs = [
        (r.value, r.rate, r.area.name)
        for r in view.rows
        if r.value is not None and r.rate is not None
    ]
    view.correlation = correlate([p[0] for p in pairs], [p[1] for p in pairs])
    view.chart = scatter_chart(pairs) if pairs else None
    return view


# --- the scatter chart (server-rendered SVG) ------------------------------------------------

WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 52


def nice_ticks(low, high, count=5):
    """Round tick values covering low…high (about `count` of them)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high - low < max(abs(low), abs(high), 1.0) * 1e-6:
        # One value (or values too close to tell apart): a range around it.
        high = low + max(abs(low) * 0.1, 1.0)
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = [first]
    while ticks[-1] < high - step * 1e-9 and len(ticks) < 50:
        ticks.append(first + len(ticks) * step)
    return [round(value, 10) for value in ticks]


def scatter_chart(pairs):
    """Geometry for the SVG scatter of (indicator value, rate, area name) points: scaled
    points and axis ticks, all in the SVG's own units."""
    xs = [p[0] for p in pairs]
    ys = [p[1] for p in pairs]
    x_ticks = nice_ticks(min(xs), max(xs))
    y_ticks = nice_ticks(min(0.0, min(ys)), max(ys))
    x0, x1 = x_ticks[0], x_ticks[-1]
    y0, y1 = y_ticks[0], y_ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x):
        return LEFT + (x - x0) / ((x1 - x0) or 1) * plot_w

    def sy(y):
        return TOP + plot_h - (y - y0) / ((y1 - y0) or 1) * plot_h

    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "points": [
            {"x": round(sx(x), 1), "y": round(sy(y), 1), "name": name, "value": x, "rate": y}
            for x, y, name in pairs
        ],
        "x_ticks": [{"at": round(sx(t), 1), "label": chart_number(t)} for t in x_ticks],
        "y_ticks": [{"at": round(sy(t), 1), "label": chart_number(t)} for t in y_ticks],
        "x_label_y": HEIGHT - 10,
        "centre_x": LEFT + plot_w / 2,
        "centre_y": TOP + plot_h / 2,
    }
