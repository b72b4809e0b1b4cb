"""Spike detection on weekly counts of hate incidents (docs/insights.md).

Counts here are small and overdispersed: most area × category series see a handful of
incidents a week, often none, and real weeks vary more than a Poisson process would. So:

- while a series has less than `farrington_min_weeks` of history, the EARS C1/C2/C3 statistics
  of the CDC (Hutwagner et al. 2003) compare the week with the seven weeks before it
  (C2/C3: after a two-week guard band);
- once it has two years, an improved Farrington method (Farrington et al. 1996 with the changes
  of Noufaily et al. 2013): a quasi-Poisson log-linear model over the previous years with a
  ten-level seasonal factor whose first level is the comparable weeks, a trend kept only when
  significant, overdispersion estimated, past outbreaks down-weighted, and a threshold on the
  2/3-power scale (or the negative binomial quantile);
- beside each method, a count model (negative binomial around the method's baseline, with the
  uncertainty of that baseline and a dispersion pooled across the series judged together)
  gives a one-sided p-value that is right in the tail; a week is flagged only when the method's
  own rule and this count model agree;
- across the many series of a place (areas × categories, and the whole place per category,
  where areas are pooled) false alarms are controlled with the Benjamini–Hochberg false
  discovery rate on those p-values;
- no alarm below `min_count` incidents in the week, whatever the statistics say.

The counts are of **incidents**: a grouped mass report (many people reporting the same post)
counts once. `weekly_series` turns (date, area, category, group key) rows into such series;
a caller that builds series another way must de-duplicate groups itself.

Everything is computed for all series at once with numpy (no per-series Python loop), so a
city's ~500 series of two years take about a tenth of a second.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
from scipy import special

WEEKS_PER_YEAR = 52

EARS = "ears"
FARRINGTON = "farrington"
INSUFFICIENT = "insufficient_history"

TWO_THIRDS = "two_thirds"
NEGATIVE_BINOMIAL = "negative_binomial"

# The key of the series of the whole place (all its areas pooled, and reports without an area).
WHOLE_PLACE = None


@dataclass(frozen=True)
class DetectionConfig:
    """Parameters and their defaults; docs/insights.md says why each has its value."""

    min_count: int = 3
    alpha: float = 0.01
    fdr: float = 0.05
    # EARS (weeks instead of the CDC's days)
    ears_baseline: int = 7
    ears_guard: int = 2
    ears_threshold: float = 3.0
    ears_c3_threshold: float = 2.0
    ears_min_sigma: float = 0.5
    # Farrington (improved); min_weeks counts the judged week
    farrington_min_weeks: int = 2 * WEEKS_PER_YEAR
    farrington_years: int = 5
    farrington_window: int = 3
    farrington_periods: int = 4
    farrington_past_weeks_excluded: int = 26
    farrington_reweight_threshold: float = 2.58
    farrington_trend_p: float = 0.05
    farrington_threshold: str = TWO_THIRDS

    def __post_init__(self):
        if self.min_count < 1:
            raise ValueError("min_count must be at least 1")
        if not 0 < self.alpha < 0.5 or not 0 < self.fdr < 1:
            raise ValueError("alpha must be in (0, 0.5) and fdr in (0, 1)")
        if self.ears_baseline < 3 or self.ears_guard < 0:
            raise ValueError("EARS needs a baseline of at least 3 weeks")
        if self.farrington_threshold not in (TWO_THIRDS, NEGATIVE_BINOMIAL):
            raise ValueError("farrington_threshold is 'two_thirds' or 'negative_binomial'")
        if self.farrington_min_weeks <= self.farrington_past_weeks_excluded + WEEKS_PER_YEAR:
            raise ValueError("Farrington needs at least a year of baseline before the gap")
        if not 2 <= self.farrington_periods <= WEEKS_PER_YEAR - 2 * self.farrington_window:
            raise ValueError("farrington_periods does not fit the year")


DEFAULT = DetectionConfig()


@dataclass(frozen=True)
class Signal:
    """The verdict on one week of one series.

    `expected` is what the method expected; `upper_bound` the largest count that is not
    flagged (above both the method's classic limit — EARS: mean + 3 standard deviations,
    Farrington: the 2/3-power threshold — and the count model's 1 − `alpha` limit); `p_value`
    the one-sided probability of a count at least this high in an ordinary week; `q_value` the
    Benjamini–Hochberg adjusted p-value across the series judged together; `score` is
    (observed − expected) / (upper_bound − expected), above 1 when flagged. `exceeds` is the
    series' own verdict (above `upper_bound` and at least `min_count`); `alarm` also needs the
    false discovery rate. `details` holds the method's statistics (EARS: c1, c2, c3,
    c3_flag, dispersion; Farrington: dispersion, trend, baseline_weeks).
    """

    key: Hashable
    method: str
    week: int
    observed: int
    expected: float
    upper_bound: float
    p_value: float
    q_value: float
    score: float
    exceeds: bool
    alarm: bool
    details: dict = field(default_factory=dict, compare=False)


# --- from rows to weekly series -------------------------------------------------------------


def week_start(day: date) -> date:
    """The Monday of the ISO week holding `day`."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class WeeklySeries:
    """Weekly counts per (area, category); area `WHOLE_PLACE` (None) is the whole place.

    `counts` are incidents (a group counted once), `reports` the raw rows: the "report
    pressure" beside each count.
    """

    weeks: list[date]
    counts: dict[tuple, list[int]]
    reports: dict[tuple, list[int]]


def weekly_series(rows, *, start, end, areas=(), categories=()):
    """Turn `(day, area, category, group_key)` rows into weekly incident counts.

    One row per report and category (a report with two bias motivations is two rows). Rows that
    share a non-empty `group_key` are one incident: it is counted once, in the week of its
    earliest row, once in each (area, category) its rows name and once per category in the
    whole-place series (also when its rows name several areas). Rows with `area` None count only
    in the whole-place series. `areas` and `categories` given ahead get series even when empty.
    Rows and incidents outside `start`…`end` are left out.
    """
    first = week_start(start)
    last = week_start(end)
    if last < first:
        raise ValueError("end is before start")
    n_weeks = (last - first).days // 7 + 1
    weeks = [first + timedelta(weeks=i) for i in range(n_weeks)]

    counts: dict[tuple, list[int]] = {}
    reports: dict[tuple, list[int]] = {}

    def series(store, key):
        if key not in store:
            store[key] = [0] * n_weeks
        return store[key]

    for category in categories:
        series(counts, (WHOLE_PLACE, category))
        series(reports, (WHOLE_PLACE, category))
        for area in areas:
            series(counts, (area, category))
            series(reports, (area, category))

    def index(day):
        if day is None:
            return None
        i = (week_start(day) - first).days // 7
        return i if 0 <= i < n_weeks else None

    groups: dict[Hashable, list] = defaultdict(list)
    for day, area, category, group_key in rows:
        i = index(day)
        if i is not None:
            if area is not None:
                series(reports, (area, category))[i] += 1
            series(reports, (WHOLE_PLACE, category))[i] += 1
        if group_key in (None, ""):
            if i is not None:
                if area is not None:
                    series(counts, (area, category))[i] += 1
                series(counts, (WHOLE_PLACE, category))[i] += 1
        else:
            groups[group_key].append((day, area, category))

    for members in groups.values():
        days = [day for day, _, _ in members if day is not None]
        if not days:
            continue
        i = index(min(days))
        if i is None:
            continue
        keys = {(area, category) for _, area, category in members if area is not None}
        keys |= {(WHOLE_PLACE, category) for _, _, category in members}
        for key in keys:
            series(counts, key)[i] += 1

    return WeeklySeries(weeks=weeks, counts=counts, reports=reports)


# --- false discovery rate -------------------------------------------------------------------


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values): reject where q ≤ the chosen rate."""
    m = len(p_values)
    if m == 0:
        return []
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(adjusted, 1.0)
    return q.tolist()


# --- detection ------------------------------------------------------------------------------


def method_for(weeks_of_data: int, config: DetectionConfig = DEFAULT) -> str:
    """Which method judges a week with `weeks_of_data` weeks of counts up to and including it:
    Farrington from two years (104 weeks), EARS from eight (seven weeks of baseline)."""
    if weeks_of_data >= config.farrington_min_weeks:
        return FARRINGTON
    if weeks_of_data > config.ears_baseline:
        return EARS
    return INSUFFICIENT


def detect_series(counts: Sequence[int], *, at: int | None = None, config=DEFAULT) -> Signal:
    """Judge week `at` (default: the last) of one series on its own: `alarm` = `exceeds`."""
    signal = _detect_batch(["series"], [counts], at=at, config=config)[0]
    return replace(signal, key=None, q_value=signal.p_value, alarm=signal.exceeds)


def detect_many(
    series: Mapping[Hashable, Sequence[int]], *, at: int | None = None, config=DEFAULT
) -> list[Signal]:
    """Judge week `at` (default: the last) of many series together.

    An alarm needs the series' own rule (`exceeds`, which includes `min_count`) and a
    Benjamini–Hochberg q-value ≤ `config.fdr` across all the series given: pass every area ×
    category series of a place and the whole-place series per category in one call.
    Series of different lengths are judged by the method their own history allows.
    """
    keys = list(series)
    by_length: dict[int, list] = defaultdict(list)
    for key in keys:
        by_length[len(series[key])].append(key)
    signals: dict[Hashable, Signal] = {}
    for group in by_length.values():
        batch = _detect_batch(group, [series[key] for key in group], at=at, config=config)
        signals.update(zip(group, batch, strict=True))
    ordered = [signals[key] for key in keys]
    q_values = benjamini_hochberg([s.p_value for s in ordered])
    return [
        replace(s, q_value=q, alarm=s.exceeds and q <= config.fdr)
        for s, q in zip(ordered, q_values, strict=True)
    ]


def _detect_batch(keys, rows, *, at, config):
    y = np.asarray(rows, dtype=float)
    if y.ndim != 2 or y.shape[1] == 0:
        raise ValueError("series must be non-empty sequences of counts")
    if np.any(y < 0) or np.any(y != np.floor(y)):
        raise ValueError("counts must be non-negative integers")
    n = y.shape[1]
    t = n - 1 if at is None else at
    if not 0 <= t < n:
        raise ValueError("`at` is outside the series")
    method = method_for(t + 1, config)
    if method == FARRINGTON:
        result = _farrington(y, t, config)
    elif method == EARS:
        result = _ears(y, t, config)
    else:
        result = _insufficient(y, t)
    observed = y[:, t]
    exceeds = result["exceeds"] & (observed >= config.min_count)
    span = np.maximum(result["upper"] - result["expected"], 1e-9)
    score = (observed - result["expected"]) / span
    signals = []
    for i, key in enumerate(keys):
        details = {name: float(values[i]) for name, values in result["details"].items()}
        signals.append(
            Signal(
                key=key,
                method=method,
                week=t,
                observed=int(observed[i]),
                expected=float(result["expected"][i]),
                upper_bound=float(result["upper"][i]),
                p_value=float(result["p"][i]),
                q_value=float(result["p"][i]),
                score=float(score[i]),
                exceeds=bool(exceeds[i]),
                alarm=bool(exceeds[i]),
                details=details,
            )
        )
    return signals


def _insufficient(y, t):
    s = y.shape[0]
    expected = y[:, :t].mean(axis=1) if t else np.zeros(s)
    return {
        "expected": expected,
        "upper": np.full(s, np.inf),
        "p": np.ones(s),
        "exceeds": np.zeros(s, dtype=bool),
        "details": {},
    }


# --- EARS C1, C2, C3 -----------------------------------------------------------------------


def _ears_stat(y, u, lag, config):
    """(mean, sigma, C) of week u against the `ears_baseline` weeks ending `lag` weeks before.

    The standard deviation is floored at the Poisson one (sqrt of the mean) and at
    `ears_min_sigma`: a quiet baseline of seven zeros must not make a single incident
    "infinitely" unusual.
    """
    b = config.ears_baseline
    base = y[:, u - lag - b + 1 : u - lag + 1]
    mean = base.mean(axis=1)
    sd = base.std(axis=1, ddof=1)
    sigma = np.maximum(np.maximum(sd, np.sqrt(mean)), config.ears_min_sigma)
    return mean, sigma, (y[:, u] - mean) / sigma


def _ears(y, t, config):
    """C1, C2, C3 as the CDC defines them, with a count model beside them.

    The C statistics treat counts as normal; on a few overdispersed counts a week is "3
    standard deviations" above seven quiet weeks far more often than the normal curve says. So
    a week is flagged only when the EARS rule (C1 or C2 above 3) *and* the count model agree:
    its p-value comes from a negative binomial whose mean is the same seven-week baseline (with
    its uncertainty) and whose dispersion is estimated from up to a year of history. C3 (the
    last three weeks' C2 excesses added up) is reported beside them (`c3_flag`); on its own it
    flags about one flat week in ten of an overdispersed series, so it raises no alarm.
    """
    b, guard = config.ears_baseline, config.ears_guard
    half = config.alpha / 2  # Bonferroni for C1 and C2
    dispersion = _history_dispersion(y, t, guard, config)
    mean1, sigma1, c1 = _ears_stat(y, t, 1, config)
    classic = mean1 + config.ears_threshold * sigma1
    p, quantile = _baseline_tail(y[:, t], mean1, b, dispersion, half)
    expected = mean1
    details = {"c1": c1, "dispersion": dispersion}
    if t >= b + guard:
        c2_lag = guard + 1
        mean2, sigma2, c2 = _ears_stat(y, t, c2_lag, config)
        classic = np.minimum(classic, mean2 + config.ears_threshold * sigma2)
        p2, quantile2 = _baseline_tail(y[:, t], mean2, b, dispersion, half)
        p, quantile = np.minimum(1.0, 2 * np.minimum(p, p2)), np.minimum(quantile, quantile2)
        expected = mean2  # the guard band keeps the start of a rise out of the baseline
        details["c2"] = c2
        if t >= b + guard + 2:
            c3 = sum(np.maximum(0.0, _ears_stat(y, t - k, c2_lag, config)[2] - 1) for k in range(3))
            details["c3"] = c3
            details["c3_flag"] = (c3 > config.ears_c3_threshold).astype(float)
    else:
        p = np.minimum(1.0, 2 * p)
    upper = np.maximum(classic, quantile)
    exceeds = y[:, t] > upper
    return {"expected": expected, "upper": upper, "p": p, "exceeds": exceeds, "details": details}


def _history_dispersion(y, t, guard, config):
    """Dispersion (variance / mean, at least 1) of up to a year of history before the guard
    band: the larger of the series' own and the one pooled over all the series judged together
    (see `_pooled`). Level changes inflate it, which only makes the test more careful."""
    first = max(0, t - guard - WEEKS_PER_YEAR)
    history = y[:, first : max(t - guard, first + 2)]
    mean = history.mean(axis=1)
    squares = np.sum((history - mean[:, None]) ** 2, axis=1)
    degrees = np.where(mean > 0, history.shape[1] - 1, 0)
    own = np.where(mean > 0, squares / np.maximum(mean, 1e-12) / np.maximum(degrees, 1), 1.0)
    return _pooled(own, squares, mean * degrees)


def _pooled(own, numerator, denominator):
    """max(own dispersion, pooled dispersion, 1).

    A dispersion estimated from one series of small counts is usually too low (the variance of
    a skewed count is dominated by rare bursts that most samples miss), which makes the tail
    p-values too small; the ratio of sums over all the series judged together (a city's areas
    and categories) is far steadier. Taking the larger keeps the test careful; a calm series
    judged beside bursty ones pays with a little sensitivity, never with false alarms.
    """
    total = np.sum(denominator)
    pooled = np.sum(numerator) / total if total > 0 else 1.0
    return np.maximum(np.maximum(own, pooled), 1.0)


def _baseline_tail(observed, mean, n_weeks, dispersion, alpha):
    """Tail probability and (1 − alpha) limit of a count against a mean of `n_weeks` weeks.

    The mean's uncertainty is that of its total (Var log mean ≈ dispersion / total); half an
    incident is added to an empty baseline (the Jeffreys prior) so that seven quiet weeks
    make a few incidents unusual, not impossible.
    """
    total = mean * n_weeks
    centre = np.maximum(total, 0.5) / n_weeks
    var_log = dispersion / np.maximum(total, 0.5)
    return _predictive_tail(observed, centre, var_log, dispersion, alpha)


def _count_tail(x, mean, dispersion):
    """P(X ≥ x) for a count of this mean and variance dispersion × mean: a negative binomial
    (size mean / (dispersion − 1), probability 1 / dispersion), or a Poisson at dispersion 1."""
    x, mean, dispersion = np.broadcast_arrays(np.asarray(x, dtype=float), mean, dispersion)
    tail = np.ones(x.shape)
    poisson = (dispersion <= 1 + 1e-9) & (x > 0)
    negative_binomial = (dispersion > 1 + 1e-9) & (x > 0)
    tail[poisson] = special.gammainc(x[poisson], mean[poisson])
    d = dispersion[negative_binomial]
    tail[negative_binomial] = special.betainc(
        x[negative_binomial], mean[negative_binomial] / (d - 1), 1 - 1 / d
    )
    return tail


def _predictive_tail(observed, mean, var_log, dispersion, alpha):
    """One-sided p-value P(X ≥ observed) and the largest count that is not flagged at `alpha`,
    for a count of variance dispersion × mean whose mean is itself uncertain (relative variance
    `var_log`, the variance of its logarithm).

    Plugging the estimated mean in as if it were known makes the rare counts look rarer than
    they are, and the false discovery rate control needs p-values that are right in the tail.
    A gamma-distributed mean adds mean² × var_log to the variance: the predictive count is a
    negative binomial of dispersion `dispersion + mean × var_log` (exactly the Poisson–gamma
    predictive when the dispersion is 1).
    """
    predictive = dispersion + mean * var_log
    p_value = _count_tail(observed, mean, predictive)
    # The smallest k with P(X > k) = P(X ≥ k + 1) ≤ alpha, by bisection on integers.
    low = np.zeros_like(mean)
    high = np.ceil(mean + 8 * np.sqrt(predictive * mean) + 8)
    for _ in range(30):
        short = _count_tail(high + 1, mean, predictive) > alpha
        if not short.any():
            break
        high = np.where(short, 2 * high, high)
    while np.any(low < high):
        middle = np.floor((low + high) / 2)
        above = _count_tail(middle + 1, mean, predictive) > alpha
        low = np.where(above, middle + 1, low)
        high = np.where(above, high, middle)
    return p_value, high


# --- improved Farrington -------------------------------------------------------------------


def _farrington_design(t, n_years, config):
    """The baseline weeks, grouped by seasonal level, with their trend values.

    The comparable weeks (t ± w in each earlier year) form level 0; the rest of the year is cut
    into `farrington_periods - 1` equal periods (Noufaily et al.), so every earlier week helps
    estimate the level of the series while the comparable ones carry the season. The most
    recent `farrington_past_weeks_excluded` weeks stay out: a rise under way must not raise its
    own baseline. Trend is in years, centred on week t, so the prediction for week t is simply
    the level-0 parameter. Returns (weeks, level of each week, trend, start of each level).
    """
    w = config.farrington_window
    first = max(0, t - WEEKS_PER_YEAR * n_years - w)
    last = t - config.farrington_past_weeks_excluded  # exclusive
    weeks = np.arange(first, last)
    distance = (t - weeks) % WEEKS_PER_YEAR
    rest = WEEKS_PER_YEAR - 2 * w - 1
    offset = np.clip(distance - w - 1, 0, rest - 1)
    period = np.where(
        (distance <= w) | (distance >= WEEKS_PER_YEAR - w),
        0,
        1 + offset * (config.farrington_periods - 1) // rest,
    )
    order = np.argsort(period, kind="stable")
    weeks, period = weeks[order], period[order]
    present, level = np.unique(period, return_inverse=True)
    if present[0] != 0:
        raise ValueError("the baseline has no comparable weeks")
    starts = np.flatnonzero(np.r_[True, np.diff(level) != 0])
    return weeks, level, (weeks - t) / WEEKS_PER_YEAR, starts


def _fit(y, prior, level, trend, starts, *, with_trend):
    """Batched quasi-Poisson fit of log mu = beta[level] (+ beta_trend * trend).

    One parameter per seasonal level (equivalent to an intercept and dummies), so X'WX is an
    "arrowhead" matrix solved in closed form: without trend the fit is the weighted mean of each
    level; with trend, iteratively reweighted least squares whose trend step is a scalar Schur
    complement. Everything is elementwise over (series × weeks), which keeps a city's 500 series
    far below a second. A level whose counts are all zero gets a mean of zero (the limit the
    maximum likelihood tends to) and drops out of the fit.

    Returns mu (s, n), the level-0 log mean, Var factors [(X'WX)^-1]_00 and _tt, the trend
    coefficient and the leverages (s, n).
    """

    def by_level(values):
        return np.add.reduceat(values, starts, axis=1)

    zero = by_level(prior * y) <= 0  # (s, L)
    live = ~zero[:, level]  # (s, n): weeks of levels that are not all zero
    tiny = 1e-12

    def solve(mu):
        weights = np.where(live, prior * mu, 0.0)
        w_level = np.maximum(by_level(weights), tiny)
        return weights, w_level

    if not with_trend:
        w_prior = np.maximum(by_level(prior), tiny)
        mean_level = np.where(zero, 0.0, by_level(prior * y) / w_prior)
        mu = np.maximum(mean_level[:, level], tiny)
        weights, w_level = solve(mu)
        a00 = 1 / w_level[:, 0]
        leverage = np.where(live, weights / w_level[:, level], 0.0)
        log_mu0, a00 = _empty_level0(zero, w_prior, np.log(mean_level[:, 0] + tiny), a00)
        return mu, log_mu0, a00, np.inf, np.zeros(len(y)), leverage

    mu = np.where(live, np.maximum(y, 0.5), tiny)
    eta = np.log(mu)
    deviance = np.full(len(y), np.inf)
    for _ in range(50):
        weights, w_level = solve(mu)
        z = np.where(live, eta + (y - mu) / mu, 0.0)
        t_level = by_level(weights * trend)
        z_level = by_level(weights * z)
        schur = np.sum(weights * trend**2, axis=1) - np.sum(t_level**2 / w_level, axis=1)
        schur = np.maximum(schur, tiny)
        beta_trend = (
            np.sum(weights * z * trend, axis=1) - np.sum(t_level * z_level / w_level, axis=1)
        ) / schur
        beta_level = (z_level - t_level * beta_trend[:, None]) / w_level
        eta = np.clip(beta_level[:, level] + beta_trend[:, None] * trend, -30.0, 30.0)
        mu = np.where(live, np.exp(eta), tiny)
        # Converged as R's glm does: the deviance changes by less than 1e-8 relatively.
        new = 2 * np.sum(prior * (special.xlogy(y, y / mu) - (y - mu)), axis=1)
        if np.all(np.abs(new - deviance) < 1e-8 * (np.abs(new) + 0.1)):
            break
        deviance = new
    weights, w_level = solve(mu)
    t_level = by_level(weights * trend)
    schur = np.maximum(
        np.sum(weights * trend**2, axis=1) - np.sum(t_level**2 / w_level, axis=1), tiny
    )
    # The arrowhead inverse: A_tt = 1/S, A_lt = -T_l/(W_l S), A_ll = 1/W_l + T_l²/(W_l² S).
    a_tt = 1 / schur
    a_lt = -t_level / (w_level * schur[:, None])
    a_ll = 1 / w_level + t_level**2 / (w_level**2 * schur[:, None])
    quadratic = a_ll[:, level] + 2 * trend * a_lt[:, level] + trend**2 * a_tt[:, None]
    leverage = np.where(live, weights * quadratic, 0.0)
    w_prior = np.maximum(by_level(prior), tiny)
    log_mu0, a00 = _empty_level0(zero, w_prior, beta_level[:, 0], a_ll[:, 0])
    return mu, log_mu0, a00, a_tt, beta_trend, leverage


def _empty_level0(zero, w_prior, log_mu0, a00):
    """Comparable weeks without a single incident: estimate as if half an incident had been
    seen in them (the Jeffreys prior), with the matching uncertainty, instead of a mean of
    zero that would make any incident infinitely unusual."""
    empty = zero[:, 0]
    mean = 0.5 / w_prior[:, 0]
    return np.where(empty, np.log(mean), log_mu0), np.where(empty, 2.0, a00)


def _dispersion(y, mu, prior, n_params):
    """Pearson dispersion per series (at least 1), with its numerator and degrees of freedom
    for pooling."""
    degrees = max(y.shape[1] - n_params, 1)
    pearson = np.sum(prior * (y - mu) ** 2 / mu, axis=1)
    return np.maximum(pearson / degrees, 1.0), pearson, np.full(len(y), float(degrees))


def _fit_reweighted(y, level, trend, starts, config, *, with_trend):
    """Farrington's two-step fit: fit, down-weight weeks whose Anscombe residual is above the
    threshold (past outbreaks) by the inverse of its square, refit."""
    n = y.shape[1]
    n_params = len(starts) + int(with_trend)
    ones = np.ones_like(y)
    mu, *_, leverage = _fit(y, ones, level, trend, starts, with_trend=with_trend)
    dispersion = _dispersion(y, mu, ones, n_params)
    phi = dispersion[0]
    anscombe = (
        1.5
        * (np.cbrt(y) ** 2 - np.cbrt(mu) ** 2)
        / (np.cbrt(np.sqrt(mu)) * np.sqrt(phi[:, None] * (1 - np.clip(leverage, 0, 0.999))))
    )
    limit = config.farrington_reweight_threshold
    weights = np.where(anscombe > limit, 1.0 / np.maximum(anscombe, limit) ** 2, 1.0)
    weights *= n / weights.sum(axis=1, keepdims=True)
    mu, log_mu0, a00, a_tt, beta_trend, _ = _fit(
        y, weights, level, trend, starts, with_trend=with_trend
    )
    # The dispersion of the unweighted fit: after down-weighting, the ordinary bursts of a
    # skewed small count look like outbreaks and the series would seem calmer than it is.
    return log_mu0, a00, a_tt, beta_trend, _pooled(*dispersion)


def _farrington(y, t, config):
    n_years = min(config.farrington_years, -(-t // WEEKS_PER_YEAR))
    weeks, level, trend, starts = _farrington_design(t, n_years, config)
    base = y[:, weeks]

    log_t, a00_t, att_t, beta_t, phi_t = _fit_reweighted(
        base, level, trend, starts, config, with_trend=True
    )
    log_0, a00_0, _, _, phi_0 = _fit_reweighted(
        base, level, trend, starts, config, with_trend=False
    )
    # Keep the trend only when it is significant and does not extrapolate beyond the data.
    se_trend = np.sqrt(phi_t * att_t)
    trend_p = special.erfc(np.abs(beta_t) / np.maximum(se_trend, 1e-12) / math.sqrt(2))
    use_trend = (trend_p < config.farrington_trend_p) & (
        np.exp(np.minimum(log_t, 30)) <= base.max(axis=1)
    )

    mu0 = np.maximum(np.exp(np.where(use_trend, log_t, log_0)), 1e-9)
    phi = np.where(use_trend, phi_t, phi_0)
    # Var(mu0) by the delta method: mu0² · phi · [(X'WX)^-1]_00.
    var_log = phi * np.where(use_trend, a00_t, a00_0)
    var_mu0 = mu0**2 * var_log
    observed = y[:, t]
    z_alpha = -special.ndtri(config.alpha)
    if config.farrington_threshold == TWO_THIRDS:
        # Farrington et al. (1996): on the 2/3-power scale the count is nearly symmetric;
        # tau is the relative variance of (count − prediction), estimation error included.
        tau = phi / mu0 + var_mu0 / mu0**2
        classic = mu0 * (1 + (2 / 3) * z_alpha * np.sqrt(tau)) ** 1.5
    else:
        # Noufaily et al. (2013): the (1 − alpha) quantile of the negative binomial with mean
        # mu0 and variance phi * mu0, taken as known.
        classic = _predictive_tail(observed, mu0, np.zeros_like(mu0), phi, config.alpha)[1]
    # The p-value (and the count model's own limit) integrate over the uncertainty of mu0, so
    # that the false discovery rate across series rests on p-values that are right in the tail.
    p_value, quantile = _predictive_tail(observed, mu0, var_log, phi, config.alpha)
    upper = np.maximum(classic, quantile)
    exceeds = observed > upper
    details = {
        "dispersion": phi,
        "trend": use_trend.astype(float),
        "baseline_weeks": np.full(y.shape[0], float(len(weeks))),
    }
    return {"expected": mu0, "upper": upper, "p": p_value, "exceeds": exceeds, "details": details}
