"""Counts of hate incidents in each jurisdiction's own scheme, from the taxonomy's mappings
(docs/taxonomy.md, docs/insights.md "Open data, network roll-ups and exports").

The counting rule, the same for every scheme, as the schemes themselves count:

- the unit is the **incident** (`open_data.incident_list`: grouped mass reports and merged
  duplicates count once) that counts as hate (`Taxonomy.counts_as_hate`), by the day it
  happened;
- an incident counts **once in every category** of the scheme its bias motivations map to
  (`Taxonomy.map_bias`): a racist and anti-Muslim incident is one "race" and one "religion"
  incident in the UK strands, as the Home Office counts an offence with two motivating factors
  in both strands. So the categories of a scheme add up to **more** than its incidents;
  `incidents` (counted in at least one category) is the scheme's own total and is given
  beside them, never computed as their sum;
- nested schemes (Brå's groups, the French aggregate) are given at every level: a category
  counts once per incident however many of its sub-categories the incident falls in;
- an incident whose bias maps to nothing in the scheme (misogyny in the UK strands, "not sure"
  outside Brå) is counted in `not_in_scheme`.

ODIHR's civil-society submission table crosses ODIHR's bias categories with the types of
incident ODIHR records (violent attacks against people, threats, attacks against property).
Discrimination and hate speech (abuse, literature, online content) are outside ODIHR's concept
of hate crime; they are counted in one column, `outside_odihr_scope`, so the table shows what
was left out rather than dropping it silently.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from itertools import islice

from django.utils.translation import gettext_lazy as _

from locus.core.spreadsheets import spreadsheet_safe
from locus.reporting.taxonomy import taxonomy

from .open_data import Incident, incident_list, is_hate

SCHEMES = ("uk_strands", "osce_odihr", "de_pmk", "se_bra", "fr")
ODIHR = "osce_odihr"
SUBMISSION = "osce_odihr_submission"

# ODIHR's types of hate incident (civil-society submissions), and the Locus incident types in
# each. The rest is outside ODIHR's concept of hate crime.
ODIHR_TYPES = (
    (
        "violent_attacks_against_people",
        _("Violent attacks against people"),
        ("extreme_violence", "assault"),
    ),
    ("threats", _("Threats"), ("threat",)),
    ("attacks_against_property", _("Attacks against property"), ("damage_desecration",)),
)
OUTSIDE_ODIHR = "outside_odihr_scope"


@dataclass(frozen=True)
class CategoryCount:
    code: str
    label: str
    source_label: str
    parent: str | None
    depth: int
    incidents: int


@dataclass(frozen=True)
class SchemeCounts:
    scheme: str
    label: str
    start: date
    end: date
    categories: tuple[CategoryCount, ...]
    incidents: int  # counted in at least one category
    not_in_scheme: int  # hate incidents with no category in this scheme
    hate_incidents: int  # incidents + not_in_scheme


def hate_incidents(*, place, start: date, end: date) -> list[Incident]:
    t = taxonomy()
    return [i for i in incident_list(place=place, start=start, end=end) if is_hate(i, t)]


def _depth(scheme, value):
    depth = 0
    while value.parent:
        depth += 1
        value = scheme.get(value.parent)
    return depth


def scheme_counts(
    incidents: list[Incident], *, scheme: str, start: date, end: date, language: str = "en"
) -> SchemeCounts:
    """Count incidents (already filtered to hate incidents in the period) in one scheme."""
    t = taxonomy()
    target = t.scheme(scheme)
    per_code = {value.code: 0 for value in target.values}
    counted = outside = 0
    for incident in incidents:
        codes = t.map_bias(incident.bias, scheme)
        if codes:
            counted += 1
        else:
            outside += 1
        for code in codes:
            per_code[code] += 1
    categories = tuple(
        CategoryCount(
            code=value.code,
            label=value.label(language),
            source_label=value.source_label,
            parent=value.parent,
            depth=_depth(target, value),
            incidents=per_code[value.code],
        )
        for value in _tree_order(target)
    )
    return SchemeCounts(
        scheme=scheme,
        label=target.label(language),
        start=start,
        end=end,
        categories=categories,
        incidents=counted,
        not_in_scheme=outside,
        hate_incidents=counted + outside,
    )


def _tree_order(scheme):
    """Parents before their children, children in the file's order."""
    children: dict[str | None, list] = {}
    for value in scheme.values:
        children.setdefault(value.parent, []).append(value)
    ordered = []

    def walk(parent):
        for value in children.get(parent, []):
            ordered.append(value)
            walk(value.code)

    walk(None)
    return ordered


def leaf_hits(incidents: list[Incident], *, scheme: str) -> tuple[list[str], dict]:
    """For tables that must add up (the network's, protected for publication): one level only.

    Columns are the scheme's leaf categories plus, for each category with sub-categories, a
    column "<category>, not further specified" (e.g. Brå's generic racism, which maps to the
    group but to none of its motives). Each incident counts once in each leaf it maps to, and
    once in a group's "not further specified" column when it maps to the group but to none of
    its sub-categories. Returns (columns, {incident index: [columns]})."""
    t = taxonomy()
    target = t.scheme(scheme)
    parents = {v.parent for v in target.values if v.parent}
    columns = []
    for value in _tree_order(target):
        if value.code in parents:
            columns.append(value.code + ":unspecified")
        else:
            columns.append(value.code)
    hits = {}
    for index, incident in enumerate(incidents):
        codes = t.map_bias(incident.bias, scheme)
        cells = []
        for code in codes:
            if code in parents:
                if not any(target.get(c).parent == code for c in codes):
                    cells.append(code + ":unspecified")
            else:
                cells.append(code)
        hits[index] = cells
    return columns, hits


def leaf_label(scheme: str, column: str, language: str) -> str:
    t = taxonomy()
    target = t.scheme(scheme)
    if column.endswith(":unspecified"):
        label = target.get(column.split(":")[0]).label(language)
        return str(_("%(category)s, not further specified") % {"category": label})
    return target.get(column).label(language)


@dataclass(frozen=True)
class SubmissionRow:
    code: str
    label: str
    source_label: str
    by_type: tuple[int, ...]  # one per ODIHR_TYPES
    outside: int

    @property
    def total(self) -> int:
        return sum(self.by_type)


def odihr_submission(incidents: list[Incident], *, language: str = "en"):
    """ODIHR's bias categories × incident types (rows, and a last row of all incidents: a
    multi-bias incident is in several rows but once in the last)."""
    t = taxonomy()
    scheme = t.scheme(ODIHR)
    type_index = {kind: i for i, (_c, _l, kinds) in enumerate(ODIHR_TYPES) for kind in kinds}
    counts = {value.code: [0] * len(ODIHR_TYPES) for value in scheme.values}
    outside = {value.code: 0 for value in scheme.values}
    all_types, all_outside = [0] * len(ODIHR_TYPES), 0
    for incident in incidents:
        codes = t.map_bias(incident.bias, ODIHR)
        if not codes:
            continue
        index = type_index.get(incident.incident_type)
        for code in codes:
            if index is None:
                outside[code] += 1
            else:
                counts[code][index] += 1
        if index is None:
            all_outside += 1
        else:
            all_types[index] += 1
    rows = [
        SubmissionRow(
            code=value.code,
            label=value.label(language),
            source_label=value.source_label,
            by_type=tuple(counts[value.code]),
            outside=outside[value.code],
        )
        for value in scheme.values
    ]
    total = SubmissionRow(
        code="all",
        label=str(_("All bias motivations (each incident once)")),
        source_label="",
        by_type=tuple(all_types),
        outside=all_outside,
    )
    return rows, total


# --- CSV -------------------------------------------------------------------------------------

SCHEME_CSV_HEADER = [
    "scheme",
    "period_start",
    "period_end",
    "row_type",
    "category_code",
    "parent_code",
    "level",
    "source_label",
    "label",
    "incidents",
]


def scheme_csv(counts: SchemeCounts) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SCHEME_CSV_HEADER)
    common = [counts.scheme, counts.start.isoformat(), counts.end.isoformat()]
    for c in counts.categories:
        writer.writerow(
            [
                *common,
                "category",
                c.code,
                c.parent or "",
                c.depth + 1,
                c.source_label,
                c.label,
                c.incidents,
            ]
        )
    writer.writerow(
        [
            *common,
            "total",
            "incidents_counted",
            "",
            "",
            "",
            str(_("Incidents counted in the scheme (each once)")),
            counts.incidents,
        ]
    )
    writer.writerow(
        [
            *common,
            "total",
            "not_in_scheme",
            "",
            "",
            "",
            str(_("Hate incidents with no category in this scheme")),
            counts.not_in_scheme,
        ]
    )
    writer.writerow(
        [
            *common,
            "total",
            "hate_incidents",
            "",
            "",
            "",
            str(_("All hate incidents in the period")),
            counts.hate_incidents,
        ]
    )
    return out.getvalue()


def submission_csv(rows, total, *, start: date, end: date) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "period_start",
            "period_end",
            "bias_code",
            "bias_motivation",
            *(code for code, _l, _k in ODIHR_TYPES),
            "total",
            OUTSIDE_ODIHR,
        ]
    )
    for row in (*rows, total):
        writer.writerow(
            [
                start.isoformat(),
                end.isoformat(),
                row.code,
                row.source_label or row.label,
                *row.by_type,
                row.total,
                row.outside,
            ]
        )
    return out.getvalue()


# --- record-level export (analysts; no personal data) ----------------------------------------

RECORD_HEADER = [
    "id",
    "received_at",
    "occurred_on",
    "area_code",
    "incident_type",
    "bias",
    "setting",
    "platform",
    "online_content_group",
    "reporter_role",
    "taxonomy_version",
]
CHUNK_ROWS = 2000


class _Lines(io.StringIO):
    """A text buffer csv.writer writes into (in C), emptied each time its text is taken."""

    def take(self):
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


def record_queryset(*, place, start: date, end: date):
    """The place's reports received from `start` to `end` (inclusive, UTC days), oldest first:
    only coded, non-identifying fields (never the account, the location in words, contact
    details, evidence, the police reference or the reference).

    Dates and the bias list are read as the database's text (no conversion to Python objects
    and back for a million rows): `received` is "YYYY-MM-DD HH:MM:SS…" in UTC, `bias` a JSON
    array."""
    from datetime import UTC, datetime, time, timedelta

    from django.db.models import CharField
    from django.db.models.functions import Cast

    from locus.reporting.models import Report

    return (
        Report.objects.filter(
            place=place,
            submitted_at__gte=datetime.combine(start, time.min, tzinfo=UTC),
            submitted_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
        )
        .order_by("submitted_at", "id")
        .annotate(
            received_text=Cast("submitted_at", CharField()),
            occurred_text=Cast("occurred_on", CharField()),
            bias_text=Cast("bias", CharField()),
        )
        .values_list(
            "id",
            "received_text",
            "occurred_text",
            "area_id",
            "incident_type",
            "bias_text",
            "setting",
            "platform",
            "content_key",
            "reporter_role",
            "taxonomy_version",
        )
    )


def record_csv_chunks(*, place, start: date, end: date):
    """The record-level CSV in chunks of CHUNK_ROWS rows, reading the database in chunks
    (`iterator()`: a server-side cursor on PostgreSQL), so memory stays flat whatever the size.
    Grouped content is shown as a short opaque group number, not its address.

    Not a generator itself: the areas are read and the query is built now, while the place is
    active; the rows are read while the response streams, after the request's place scope has
    ended (a built queryset keeps its place filter)."""
    from locus.places.models import Area

    areas = {
        pk: spreadsheet_safe(code or name)
        for pk, name, code in Area.objects.filter(place=place).values_list("id", "name", "code")
    }
    queryset = record_queryset(place=place, start=start, end=end)
    return _record_chunks(queryset, areas)


def _record_chunks(queryset, areas):
    groups: dict[str, int] = {}

    def group(content_key):
        return groups.setdefault(content_key, len(groups) + 1) if content_key else ""

    buffer = _Lines()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RECORD_HEADER)
    yield buffer.take()
    rows = queryset.iterator(chunk_size=CHUNK_ROWS)
    while chunk := list(islice(rows, CHUNK_ROWS)):
        writer.writerows(
            [
                (
                    pk,
                    received[:19].replace(" ", "T") + "Z",
                    occurred or "",
                    areas.get(area_id, ""),
                    kind,
                    bias[1:-1].replace('"', "").replace(", ", ";") if bias else "",
                    setting,
                    platform,
                    group(content_key),
                    role,
                    version,
                )
                for (
                    pk,
                    received,
                    occurred,
                    area_id,
                    kind,
                    bias,
                    setting,
                    platform,
                    content_key,
                    role,
                    version,
                ) in chunk
            ]
        )
        yield buffer.take()
