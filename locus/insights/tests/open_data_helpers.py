"""Shared helpers of the open-data, export and network tests: reports made straight in the
database (the intake is tested elsewhere) and an independent attacker on published CSV."""

import csv
import io
import itertools
from datetime import UTC, date, datetime

import numpy as np
from scipy.optimize import linprog

from locus.core.tenancy import place_scope
from locus.reporting.taxonomy import CURRENT_VERSION, available_versions

_counter = itertools.count(1)
# Reports of every published taxonomy version, in turn: the counts must not care.
VERSIONS = available_versions()


def make_report(
    place,
    *,
    day,
    area=None,
    kind="threat",
    bias=("antisemitism",),
    content_key="",
    version=CURRENT_VERSION,
):
    from locus.reporting.models import Report

    n = next(_counter)
    with place_scope(place):
        return Report.objects.create(
            place=place,
            reference=f"T{n:08d}"[-9:],
            followup_code_hash=f"{n:064d}",
            taxonomy_version=version,
            language="en",
            submitted_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
            occurred_on=day,
            incident_type=kind,
            area=area,
            bias=list(bias),
            content_key=content_key,
            reporter_role="victim",
        )


def make_many(place, specs):
    """specs: iterable of (day, area, kind, bias, count)."""
    from locus.reporting.models import Report

    rows = []
    for day, area, kind, bias, count in specs:
        for _ in range(count):
            n = next(_counter)
            rows.append(
                Report(
                    place=place,
                    reference=f"M{n:08d}"[-9:],
                    followup_code_hash=f"{n:064d}",
                    taxonomy_version=VERSIONS[n % len(VERSIONS)],
                    language="en",
                    submitted_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                    occurred_on=day,
                    incident_type=kind,
                    area=area,
                    bias=list(bias),
                    reporter_role="witness",
                )
            )
    with place_scope(place):
        Report.objects.bulk_create(rows)


def parse_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def attack_month(records, threshold, key_column="area_code"):
    """From the published rows of one month only (what anyone can download), the attacker's
    interval for every figure shown as "fewer than N", by linear programming: every row and
    column adds up to its total, published figures are exact, a "fewer than N" figure is
    1…N − 1, a figure hidden to protect others is at least N, nothing is negative."""
    keys = [(r[key_column], r["category_code"]) for r in records]
    index = {key: i for i, key in enumerate(keys)}
    rows = sorted({k[0] for k in keys} - {"all"})
    columns = sorted({k[1] for k in keys} - {"all"})
    bounds = []
    for record in records:
        if record["status"] == "published":
            value = int(record["count"])
            bounds.append((value, value))
        elif record["status"] == "fewer_than_threshold":
            bounds.append((1, threshold - 1))
        elif record["status"] == "hidden_to_protect":
            bounds.append((threshold, None))
        else:
            raise AssertionError(record)
    equations = []
    for r in [*rows, "all"]:
        line = np.zeros(len(keys))
        for c in columns:
            line[index[(r, c)]] = 1
        line[index[(r, "all")]] = -1
        equations.append(line)
    for c in [*columns, "all"]:
        line = np.zeros(len(keys))
        for r in rows:
            line[index[(r, c)]] = 1
        line[index[("all", c)]] = -1
        equations.append(line)
    a_eq, b_eq = np.array(equations), np.zeros(len(equations))
    intervals = {}
    for key, record in zip(keys, records, strict=True):
        if record["status"] != "fewer_than_threshold":
            continue
        objective = np.zeros(len(keys))
        objective[index[key]] = 1
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0 and high.status == 0
        intervals[key] = (round(low.fun), round(-high.fun))
    return intervals


def by_month(records):
    months = {}
    for record in records:
        months.setdefault(record["month"], []).append(record)
    return months


def month_of(year, month):
    return date(year, month, 1)
