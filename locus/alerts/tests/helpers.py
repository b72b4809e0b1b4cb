"""Known shapes of weekly counts, written as reports of the test world, for whole detection
runs: a seeded negative binomial baseline per series, surges, mass-reported content."""

import itertools
import secrets
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from locus.core.tenancy import place_scope
from locus.reporting.models import Report
from locus.reporting.taxonomy import available_versions

# Reports of every published taxonomy version, in turn: detection reads codes, not wording.
VERSIONS = available_versions()

# The detection is judged as of this Monday: the last week that has ended starts on 25 May.
TODAY = date(2026, 6, 1)
NOW = datetime.combine(TODAY, time(6), tzinfo=UTC)
LAST_WEEK = TODAY - timedelta(days=7)
TYPES = ("threat", "abusive_behaviour", "damage_desecration")
_references = itertools.count(1)


def week(n_before_last):
    """The Monday `n_before_last` weeks before the last week that has ended."""
    return LAST_WEEK - timedelta(weeks=n_before_last)


def report(place, day, *, area=None, bias=("antisemitism",), incident_type="threat", url=""):
    """An unsaved report (bulk-created by `save`)."""
    from locus.reporting.services import content_key

    n = next(_references)
    return Report(
        place=place,
        reference=f"T{n:08d}",
        followup_code_hash=secrets.token_hex(32),
        taxonomy_version=VERSIONS[n % len(VERSIONS)],
        language="en",
        incident_type=incident_type,
        occurred_on=day,
        submitted_at=datetime.combine(day, time(12), tzinfo=UTC),
        area=area,
        bias=list(bias),
        reporter_role="witness",
        content_url=url,
        content_key=content_key(url),
    )


def save(place, reports):
    with place_scope(place):
        Report.objects.bulk_create(reports, batch_size=500)


def negative_binomial(rng, mean, dispersion, size):
    """Counts of this mean and variance dispersion × mean (Poisson at dispersion 1)."""
    if dispersion <= 1:
        return rng.poisson(mean, size)
    n = mean / (dispersion - 1)
    return rng.negative_binomial(n, 1 / dispersion, size)


def flat_history(place, areas, *, weeks, mean, dispersion, bias, seed, until=0):
    """Seeded flat noisy counts per (area, bias) for `weeks` weeks ending `until` weeks before
    the last one; the incident type is drawn among TYPES. Returns the reports (unsaved)."""
    rng = np.random.default_rng(seed)
    reports = []
    for area in areas:
        for code in bias:
            counts = negative_binomial(rng, mean, dispersion, weeks)
            for i, count in enumerate(counts):
                monday = week(until + weeks - 1 - i)
                for _ in range(int(count)):
                    day = monday + timedelta(days=int(rng.integers(0, 7)))
                    kind = TYPES[int(rng.integers(0, len(TYPES)))]
                    reports.append(report(place, day, area=area, bias=[code], incident_type=kind))
    return reports


def in_week(place, monday, count, *, area, bias=("antisemitism",), url="", seed=0):
    """`count` reports spread over the week of `monday`."""
    rng = np.random.default_rng(seed)
    return [
        report(
            place,
            monday + timedelta(days=int(rng.integers(0, 7))),
            area=area,
            bias=bias,
            incident_type=TYPES[i % len(TYPES)],
            url=url,
        )
        for i in range(count)
    ]
