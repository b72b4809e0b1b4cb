"""Insights benchmark: the dashboard's aggregation (area × month × bias category) over
1,000,000 reports, read from the roll-up, against the same aggregation as one raw SQL
`GROUP BY` over the reports, in the same run on the same machine (QUALITY.md, "Performance").

Data: one place with the 33 London boroughs (weighted by population), 1,000,000 reports over
eight years with the demo's mix of incident types, settings and bias motivations (a second
bias on some), a tenth of online reports of a few thousand mass-reported addresses. Written
with one prepared statement (`executemany`), like `locus/core/demo_reports.py`.

Measured, each BENCH_REPEAT times (p50, p95):
- baseline: `SELECT area, month, bias, COUNT(*) … GROUP BY` straight on the reports (the bias
  list unnested with json_each / jsonb_array_elements_text);
- rollup: the same area × month × category figures from the roll-up (`PeriodCount`);
- dashboard: the dashboard's whole read (`selectors.dashboard`: the roll-up check, the series
  by period and area for three ranges, three breakdowns, areas, annotations), last 12 months;
- dashboard, 8 years by month: the same over the whole span.
Also: the time to build the roll-up, and to refresh it after 1,000 new reports.

Goals: the dashboard ≤ 1.5 × the raw query, p95 ≤ 300 ms.
SQLite (WAL) in a temporary directory by default; PostgreSQL when DATABASE_URL is set (use a
scratch database, e.g. `bin/with-postgres .venv/bin/python bench/bench_insights.py`).
Environment: BENCH_INSIGHTS_REPORTS (1,000,000), BENCH_REPEAT (20).
Prints the figures and PASS/FAIL per goal; a missed goal is a measurement, not an exit status.
"""

import json
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = int(os.environ.get("BENCH_INSIGHTS_REPORTS", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "20"))
GOAL_RATIO = 1.5
GOAL_P95_MS = 300.0
YEARS = 8
SEED = "locus-bench-insights"


def setup_django(var_dir):
    os.environ.update(
        {
            "LOCUS_ENV": "demo",
            "LOCUS_VAR_DIR": var_dir,
            "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
            "DEBUG": "0",
        }
    )
    sys.path.insert(0, str(ROOT))
    os.makedirs(os.path.join(var_dir, "static"), exist_ok=True)
    create_postgres_database(os.environ.get("DATABASE_URL", ""))
    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def create_postgres_database(url):
    """bin/with-postgres starts an empty cluster: create the database DATABASE_URL names."""
    if not url.startswith(("postgres://", "postgresql://")):
        return
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def make_place():
    from locus.core.demo_reports import POPULATION
    from locus.core.tenancy import place_scope
    from locus.core.testing.factories import (
        AreaFactory,
        NetworkFactory,
        OrganisationFactory,
        PlaceFactory,
        square,
    )
    from locus.directory.services import organisation_list_in_place

    network = NetworkFactory(slug="bench-net", name="Bench", country="GB")
    place = PlaceFactory(slug="benchdon", name="Benchdon", country="GB", network=network)
    organisation = OrganisationFactory(name="Benchdon Council")
    with place_scope(place):
        organisation_list_in_place(organisation=organisation, place=place, manages_place=True)
        areas = [
            AreaFactory(
                place=place,
                name=name,
                geometry=square(-0.5 + (i % 6) * 0.1, 51.3 + (i // 6) * 0.05),
                population=population,
            )
            for i, (name, population) in enumerate(POPULATION["london"].items())
        ]
    return place, areas


def generate(place, areas, count, *, start, end, rng, prefix):
    """`count` report rows (tuples for the INSERT of `insert_reports`)."""
    from locus.core.demo_reports import BIAS_LONDON, INCIDENT_TYPES, SECOND_BIAS, SETTINGS
    from locus.reporting.taxonomy import CURRENT_VERSION

    days = (end - start).days
    types, type_w = zip(*INCIDENT_TYPES.items(), strict=True)
    biases, bias_w = zip(*BIAS_LONDON.items(), strict=True)
    area_ids = [a.pk for a in areas]
    area_w = [a.population for a in areas]
    kinds = rng.choices(types, type_w, k=count)
    firsts = rng.choices(biases, bias_w, k=count)
    area_pick = rng.choices(area_ids, area_w, k=count)
    offsets = [rng.randrange(days) for _ in range(count)]
    rows = []
    for n in range(count):
        kind = kinds[n]
        online = kind in ("online_content", "terrorist_extremist_content", "disinformation")
        if kind == "suspicious_activity" or (kind == "terrorist_extremist_content" and n % 2):
            bias = []
        else:
            bias = [firsts[n]]
            if n % 6 == 0 and firsts[n] in SECOND_BIAS:
                bias.append(SECOND_BIAS[firsts[n]])
        if online:
            setting = "online"
        else:
            options = SETTINGS.get(kind, {"street": 1})
            setting = rng.choices(list(options), list(options.values()))[0]
        key = f"{rng.randrange(3000):064x}" if online and n % 10 == 0 else ""
        day = start + timedelta(days=offsets[n])
        late = rng.random() < 0.1
        submitted = datetime.combine(
            day + timedelta(days=rng.randrange(30) if late else 0),
            datetime.min.time(),
            UTC,
        ) + timedelta(seconds=rng.randrange(86400))
        rows.append(
            (
                place.pk,
                f"{prefix}{n:07d}",
                "0" * 64,
                CURRENT_VERSION,
                "en",
                "received",
                submitted.isoformat(),
                kind,
                day.isoformat(),
                late,
                False,
                None if online else area_pick[n],
                setting,
                "",
                "",
                key,
                json.dumps(bias),
                "victim",
                "[]",
                "[]",
                False,
                False,
                False,
                False,
            )
        )
    # Ids in the order reports arrive, as in real life (the refresh's overlap re-reads the
    # latest ids: recent reports, recent periods).
    rows.sort(key=lambda row: row[6])
    return rows


INSERT = (
    "INSERT INTO reporting_report (place_id, reference, followup_code_hash, taxonomy_version, "
    "language, status, submitted_at, incident_type, occurred_on, occurred_approx, ongoing, "
    "area_id, setting, platform, content_url, content_key, bias, reporter_role, support_wanted, "
    "already_reported, consent_police_anonymised, consent_police_with_contact, "
    "consent_support_contact, wants_email_updates, location_text, account, police_reference) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s, %s, %s, %s, '', '', '')"
)


def insert_reports(rows):
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), 20_000):
            cursor.executemany(INSERT, rows[start : start + 20_000])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reporting_report")


def baseline_sql(vendor):
    if vendor == "sqlite":
        return (
            "SELECT r.area_id, strftime('%%Y-%%m', COALESCE(r.occurred_on, r.submitted_at)) AS m, "
            "b.value AS bias, COUNT(*) FROM reporting_report r, json_each(r.bias) b "
            "WHERE r.place_id = %s GROUP BY r.area_id, m, b.value"
        )
    return (
        "SELECT r.area_id, date_trunc('month', COALESCE(r.occurred_on::timestamp, "
        "r.submitted_at)) AS m, b.value AS bias, COUNT(*) FROM reporting_report r, "
        "jsonb_array_elements_text(r.bias) b WHERE r.place_id = %s "
        "GROUP BY r.area_id, m, b.value"
    )


def timed(fn, repeat):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return result, times


def p95(times):
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def main():
    var_dir = tempfile.mkdtemp(prefix="locus-bench-insights-")
    try:
        setup_django(var_dir)
        from django.db import connection
        from django.db.models import Sum

        from locus.core.tenancy import place_scope
        from locus.insights import selectors
        from locus.insights.models import Basis, Grain, PeriodCount
        from locus.insights.services import rollup_rebuild, rollup_refresh

        vendor = connection.vendor
        print(f"database: {vendor}; reports: {REPORTS:,}; repeat: {REPEAT}", flush=True)
        rng = random.Random(SEED)
        place, areas = make_place()
        today = date(2026, 11, 29)
        start = today - timedelta(days=365 * YEARS)

        started = time.perf_counter()
        rows = generate(place, areas, REPORTS, start=start, end=today, rng=rng, prefix="B")
        generated = time.perf_counter() - started
        insert_reports(rows)
        del rows
        print(
            f"reports generated in {generated:.1f} s, written in "
            f"{time.perf_counter() - started - generated:.1f} s",
            flush=True,
        )

        with place_scope(place):
            started = time.perf_counter()
            cells = rollup_rebuild(place=place)
            print(
                f"roll-up built: {cells:,} rows in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            more = generate(
                place,
                areas,
                1000,
                start=today - timedelta(days=60),
                end=today,
                rng=rng,
                prefix="N",
            )
            insert_reports(more)
            started = time.perf_counter()
            done = rollup_refresh(place=place)
            print(
                f"refresh after 1,000 new reports: {time.perf_counter() - started:.2f} s "
                f"({done['weeks']} weeks, {done['months']} months recomputed)",
                flush=True,
            )

            sql = baseline_sql(vendor)

            def baseline():
                with connection.cursor() as cursor:
                    cursor.execute(sql, [place.pk])
                    return cursor.fetchall()

            def rollup():
                return list(
                    PeriodCount.objects.filter(
                        place=place,
                        grain=Grain.MONTH,
                        basis=Basis.PERCEIVED,
                        incident_type="",
                        setting="",
                    )
                    .filter(bias__in=selectors.axis_codes("bias"))
                    .values_list("area_id", "period", "bias")
                    .annotate(n=Sum("incidents"))
                    .order_by()
                )

            year = selectors.default_filters(today)
            span = selectors.DashboardFilters(
                grain=Grain.MONTH,
                start=date(start.year, start.month, 1),
                end=year.end,
            )

            def dashboard():
                return selectors.dashboard(place, year, today=today)

            def dashboard_span():
                return selectors.dashboard(place, span, today=today)

            baseline()  # warm the caches of both sides alike
            rollup()
            dashboard()
            raw_rows, raw_times = timed(baseline, REPEAT)
            cube_rows, cube_times = timed(rollup, REPEAT)
            _, dash_times = timed(dashboard, REPEAT)
            _, span_times = timed(dashboard_span, REPEAT)

        print(f"raw GROUP BY: {len(raw_rows):,} groups (bias values unnested, no hate rule)")
        print(f"roll-up: {len(cube_rows):,} area × month × category figures (hate incidents)")
        figures = {
            "baseline raw GROUP BY": raw_times,
            "roll-up area × month × category": cube_times,
            "dashboard, 12 months": dash_times,
            "dashboard, 8 years by month": span_times,
        }
        base = statistics.median(raw_times)
        for name, times in figures.items():
            print(
                f"{name:34s} p50 {statistics.median(times):8.1f} ms   p95 {p95(times):8.1f} ms"
                f"   ratio {statistics.median(times) / base:6.3f}"
            )
        for name in ("dashboard, 12 months", "dashboard, 8 years by month"):
            times = figures[name]
            ratio = statistics.median(times) / base
            print(
                f"{name}: ratio {ratio:.3f} (goal ≤ {GOAL_RATIO}) "
                f"{'PASS' if ratio <= GOAL_RATIO else 'FAIL'}; p95 {p95(times):.1f} ms "
                f"(goal ≤ {GOAL_P95_MS:.0f}) {'PASS' if p95(times) <= GOAL_P95_MS else 'FAIL'}"
            )
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
