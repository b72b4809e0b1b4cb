"""Reads of the insights app: the dashboard's figures (from the roll-up), the service's own
figures (§6) and annotations. Every function takes the place explicitly and runs a fixed
number of queries whatever the amount of data (the query budget tests hold them to it)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

from django.db.models import Q, Sum
from django.http import Http404

from locus.cases.choices import CaseOutcome, CaseStatus
from locus.cases.models import Case
from locus.cases.selectors import Targets, case_targets
from locus.directory.models import Organisation
from locus.places.models import Area
from locus.reporting.models import Report
from locus.reporting.taxonomy import UnknownCode, UnknownVersion, display_label, taxonomy

from .models import Annotation, Basis, Grain, PeriodCount
from .rollups import (
    add_months,
    month_start,
    period_after,
    period_range,
    period_start,
    place_tz,
    rollup_refresh,
    week_start,
)

# A period is provisional until this many days after it ended: late reports still arrive
# (in the demo, as in the services it is modelled on, about 95 % of reports of a week are in
# four weeks after it; see docs/insights.md, "Provisional figures").
PROVISIONAL_DAYS = 28
MAX_PERIODS = {Grain.WEEK: 260, Grain.MONTH: 120}
DEFAULT_PERIODS = {Grain.WEEK: 26, Grain.MONTH: 12}
MAP_CLASSES = 5


def code_label(axis, code, language) -> str:
    """A taxonomy code's label in the language: the current wording, an older version's for a
    retired code, the code itself when no version knows it."""
    return display_label(axis, code, language)


# --------------------------------------------------------------------------------------------
# Annotations


def annotation_list(place, *, first=None, last=None):
    """The place's annotations, oldest first; with `first`/`last`, those overlapping them."""
    annotations = Annotation.objects.filter(place=place)
    if last is not None:
        annotations = annotations.filter(starts_on__lte=last)
    if first is not None:
        annotations = annotations.filter(ends_on__gte=first)
    return annotations.order_by("starts_on", "id")


def access_annotation(place, annotation_id):
    """The place's annotation, or 404 (missing and not yours answer the same)."""
    annotation = Annotation.objects.filter(place=place, pk=annotation_id).first()
    if annotation is None:
        raise Http404
    return annotation


# --------------------------------------------------------------------------------------------
# The dashboard


@dataclass(frozen=True)
class DashboardFilters:
    """What the dashboard shows: periods [start, end) of `grain` (start and end are period
    starts), one area or all, one bias (with its sub-values) or all, one incident type or ""
    (the hate incidents), one setting or all, and whose classification (basis)."""

    grain: str
    start: date
    end: date
    area_id: int | None = None
    bias: str = ""
    incident_type: str = ""
    setting: str = ""
    basis: str = Basis.PERCEIVED

    @property
    def periods(self) -> list[date]:
        return period_range(self.grain, self.start, self.end)

    @property
    def length(self) -> int:
        return len(self.periods)

    @property
    def previous(self) -> tuple[date, date]:
        """The period of the same length just before."""
        return self._shift(-self.length)

    @property
    def last_year(self) -> tuple[date, date]:
        """The same periods a year earlier (52 weeks, or 12 months)."""
        return self._shift(-52 if self.grain == Grain.WEEK else -12)

    @property
    def comparisons(self) -> tuple[str, ...]:
        """The distinct comparisons, by name ("previous", "last_year"). A period a year long
        (12 months, 52 weeks: the default by month) has the same year before it whichever way
        it is taken, so it is compared once, as a year earlier: two columns of the same figures
        read as two findings (docs/insights.md, "Comparisons")."""
        if self.previous == self.last_year:
            return ("last_year",)
        return ("previous", "last_year")

    def _shift(self, n):
        return period_after(self.grain, self.start, n), period_after(self.grain, self.end, n)


def default_filters(today: date, grain: str = Grain.MONTH, **kwargs) -> DashboardFilters:
    """The last 12 months (or 26 weeks), the current, unfinished period included."""
    end = period_after(grain, period_start(grain, today))
    start = period_after(grain, end, -DEFAULT_PERIODS[grain])
    return DashboardFilters(grain=grain, start=start, end=end, **kwargs)


def is_provisional(grain, period, today) -> bool:
    """Still provisional: the period has not ended PROVISIONAL_DAYS days before today."""
    return period_after(grain, period) + timedelta(days=PROVISIONAL_DAYS) > today


@dataclass
class Figure:
    """Incidents and reports of one thing over the current, previous and last year's periods."""

    incidents: int = 0
    reports: int = 0
    previous: int = 0
    last_year: int = 0

    @property
    def pressure(self) -> int:
        """Reports beyond one per incident: further reports of content already reported."""
        return max(self.reports - self.incidents, 0)

    @property
    def change_previous(self) -> float | None:
        return _change(self.incidents, self.previous)

    @property
    def change_last_year(self) -> float | None:
        return _change(self.incidents, self.last_year)


def _change(now, before):
    if not before:
        return None
    return round(100 * (now - before) / before, 1)


@dataclass
class AreaFigure(Figure):
    id: int | None = None
    name: str = ""
    population: int | None = None
    map_class: int = 0

    @property
    def rate(self) -> float | None:
        """Incidents per 1,000 residents over the period (not annualised)."""
        if not self.population:
            return None
        return round(1000 * self.incidents / self.population, 3)

    @property
    def rate_previous(self) -> float | None:
        return round(1000 * self.previous / self.population, 3) if self.population else None

    @property
    def rate_last_year(self) -> float | None:
        return round(1000 * self.last_year / self.population, 3) if self.population else None


@dataclass
class CodeFigure(Figure):
    code: str = ""
    counts_as_hate: bool = True


@dataclass
class Dashboard:
    filters: DashboardFilters
    periods: list[date]
    provisional: list[bool]
    incidents: list[int]
    reports: list[int]
    last_year: list[int]
    previous: list[int]
    total: Figure
    areas: list[AreaFigure]
    no_area: Figure
    population: int | None
    by_bias: list[CodeFigure]
    by_type: list[CodeFigure]
    by_setting: list[CodeFigure]
    annotations: list
    map_breaks: list[float] = field(default_factory=list)
    map_by_rate: bool = True
    geometries: dict = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        if not self.population:
            return None
        counted = sum(a.incidents for a in self.areas if a.population)
        return round(1000 * counted / self.population, 3)


def _range_sums(lo_hi: dict[str, tuple[date, date]]):
    """Sum expressions of incidents/reports over named period ranges (one query)."""
    sums = {}
    for name, (lo, hi) in lo_hi.items():
        window = Q(period__gte=lo, period__lt=hi)
        sums[f"{name}_incidents"] = Sum("incidents", filter=window, default=0)
        if name == "cur":
            sums["cur_reports"] = Sum("reports", filter=window, default=0)
    return sums


@cache
def axis_codes(axis) -> tuple[str, ...]:
    """Every code of a taxonomy axis, in every published version. The breakdowns ask for them
    by equality (an IN list) rather than "not all": each code is then one range of the roll-up's
    index instead of a scan over every other dimension."""
    from locus.reporting.taxonomy import available_versions

    codes = set()
    for version in available_versions():
        codes.update(value.code for value in taxonomy(version).axis(axis))
    return tuple(sorted(codes))


def _breakdown(rows, key, hate_of=None) -> list[CodeFigure]:
    figures = []
    for row in rows:
        code = row[key]
        figures.append(
            CodeFigure(
                code=code,
                incidents=row["cur_incidents"],
                reports=row["cur_reports"],
                previous=row["prev_incidents"],
                last_year=row["ly_incidents"],
                counts_as_hate=hate_of(code) if hate_of else True,
            )
        )
    figures = [f for f in figures if f.incidents or f.previous or f.last_year or f.reports]
    figures.sort(key=lambda f: (-f.incidents, f.code))
    return figures


def _type_is_hate(code) -> bool:
    """Whether a type can count as hate at all (suspicious activity and disinformation never)."""
    try:
        kind = taxonomy().get("incident_type", code)
    except UnknownCode:
        return False
    return bool(kind.counts_as_hate or kind.hate_if_bias)


def _quantile_breaks(values: list[float], classes: int) -> list[float]:
    """Upper bounds of `classes` quantile classes over the non-zero values (class 0: zero)."""
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return []
    breaks = []
    for i in range(1, classes + 1):
        index = min(len(positive) - 1, max(0, round(i * len(positive) / classes) - 1))
        value = positive[index]
        if not breaks or value > breaks[-1]:
            breaks.append(value)
    return breaks


def _map_class(value, breaks) -> int:
    if not value or not breaks:
        return 0
    for index, bound in enumerate(breaks, start=1):
        if value <= bound:
            return index
    return len(breaks)


def dashboard(place, filters: DashboardFilters, *, today: date, refresh=True) -> Dashboard:
    """The dashboard's figures, read from the roll-up (refreshed first when something changed).
    Queries: the roll-up check (3 when current), the series by period and area, one per
    breakdown (bias, type, setting), the areas, the annotations."""
    if refresh:
        rollup_refresh(place=place)
    f = filters
    periods = f.periods
    prev_lo, prev_hi = f.previous
    ly_lo, ly_hi = f.last_year
    lo = min(prev_lo, ly_lo)
    base = PeriodCount.objects.filter(place=place, grain=f.grain, basis=f.basis)

    # 1. The series, by period and area, over the three ranges at once.
    cells = base.filter(
        bias=f.bias,
        incident_type=f.incident_type,
        setting=f.setting,
        period__gte=lo,
        period__lt=f.end,
    ).values_list("period", "area_id", "incidents", "reports")
    area_rows = list(
        Area.objects.filter(place=place)
        .order_by("name")
        .values_list("id", "name", "population", "geometry")
    )
    geometries = {row[0]: row[3] for row in area_rows}
    areas = [row[:3] for row in area_rows]
    known = {a[0] for a in areas}
    windows = {"cur": (f.start, f.end), "prev": (prev_lo, prev_hi), "ly": (ly_lo, ly_hi)}
    # One pass: per window, incidents (and reports) by period for the chosen area(s), and by
    # area (None: no area, or an area no longer listed).
    by_period = {name: defaultdict(int) for name in windows}
    reports_by_period = defaultdict(int)
    by_area = {name: defaultdict(int) for name in windows}
    reports_by_area = defaultdict(int)
    for period, area_id, incidents, reports in cells:
        area_key = area_id if area_id in known else None
        chosen = not f.area_id or area_id == f.area_id
        for name, (w_lo, w_hi) in windows.items():
            if w_lo <= period < w_hi:
                by_area[name][area_key] += incidents
                if chosen:
                    by_period[name][period] += incidents
                if name == "cur":
                    reports_by_area[area_key] += reports
                    if chosen:
                        reports_by_period[period] += reports
    incidents_list = [by_period["cur"].get(p, 0) for p in periods]
    reports_list = [reports_by_period.get(p, 0) for p in periods]
    previous_list = [by_period["prev"].get(p, 0) for p in period_range(f.grain, prev_lo, prev_hi)]
    last_year_list = [by_period["ly"].get(p, 0) for p in period_range(f.grain, ly_lo, ly_hi)]
    total = Figure(
        incidents=sum(incidents_list),
        reports=sum(reports_list),
        previous=sum(previous_list),
        last_year=sum(last_year_list),
    )
    # Per area (always every area: the map shows them all, the chosen one highlighted).
    area_figures = [
        AreaFigure(
            id=area_id,
            name=name,
            population=population,
            incidents=by_area["cur"].get(area_id, 0),
            reports=reports_by_area.get(area_id, 0),
            previous=by_area["prev"].get(area_id, 0),
            last_year=by_area["ly"].get(area_id, 0),
        )
        for area_id, name, population in areas
    ]
    no_area = Figure(
        incidents=by_area["cur"].get(None, 0),
        reports=reports_by_area.get(None, 0),
        previous=by_area["prev"].get(None, 0),
        last_year=by_area["ly"].get(None, 0),
    )
    populations = [a.population for a in area_figures if a.population]
    population = sum(populations) if populations else None
    by_rate = bool(populations) and len(populations) == len(area_figures)
    values = [(a.rate or 0) if by_rate else a.incidents for a in area_figures]
    breaks = _quantile_breaks(values, MAP_CLASSES)
    for figure, value in zip(area_figures, values, strict=True):
        figure.map_class = _map_class(value, breaks)

    # 2–4. Breakdowns (one query each), over the three ranges by conditional sums.
    ranges = {"cur": (f.start, f.end), "prev": (prev_lo, prev_hi), "ly": (ly_lo, ly_hi)}
    sums = _range_sums(ranges)
    scoped = base.filter(period__gte=lo, period__lt=f.end)
    if f.area_id:
        scoped = scoped.filter(area_id=f.area_id)
    by_bias = _breakdown(
        scoped.filter(incident_type=f.incident_type, setting=f.setting)
        .filter(bias__in=axis_codes("bias"))
        .values("bias")
        .annotate(**sums)
        .order_by(),
        "bias",
    )
    by_type = _breakdown(
        scoped.filter(bias=f.bias, setting=f.setting)
        .filter(incident_type__in=axis_codes("incident_type"))
        .values("incident_type")
        .annotate(**sums)
        .order_by(),
        "incident_type",
        hate_of=_type_is_hate,
    )
    by_setting = _breakdown(
        scoped.filter(bias=f.bias, incident_type=f.incident_type)
        .filter(setting__in=axis_codes("setting"))
        .values("setting")
        .annotate(**sums)
        .order_by(),
        "setting",
    )
    annotations = list(annotation_list(place, first=lo, last=f.end - timedelta(days=1)))
    return Dashboard(
        filters=f,
        periods=periods,
        provisional=[is_provisional(f.grain, p, today) for p in periods],
        incidents=incidents_list,
        reports=reports_list,
        last_year=last_year_list,
        previous=previous_list,
        total=total,
        areas=area_figures,
        no_area=no_area,
        population=population,
        by_bias=by_bias,
        by_type=by_type,
        by_setting=by_setting,
        annotations=annotations,
        map_breaks=breaks,
        map_by_rate=by_rate,
        geometries=geometries,
    )


# --------------------------------------------------------------------------------------------
# How well the service works (§6)


@dataclass
class OrganisationFigures:
    organisation_id: int
    name: str
    targets: Targets
    cases: int = 0
    acknowledged: int = 0
    median_acknowledge: timedelta | None = None
    acknowledge_within: float | None = None
    closed: int = 0
    median_close: timedelta | None = None
    close_within: float | None = None
    open_overdue: int = 0
    handed_on: int = 0


@dataclass
class ReachFigure:
    code: str
    name: str = ""
    reports: int = 0
    share: float | None = None
    population: int | None = None
    population_share: float | None = None
    by_person_targeted: int = 0

    @property
    def index(self) -> float | None:
        """Share of reports ÷ share of residents: 1 is in proportion; below 1 the service
        hears less from the area than its size would suggest."""
        if not self.share or not self.population_share:
            return None
        return round(self.share / self.population_share, 2)

    @property
    def rate(self) -> float | None:
        return round(1000 * self.reports / self.population, 3) if self.population else None

    @property
    def self_share(self) -> float | None:
        return round(self.by_person_targeted / self.reports, 3) if self.reports else None


@dataclass
class ServiceFigures:
    since: date
    until: date
    reports: int
    months: list[tuple[date, int]]
    with_cases: int
    handed_on: int
    asked_support: int
    support_consent: int
    supported: int
    organisations: list[OrganisationFigures]
    areas: list[ReachFigure]
    no_area: int
    communities: list[ReachFigure]

    @staticmethod
    def _share(part, whole):
        return round(part / whole, 3) if whole else None

    @property
    def handed_on_share(self):
        return self._share(self.handed_on, self.with_cases)

    @property
    def support_consent_share(self):
        return self._share(self.support_consent, self.reports)

    @property
    def asked_support_share(self):
        return self._share(self.asked_support, self.reports)

    @property
    def supported_share(self):
        return self._share(self.supported, self.support_consent)


def _median(values):
    return statistics.median_low(values) if values else None


def _within(done, open_ages, target):
    """Share of judged cases done within the target (the rule of the cases page: a case is
    judged once the step is done, or once the target has passed without it)."""
    if target is None:
        return None
    judged = len(done) + sum(1 for age in open_ages if age > target)
    if not judged:
        return None
    return round(sum(1 for d in done if d <= target) / judged, 3)


def service_figures(place, *, since: date, until: date, now: datetime) -> ServiceFigures:
    """The service's own figures for the reports received in [since, until] (place days):
    reports received, handling per organisation against its targets, hand-ons, support, and
    reach by area and community. Seven queries, whatever the period."""
    tz = place_tz(place)
    lo = datetime.combine(since, time.min, tz)
    hi = datetime.combine(until + timedelta(days=1), time.min, tz)
    reports = list(
        Report.objects.filter(place=place, submitted_at__gte=lo, submitted_at__lt=hi).values_list(
            "id",
            "submitted_at",
            "area_id",
            "bias",
            "reporter_role",
            "consent_support_contact",
            "support_wanted",
            "taxonomy_version",
        )
    )
    cases = list(
        Case.objects.filter(
            place=place,
            merged_into__isnull=True,
            report__submitted_at__gte=lo,
            report__submitted_at__lt=hi,
        ).values_list(
            "organisation_id",
            "report_id",
            "created_at",
            "acknowledged_at",
            "closed_at",
            "status",
            "handed_on_from_id",
            "outcome",
        )
    )
    targets = case_targets(place)
    names = dict(
        Organisation.objects.filter(id__in={c[0] for c in cases} | set(targets)).values_list(
            "id", "name"
        )
    )
    areas = list(
        Area.objects.filter(place=place).order_by("name").values_list("id", "name", "population")
    )

    months = Counter()
    by_area = Counter()
    support_consent = asked_support = 0
    community = defaultdict(lambda: [0, 0])
    report_ids = set()
    for rid, submitted, area_id, bias, role, consent, wanted, version in reports:
        report_ids.add(rid)
        months[month_start(submitted.astimezone(tz).date())] += 1
        by_area[area_id] += 1
        support_consent += bool(consent)
        asked_support += bool(wanted)
        codes = set()
        try:
            tax = taxonomy(version or None)
        except UnknownVersion:
            tax = taxonomy()
        for code in bias if isinstance(bias, list) else []:
            try:
                value = tax.get("bias", code)
                while value.parent:
                    value = tax.get("bias", value.parent)
                codes.add(value.code)
            except UnknownCode:
                codes.add(code)
        for code in codes:
            community[code][0] += 1
            community[code][1] += role == "victim"

    per_org: dict[int, list] = defaultdict(list)
    with_cases, handed, supported = set(), set(), set()
    for org, rid, created, acked, closed, status, from_id, outcome in cases:
        per_org[org].append((created, acked, closed, status))
        with_cases.add(rid)
        if from_id:
            handed.add(rid)
        if outcome == CaseOutcome.SUPPORTED:
            supported.add(rid)
    organisations = []
    for org in sorted(set(per_org) | set(targets), key=lambda o: names.get(o, "")):
        target = targets.get(org, Targets())
        rows = per_org.get(org, [])
        figure = OrganisationFigures(organisation_id=org, name=names.get(org, ""), targets=target)
        to_ack, unacked, to_close, unclosed = [], [], [], []
        for created, acked, closed, status in rows:
            done = acked or closed
            age = now - created
            if done:
                to_ack.append(done - created)
            else:
                unacked.append(age)
            if status == CaseStatus.CLOSED and closed:
                to_close.append(closed - created)
            else:
                unclosed.append(age)
                late_ack = target.acknowledge is not None and not done and age > target.acknowledge
                if late_ack or (target.close is not None and age > target.close):
                    figure.open_overdue += 1
            figure.handed_on += status == CaseStatus.HANDED_ON
        figure.cases = len(rows)
        figure.acknowledged, figure.closed = len(to_ack), len(to_close)
        figure.median_acknowledge, figure.median_close = _median(to_ack), _median(to_close)
        figure.acknowledge_within = _within(to_ack, unacked, target.acknowledge)
        figure.close_within = _within(to_close, unclosed, target.close)
        organisations.append(figure)

    total = len(reports)
    population = sum(p for _i, _n, p in areas if p) or None
    area_figures = []
    for area_id, name, area_population in areas:
        count = by_area.get(area_id, 0)
        area_figures.append(
            ReachFigure(
                code=str(area_id),
                name=name,
                reports=count,
                share=round(count / total, 4) if total else None,
                population=area_population,
                population_share=round(area_population / population, 4)
                if area_population and population
                else None,
            )
        )
    known = {a[0] for a in areas}
    communities = [
        ReachFigure(
            code=code,
            reports=count,
            share=round(count / total, 4) if total else None,
            by_person_targeted=self_reported,
        )
        for code, (count, self_reported) in community.items()
    ]
    communities.sort(key=lambda c: (-c.reports, c.code))
    return ServiceFigures(
        since=since,
        until=until,
        reports=total,
        months=sorted(months.items()),
        with_cases=len(with_cases & report_ids),
        handed_on=len(handed & report_ids),
        asked_support=asked_support,
        support_consent=support_consent,
        supported=len(supported & report_ids),
        organisations=organisations,
        areas=area_figures,
        no_area=sum(c for a, c in by_area.items() if a not in known),
        communities=communities,
    )


__all__ = [
    "Dashboard",
    "DashboardFilters",
    "access_annotation",
    "add_months",
    "annotation_list",
    "dashboard",
    "default_filters",
    "is_provisional",
    "service_figures",
    "week_start",
]
