"""Statistical disclosure control for public tables of counts (docs/insights.md).

The public open-data table gives, for each month, counts by area × bias category with their
margins: each area's total, each category's total and the month's total. Publishing a small
count can point at a person ("the one anti-Roma incident in Northfield in March"), so:

1. **Primary suppression.** Every figure — cell or total — from 1 to `threshold − 1` is
   hidden and shown as "fewer than N". Zero is published: it describes nobody, and hiding
   every empty cell would hide where nothing happened. An attacker therefore knows that a
   hidden small figure is between 1 and N − 1.
2. **Secondary suppression.** Hidden cells must not be recoverable from the rest: in a row
   "12, [hidden], 15, total 30" the hidden cell is 3. More figures are hidden (shown as
   "hidden to protect other figures") until the attacker's best interval for every small figure
   is at least `min_width` wide (by default N / 5, at least 1 so that nothing is ever pinned,
   at most the N − 2 its label already allows). The attacker is assumed to know everything
   published, that every total is the sum of its cells, that small hidden figures are
   1…N − 1, that other hidden figures are at least N (the rules are public), and that nothing
   is negative.

A month's table with its margins is a two-way table, and the attacker's exact interval for a
hidden figure is then a maximum-flow problem (Gusfield 1988): the hidden figures are the edges
of a graph between rows and columns (the totals row and column included), and a figure can
move up or down only as much as flow can go round a cycle of other hidden figures. That makes
both the check (`audit`) and the choice of complements exact and fast: for a figure that is not
yet protected enough, the cheapest path — the smallest published figures — that lets more flow
round is hidden too (the network approach of Cox 1995 and Hundepool et al.'s Statistical
Disclosure Control, chapter 7). Nothing links one month to another: the table publishes no
totals over several months. Anything published from the same counts must be one of these
tables, or the protection no longer holds.
"""

from __future__ import annotations

import heapq
import numbers
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

PUBLISHED = "published"
PRIMARY = "primary"  # small: shown as "fewer than N"
SECONDARY = "secondary"  # hidden to protect a small figure

TOTAL = None  # the row or column key of a margin

INFINITY = 10**15


@dataclass(frozen=True)
class ProtectedTable:
    """One two-way table with margins, ready to publish.

    `values` holds every true figure (never publish it); `status` says for each whether it is
    published, a small figure (primary) or hidden to protect one (secondary). Keys are
    (row, column); `TOTAL` (None) stands for a margin: (row, None) is a row total, (None, col)
    a column total, (None, None) the grand total. `intervals` is the attacker's best interval
    for each small figure after protection; `unprotected` lists the small figures whose
    interval stayed narrower than required (only possible when no suppression at all could
    widen it: then do not publish the table).
    """

    rows: tuple
    columns: tuple
    threshold: int
    min_width: int
    values: dict
    status: dict
    intervals: dict = field(default_factory=dict)
    unprotected: tuple = ()

    @property
    def fully_protected(self) -> bool:
        return not self.unprotected

    def published_value(self, row, column) -> int | None:
        """The figure to publish, or None when it is hidden."""
        key = (row, column)
        return self.values[key] if self.status[key] == PUBLISHED else None

    def cells(self):
        """(row, column, published value or None, status) for every figure, totals included,
        row by row with the totals row last."""
        for row in (*self.rows, TOTAL):
            for column in (*self.columns, TOTAL):
                key = (row, column)
                yield row, column, self.published_value(row, column), self.status[key]


def default_min_width(threshold: int) -> int:
    """A fifth of the threshold, at least 1 (never pinned), and never more than the N − 2 a
    "fewer than N" label leaves: 2 for the usual 10, so a hidden small figure always keeps at
    least three possible values. Wider is possible (`min_width`) but often unattainable: a row
    of five small cells under a small total already confines each cell by the labels alone."""
    return max(0, min(max(1, threshold // 5), threshold - 2))


def protect_table(
    counts: Mapping[tuple[Hashable, Hashable], int],
    *,
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    threshold: int = 10,
    min_width: int | None = None,
) -> ProtectedTable:
    """Suppress a two-way table of counts and its margins for publication.

    `counts` maps (row, column) to a count (missing pairs count 0); every row and column
    listed is published, so that the table's shape gives nothing away. The margins are
    computed here, so they are always the sums of their cells: a caller whose incidents can
    fall in several categories must make each one count in exactly one (e.g. a "several"
    category) before calling.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if len(set(rows)) != len(rows) or len(set(columns)) != len(columns):
        raise ValueError("rows and columns must be distinct")
    if TOTAL in rows or TOTAL in columns:
        raise ValueError("None is reserved for the totals")
    width = default_min_width(threshold) if min_width is None else min_width
    if width < 0:
        raise ValueError("min_width must not be negative")
    width = min(width, max(threshold - 2, 0))
    known = set(rows), set(columns)
    for (row, column), count in counts.items():
        if row not in known[0] or column not in known[1]:
            raise ValueError(f"({row!r}, {column!r}) is not in the table")
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
            raise ValueError("counts must be non-negative integers")

    table = _Table(rows, columns, counts, threshold)
    for entry in sorted(table.primaries(), key=lambda e: (table.value[e], e)):
        _protect(table, entry, width)
    intervals = {table.key(entry): interval for entry, interval in _audit(table).items()}
    unprotected = tuple(key for key, (low, high) in intervals.items() if high - low < width)
    return ProtectedTable(
        rows=tuple(rows),
        columns=tuple(columns),
        threshold=threshold,
        min_width=width,
        values={table.key(e): v for e, v in table.value.items()},
        status={table.key(e): s for e, s in table.status.items()},
        intervals=intervals,
        unprotected=unprotected,
    )


def protect_by_month(
    counts: Mapping[tuple[Hashable, Hashable, Hashable], int],
    *,
    areas: Sequence[Hashable],
    months: Sequence[Hashable],
    categories: Sequence[Hashable],
    threshold: int = 10,
    min_width: int | None = None,
) -> dict[Hashable, ProtectedTable]:
    """The open-data table: counts by (area, month, category), one protected area × category
    table with margins per month. Months are independent because no figure spanning several
    months is published."""
    by_month: dict[Hashable, dict] = {month: {} for month in months}
    for (area, month, category), count in counts.items():
        if month not in by_month:
            raise ValueError(f"month {month!r} is not in the table")
        by_month[month][(area, category)] = count
    return {
        month: protect_table(
            cells, rows=areas, columns=categories, threshold=threshold, min_width=min_width
        )
        for month, cells in by_month.items()
    }


def audit(table: ProtectedTable) -> dict[tuple, tuple[int, float]]:
    """The attacker's exact interval (lowest, highest) for every hidden figure of a published
    table, from what is published and the public rules; `float('inf')` when unbounded."""
    inner = _Table(table.rows, table.columns, {}, table.threshold)
    for entry in inner.value:
        key = inner.key(entry)
        inner.value[entry] = table.values[key]
        inner.status[entry] = table.status[key]
    return {inner.key(e): interval for e, interval in _audit(inner, every=True).items()}


# --- publication delay ----------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def is_publishable(month: date, *, today: date, delay_days: int = 0) -> bool:
    """A month is published once it has ended and `delay_days` more days have passed: late
    reports still arrive for weeks, and a figure that changes between two publications tells
    what changed."""
    if delay_days < 0:
        raise ValueError("delay_days must not be negative")
    following = (month_start(month) + timedelta(days=32)).replace(day=1)
    return today >= following + timedelta(days=delay_days)


def latest_publishable_month(*, today: date, delay_days: int = 0) -> date:
    """The first day of the latest month that may be published on `today`."""
    month = month_start(today)
    while not is_publishable(month, today=today, delay_days=delay_days):
        month = month_start(month - timedelta(days=1))
    return month


# --- the network model ----------------------------------------------------------------------


class _Table:
    """The table as a bipartite graph: row nodes 0…m (0 is the totals row), column nodes
    0…n (0 is the totals column); every figure is an edge (a, b).

    With y = x for cells and the grand total and y = −x for the row and column totals, every
    row and column of y sums to zero, so a change of the hidden figures that keeps all
    published ones is a circulation along hidden edges. Flow on edge (a, b) from row a to
    column b raises y_ab.
    """

    def __init__(self, rows, columns, counts, threshold):
        self.rows = list(rows)
        self.columns = list(columns)
        self.threshold = threshold
        m, n = len(self.rows), len(self.columns)
        self.m, self.n = m, n
        value = {}
        for a, row in enumerate(self.rows, start=1):
            for b, column in enumerate(self.columns, start=1):
                value[(a, b)] = int(counts.get((row, column), 0))
        for a in range(1, m + 1):
            value[(a, 0)] = sum(value[(a, b)] for b in range(1, n + 1))
        for b in range(0, n + 1):
            value[(0, b)] = sum(value[(a, b)] for a in range(1, m + 1))
        self.value = value
        self.status = {e: PRIMARY if 0 < v < threshold else PUBLISHED for e, v in value.items()}

    def key(self, entry):
        a, b = entry
        return (self.rows[a - 1] if a else TOTAL, self.columns[b - 1] if b else TOTAL)

    def primaries(self):
        return [e for e, s in self.status.items() if s == PRIMARY]

    @staticmethod
    def sign(entry):
        a, b = entry
        return 1 if (a == 0) == (b == 0) else -1

    def bounds(self, entry, status=None):
        """What the attacker knows of this figure."""
        status = status or self.status[entry]
        if status == PUBLISHED:
            return self.value[entry], self.value[entry]
        if status == PRIMARY:
            return 1, self.threshold - 1
        return self.threshold, INFINITY

    def capacities(self, entry, status=None):
        """(row→column, column→row) capacities of the edge: how far y may move up and down."""
        low, high = self.bounds(entry, status)
        up, down = high - self.value[entry], self.value[entry] - low
        return (up, down) if self.sign(entry) == 1 else (down, up)

    def node(self, side, index):
        return index if side == "row" else self.m + 1 + index

    def graph(self, without):
        """Residual capacities of the hidden edges, except `without`."""
        residual: dict[int, dict[int, int]] = {}
        for entry, status in self.status.items():
            if status == PUBLISHED or entry == without:
                continue
            a, b = entry
            u, v = self.node("row", a), self.node("column", b)
            forward, backward = self.capacities(entry)
            residual.setdefault(u, {})[v] = residual.get(u, {}).get(v, 0) + forward
            residual.setdefault(v, {})[u] = residual.get(v, {}).get(u, 0) + backward
        return residual

    def ends(self, entry, direction):
        """(source, sink) of the flow that must go round to move figure `entry` up
        (direction +1) or down (−1): the edge carries it from one end, the rest brings it
        back."""
        a, b = entry
        row, column = self.node("row", a), self.node("column", b)
        raises_y = self.sign(entry) * direction == 1  # flow row → column on the edge itself
        return (column, row) if raises_y else (row, column)


def _max_flow(residual, source, sink, limit):
    """Edmonds–Karp, stopping once `limit` is reached; mutates `residual`."""
    flow = 0
    while flow < limit:
        parent = {source: None}
        queue = deque([source])
        while queue and sink not in parent:
            u = queue.popleft()
            for v, capacity in residual.get(u, {}).items():
                if capacity > 0 and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            break
        path = []
        v = sink
        while parent[v] is not None:
            path.append((parent[v], v))
            v = parent[v]
        push = min(limit - flow, *(residual[u][v] for u, v in path))
        for u, v in path:
            residual[u][v] -= push
            residual.setdefault(v, {})[u] = residual.get(v, {}).get(u, 0) + push
        flow += push
    return flow


def _movement(table, entry, direction, limit):
    """How far the attacker's feasible values of `entry` reach up (+1) or down (−1), capped at
    `limit`; also returns the residual graph of that flow."""
    own_up, own_down = table.capacities(entry)
    own = own_up if table.sign(entry) * direction == 1 else own_down
    residual = table.graph(without=entry)
    source, sink = table.ends(entry, direction)
    flow = _max_flow(residual, source, sink, min(limit, own))
    return flow, residual, own


def _audit(table, every=False):
    intervals = {}
    for entry, status in table.status.items():
        if status == PUBLISHED or (status == SECONDARY and not every):
            continue
        low, high = table.bounds(entry)
        value = table.value[entry]
        up = _movement(table, entry, +1, min(high - value, INFINITY))[0]
        down = _movement(table, entry, -1, value - low)[0]
        intervals[entry] = (value - down, float("inf") if value + up >= INFINITY else value + up)
    return intervals


def _protect(table, entry, width):
    """Hide complements until `entry`'s interval is at least `width` wide."""
    value = table.value[entry]
    low, high = table.bounds(entry)
    while True:
        up, residual_up, own_up = _movement(table, entry, +1, high - value)
        down, residual_down, own_down = _movement(table, entry, -1, value - low)
        if up + down >= width:
            return
        options = []
        if up < min(own_up, high - value):
            options.append((+1, residual_up))
        if down < min(own_down, value - low):
            options.append((-1, residual_down))
        for direction, residual in options:
            complements = _cheapest_complements(table, entry, direction, residual)
            if complements:
                for complement in complements:
                    table.status[complement] = SECONDARY
                break
        else:
            return  # nothing could widen it: reported as unprotected


def _cheapest_complements(table, entry, direction, residual):
    """The published figures to hide that open the cheapest new path for flow round `entry`
    (Dijkstra: hidden edges with residual capacity cost nothing, a published figure costs its
    value, so the smallest figures are hidden first). Zeros are never used: they are often
    known anyway (no incident of that kind there) and could only ever move up."""
    source, sink = table.ends(entry, direction)
    candidates: dict[int, list] = {}
    for other, status in table.status.items():
        if status != PUBLISHED or other == entry or table.value[other] == 0:
            continue
        a, b = other
        u, v = table.node("row", a), table.node("column", b)
        forward, backward = table.capacities(other, SECONDARY)
        cost = table.value[other]
        if forward > 0:
            candidates.setdefault(u, []).append((v, cost, other))
        if backward > 0:
            candidates.setdefault(v, []).append((u, cost, other))

    best = {source: 0}
    previous: dict[int, tuple] = {}
    heap = [(0, source)]
    while heap:
        cost, u = heapq.heappop(heap)
        if u == sink:
            break
        if cost > best.get(u, INFINITY):
            continue
        steps = [(v, 0, None) for v, c in residual.get(u, {}).items() if c > 0]
        steps += candidates.get(u, [])
        for v, step, figure in steps:
            if cost + step < best.get(v, INFINITY):
                best[v] = cost + step
                previous[v] = (u, figure)
                heapq.heappush(heap, (cost + step, v))
    if sink not in previous:
        return []
    hidden = []
    v = sink
    while v != source:
        u, figure = previous[v]
        if figure is not None:
            hidden.append(figure)
        v = u
    return hidden
