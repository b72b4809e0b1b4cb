"""The dashboard's roll-up: incident and report counts per period × area × taxonomy cut.

Reading a year of reports on every dashboard request grows with the data; reading the roll-up
does not. The roll-up is **derived**: `rollup_rebuild` recomputes it from reports and cases,
and `rollup_refresh` keeps it current incrementally, recomputing only the *dirty* periods:

- the state row remembers the last report id and case event id it has read (`report_mark`,
  `event_mark`); two index-only `MAX(id)` reads tell whether anything is new;
- a new report dirties its week and month; a new case event that can change the verified
  figures (a case created, classified, merged or split) dirties its report's periods;
- a report of online content already reported dirties the periods of every report of that
  content, because the group's first report (where its one incident is counted) may move;
- the dirty periods are recomputed from the raw rows, then deleted and written again in one
  short transaction under a lock on the state row, which first checks that no other refresh
  moved the marks meanwhile (else it counts again), so two refreshes never double count. The
  reading and counting stay out of the transaction: on SQLite it holds the writers' queue,
  which every report submission waits for.

Nothing is added to the report submission: the refresh runs when the dashboard (page or API)
is read, and from the task worker (`tasks.refresh_rollup`). Reports erased or deleted after
they were counted leave the roll-up at the next full rebuild (`manage.py insights_rollup
--rebuild`, also a task), which an operator schedules nightly.

Which day a report counts on: the day it happened (`occurred_on`), else the day it was
received, in the place's time zone. Weeks start on Monday (ISO); months on the 1st.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import product
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from locus.cases.choices import CaseEventKind, Verification
from locus.cases.models import Case, CaseEvent
from locus.reporting.models import Report
from locus.reporting.taxonomy import UnknownCode, UnknownVersion, taxonomy

from .models import Basis, Grain, PeriodCount, RollupState

# Case events that can change what the verified figures count.
DIRTY_EVENTS = (
    CaseEventKind.CREATED,
    CaseEventKind.CLASSIFIED,
    CaseEventKind.MERGED,
    CaseEventKind.SPLIT,
)
# Ids are allocated before commit (PostgreSQL sequences): a report committed after a refresh
# may carry an id just below the mark. Every refresh re-reads this many ids below its marks.
# SQLite writes one transaction at a time, so ids commit in order there and nothing is re-read.
ID_OVERLAP = 200


def _overlap():
    return 0 if connection.vendor == "sqlite" else ID_OVERLAP


CHUNK = 2000


# --------------------------------------------------------------------------------------------
# Periods


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_start(grain: str, day: date) -> date:
    return week_start(day) if grain == Grain.WEEK else month_start(day)


def period_after(grain: str, period: date, n: int = 1) -> date:
    """The start of the period `n` periods after the one starting at `period`."""
    return period + timedelta(weeks=n) if grain == Grain.WEEK else add_months(period, n)


def period_range(grain: str, first: date, end: date) -> list[date]:
    """Period starts from `first` (a period start) up to, not including, `end`."""
    result, period = [], first
    while period < end:
        result.append(period)
        period = period_after(grain, period)
    return result


def report_day(occurred_on, submitted_at, tz) -> date:
    """The day a report counts on: when it happened, else when it arrived (place time)."""
    if occurred_on is not None:
        return occurred_on
    return timezone.localtime(submitted_at, tz).date()


def place_tz(place):
    try:
        return ZoneInfo(place.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


# --------------------------------------------------------------------------------------------
# The cells a report counts in


def _ancestors(tax, code):
    found = []
    value = tax.get("bias", code)
    while value is not None:
        found.append(value.code)
        value = tax.get("bias", value.parent) if value.parent else None
    return found


@lru_cache(maxsize=65536)
def report_cells(version, incident_type, biases: tuple, setting) -> tuple:
    """(bias, incident_type, setting) cells of the cube one report counts in (see
    PeriodCount): every bias it names with their parents, and "" (all); its own type, and ""
    (hate incidents) when the taxonomy counts it as hate; its setting, and "" (all)."""
    try:
        tax = taxonomy(version or None)
    except UnknownVersion:
        tax = taxonomy()
    try:
        hate = tax.counts_as_hate(incident_type, biases)
    except UnknownCode:
        hate = False
    bias_codes = {""}
    for code in biases:
        try:
            bias_codes.update(_ancestors(tax, code))
        except UnknownCode:
            bias_codes.add(code)
    types = {incident_type} | ({""} if hate else set())
    settings = {"", setting or ""}
    return tuple(product(sorted(bias_codes), sorted(types), sorted(settings)))


def _biases(value):
    if isinstance(value, list):
        return tuple(sorted(str(code) for code in value if code))
    return ()


# --------------------------------------------------------------------------------------------
# Reading reports and their verified classification


REPORT_FIELDS = (
    "id",
    "occurred_on",
    "submitted_at",
    "area_id",
    "bias",
    "incident_type",
    "setting",
    "content_key",
    "taxonomy_version",
)


def _verified(place, report_ids=None):
    """report id → (incident type, biases, version) as staff verified it: the first (lowest
    id) case, not merged into another, whose verification is "verified"; the reporter's own
    answer where staff left a field empty. `report_ids` None: every report of the place."""
    cases = Case.objects.filter(
        place=place, verification=Verification.VERIFIED, merged_into__isnull=True
    )
    fields = ("report_id", "id", "verified_incident_type", "verified_bias", "taxonomy_version")
    rows = []
    if report_ids is None:
        rows = list(cases.values_list(*fields).iterator(chunk_size=CHUNK))
    else:
        ids = sorted(report_ids)
        for start in range(0, len(ids), CHUNK):
            rows.extend(cases.filter(report_id__in=ids[start : start + CHUNK]).values_list(*fields))
    found = {}
    for report_id, _case_id, kind, bias, version in sorted(rows, key=lambda r: (r[0], r[1])):
        if report_id not in found:
            found[report_id] = (kind, _biases(bias) if bias else None, version)
    return found


def _day_filter(prefix, days_from, days_to):
    """Reports whose counting day may lie in [days_from, days_to): a coarse database filter
    (a day of slack for time zones), refined in Python with `report_day`. A report arrives on
    or after the day it happened, so the received time bounds both cases from below, which
    lets the database use its (place, submitted_at) index: recent periods read recent rows."""
    since = datetime.combine(days_from - timedelta(days=1), time.min, UTC)
    return Q(**{f"{prefix}submitted_at__gte": since}) & (
        Q(**{f"{prefix}occurred_on__gte": days_from, f"{prefix}occurred_on__lt": days_to})
        | Q(
            **{
                f"{prefix}occurred_on__isnull": True,
                f"{prefix}submitted_at__date__gte": days_from - timedelta(days=1),
                f"{prefix}submitted_at__date__lt": days_to + timedelta(days=1),
            }
        )
    )


def _spans(weeks, months):
    """Merged day ranges [from, to) covering the given weeks and months."""
    ranges = sorted(
        [(w, w + timedelta(days=7)) for w in weeks] + [(m, add_months(m, 1)) for m in months]
    )
    merged = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# --------------------------------------------------------------------------------------------
# Computing and writing periods


@lru_cache(maxsize=8192)
def _periods_of(day: date) -> tuple[date, date]:
    return week_start(day), month_start(day)


def _compute(place, reports, verified, heads, keep):
    """The roll-up rows of `reports` (tuples of REPORT_FIELDS) for the periods `keep(grain,
    period)` accepts. `heads`: content key → {basis: id of the report that carries the
    group's incident}.

    Two passes: reports are first counted by everything that decides their cells (periods,
    area, classification, whether they carry an incident), then each distinct key is expanded
    into its cells once: at scale many reports share a key."""
    tz = place_tz(place)
    keys = defaultdict(int)
    for rid, occurred, submitted, area, bias, kind, setting, key, version in reports:
        week, month = _periods_of(report_day(occurred, submitted, tz))
        biases = _biases(bias)
        keys[
            (
                Basis.PERCEIVED,
                week,
                month,
                area,
                version,
                kind,
                biases,
                setting or "",
                not key or heads.get(key, {}).get(Basis.PERCEIVED) == rid,
            )
        ] += 1
        if rid in verified:
            v_kind, v_bias, v_version = verified[rid]
            keys[
                (
                    Basis.VERIFIED,
                    week,
                    month,
                    area,
                    v_version or version,
                    v_kind or kind,
                    v_bias if v_bias is not None else biases,
                    setting or "",
                    not key or heads.get(key, {}).get(Basis.VERIFIED) == rid,
                )
            ] += 1
    counts = defaultdict(lambda: [0, 0])
    for (basis, week, month, area, version, kind, biases, setting, incident), n in keys.items():
        periods = [
            (grain, period)
            for grain, period in ((Grain.WEEK, week), (Grain.MONTH, month))
            if keep(grain, period)
        ]
        if not periods:
            continue
        for cell in report_cells(version, kind, biases, setting):
            for grain, period in periods:
                entry = counts[(grain, basis, period, area, *cell)]
                entry[1] += n
                if incident:
                    entry[0] += n
    return counts


def _write(place, counts):
    """Insert the rows with one prepared statement (the ORM's bulk_create builds SQL per row
    and is ten times slower here: a full rebuild writes hundreds of thousands of rows)."""
    table = PeriodCount._meta.db_table
    adapt = connection.ops.adapt_datefield_value
    sql = (
        f"INSERT INTO {table} (place_id, grain, basis, period, area_id, bias, incident_type, "  # noqa: S608
        "setting, incidents, reports) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    # In the order of the main index: B-tree inserts in key order touch few pages.
    rows = sorted(
        (place.pk, str(grain), str(basis), kind, setting, bias, adapt(period), area or 0, i, r)
        for (grain, basis, period, area, bias, kind, setting), (i, r) in counts.items()
    )
    rows = [
        (p, g, b, period, area or None, bias, kind, setting, i, r)
        for p, g, b, kind, setting, bias, period, area, i, r in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 10_000):
            cursor.executemany(sql, rows[start : start + 10_000])


def _group_heads(place, keys, verified, tz):
    """content key → {basis: id of the group's first report}: by day, then id; for the
    verified figures, the first verified report of the group."""
    members = defaultdict(list)
    keys = sorted(k for k in keys if k)
    for start in range(0, len(keys), CHUNK):
        for rid, occurred, submitted, key in Report.objects.filter(
            place=place, content_key__in=keys[start : start + CHUNK]
        ).values_list("id", "occurred_on", "submitted_at", "content_key"):
            members[key].append((report_day(occurred, submitted, tz), rid))
    unknown = {rid for rows in members.values() for _, rid in rows} - set(verified)
    more = _verified(place, unknown) if unknown else {}
    heads = {}
    for key, rows in members.items():
        rows.sort()
        head = {Basis.PERCEIVED: rows[0][1]}
        for _day, rid in rows:
            if rid in verified or rid in more:
                head[Basis.VERIFIED] = rid
                break
        heads[key] = head
    return heads, members


def _global_max(model):
    """The largest id of a table across places: an index-only read that says whether anything
    is new, whichever place it belongs to (the per-place read follows)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {model._meta.db_table}")  # noqa: S608 (no input)
        return cursor.fetchone()[0] or 0


def rollup_rebuild(*, place) -> int:
    """Recompute the whole roll-up of the place from its reports and cases. Returns the number
    of roll-up rows.

    Reading and counting (minutes for a million reports) happen before the write transaction,
    which on SQLite holds the writers' queue that every report submission waits for; only the
    swap (delete, insert, marks) is in it. Reports and events after the marks read first are
    counted again by the next refresh, which recomputes their periods from scratch."""
    report_mark, event_mark = _global_max(Report), _global_max(CaseEvent)
    tz = place_tz(place)
    verified = _verified(place)
    reports = list(
        Report.objects.filter(place=place).values_list(*REPORT_FIELDS).iterator(chunk_size=CHUNK)
    )
    members = defaultdict(list)
    for row in reports:
        if row[7]:
            members[row[7]].append((report_day(row[1], row[2], tz), row[0]))
    heads = {}
    for key, rows in members.items():
        rows.sort()
        head = {Basis.PERCEIVED: rows[0][1]}
        verified_rows = [rid for _day, rid in rows if rid in verified]
        if verified_rows:
            head[Basis.VERIFIED] = verified_rows[0]
        heads[key] = head
    counts = _compute(place, reports, verified, heads, lambda grain, period: True)
    del reports, members
    with transaction.atomic():
        state, _ = RollupState.objects.select_for_update().get_or_create(place=place)
        PeriodCount.objects.filter(place=place).delete()
        _write(place, counts)
        now = timezone.now()
        state.report_mark, state.event_mark = report_mark, event_mark
        state.built_at = state.refreshed_at = now
        state.save()
    return len(counts)


def rollup_is_current(place) -> bool:
    """True when nothing was added since the last refresh (no lock, three cheap reads)."""
    state = RollupState.objects.filter(place=place).first()
    if state is None or state.built_at is None:
        return False
    return _global_max(Report) <= state.report_mark and _global_max(CaseEvent) <= state.event_mark


# A refresh that finds another one (or a rebuild) wrote meanwhile starts again from its marks.
REFRESH_ATTEMPTS = 3


def _refresh(place) -> dict:
    """Recompute the dirty periods. Reading and counting happen before the write transaction
    (on SQLite it holds the writers' queue, which every report submission waits for); the
    transaction only swaps the periods and moves the marks, under a lock on the state row,
    after checking that no other refresh or rebuild moved them meanwhile — its periods may be
    newer than ours (then we start again from its marks), so two refreshes never write stale
    or double counts."""
    for _attempt in range(REFRESH_ATTEMPTS):
        state = RollupState.objects.filter(place=place).first()
        if state is None or state.built_at is None:
            rows = rollup_rebuild(place=place)
            return {"rebuilt": True, "rows": rows, "weeks": None, "months": None}
        seen = (state.report_mark, state.event_mark, state.built_at)
        report_mark, event_mark = _global_max(Report), _global_max(CaseEvent)
        weeks, months, tz = _dirty_periods(place, state, report_mark, event_mark)
        counts = _recompute(place, weeks, months, tz) if weeks or months else None
        with transaction.atomic():
            state = RollupState.objects.select_for_update().get(place=place)
            if (state.report_mark, state.event_mark, state.built_at) != seen:
                continue  # written meanwhile: count again from the new marks
            if counts is not None:
                _swap_periods(place, weeks, months, counts)
            state.report_mark = max(state.report_mark, report_mark)
            state.event_mark = max(state.event_mark, event_mark)
            state.refreshed_at = timezone.now()
            state.save(update_fields=["report_mark", "event_mark", "refreshed_at"])
            return {"rebuilt": False, "rows": None, "weeks": len(weeks), "months": len(months)}
    # Others kept refreshing meanwhile: what is left is newer than their marks, and the next
    # refresh counts it.
    return {"rebuilt": False, "rows": None, "weeks": 0, "months": 0}


def _dirty_periods(place, state, report_mark, event_mark):
    """The weeks and months that reports and case events after the state's marks (up to
    `report_mark`, `event_mark`) make dirty, and the place's time zone."""
    tz = place_tz(place)
    days, touched = set(), {}  # touched: report id → content key, for reports of content
    for rid, occurred, submitted, key in Report.objects.filter(
        place=place, id__gt=state.report_mark - _overlap(), id__lte=report_mark
    ).values_list("id", "occurred_on", "submitted_at", "content_key"):
        days.add(report_day(occurred, submitted, tz))
        if key:
            touched[rid] = key
    for rid, occurred, submitted, key in CaseEvent.objects.filter(
        place=place,
        id__gt=state.event_mark - _overlap(),
        id__lte=event_mark,
        kind__in=DIRTY_EVENTS,
    ).values_list(
        "case__report_id",
        "case__report__occurred_on",
        "case__report__submitted_at",
        "case__report__content_key",
    ):
        if submitted is None:
            continue
        days.add(report_day(occurred, submitted, tz))
        if key:
            touched[rid] = key
    days |= _moved_heads(place, touched, tz)
    return {week_start(day) for day in days}, {month_start(day) for day in days}, tz


def _moved_heads(place, touched, tz) -> set:
    """Days of group heads that may lose their group's incident: for each content key touched
    (a new report, or a report whose case changed), the first report among the untouched ones
    — and the first verified one — when a touched report comes before it (it may take the
    incident over) or is the head itself (it may give it up)."""
    if not touched:
        return set()
    keys = sorted(set(touched.values()))
    members = defaultdict(list)
    for start in range(0, len(keys), CHUNK):
        for rid, occurred, submitted, key in Report.objects.filter(
            place=place, content_key__in=keys[start : start + CHUNK]
        ).values_list("id", "occurred_on", "submitted_at", "content_key"):
            members[key].append((report_day(occurred, submitted, tz), rid))
    verified = _verified(place, {rid for rows in members.values() for _day, rid in rows})
    days = set()
    for rows in members.values():
        rows.sort()
        mine = [row for row in rows if row[1] in touched]
        others = [row for row in rows if row[1] not in touched]
        if not mine:
            continue
        earliest_touched = mine[0]
        for candidates in (others, [row for row in others if row[1] in verified]):
            if candidates and earliest_touched < candidates[0]:
                days.add(candidates[0][0])
    return days


def _recompute(place, weeks, months, tz):
    """The roll-up rows of the given weeks and months, recomputed from the raw rows (read
    only: `_swap_periods` writes them)."""
    condition = Q(pk__in=[])
    reports = []
    for start, end in _spans(weeks, months):
        condition |= _day_filter("", start, end)
    reports = list(
        Report.objects.filter(condition, place=place)
        .values_list(*REPORT_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    verified = _verified(place, {row[0] for row in reports})
    heads, _members = _group_heads(place, {row[7] for row in reports if row[7]}, verified, tz)
    counts = _compute(
        place,
        reports,
        verified,
        heads,
        lambda grain, period: period in (weeks if grain == Grain.WEEK else months),
    )
    return counts


def _swap_periods(place, weeks, months, counts):
    """Replace the rows of the given weeks and months by `counts` (in the caller's
    transaction)."""
    PeriodCount.objects.filter(
        Q(grain=Grain.WEEK, period__in=sorted(weeks))
        | Q(grain=Grain.MONTH, period__in=sorted(months)),
        place=place,
    ).delete()
    _write(place, counts)


def rollup_refresh(*, place) -> dict | None:
    """Bring the place's roll-up up to date: nothing to do (None) after three cheap reads when
    nothing changed; otherwise the dirty periods are recomputed (or everything, the first
    time). Returns what was done."""
    if rollup_is_current(place):
        return None
    return _refresh(place)
