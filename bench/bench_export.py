"""Export benchmark: the analysts' record-level CSV export (coded fields only, one row per
report), streamed through the real view (`insights_data:export_records`: StreamingHttpResponse,
`iterator()` over a chunked cursor), against writing the same rows with `csv.writer` straight
from a raw database cursor, in the same run on the same machine (QUALITY.md, "Performance").

Goals: the view's rows per second ≥ 0.5 of the baseline's, and memory flat: the growth of the
process's resident memory while exporting all the rows is no larger than while exporting a
quarter of them (plus a small allowance for allocator noise).

SQLite (WAL) in a temporary directory by default; PostgreSQL when DATABASE_URL is set (use a
scratch database: the rows stay there). Environment: BENCH_EXPORT_ROWS (1,000,000).
Prints the figures and PASS/FAIL per goal; a missed goal is a measurement, not an exit status.
"""

import csv
import gc
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))
GOAL_RATIO = 0.5
MEMORY_ALLOWANCE_MB = 16.0
PAGE = os.sysconf("SC_PAGE_SIZE")
START, END = date(2020, 1, 1), date(2029, 12, 31)


class Sink:
    """Where both exports write: counts the bytes, keeps nothing (as a socket would)."""

    def __init__(self):
        self.bytes = 0

    def write(self, text):
        self.bytes += len(text)


class RssSampler:
    """Peak resident memory of this process, sampled every 20 ms in a thread."""

    def __init__(self):
        self.peak = self.base = self.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * PAGE

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.rss())

    def __enter__(self):
        gc.collect()
        self.peak = self.base = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def growth_mb(self):
        return (self.peak - self.base) / 2**20


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
    os.makedirs(os.path.join(var_dir, "static"), exist_ok=True)  # no collectstatic needed
    import django

    django.setup()
    logging.disable(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def make_place_and_rows(rows):
    """A place with 30 areas, an analyst, and `rows` reports made in SQL (one template row
    through the ORM, the rest copied by a recursive query with varied codes and dates)."""
    from django.db import connection, transaction

    from locus.accounts.choices import Role
    from locus.core.tenancy import place_scope
    from locus.core.testing.factories import (
        AreaFactory,
        MembershipFactory,
        NetworkFactory,
        OrganisationFactory,
        PlaceFactory,
        UserFactory,
        square,
    )
    from locus.directory.services import organisation_list_in_place
    from locus.reporting.models import Report

    network = NetworkFactory(slug="bench-net", name="Bench", country="GB")
    place = PlaceFactory(slug="benchton", name="Benchton", country="GB", network=network)
    organisation = OrganisationFactory(name="Benchton Council")
    with place_scope(place):
        organisation_list_in_place(organisation=organisation, place=place, manages_place=True)
        areas = [
            AreaFactory(place=place, name=f"Ward {i}", code=f"E05{i:06d}", geometry=square(0, i))
            for i in range(30)
        ]
        template = Report.objects.create(
            place=place,
            reference="TEMPLATE0",
            followup_code_hash="0" * 64,
            taxonomy_version="2026.1",
            language="en",
            incident_type="threat",
            bias=["antisemitism"],
            reporter_role="victim",
            area=areas[0],
        )
    analyst = UserFactory(email="analyst@benchton.test")
    MembershipFactory(user=analyst, organisation=organisation, role=Role.ANALYST)

    columns = [
        f.column
        for f in Report._meta.concrete_fields
        if f.column
        not in (
            "id",
            "reference",
            "submitted_at",
            "occurred_on",
            "area_id",
            "incident_type",
            "bias",
            "content_key",
        )
    ]
    listed = ", ".join(columns)
    first_area = areas[0].pk
    if connection.vendor == "sqlite":
        varied = (
            "'B' || n, datetime('2022-01-01', '+' || (n %% 1400) || ' days', '+' || (n %% 86400)"
            " || ' seconds'), date('2022-01-01', '+' || (n %% 1400) || ' days'),"
            f" {first_area} + (n %% 30),"
            " CASE n %% 4 WHEN 0 THEN 'threat' WHEN 1 THEN 'assault' WHEN 2 THEN"
            " 'online_content' ELSE 'abusive_behaviour' END,"
            ' CASE n %% 3 WHEN 0 THEN \'["antisemitism"]\' WHEN 1 THEN \'["anti_muslim",'
            ' "gender"]\' ELSE \'["disability"]\' END,'
            " CASE WHEN n %% 10 = 0 THEN 'k' || (n %% 1000) ELSE '' END"
        )
    else:
        varied = (
            "'B' || n, timestamp with time zone '2022-01-01' + (n %% 1400) * interval '1 day'"
            " + (n %% 86400) * interval '1 second',"
            " date '2022-01-01' + (n %% 1400)::int, "
            f" {first_area} + (n %% 30),"
            " CASE n %% 4 WHEN 0 THEN 'threat' WHEN 1 THEN 'assault' WHEN 2 THEN"
            " 'online_content' ELSE 'abusive_behaviour' END,"
            ' (CASE n %% 3 WHEN 0 THEN \'["antisemitism"]\' WHEN 1 THEN \'["anti_muslim",'
            ' "gender"]\' ELSE \'["disability"]\' END)::jsonb,'
            " CASE WHEN n %% 10 = 0 THEN 'k' || (n %% 1000) ELSE '' END"
        )
    sql = (
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s) "
        f"INSERT INTO reporting_report (reference, submitted_at, occurred_on, area_id, "
        f"incident_type, bias, content_key, {listed}) "
        f"SELECT {varied}, {listed} FROM seq, reporting_report t WHERE t.id = %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [rows - 1, template.pk])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reporting_report")
    return place, analyst


def run_view(place, analyst, end=END):
    """The real view through Django's request handling, consumed as a server would."""
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(analyst)
    sink = Sink()
    url = reverse("insights_data:export_records", args=[place.slug])
    started = time.perf_counter()
    response = client.get(url, {"start": START.isoformat(), "end": end.isoformat()})
    assert response.status_code == 200, response.status_code
    lines = 0
    for chunk in response.streaming_content:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        lines += text.count("\n")
        sink.write(text)
    return time.perf_counter() - started, lines - 1, sink.bytes


def run_baseline(place):
    """The same rows with csv.writer from a raw cursor: no ORM, no view, no formatting but
    what csv does."""
    from django.db import connection, transaction

    from locus.insights.exports import RECORD_HEADER

    sink = Sink()
    writer = csv.writer(sink, lineterminator="\n")
    started = time.perf_counter()
    writer.writerow(RECORD_HEADER)
    sql = (
        "SELECT r.id, r.submitted_at, r.occurred_on, a.code, r.incident_type, r.bias,"
        " r.setting, r.platform, r.content_key, r.reporter_role, r.taxonomy_version"
        " FROM reporting_report r LEFT JOIN places_area a ON a.id = r.area_id"
        " WHERE r.place_id = %s AND r.submitted_at >= %s AND r.submitted_at < %s"
        " ORDER BY r.submitted_at, r.id"
    )
    count = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            cursor = connection.connection.cursor(name="bench_export")  # server-side
            cursor.itersize = 2000
        else:
            cursor = connection.cursor()
        cursor.execute(sql, [place.pk, "2020-01-01", "2030-01-01"])
        while batch := cursor.fetchmany(2000):
            writer.writerows(batch)
            count += len(batch)
        cursor.close()
    return time.perf_counter() - started, count, sink.bytes


def main():
    temp = tempfile.mkdtemp(prefix="locus-bench-export-")
    try:
        setup_django(temp)
        from django.db import connection

        made = time.perf_counter()
        place, analyst = make_place_and_rows(ROWS)
        print(
            f"export: {ROWS:,} reports on {connection.vendor} "
            f"(made in {time.perf_counter() - made:.1f} s)",
            flush=True,
        )
        from locus.core.tenancy import place_scope
        from locus.reporting.models import Report

        with place_scope(place):
            first_quarter = (
                Report.objects.order_by("submitted_at", "id")
                .values_list("submitted_at", flat=True)[ROWS // 4 - 1]
                .date()
            )

        seconds, count, size = run_baseline(place)
        baseline_rate = count / seconds
        print(
            f"  baseline (csv.writer, raw cursor): {count:,} rows, {size / 2**20:.0f} MB, "
            f"{seconds:.1f} s, {baseline_rate:,.0f} rows/s",
            flush=True,
        )

        run_view(place, analyst, end=START)  # warm-up: imports, URL resolver, session
        with RssSampler() as quarter:
            _seconds, q_count, _size = run_view(place, analyst, end=first_quarter)
        with RssSampler() as full:
            seconds, count, size = run_view(place, analyst)
        rate = count / seconds
        print(
            f"  view (StreamingHttpResponse, iterator()): {count:,} rows, "
            f"{size / 2**20:.0f} MB, {seconds:.1f} s, {rate:,.0f} rows/s",
            flush=True,
        )
        ratio = rate / baseline_rate
        print(
            f"  ratio of rows/s: {ratio:.2f} (goal ≥ {GOAL_RATIO}) "
            f"{'PASS' if ratio >= GOAL_RATIO else 'FAIL'}"
        )
        flat = full.growth_mb <= quarter.growth_mb + MEMORY_ALLOWANCE_MB
        print(
            f"  memory: resident growth {quarter.growth_mb:.1f} MB for {q_count:,} rows, "
            f"{full.growth_mb:.1f} MB for {count:,} rows (flat: the full export grows no more "
            f"than a quarter + {MEMORY_ALLOWANCE_MB:.0f} MB) {'PASS' if flat else 'FAIL'}"
        )
        assert count == ROWS
    finally:
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
