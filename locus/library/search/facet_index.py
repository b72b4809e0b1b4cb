"""The published records' facets, years and date order, in memory (numpy), per process.

Counting facets in SQL means one GROUP BY over the facet rows of every match — for a common
word, hundreds of thousands of rows per search (docs/library.md, "Search benchmark"). Here the
full-text engine gives the matching ids (and their scores) once, and filters, facet counts,
totals and the order of a page are array operations over positions: a few milliseconds for
100,000 records. The arrays are built from the same rows the SQL used (`RecordFacet`), so the
counts are the same; they are reloaded when the search generation changes (`generation.py`).
"""

from dataclasses import dataclass

import numpy as np
from django.db.models import F, StringAgg, TextField, Value
from django.db.models.functions import Cast

from .base import numbers
from .generation import Loaded

NO_YEAR = -1
# Ids are looked up in a table indexed by id while the largest id is at most this many times
# the number of published records (a few bytes per id), by binary search beyond that.
LOOKUP_SPREAD = 8
# Facets with at most this many values for any record are counted from one table (below);
# beyond, from their (record, value) pairs.
TABLE_WIDTH = 4


@dataclass(frozen=True)
class FacetColumn:
    """One facet: (position, value) pairs, values as codes into `values`."""

    positions: np.ndarray  # int32, a record's position in FacetSnapshot.ids
    codes: np.ndarray  # int32, index into `values`
    values: tuple  # the facet's value strings
    code_of: dict  # value string → code
    width: int = 0  # the most values one record has

    def records_with(self, wanted, size):
        """Boolean mask of the records having any of the `wanted` values."""
        codes = [self.code_of[value] for value in wanted if value in self.code_of]
        mask = np.zeros(size, dtype=bool)
        if codes:
            mask[self.positions[np.isin(self.codes, codes)]] = True
        return mask

    def counts(self, mask):
        """{value: number of records in `mask` having it}, values with none left out."""
        return self.named(np.bincount(self.codes[mask[self.positions]], minlength=len(self.values)))

    def named(self, tally):
        return {self.values[code]: int(tally[code]) for code in np.flatnonzero(tally)}


@dataclass(frozen=True)
class FacetSnapshot:
    ids: np.ndarray  # int64, the published records' ids, ascending
    years: np.ndarray  # int32, NO_YEAR when unknown
    newest_rank: np.ndarray  # int32, each record's place in "newest first" order
    oldest_rank: np.ndarray
    facets: dict  # name → FacetColumn
    lookup: np.ndarray | None = None  # int32 position by id, -1 for none (see LOOKUP_SPREAD)
    unpublished: int = 0  # records not published (drafts, in review, withdrawn)
    # The facets whose records have at most TABLE_WIDTH values side by side, one row per
    # record, `width` columns per facet, codes offset per facet (`table_offsets`; the last
    # code means none): counting all of them is one pass over the matching rows.
    table: np.ndarray | None = None
    table_offsets: dict | None = None

    @property
    def size(self):
        return len(self.ids)

    def locate(self, record_ids):
        """(positions, found): where the given ids are, and which of them are published."""
        record_ids = np.asarray(record_ids, dtype=np.int64)
        if self.lookup is None:
            return _present(self.ids, record_ids)
        inside = (record_ids >= 0) & (record_ids < len(self.lookup))
        positions = self.lookup[np.where(inside, record_ids, 0)]
        found = inside & (positions >= 0)
        return np.where(found, positions, 0), found

    def within(self, record_ids, mask):
        """For each id: is it a published record inside `mask`?"""
        positions, found = self.locate(record_ids)
        inside = found.copy()
        inside[found] = mask[positions[found]]
        return inside

    def mask_of(self, record_ids):
        positions, found = self.locate(record_ids)
        mask = np.zeros(self.size, dtype=bool)
        mask[positions[found]] = True
        return mask

    def everything(self):
        return np.ones(self.size, dtype=bool)

    def filter_mask(self, filters, year_from=None, year_to=None, *, skip=None):
        """Records passing every filter but `skip`'s: values of one facet OR-ed, facets AND-ed."""
        mask = self.everything()
        for name, values in filters.items():
            if name == skip or not values:
                continue
            column = self.facets.get(name)
            mask &= column.records_with(values, self.size) if column else False
        if skip != "year":
            if year_from is not None:
                mask &= self.years >= year_from
            if year_to is not None:
                mask &= (self.years <= year_to) & (self.years != NO_YEAR)
        return mask

    def counts(self, names, mask):
        """{facet: {value: number of records in `mask` having it}} for the facets `names`."""
        found = {name: {} for name in names}
        offsets = self.table_offsets or {}
        tabled = [name for name in names if name in offsets]
        if tabled:
            tally = np.bincount(self.table[mask].ravel(), minlength=self.table_codes + 1)
            for name in tabled:
                column = self.facets[name]
                start = offsets[name]
                found[name] = column.named(tally[start : start + len(column.values)])
        for name in names:
            if name not in offsets and name in self.facets:
                found[name] = self.facets[name].counts(mask)
        return found

    @property
    def table_codes(self):
        return sum(len(self.facets[name].values) for name in self.table_offsets or {})

    def by_date(self, mask, *, oldest, start, stop):
        """Ids of the records in `mask` from `start` to `stop` in date order."""
        rank = self.oldest_rank if oldest else self.newest_rank
        positions = np.flatnonzero(mask)
        chosen = positions[np.argsort(rank[positions], kind="stable")[start:stop]]
        return [int(pk) for pk in self.ids[chosen]]


def _present(ids, record_ids):
    """Positions of `record_ids` in `ids`, and which of them are there at all."""
    positions = np.minimum(np.searchsorted(ids, record_ids), max(len(ids) - 1, 0))
    found = ids[positions] == record_ids if len(ids) else np.zeros(len(record_ids), dtype=bool)
    return positions, found


def _order_ranks(queryset, ids, year):
    """Each record's place in `queryset` ordered by the year (`year` expression), title, id —
    the database's own collation decides the titles' order. The loads are separate statements:
    a record published in between is left out (or put last) here, and the generation it
    changed reloads everything on the next search."""
    ordered = np.fromiter(
        queryset.order_by(year, "title", "pk").values_list("pk", flat=True), dtype=np.int64
    )
    positions, found = _present(ids, ordered)
    rank = np.full(len(ids), len(ids), dtype=np.int32)
    rank[positions[found]] = np.arange(int(found.sum()), dtype=np.int32)
    return rank


def _columns(ids):
    from locus.library.choices import RecordStatus
    from locus.library.models import RecordFacet

    # One row per (facet, value) with its records' ids as one string: a row per facet row
    # would cost a second per 100,000 records.
    rows = (
        RecordFacet.objects.filter(record__status=RecordStatus.PUBLISHED)
        .order_by()
        .values("facet", "value")
        .annotate(ids=StringAgg(Cast("record_id", TextField()), Value(",")))
        .values_list("facet", "value", "ids")
    )
    grouped = {}
    for facet, value, record_ids in rows:
        grouped.setdefault(facet, {})[value] = numbers(record_ids)
    columns = {}
    for facet, by_value in grouped.items():
        values = tuple(sorted(by_value))
        record_ids = np.concatenate([by_value[v] for v in values])
        codes = np.repeat(
            np.arange(len(values), dtype=np.int32), [len(by_value[v]) for v in values]
        )
        positions, found = _present(ids, record_ids)
        positions, codes = positions[found].astype(np.int32), codes[found]
        columns[facet] = FacetColumn(
            positions=positions,
            codes=codes,
            values=values,
            code_of={value: code for code, value in enumerate(values)},
            width=int(np.bincount(positions).max()) if len(positions) else 0,
        )
    return columns


def _table(columns, size):
    """The facets with at most TABLE_WIDTH values a record as one table of offset codes."""
    names = sorted(name for name, column in columns.items() if column.width <= TABLE_WIDTH)
    offsets, start = {}, 0
    for name in names:
        offsets[name] = start
        start += len(columns[name].values)
    table = np.full((size, sum(columns[name].width for name in names)), start, dtype=np.int32)
    first_column = 0
    for name in names:
        column = columns[name]
        order = np.argsort(column.positions, kind="stable")
        positions = column.positions[order]
        # A record's values fill its columns in turn: the n-th value of a record goes in the
        # facet's n-th column.
        nth = np.arange(len(positions)) - np.searchsorted(positions, positions)
        table[positions, first_column + nth] = column.codes[order] + offsets[name]
        first_column += column.width
    return table, offsets


def _lookup(ids):
    if not len(ids) or ids[-1] > LOOKUP_SPREAD * len(ids) + 100_000:
        return None
    lookup = np.full(int(ids[-1]) + 1, -1, dtype=np.int32)
    lookup[ids] = np.arange(len(ids), dtype=np.int32)
    return lookup


class FacetIndex(Loaded):
    def load(self):
        from locus.library.choices import RecordStatus
        from locus.library.models import Record

        published = Record.objects.filter(status=RecordStatus.PUBLISHED)
        rows = list(published.order_by("pk").values_list("pk", "year"))
        ids = np.array([pk for pk, _year in rows], dtype=np.int64)
        years = np.array([NO_YEAR if year is None else year for _pk, year in rows], dtype=np.int32)
        columns = _columns(ids)
        table, table_offsets = _table(columns, len(ids))
        return FacetSnapshot(
            ids=ids,
            years=years,
            newest_rank=_order_ranks(published, ids, F("year").desc(nulls_last=True)),
            oldest_rank=_order_ranks(published, ids, F("year").asc(nulls_last=True)),
            facets=columns,
            lookup=_lookup(ids),
            table=table,
            table_offsets=table_offsets,
            unpublished=Record.objects.exclude(status=RecordStatus.PUBLISHED).count(),
        )


INDEX = FacetIndex()
