"""Public open data: hate incidents by area × month × bias category, protected for publication
(docs/insights.md, "Open data, network roll-ups and exports").

Everything here is computed from the non-identifying fields of reports and of the staff
classification on their cases; nothing is stored. The steps:

1. `incident_list` turns reports into **incidents**: reports of the same online content
   (`content_key`) or merged by a caseworker as duplicates count once, on the day of the
   earliest, in the area of the earliest that names one; a report staff found "not related to
   hate" on every case is left out; staff's verified type and bias are used where given,
   otherwise what the reporter perceived.
2. Only incidents that count as hate (`Taxonomy.counts_as_hate`) are published, each in
   exactly **one** public category (`public_category`): its bias motivation's top-level value,
   "several" when it names more than one, "not sure" when it names none. The table's margins
   are then true sums of its cells, which the suppression relies on.
3. `open_data` builds one area × category table with margins per month, from the first month
   with an incident to the latest month the publication delay allows, and protects each with
   `disclosure.protect_table` at the place's threshold. A month whose small figures could not
   be protected even by hiding everything is **withheld** whole.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from locus.core.spreadsheets import spreadsheet_safe
from locus.reporting.taxonomy import taxonomy

from . import disclosure
from .disclosure import PRIMARY, PUBLISHED, SECONDARY, TOTAL

NO_AREA = "none"  # the row of incidents without an area (online content, area not given)
SEVERAL = "several"  # the column of incidents naming more than one bias motivation
MERGED = "combined"  # rare categories combined for a month that could not be protected
LICENCE_NAME = "Creative Commons Attribution 4.0 International (CC BY 4.0)"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
CACHE_SECONDS = 30 * 24 * 3600  # the key is the exact input: an entry is never stale

STATUS_CODES = {
    PUBLISHED: "published",
    PRIMARY: "fewer_than_threshold",
    SECONDARY: "hidden_to_protect",
}


# --- incidents -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incident:
    """One incident: one report, or a group of reports of the same thing."""

    day: date
    area_id: int | None
    incident_type: str
    bias: tuple[str, ...]
    reports: int = 1


def _local_day(moment, zone):
    return timezone.localtime(moment, zone).date()


def incident_list(*, place, start: date | None = None, end: date | None = None) -> list[Incident]:
    """The place's incidents (any type, hate or not) whose day is within [start, end].

    Two queries whatever the number of reports. Codes unknown to the current taxonomy are
    dropped (codes are never reused, so a retired code has no current meaning to count)."""
    from locus.cases.choices import Verification
    from locus.cases.models import Case
    from locus.reporting.models import Report

    t = taxonomy()
    zone = ZoneInfo(place.timezone)
    reports = list(
        Report.objects.filter(place=place)
        .order_by("submitted_at", "id")
        .values_list(
            "id", "submitted_at", "occurred_on", "area_id", "incident_type", "bias", "content_key"
        )
    )
    verdicts: dict[int, list] = {}
    merged_to: dict[int, int] = {}
    for report_id, verification, v_type, v_bias, merged_report, _updated in (
        Case.objects.filter(place=place)
        .order_by("updated_at", "id")
        .values_list(
            "report_id",
            "verification",
            "verified_incident_type",
            "verified_bias",
            "merged_into__report_id",
            "updated_at",
        )
    ):
        verdicts.setdefault(report_id, []).append((verification, v_type, v_bias))
        if merged_report and merged_report != report_id:
            merged_to[report_id] = merged_report

    content_keys = {row[0]: row[6] for row in reports}
    groups: dict[str, list] = {}
    order: list[str] = []
    for report_id, submitted_at, occurred_on, area_id, kind, bias, content_key in reports:
        cases = verdicts.get(report_id, [])
        if cases and all(v == Verification.NOT_HATE_RELATED for v, _t, _b in cases):
            continue
        for verification, v_type, v_bias in reversed(cases):  # the latest verified classification
            if verification == Verification.VERIFIED and (v_type or v_bias):
                kind = v_type or kind
                bias = v_bias or bias
                break
        if not t.has("incident_type", kind):
            continue
        codes = tuple(code for code in (bias or []) if t.has("bias", code))
        day = occurred_on or _local_day(submitted_at, zone)
        # A merged duplicate joins the incident of the report it was merged into.
        root = merged_to.get(report_id, report_id)
        shared = content_key or content_keys.get(root, "")
        key = "c:" + shared if shared else f"r:{root}"
        if key not in groups:
            order.append(key)
            groups[key] = []
        groups[key].append((day, area_id, kind, codes))

    incidents = []
    for key in order:
        members = sorted(groups[key], key=lambda m: m[0])
        day = members[0][0]
        if (start and day < start) or (end and day > end):
            continue
        area = next((m[1] for m in members if m[1] is not None), None)
        bias = tuple(dict.fromkeys(code for m in members for code in m[3]))
        incidents.append(
            Incident(
                day=day, area_id=area, incident_type=members[0][2], bias=bias, reports=len(members)
            )
        )
    return incidents


def is_hate(incident: Incident, t=None) -> bool:
    t = t or taxonomy()
    return t.counts_as_hate(incident.incident_type, incident.bias)


# --- public categories -----------------------------------------------------------------------


def _top(t, code):
    value = t.get("bias", code)
    while value.parent:
        value = t.get("bias", value.parent)
    return value


def public_category(bias: Iterable[str], t=None) -> str:
    """The one public category of an incident: the top-level value of its bias motivation
    (anti-Roma counts as racism), `several` when it names more than one, the "not sure" value
    when it names none but "not sure"."""
    t = t or taxonomy()
    tops = {_top(t, code) for code in bias}
    real = {value.code for value in tops if not value.unspecified}
    if len(real) == 1:
        return next(iter(real))
    if len(real) > 1:
        return SEVERAL
    unspecified = [v.code for v in t.axis("bias") if v.unspecified]
    return unspecified[0] if unspecified else SEVERAL


def public_categories(language: str, t=None) -> list[tuple[str, str]]:
    """(code, label) of every column, in the taxonomy's order, `several` last."""
    t = t or taxonomy()
    columns = [(v.code, v.label(language)) for v in t.axis("bias") if v.parent is None]
    columns.append((SEVERAL, gettext("Several bias motivations")))
    return columns


# --- the published tables --------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    code: str = ""


class MonthTable:
    """One month's protected table, computed when first needed (the page shows one month;
    only the downloads need them all). `table` is None when the month is withheld; `merged`
    lists the categories combined into MERGED."""

    def __init__(self, month: date, compute=None, *, table=None, merged=()):
        self.month = month
        self._compute = compute
        self._result = None if compute is not None else (table, tuple(merged))

    def _get(self):
        if self._result is None:
            self._result = self._compute()
        return self._result

    @property
    def table(self) -> disclosure.ProtectedTable | None:
        return self._get()[0]

    @property
    def merged(self) -> tuple[str, ...]:
        return self._get()[1]

    @property
    def withheld(self) -> bool:
        return self.table is None

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")


@dataclass
class OpenData:
    """What is published for one place (or, with places as rows, one network)."""

    title: str
    threshold: int
    delay_days: int
    latest_month: date | None
    rows: list[Row]
    columns: list[tuple[str, str]]
    months: list[MonthTable] = field(default_factory=list)
    # The totals row's name: "All areas" for a place; a network's rows are places.
    total_label: str = ""

    def total_row_label(self) -> str:
        return self.total_label or gettext("All areas")

    def columns_for(self, month: MonthTable) -> list[tuple[str, str]]:
        """The month's columns: the categories, with any combined ones as one column last."""
        if not month.merged:
            return list(self.columns)
        labels = [label for code, label in self.columns if code in month.merged]
        kept = [(code, label) for code, label in self.columns if code not in month.merged]
        return [
            *kept,
            (MERGED, gettext("Combined: %(categories)s") % {"categories": ", ".join(labels)}),
        ]

    def month(self, label: str | None) -> MonthTable | None:
        if not self.months:
            return None
        if label:
            for month in self.months:
                if month.label == label:
                    return month
            return None
        return self.months[-1]


MAX_MONTHS = 120  # ten years: a date typed long ago does not make decades of empty tables


def published_months(first: date | None, latest: date | None) -> list[date]:
    """The months published: from the first with an incident (at most MAX_MONTHS back) to the
    latest the publication delay allows."""
    if first is None or latest is None or first > latest:
        return []
    return months_between(first, latest)[-MAX_MONTHS:]


def months_between(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _protected(key_prefix, counts, rows, columns, threshold):
    """protect_table, cached by the exact input (the cache key carries the place or network)."""
    payload = json.dumps(
        [threshold, rows, columns, sorted((r, c, n) for (r, c), n in counts.items())]
    )
    key = f"locus:{key_prefix}:{hashlib.sha256(payload.encode()).hexdigest()}"
    table = cache.get(key)
    if table is None:
        table = disclosure.protect_table(counts, rows=rows, columns=columns, threshold=threshold)
        cache.set(key, table, CACHE_SECONDS)
    return table


def protect_months(
    counts: dict[tuple[str, date, str], int],
    *,
    rows: Sequence[str],
    columns: Sequence[str],
    months: Sequence[date],
    threshold: int,
    cache_prefix: str,
) -> list[MonthTable]:
    """One protected table per month, each computed when first read.

    When a month cannot be protected as it is (typically a rare category: its city-wide total
    is small and it has one incident in each of several areas, so the published zeros and the
    "fewer than N" labels pin every cell), the categories at fault are **combined** into one
    column (MERGED) for that month and the table is protected again, until it is protected or
    a single column is left; only then is the month withheld. The combined column is the sum
    of its categories, so the table still adds up and the attack on it is the same."""
    by_month: dict[date, dict] = {month: {} for month in months}
    for (row, month, column), n in counts.items():
        if month in by_month:
            by_month[month][(row, column)] = n
    rows, columns = list(rows), list(columns)

    def computer(cells_of_month):
        return lambda: _protect_month(
            cells_of_month, rows, columns, threshold=threshold, cache_prefix=cache_prefix
        )

    return [MonthTable(month, computer(by_month[month])) for month in months]


def _protect_month(month_cells, rows, columns, *, threshold, cache_prefix):
    """(table or None when withheld, the combined categories) for one month's cells."""
    cells, merged = month_cells, ()
    names = list(columns)
    while True:
        table = _protected(cache_prefix, cells, rows, names, threshold)
        if table.fully_protected:
            return table, merged
        faulty = {c for (_r, c) in table.unprotected if c is not None and c != MERGED}
        if not faulty and MERGED not in names:
            faulty = {c for (_r, c) in table.unprotected if c is not None}
        if MERGED not in names or MERGED in faulty or not faulty - {MERGED}:
            # Combining a column with nothing changes nothing: take in the smallest non-empty
            # other column too.
            totals = {c: table.values[(None, c)] for c in names if c not in faulty}
            candidates = [c for c, n in totals.items() if n > 0 and c != MERGED]
            if candidates:
                faulty = faulty | {min(candidates, key=lambda c: (totals[c], c))}
        kept = [c for c in names if c not in faulty and c != MERGED]
        if not faulty or len(kept) == len(names) or not kept:
            return None, ()
        merged = tuple(c for c in columns if c in faulty or c in merged)
        names = [*kept, MERGED]
        cells = {}
        for (row, column), n in month_cells.items():
            key = (row, MERGED if column in merged else column)
            cells[key] = cells.get(key, 0) + n


def today_for(place) -> date:
    return timezone.localtime(timezone.now(), ZoneInfo(place.timezone)).date()


def place_counts(*, place, t=None) -> tuple[dict, date | None]:
    """Hate incidents by (area key, month, public category), and the first month with one."""
    t = t or taxonomy()
    counts: dict[tuple[str, date, str], int] = {}
    first = None
    for incident in incident_list(place=place):
        if not is_hate(incident, t):
            continue
        month = incident.day.replace(day=1)
        row = str(incident.area_id) if incident.area_id is not None else NO_AREA
        key = (row, month, public_category(incident.bias, t))
        counts[key] = counts.get(key, 0) + 1
        first = month if first is None or month < first else first
    return counts, first


def open_data(*, place, language: str = "en", today: date | None = None) -> OpenData:
    """The place's published tables (see the module's docstring)."""
    from locus.places.models import Area

    t = taxonomy()
    today = today or today_for(place)
    latest = disclosure.latest_publishable_month(
        today=today, delay_days=place.publication_delay_days
    )
    areas = list(
        Area.objects.filter(place=place).order_by("name").values_list("id", "name", "code")
    )
    rows = [Row(key=str(pk), label=name, code=code) for pk, name, code in areas]
    rows.append(Row(key=NO_AREA, label=gettext("Area not given (including online)")))
    columns = public_categories(language, t)
    counts, first = place_counts(place=place, t=t)
    months = published_months(first, latest)
    return OpenData(
        title=place.name,
        threshold=place.suppression_threshold,
        delay_days=place.publication_delay_days,
        latest_month=latest,
        rows=rows,
        columns=columns,
        months=protect_months(
            counts,
            rows=[r.key for r in rows],
            columns=[c for c, _label in columns],
            months=months,
            threshold=place.suppression_threshold,
            cache_prefix=f"opendata:place:{place.pk}",
        ),
    )


# --- presenting a figure ---------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    count: int | None
    status: str  # published | fewer_than_threshold | hidden_to_protect | withheld
    text: str


def figure(table: disclosure.ProtectedTable | None, row, column, threshold: int) -> Figure:
    if table is None:
        return Figure(None, "withheld", gettext("withheld"))
    status = table.status[(row, column)]
    if status == PUBLISHED:
        value = table.values[(row, column)]
        return Figure(value, STATUS_CODES[status], str(value))
    if status == PRIMARY:
        return Figure(None, STATUS_CODES[status], gettext("fewer than %(n)s") % {"n": threshold})
    return Figure(None, STATUS_CODES[status], gettext("hidden to protect other figures"))


def table_rows(data: OpenData, month: MonthTable):
    """For a template: (label, [Figure per column], total Figure) per row, totals row last."""
    result = []
    for row in (*data.rows, None):
        key = row.key if row else TOTAL
        cells = [
            figure(month.table, key, code, data.threshold) for code, _l in data.columns_for(month)
        ]
        total = figure(month.table, key, TOTAL, data.threshold)
        result.append((row, cells, total))
    return result


# --- downloads -------------------------------------------------------------------------------

CSV_HEADER = [
    "month",
    "area_code",
    "area",
    "category_code",
    "category",
    "count",
    "status",
    "display",
]
ALL = "all"


def records(data: OpenData) -> Iterator[dict]:
    """Every published figure, totals included, month by month (the CSV's rows)."""
    for month in data.months:
        for row in (*data.rows, None):
            row_key = row.key if row else TOTAL
            for code, label in (*data.columns_for(month), (None, gettext("All categories"))):
                f = figure(month.table, row_key, code, data.threshold)
                yield {
                    "month": month.label,
                    "area_code": (row.code or row.key) if row else ALL,
                    "area": row.label if row else data.total_row_label(),
                    "category_code": code or ALL,
                    "category": label,
                    "count": f.count,
                    "status": f.status,
                    "display": f.text,
                }


def csv_text(data: OpenData) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_HEADER, lineterminator="\n")
    writer.writeheader()
    for record in records(data):
        record["area"] = spreadsheet_safe(record["area"])
        record["area_code"] = spreadsheet_safe(record["area_code"])
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return out.getvalue()


def as_json(data: OpenData) -> dict:
    """The API's shape: per month, per row, the figures by category and the row's total."""
    months = []
    for month in data.months:
        rows = []
        for row, cells, total in table_rows(data, month):
            rows.append(
                {
                    "area_code": (row.code or row.key) if row else ALL,
                    "area": row.label if row else data.total_row_label(),
                    "figures": [
                        {"category": code, "count": f.count, "status": f.status}
                        for (code, _l), f in zip(data.columns_for(month), cells, strict=True)
                    ],
                    "total": {"category": ALL, "count": total.count, "status": total.status},
                }
            )
        months.append({"month": month.label, "withheld": month.withheld, "rows": rows})
    return {
        "title": data.title,
        "threshold": data.threshold,
        "publication_delay_days": data.delay_days,
        "latest_month": data.latest_month.strftime("%Y-%m") if data.latest_month else None,
        "licence": {"name": LICENCE_NAME, "url": LICENCE_URL},
        "method": str(METHOD_NOTE),
        "categories": [{"code": code, "label": label} for code, label in data.columns],
        "months": months,
    }


def geojson(data: OpenData, *, place) -> dict:
    """One feature per area (its boundary, and its figures by month); the figures of incidents
    without an area and the totals as foreign members, since they have no geometry."""
    from locus.places.models import Area

    geometry = dict(Area.objects.filter(place=place).values_list("id", "geometry"))

    def figures(row_key):
        result = {}
        for month in data.months:
            entry = {}
            for code, _label in (*data.columns_for(month), (None, "")):
                f = figure(month.table, row_key, code, data.threshold)
                entry[code or ALL] = {"count": f.count, "status": f.status}
            result[month.label] = entry
        return result

    features = [
        {
            "type": "Feature",
            "id": row.code or row.key,
            "geometry": geometry.get(int(row.key)),
            "properties": {"area": row.label, "code": row.code, "months": figures(row.key)},
        }
        for row in data.rows
        if row.key != NO_AREA
    ]
    return {
        "type": "FeatureCollection",
        "name": data.title,
        "threshold": data.threshold,
        "publication_delay_days": data.delay_days,
        "licence": {"name": LICENCE_NAME, "url": LICENCE_URL},
        "categories": [{"code": code, "label": label} for code, label in data.columns],
        "features": features,
        "area_not_given": figures(NO_AREA),
        "totals": figures(TOTAL),
    }


METHOD_NOTE = _(
    "Counts of hate incidents reported to the city and its partners, by the area and month in "
    "which they happened and by the bias motivation perceived (or verified by staff). Many "
    "reports of the same online content, or of the same event, count as one incident. Each "
    "incident counts in one category: incidents naming more than one bias motivation count "
    "under 'several'. Figures from 1 to the threshold minus one are shown as 'fewer than' the "
    "threshold; some other figures are hidden too, so that no small figure can be worked out "
    "from the totals. Zero is shown. The most recent month is published only once it has "
    "ended and the publication delay has passed. Figures are not comparable with police "
    "recorded crime."
)


def open_data_load_demo() -> str:
    """Demo: a publication delay of 14 days in every active place, and the published tables of
    every place and network computed once, so that the first visitor does not wait for two
    years of months to be protected (later requests read the cache). Returns a summary."""
    from locus.core.tenancy import place_scope
    from locus.places.models import Network, Place

    from .network import network_open_data

    months = withheld = 0
    for place in Place.objects.filter(is_active=True).order_by("pk"):
        if place.publication_delay_days == 0:
            place.publication_delay_days = 14
            place.save(update_fields=["publication_delay_days"])
        with place_scope(place):
            data = open_data(place=place)
        months += len(data.months)
        withheld += sum(m.withheld for m in data.months)
    for network in Network.objects.all():
        withheld += sum(m.withheld for m in network_open_data(network=network).months)
    return f"Open data: {months} monthly tables protected ({withheld} withheld)"
