"""The evidence-and-gap map (issue 5 §5; docs/library.md): published records counted per
intervention type × outcome measured, each cell broken down by evidence level, under filters
(country, target group, method, years). Empty cells are the gaps.

One grouped SQL query counts every (intervention, outcome, evidence level) triple, whatever
the number of records; the matrix is assembled in Python from at most 15 × 12 × 6 rows.
"""

import csv
import io
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from locus.core.spreadsheets import spreadsheet_safe

from .choices import EVIDENCE_NOT_RATED, EVIDENCE_RANK, EvidenceLevel, RecordStatus
from .models import Record, RecordFacet
from .vocabulary import vocabulary

ROW_AXIS = "intervention"
COLUMN_AXIS = "outcome"
# The filters of the map, as facets of the search (their values OR-ed, facets AND-ed).
FILTER_FACETS = ("country", "target_group", "method")
LEVELS = tuple(EvidenceLevel.values)  # weakest first


@dataclass
class MapFilters:
    facets: dict = field(default_factory=dict)  # facet → [codes]
    year_from: int | None = None
    year_to: int | None = None

    def query_pairs(self):
        pairs = [(name, code) for name in FILTER_FACETS for code in self.facets.get(name, [])]
        if self.year_from is not None:
            pairs.append(("year_from", str(self.year_from)))
        if self.year_to is not None:
            pairs.append(("year_to", str(self.year_to)))
        return pairs


@dataclass
class Cell:
    intervention: str
    outcome: str
    by_level: dict  # level code (and "not_rated") → number of records
    search_url: str

    @property
    def total(self):
        return sum(self.by_level.values())

    @property
    def rated(self):
        """Records that present evidence of effect (any level of the scale)."""
        return sum(count for level, count in self.by_level.items() if level != EVIDENCE_NOT_RATED)

    @property
    def highest(self):
        """The strongest level present, or "" when none is rated."""
        present = [level for level in LEVELS if self.by_level.get(level)]
        return present[-1] if present else ""

    @property
    def highest_rank(self):
        return EVIDENCE_RANK.get(self.highest, 0)

    @property
    def is_gap(self):
        return self.total == 0

    @property
    def levels(self):
        """[(level, count)] for the small bar, weakest first, the unrated last."""
        return [(level, self.by_level.get(level, 0)) for level in (*LEVELS, EVIDENCE_NOT_RATED)]


@dataclass
class MapRow:
    code: str
    label: str
    cells: list

    @property
    def total(self):
        return sum(cell.total for cell in self.cells)


@dataclass
class GapMap:
    rows: list
    columns: list  # [(code, label)]
    records: int  # published records matching the filters
    mapped: int  # of which with at least one intervention and one outcome
    filters: MapFilters

    @property
    def cells(self):
        return [cell for row in self.rows for cell in row.cells]

    @property
    def gaps(self):
        return sum(1 for cell in self.cells if cell.is_gap)


def filtered_records(filters: MapFilters):
    records = Record.objects.filter(status=RecordStatus.PUBLISHED)
    for name in FILTER_FACETS:
        values = filters.facets.get(name)
        if values:
            records = records.filter(
                pk__in=RecordFacet.objects.filter(facet=name, value__in=values).values("record_id")
            )
    if filters.year_from is not None:
        records = records.filter(year__gte=filters.year_from)
    if filters.year_to is not None:
        records = records.filter(year__lte=filters.year_to)
    return records


def _search_url(filters, intervention, outcome):
    pairs = [(ROW_AXIS, intervention), (COLUMN_AXIS, outcome), *filters.query_pairs()]
    return f"{reverse('library:search')}?{urlencode(pairs)}"


def evidence_gap_map(filters: MapFilters, *, language) -> GapMap:
    """The matrix for these filters, labels in `language`. Three queries."""
    records = filtered_records(filters)
    triples = (
        RecordFacet.objects.filter(
            facet=ROW_AXIS, record__in=records, record__facets__facet=COLUMN_AXIS
        )
        .values("value", "record__facets__value", "record__evidence_level")
        .annotate(n=Count("record_id", distinct=True))
        .order_by()
    )
    counts = {}
    mapped_ids = RecordFacet.objects.filter(
        facet=ROW_AXIS, record__in=records, record__facets__facet=COLUMN_AXIS
    ).values("record_id")
    for row in triples:
        level = row["record__evidence_level"] or EVIDENCE_NOT_RATED
        key = (row["value"], row["record__facets__value"])
        counts.setdefault(key, {})
        counts[key][level] = counts[key].get(level, 0) + row["n"]
    current = vocabulary()
    columns = current.choices(COLUMN_AXIS, language)
    rows = [
        MapRow(
            code=code,
            label=label,
            cells=[
                Cell(
                    intervention=code,
                    outcome=outcome,
                    by_level=counts.get((code, outcome), {}),
                    search_url=_search_url(filters, code, outcome),
                )
                for outcome, _label in columns
            ],
        )
        for code, label in current.choices(ROW_AXIS, language)
    ]
    return GapMap(
        rows=rows,
        columns=columns,
        records=records.count(),
        mapped=Record.objects.filter(pk__in=mapped_ids).count(),
        filters=filters,
    )


def _safe(value):
    """A CSV cell a spreadsheet will not run as a formula."""
    return spreadsheet_safe(str(value))


CSV_HEADER = (
    "intervention",
    "intervention_label",
    "outcome",
    "outcome_label",
    "records",
    "records_with_evidence_of_effect",
    "highest_evidence_level",
    *LEVELS,
    EVIDENCE_NOT_RATED,
)


def gap_map_csv(gap_map: GapMap) -> str:
    """One line per cell (gaps included, with 0), codes and labels, counts per level."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    labels = dict(gap_map.columns)
    for row in gap_map.rows:
        for cell in row.cells:
            writer.writerow(
                [
                    _safe(row.code),
                    _safe(row.label),
                    _safe(cell.outcome),
                    _safe(labels[cell.outcome]),
                    cell.total,
                    cell.rated,
                    cell.highest,
                    *(cell.by_level.get(level, 0) for level in (*LEVELS, EVIDENCE_NOT_RATED)),
                ]
            )
    return out.getvalue()
