"""Disclosure control under attack (docs/insights.md, "Public figures").

The attacker is independent of the code under test: a linear programme (scipy's HiGHS) over
everything a reader of the open-data page knows — the published figures, that totals are sums
of their cells, that a "fewer than N" figure is 1…N − 1, that a figure hidden to protect others
is at least N, and that nothing is negative — minimises and maximises every hidden small
figure. None may be pinned, nor narrowed below the documented width."""

from datetime import date

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from locus.insights.disclosure import (
    PRIMARY,
    PUBLISHED,
    SECONDARY,
    TOTAL,
    audit,
    default_min_width,
    is_publishable,
    latest_publishable_month,
    protect_by_month,
    protect_table,
)


def attack(table, *, hidden_as=None):
    """The attacker's interval (min, max) for each small hidden figure, by linear programming.

    `hidden_as` overrides the published status (to ask what hiding more would give)."""
    status = dict(table.status if hidden_as is None else hidden_as)
    keys = [(r, c) for r in (*table.rows, TOTAL) for c in (*table.columns, TOTAL)]
    index = {key: i for i, key in enumerate(keys)}
    threshold = table.threshold
    rows_eq = []
    for r in table.rows:  # each row sums to its total
        line = np.zeros(len(keys))
        for c in table.columns:
            line[index[(r, c)]] = 1
        line[index[(r, TOTAL)]] = -1
        rows_eq.append(line)
    for c in (*table.columns, TOTAL):  # each column (the totals column too) sums to its total
        line = np.zeros(len(keys))
        for r in table.rows:
            line[index[(r, c)]] = 1
        line[index[(TOTAL, c)]] = -1
        rows_eq.append(line)
    bounds = []
    for key in keys:
        value = table.values[key]
        if status[key] == PUBLISHED:
            bounds.append((value, value))
        elif status[key] == PRIMARY:
            bounds.append((1, threshold - 1))
        else:
            bounds.append((threshold, None))
    a_eq, b_eq = np.array(rows_eq), np.zeros(len(rows_eq))
    intervals = {}
    for key in keys:
        if status[key] != PRIMARY:
            continue
        objective = np.zeros(len(keys))
        objective[index[key]] = 1
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0 and high.status == 0  # the truth is always feasible
        intervals[key] = (round(low.fun), round(-high.fun))
    return intervals


def assert_safe(table):
    intervals = attack(table)
    assert set(intervals) == {k for k, s in table.status.items() if s == PRIMARY}
    for key, (low, high) in intervals.items():
        value = table.values[key]
        assert low <= value <= high
        assert (low, high) == table.intervals[key]  # the code's own audit agrees with the LP
        if key in table.unprotected:
            continue
        assert high - low >= table.min_width, (key, value, low, high)
        assert high > low  # never pinned
    # Nothing is listed as unprotected that hiding every non-zero figure would have protected.
    everything = {
        k: (s if s != PUBLISHED or table.values[k] == 0 else SECONDARY)
        for k, s in table.status.items()
    }
    best = attack(table, hidden_as=everything)
    for key in table.unprotected:
        assert best[key][1] - best[key][0] < table.min_width
    return intervals


def statuses(table):
    return {k: s for k, s in table.status.items() if s != PUBLISHED}


def test_small_figures_are_hidden_and_zero_and_large_ones_published():
    table = protect_table(
        {("a", "x"): 0, ("a", "y"): 25, ("b", "x"): 12, ("b", "y"): 40},
        rows=["a", "b"],
        columns=["x", "y"],
    )
    assert table.fully_protected and not statuses(table)
    assert table.published_value("a", "x") == 0
    assert table.published_value(TOTAL, TOTAL) == 77
    assert [c[:3] for c in table.cells()][-1] == (TOTAL, TOTAL, 77)


def test_a_single_small_cell_in_a_2x2_table_is_hidden_with_the_cheapest_rectangle():
    table = protect_table(
        {("a", "x"): 3, ("a", "y"): 20, ("b", "x"): 25, ("b", "y"): 30},
        rows=["a", "b"],
        columns=["x", "y"],
    )
    assert statuses(table) == {
        ("a", "x"): PRIMARY,
        ("a", "y"): SECONDARY,
        ("b", "x"): SECONDARY,
        ("b", "y"): SECONDARY,
    }
    assert table.published_value("a", "y") is None
    assert table.published_value("a", TOTAL) == 23
    assert assert_safe(table)[("a", "x")] == (1, 9)


def test_a_2x2_table_of_small_counts():
    table = protect_table(
        {("a", "x"): 3, ("a", "y"): 4, ("b", "x"): 5, ("b", "y"): 6},
        rows=["a", "b"],
        columns=["x", "y"],
    )
    assert table.status[(TOTAL, TOTAL)] != PRIMARY  # 18 is not small
    assert table.fully_protected
    assert_safe(table)


def test_a_row_with_a_single_small_cell():
    """Area "a" has one incident, in one category, and nothing else: its total is that cell,
    so both must move together with other hidden figures."""
    counts = {("a", "x"): 2}
    counts.update(
        {(r, c): 10 + 3 * i + j for i, r in enumerate("bcd") for j, c in enumerate("xyz")}
    )
    table = protect_table(counts, rows=list("abcd"), columns=list("xyz"))
    assert table.status[("a", "x")] == PRIMARY
    assert table.status[("a", TOTAL)] == PRIMARY
    assert table.published_value("a", "y") == 0
    assert table.fully_protected
    assert_safe(table)


def test_a_single_row_needs_totals_hidden():
    table = protect_table({("a", "x"): 3, ("a", "y"): 40}, rows=["a"], columns=["x", "y"])
    assert table.status[(TOTAL, "x")] == PRIMARY
    hidden = statuses(table)
    assert hidden[("a", "y")] == SECONDARY
    assert hidden[(TOTAL, "y")] == SECONDARY
    assert table.published_value("a", TOTAL) == 43
    assert_safe(table)


def test_a_row_of_one_tiny_cell_among_big_ones_uses_margins_when_cells_cannot_move():
    """Every other cell is exactly at the threshold: hidden, it could not go down (the
    attacker knows a hidden large figure is at least 10), so only larger figures help."""
    counts = {("a", "x"): 1, ("a", "y"): 10, ("b", "x"): 10, ("b", "y"): 10}
    table = protect_table(counts, rows=["a", "b"], columns=["x", "y"], min_width=5)
    assert table.fully_protected
    intervals = assert_safe(table)
    assert intervals[("a", "x")][1] - intervals[("a", "x")][0] >= 5


def test_a_tiny_table_is_protected_by_its_label():
    table = protect_table({("a", "x"): 3}, rows=["a"], columns=["x"])
    assert set(statuses(table).values()) == {PRIMARY}
    assert assert_safe(table)[("a", "x")] == (1, 9)


def test_without_secondary_suppression_the_attacker_wins():
    """The attack is real: hiding only the small figures gives some of them away."""
    table = protect_table(
        {("a", "x"): 3, ("a", "y"): 20, ("b", "x"): 25, ("b", "y"): 30},
        rows=["a", "b"],
        columns=["x", "y"],
    )
    primary_only = {k: (PRIMARY if s == PRIMARY else PUBLISHED) for k, s in table.status.items()}
    assert attack(table, hidden_as=primary_only)[("a", "x")] == (3, 3)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.sampled_from([3, 5, 10]),
    st.data(),
)
def test_random_tables_survive_the_attack(n_rows, n_columns, threshold, data):
    values = st.one_of(st.integers(0, 3), st.integers(0, 12), st.integers(0, 60))
    counts = {(r, c): data.draw(values) for r in range(n_rows) for c in range(n_columns)}
    table = protect_table(
        counts, rows=list(range(n_rows)), columns=list(range(n_columns)), threshold=threshold
    )
    for key, status in table.status.items():
        value = table.values[key]
        assert (status == PRIMARY) == (0 < value < threshold)
        if status == SECONDARY:
            assert value >= threshold
    assert_safe(table)


def test_seeded_city_sized_tables_survive_the_attack():
    rng = np.random.default_rng(4)
    areas, categories = [f"area-{i}" for i in range(12)], [f"bias-{j}" for j in range(8)]
    for scale in (0.3, 3, 15):
        counts = {
            (a, c): int(rng.negative_binomial(1, 1 / (1 + scale * rng.choice([0.2, 1, 5]))))
            for a in areas
            for c in categories
        }
        table = protect_table(counts, rows=areas, columns=categories)
        assert table.fully_protected
        assert_safe(table)
        everything = audit(table)
        assert set(everything) == {k for k, s in table.status.items() if s != PUBLISHED}
        assert {k: everything[k] for k in table.intervals} == table.intervals
        # A stricter width: wherever it is unattainable, the attacker confirms nothing could
        # have reached it (assert_safe checks with every non-zero figure hidden).
        assert_safe(protect_table(counts, rows=areas, columns=categories, min_width=6))


def test_by_month_tables_are_protected_one_by_one():
    counts = {
        ("north", "2025-01", "antisemitism"): 4,
        ("north", "2025-01", "anti_muslim"): 30,
        ("south", "2025-01", "antisemitism"): 22,
        ("south", "2025-01", "anti_muslim"): 18,
        ("north", "2025-02", "anti_muslim"): 11,
    }
    tables = protect_by_month(
        counts,
        areas=["north", "south"],
        months=["2025-01", "2025-02"],
        categories=["antisemitism", "anti_muslim"],
    )
    assert tables["2025-01"].status[("north", "antisemitism")] == PRIMARY
    assert tables["2025-02"].published_value("north", "anti_muslim") == 11
    assert tables["2025-02"].published_value("south", TOTAL) == 0
    for table in tables.values():
        assert_safe(table)


def test_the_place_threshold_and_width_are_respected():
    counts = {("a", "x"): 14, ("a", "y"): 30, ("b", "x"): 40, ("b", "y"): 50}
    table = protect_table(counts, rows=["a", "b"], columns=["x", "y"], threshold=15)
    assert table.status[("a", "x")] == PRIMARY
    assert table.min_width == default_min_width(15) == 3
    assert_safe(table)
    assert default_min_width(10) == 2 and default_min_width(3) == 1
    assert default_min_width(2) == 0  # "fewer than 2" with zeros published is 1: say so
    wide = protect_table(counts, rows=["a", "b"], columns=["x", "y"], threshold=15, min_width=9)
    assert wide.min_width == 9 and wide.fully_protected
    assert_safe(wide)


def test_bad_tables_are_refused():
    with pytest.raises(ValueError):
        protect_table({("a", "x"): -1}, rows=["a"], columns=["x"])
    with pytest.raises(ValueError):
        protect_table({("a", "x"): 2.5}, rows=["a"], columns=["x"])
    assert protect_table({("a", "x"): np.int64(12)}, rows=["a"], columns=["x"]).fully_protected
    with pytest.raises(ValueError):
        protect_table({("a", "z"): 1}, rows=["a"], columns=["x"])
    with pytest.raises(ValueError):
        protect_table({}, rows=["a", "a"], columns=["x"])
    with pytest.raises(ValueError):
        protect_table({}, rows=[None], columns=["x"])
    with pytest.raises(ValueError):
        protect_table({}, rows=["a"], columns=["x"], threshold=0)


def test_publication_delay():
    assert not is_publishable(date(2025, 3, 1), today=date(2025, 3, 31))
    assert is_publishable(date(2025, 3, 1), today=date(2025, 4, 1))
    assert not is_publishable(date(2025, 3, 1), today=date(2025, 4, 30), delay_days=30)
    assert is_publishable(date(2025, 3, 1), today=date(2025, 5, 1), delay_days=30)
    assert is_publishable(date(2024, 12, 1), today=date(2025, 1, 1))
    assert latest_publishable_month(today=date(2025, 4, 15)) == date(2025, 3, 1)
    assert latest_publishable_month(today=date(2025, 4, 15), delay_days=45) == date(2025, 2, 1)
    with pytest.raises(ValueError):
        is_publishable(date(2025, 3, 1), today=date(2025, 4, 1), delay_days=-1)
