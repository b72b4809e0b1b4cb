"""Spike detection replayed on known shapes (docs/insights.md, "Spike detection").

Every simulation is seeded: the figures are the same on every run, and the bounds asserted are
the ones documented."""

import time
from datetime import date, timedelta
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from locus.insights import detection as d
from locus.insights.detection import (
    EARS,
    FARRINGTON,
    INSUFFICIENT,
    WHOLE_PLACE,
    DetectionConfig,
    benjamini_hochberg,
    detect_many,
    detect_series,
    method_for,
    weekly_series,
)

MONDAY = date(2025, 1, 6)


def negative_binomial(rng, mean, dispersion, size):
    """Counts with this mean and variance dispersion × mean (a Poisson at dispersion 1)."""
    if dispersion <= 1:
        return rng.poisson(mean, size=size)
    k = mean / (dispersion - 1)
    return rng.negative_binomial(k, k / (k + mean), size=size)


def surge(rng, *, weeks, mean, dispersion=1.5, factor=6, surge_weeks=3):
    """A flat noisy series whose last `surge_weeks` weeks are `factor` × its mean."""
    counts = negative_binomial(rng, mean, dispersion, weeks + surge_weeks)
    counts[weeks:] = round(factor * mean)
    return counts


# --- weekly series from rows ----------------------------------------------------------------


def test_a_url_reported_500_times_counts_once_and_does_not_alarm():
    rng = np.random.default_rng(11)
    background = negative_binomial(rng, 2.0, 1.5, 40)
    rows = []
    for week, n in enumerate(background):
        day = MONDAY + timedelta(weeks=week)
        rows += [(day, "north", "anti_muslim", None)] * int(n)
    last = MONDAY + timedelta(weeks=39)
    # 500 people report the same post in the last week, from all over the city.
    for i in range(500):
        area = ("north", "south", None)[i % 3]
        rows.append((last + timedelta(days=i % 7), area, "anti_muslim", "post-123"))

    series = weekly_series(rows, start=MONDAY, end=last)

    city = series.counts[(WHOLE_PLACE, "anti_muslim")]
    assert city[-1] == background[-1] + 1
    assert series.counts[("north", "anti_muslim")][-1] == background[-1] + 1
    assert series.counts[("south", "anti_muslim")][-1] == 1
    assert series.reports[(WHOLE_PLACE, "anti_muslim")][-1] == background[-1] + 500
    assert not detect_series(city).alarm
    assert not any(s.alarm for s in detect_many(series.counts))
    # Without the de-duplication the same week would be a spike: the test can fail.
    assert detect_series(series.reports[(WHOLE_PLACE, "anti_muslim")]).alarm


def test_a_group_counts_once_in_the_week_of_its_first_report():
    rows = [
        (MONDAY + timedelta(days=15), "a", "x", "g"),
        (MONDAY + timedelta(days=2), "a", "x", "g"),
        (MONDAY + timedelta(days=9), "b", "y", "g"),
        (MONDAY + timedelta(days=9), "b", "y", ""),
        (MONDAY + timedelta(days=30), "b", "y", None),  # outside the window
        (MONDAY - timedelta(days=3), "a", "x", "early"),  # the group started before the window
        (MONDAY + timedelta(days=3), "a", "x", "early"),
        (None, "a", "x", None),  # no date: left out
    ]
    series = weekly_series(
        rows,
        start=MONDAY,
        end=MONDAY + timedelta(days=20),
        areas=["a", "b", "c"],
        categories=["x"],
    )

    assert series.weeks == [MONDAY + timedelta(weeks=i) for i in range(3)]
    assert series.counts[("a", "x")] == [1, 0, 0]
    assert series.counts[("b", "y")] == [1, 1, 0]
    assert series.counts[(WHOLE_PLACE, "x")] == [1, 0, 0]
    assert series.counts[(WHOLE_PLACE, "y")] == [1, 1, 0]
    assert series.counts[("c", "x")] == [0, 0, 0]  # areas given ahead get empty series
    assert series.reports[("a", "x")] == [2, 0, 1]
    assert series.reports[(WHOLE_PLACE, "y")] == [0, 2, 0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 60),
            st.sampled_from(["a", "b", None]),
            st.sampled_from(["x", "y"]),
            st.sampled_from([None, "", "g1", "g2", "g3"]),
        ),
        max_size=80,
    )
)
def test_weekly_series_never_counts_more_incidents_than_reports(raw):
    rows = [(MONDAY + timedelta(days=day), area, cat, group) for day, area, cat, group in raw]
    series = weekly_series(rows, start=MONDAY, end=MONDAY + timedelta(days=60))
    distinct = {(g or i, cat) for i, (_, _, cat, g) in enumerate(raw)}
    for key, counts in series.counts.items():
        assert sum(counts) <= sum(series.reports[key])
    whole_place = [k for k in series.counts if k[0] is WHOLE_PLACE]
    assert sum(sum(series.counts[k]) for k in whole_place) <= len(distinct)
    assert sum(sum(series.reports[k]) for k in whole_place) == len(raw)


# --- methods --------------------------------------------------------------------------------


def test_short_history_uses_ears_and_two_years_use_farrington():
    assert method_for(7) == INSUFFICIENT
    assert method_for(8) == EARS
    assert method_for(103) == EARS
    assert method_for(104) == FARRINGTON
    rng = np.random.default_rng(1)
    assert detect_series(negative_binomial(rng, 3, 1.5, 30)).method == EARS
    assert detect_series(negative_binomial(rng, 3, 1.5, 104)).method == FARRINGTON
    short = detect_series([1, 2, 3])
    assert short.method == INSUFFICIENT and not short.alarm and short.p_value == 1.0


def test_ears_statistics_follow_the_cdc_definitions():
    counts = [2, 4, 3, 5, 1, 2, 3, 4, 2, 6, 5, 9, 12]
    signal = detect_series(counts)

    def c(u, lag):
        base = np.array(counts[u - lag - 6 : u - lag + 1], dtype=float)
        sigma = max(base.std(ddof=1), np.sqrt(base.mean()), 0.5)
        return (counts[u] - base.mean()) / sigma

    t = len(counts) - 1
    assert signal.details["c1"] == pytest.approx(c(t, 1))  # the 7 weeks just before
    assert signal.details["c2"] == pytest.approx(c(t, 3))  # after a 2-week guard band
    c3 = sum(max(0.0, c(t - k, 3) - 1) for k in range(3))  # the last three C2 exceedances
    assert signal.details["c3"] == pytest.approx(c3)
    assert signal.details["c3_flag"] == 1.0
    assert signal.exceeds and signal.alarm


def test_farrington_fit_is_the_quasi_poisson_maximum_likelihood():
    """The closed-form batched fit against a general-purpose optimiser of the same model."""
    rng = np.random.default_rng(5)
    t = 150
    ten_levels = d._farrington_design(t, 3, DetectionConfig(farrington_periods=10))[1]
    assert len(set(ten_levels.tolist())) == 10  # Noufaily et al.'s layout
    weeks, level, trend, starts = d._farrington_design(t, 3, d.DEFAULT)
    assert len(set(level.tolist())) == 4 and level[0] == 0
    assert np.all(weeks < t - 25)
    series = rng.poisson(
        np.exp(0.8 + 0.4 * np.sin(np.arange(t + 1) / 8) + 0.3 * np.arange(t + 1) / 52)
    )
    base = series[None, weeks].astype(float)
    prior = rng.uniform(0.5, 1.5, size=base.shape)
    for with_trend in (True, False):
        _, log_mu0, a00, _, beta_trend, _ = d._fit(
            base, prior, level, trend, starts, with_trend=with_trend
        )
        x = np.zeros((len(weeks), len(starts) + with_trend))
        x[np.arange(len(weeks)), level] = 1
        if with_trend:
            x[:, -1] = trend

        def nll(beta, x=x):
            return -np.sum(prior[0] * (base[0] * (x @ beta) - np.exp(x @ beta)))

        def gradient(beta, x=x):
            return -x.T @ (prior[0] * (base[0] - np.exp(x @ beta)))

        best = minimize(nll, np.zeros(x.shape[1]), jac=gradient, method="BFGS", tol=1e-12)
        information = x.T @ ((prior[0] * np.exp(x @ best.x))[:, None] * x)
        assert log_mu0[0] == pytest.approx(best.x[0], abs=1e-5)
        assert a00[0] == pytest.approx(np.linalg.inv(information)[0, 0], rel=1e-5)
        if with_trend:
            assert beta_trend[0] == pytest.approx(best.x[-1], abs=1e-5)


def test_farrington_keeps_a_significant_trend_and_down_weights_past_outbreaks():
    rng = np.random.default_rng(8)
    weeks = np.arange(200)
    rising = rng.poisson(3 * np.exp(0.5 * weeks / 52))
    signal = detect_series(rising)
    assert signal.details["trend"] == 1.0
    assert signal.expected == pytest.approx(3 * np.exp(0.5 * 199 / 52), rel=0.25)

    flat = negative_binomial(rng, 4, 1.5, 200)
    with_outbreak = flat.copy()
    with_outbreak[150:153] = 40  # last year's outbreak, in the comparable weeks
    plain = detect_series(flat)
    reweighted = detect_series(with_outbreak)
    unweighted = detect_series(
        with_outbreak, config=DetectionConfig(farrington_reweight_threshold=1e9)
    )
    assert plain.details["trend"] == 0.0
    assert reweighted.expected < unweighted.expected
    assert reweighted.expected == pytest.approx(plain.expected, rel=0.35)


# --- known shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize("weeks, method", [(30, EARS), (130, FARRINGTON)])
@pytest.mark.parametrize("mean", [3, 8, 20])
def test_a_6x_surge_over_three_weeks_alarms_in_its_first_week(weeks, method, mean):
    for seed in range(10):
        counts = surge(np.random.default_rng(seed), weeks=weeks, mean=mean)
        before = detect_series(counts, at=weeks - 1)
        first = detect_series(counts, at=weeks)
        assert first.method == method
        assert first.alarm, (seed, first)
        assert first.observed > first.upper_bound and first.score > 1
        assert not before.alarm or before.p_value < 0.01


@pytest.mark.parametrize("weeks", [30, 130])
def test_a_6x_surge_in_one_category_alarms_among_a_citys_series(weeks):
    """33 areas × 15 categories of ordinary noise plus the whole-place series per category: the
    surging category (whole place, mean 8 a week) is flagged in its first week, and nothing
    else is."""
    rng = np.random.default_rng(2026)
    series = {}
    for category in range(15):
        areas = [
            negative_binomial(rng, rng.choice([0.1, 0.3, 0.6, 1.0]), 1.5, weeks + 1)
            for _ in range(33)
        ]
        for area, counts in enumerate(areas):
            series[(area, category)] = counts
        series[(WHOLE_PLACE, category)] = np.sum(areas, axis=0)
    series[(WHOLE_PLACE, 7)] = surge(rng, weeks=weeks, mean=8, surge_weeks=1)

    signals = detect_many(series)

    alarms = [s.key for s in signals if s.alarm]
    assert alarms == [(WHOLE_PLACE, 7)]


# Documented (docs/insights.md): with the default alpha of 1 %, a flat series is flagged in at
# most 2.5 % of its weeks, for means 0.2–20 a week and dispersion (variance / mean) up to 5.
SINGLE_SERIES_BOUND = 0.025


@pytest.mark.parametrize("weeks", [30, 130])
@pytest.mark.parametrize("dispersion", [1, 2, 3, 5])
def test_flat_noisy_series_stay_quiet_at_the_documented_rate(weeks, dispersion):
    rng = np.random.default_rng(100 + weeks + dispersion)
    for mean in (0.2, 1, 5, 20):
        counts = negative_binomial(rng, mean, dispersion, (2000, weeks))
        flagged = [
            s.exceeds for s in d._detect_batch(range(2000), counts, at=None, config=d.DEFAULT)
        ]
        assert np.mean(flagged) <= SINGLE_SERIES_BOUND, (mean, np.mean(flagged))


# Documented: across a city's ~500 flat series, fewer than one false alarm in five weeks (about
# one in fourteen on average).
FAMILY_BOUND = 0.2


@pytest.mark.parametrize("weeks", [30, 130])
def test_fdr_keeps_false_discoveries_across_500_null_series_low(weeks):
    rng = np.random.default_rng(500 + weeks)
    false_alarms = []
    exceeding = []
    for _ in range(40):
        means = rng.choice([0.2, 0.5, 1, 2, 5, 10], size=500)
        dispersions = rng.choice([1.0, 1.5, 2.0, 3.0], size=500)
        series = {i: negative_binomial(rng, means[i], dispersions[i], weeks) for i in range(500)}
        signals = detect_many(series)
        false_alarms.append(sum(s.alarm for s in signals))
        exceeding.append(sum(s.exceeds for s in signals))
    assert np.mean(false_alarms) <= FAMILY_BOUND
    # …while single-series verdicts alone would raise several every week.
    assert np.mean(exceeding) >= 1


def test_benjamini_hochberg_matches_the_step_up_procedure():
    p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.5]
    q = benjamini_hochberg(p)
    assert q == pytest.approx([0.03, 0.06, 0.06, 0.03, 0.24, 0.5])
    assert benjamini_hochberg([]) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 1000), min_size=1, max_size=40),
    st.sampled_from([Fraction(1, 100), Fraction(1, 20), Fraction(1, 10), Fraction(1, 4)]),
)
def test_benjamini_hochberg_rejections_are_the_step_up_set(thousandths, level):
    p = [v / 1000 for v in thousandths]
    q = benjamini_hochberg(p)
    exact = sorted(Fraction(v, 1000) for v in thousandths)
    m = len(p)
    k = max((i + 1 for i, v in enumerate(exact) if v <= (i + 1) * level / m), default=0)
    assert sum(v <= float(level) * (1 + 1e-12) for v in q) == k
    assert all(qi >= pi - 1e-12 for qi, pi in zip(q, p, strict=True))


def test_no_alarm_below_the_minimum_count():
    for counts in ([0] * 20 + [5], [0] * 120 + [3]):
        signal = detect_series(counts)
        assert signal.alarm and signal.p_value < 0.01
        higher = DetectionConfig(min_count=counts[-1] + 1)
        assert not detect_series(counts, config=higher).alarm
        assert detect_series(counts, config=higher).p_value == signal.p_value


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=9, max_size=40),
    st.integers(0, 60),
    st.sampled_from([30, 120]),
)
def test_more_incidents_never_look_less_unusual(history, extra, length):
    counts = (history * (length // len(history) + 1))[:length]
    low = detect_series(counts + [extra])
    high = detect_series(counts + [extra + 3])
    assert 0 <= high.p_value <= low.p_value <= 1
    assert low.upper_bound == high.upper_bound
    assert not low.alarm or high.alarm
    for s in (low, high):
        assert s.alarm == (s.observed > s.upper_bound and s.observed >= 3)


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        detect_series([1, -1, 2])
    with pytest.raises(ValueError):
        detect_series([1, 2.5, 2])
    with pytest.raises(ValueError):
        detect_series([1, 2, 3], at=5)
    with pytest.raises(ValueError):
        DetectionConfig(min_count=0)
    with pytest.raises(ValueError):
        DetectionConfig(farrington_threshold="normal")
    with pytest.raises(ValueError):
        weekly_series([], start=MONDAY, end=MONDAY - timedelta(days=7))


def test_negative_binomial_threshold_is_available():
    rng = np.random.default_rng(3)
    config = DetectionConfig(farrington_threshold=d.NEGATIVE_BINOMIAL)
    counts = surge(rng, weeks=130, mean=8, surge_weeks=1)
    assert detect_series(counts, config=config).alarm
    assert not detect_series(counts[:-1], config=config).alarm


@pytest.mark.parametrize("weeks", [30, 104, 260])
def test_a_citys_series_are_judged_well_under_a_second(weeks):
    rng = np.random.default_rng(9)
    series = {
        (area, category): negative_binomial(rng, 0.5, 1.5, weeks)
        for area in [*range(33), WHOLE_PLACE]
        for category in range(15)
    }
    detect_many(series)  # warm up
    start = time.perf_counter()
    signals = detect_many(series)
    elapsed = time.perf_counter() - start
    assert len(signals) == 510
    assert elapsed < 1.0
