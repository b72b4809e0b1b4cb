"""The roll-up counts what the raw reports say, however it was brought up to date."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus.cases.choices import CaseEventKind, Verification
from locus.cases.models import CaseEvent
from locus.insights import rollups
from locus.insights.models import Basis, Grain, PeriodCount, RollupState
from locus.insights.rollups import (
    add_months,
    month_start,
    period_range,
    report_cells,
    rollup_rebuild,
    rollup_refresh,
    week_start,
)
from locus.reporting.taxonomy import CURRENT_VERSION

pytestmark = pytest.mark.django_db

from .helpers import add_case, add_report  # noqa: E402

MONDAY = date(2026, 2, 16)


def _table(place):
    return sorted(
        PeriodCount.objects.filter(place=place).values_list(
            "grain",
            "basis",
            "period",
            "area_id",
            "bias",
            "incident_type",
            "setting",
            "incidents",
            "reports",
        ),
        key=lambda row: tuple(-1 if v is None else v for v in row),
    )


def _count(place, **filters):
    defaults = {"grain": Grain.WEEK, "basis": Basis.PERCEIVED, "bias": "", "incident_type": ""}
    defaults.update({"setting": ""} | filters)
    rows = PeriodCount.objects.filter(place=place, **defaults)
    return sum(r.incidents for r in rows), sum(r.reports for r in rows)


def test_periods():
    assert week_start(date(2026, 2, 21)) == date(2026, 2, 16)
    assert month_start(date(2026, 2, 21)) == date(2026, 2, 1)
    assert add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert period_range(Grain.MONTH, date(2025, 11, 1), date(2026, 2, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]


def test_report_cells_follow_the_taxonomy():
    cells = report_cells("", "abusive_behaviour", ("anti_black",), "street")
    biases = {b for b, _t, _s in cells}
    # A sub-value counts under its group too, and in "every bias".
    assert biases == {"", "anti_black", "racism_xenophobia"}
    assert {t for _b, t, _s in cells} == {"", "abusive_behaviour"}
    assert {s for _b, _t, s in cells} == {"", "street"}
    # Suspicious activity never counts as hate, whatever bias is given.
    suspicious = report_cells("", "suspicious_activity", ("antisemitism",), "street")
    assert {t for _b, t, _s in suspicious} == {"suspicious_activity"}
    # Extremist content joins the hate counts only with a real bias.
    assert "" not in {t for _b, t, _s in report_cells("", "terrorist_extremist_content", (), "")}
    assert "" in {
        t for _b, t, _s in report_cells("", "terrorist_extremist_content", ("anti_muslim",), "")
    }
    assert "" not in {
        t for _b, t, _s in report_cells("", "terrorist_extremist_content", ("not_sure",), "")
    }


def test_mass_reports_of_one_url_are_one_incident(world, in_place):
    place, area = world.a.place, world.a.areas[0]
    with in_place(place):
        for i in range(30):
            add_report(
                place,
                MONDAY + timedelta(days=i % 10),
                area=area,
                incident_type="online_content",
                bias=("antisemitism",),
                setting="online",
                url=f"https://x.com/someone/status/1?utm_source={i}",
            )
        add_report(place, MONDAY, area=area)
        rollup_rebuild(place=place)
        incidents, reports = _count(place, grain=Grain.MONTH)
    assert (incidents, reports) == (2, 31)


def test_suspicious_activity_stays_out_of_hate_counts(world, in_place):
    place = world.a.place
    with in_place(place):
        add_report(place, MONDAY, incident_type="suspicious_activity", bias=("antisemitism",))
        add_report(place, MONDAY, incident_type="threat", bias=("antisemitism",))
        rollup_rebuild(place=place)
        assert _count(place) == (1, 1)
        assert _count(place, incident_type="suspicious_activity") == (1, 1)
        assert _count(place, bias="antisemitism") == (1, 1)


def test_verified_counts_use_the_staff_classification(world, in_place):
    place, org = world.a.place, world.a.organisation
    with in_place(place):
        verified = add_report(place, MONDAY, incident_type="abusive_behaviour", bias=("gender",))
        add_case(verified, org, verified_incident_type="assault", verified_bias=["disability"])
        unverified = add_report(place, MONDAY)
        add_case(unverified, org, verification=Verification.NOT_HATE_RELATED)
        add_report(place, MONDAY)
        rollup_rebuild(place=place)
        assert _count(place) == (3, 3)
        assert _count(place, basis=Basis.VERIFIED) == (1, 1)
        assert _count(place, basis=Basis.VERIFIED, incident_type="assault") == (1, 1)
        assert _count(place, basis=Basis.VERIFIED, bias="disability") == (1, 1)
        assert _count(place, basis=Basis.VERIFIED, bias="gender") == (0, 0)


def test_reports_of_every_taxonomy_version_count_together(world, in_place):
    """2026.2 reworded labels only: a 2026.1 report counts in the same cells."""
    place = world.a.place
    with in_place(place):
        add_report(place, MONDAY, bias=("anti_black",), taxonomy_version="2026.1")
        add_report(place, MONDAY, bias=("anti_black",), taxonomy_version=CURRENT_VERSION)
        add_report(place, MONDAY, incident_type="suspicious_activity", taxonomy_version="2026.1")
        rollup_rebuild(place=place)
        assert CURRENT_VERSION != "2026.1"
        assert _count(place) == (2, 2)
        assert _count(place, bias="racism_xenophobia") == (2, 2)
        assert _count(place, incident_type="suspicious_activity") == (1, 1)


def test_reports_without_a_date_count_on_the_day_they_arrived(world, in_place):
    place = world.a.place
    with in_place(place):
        add_report(place, MONDAY, occurred=False)
        rollup_rebuild(place=place)
        assert PeriodCount.objects.filter(place=place, grain=Grain.WEEK, period=MONDAY).exists()


def test_refresh_is_incremental_and_matches_a_rebuild(world, in_place, monkeypatch):
    monkeypatch.setattr(rollups, "_overlap", lambda: 0)
    place, area = world.a.place, world.a.areas[0]
    with in_place(place):
        for i in range(10):
            add_report(place, MONDAY - timedelta(weeks=i), area=area)
        assert rollup_refresh(place=place)["rebuilt"] is True
        assert rollup_refresh(place=place) is None  # nothing changed: nothing done
        # A new report dirties only its week and month.
        add_report(place, MONDAY, area=area, bias=("antisemitism",))
        done = rollup_refresh(place=place)
        assert done == {"rebuilt": False, "rows": None, "weeks": 1, "months": 1}
        incremental = _table(place)
        rollup_rebuild(place=place)
        assert _table(place) == incremental


def test_an_earlier_report_of_known_content_moves_the_incident(world, in_place):
    place = world.a.place
    url = "https://x.com/someone/status/77"
    with in_place(place):
        add_report(place, MONDAY, url=url, incident_type="online_content", setting="online")
        rollup_refresh(place=place)
        # A report of the same post, three weeks earlier: the incident moves to that week.
        add_report(
            place,
            MONDAY - timedelta(weeks=3),
            url=url,
            incident_type="online_content",
            setting="online",
        )
        rollup_refresh(place=place)
        assert _count(place, period=MONDAY) == (0, 1)
        assert _count(place, period=MONDAY - timedelta(weeks=3)) == (1, 1)
        incremental = _table(place)
        rollup_rebuild(place=place)
        assert _table(place) == incremental


def test_a_classification_dirties_its_report(world, in_place):
    place, org = world.a.place, world.a.organisation
    with in_place(place):
        report = add_report(place, MONDAY)
        case = add_case(report, org, verification=Verification.UNVERIFIED)
        rollup_refresh(place=place)
        assert _count(place, basis=Basis.VERIFIED) == (0, 0)
        case.verification = Verification.VERIFIED
        case.save()
        CaseEvent.objects.create(place=place, case=case, kind=CaseEventKind.CLASSIFIED)
        rollup_refresh(place=place)
        assert _count(place, basis=Basis.VERIFIED) == (1, 1)


def test_places_are_kept_apart(world, in_place):
    with in_place(world.a.place):
        add_report(world.a.place, MONDAY)
        rollup_refresh(place=world.a.place)
    with in_place(world.b.place):
        rollup_refresh(place=world.b.place)
        assert _count(world.b.place) == (0, 0)
        assert RollupState.objects.filter(place=world.b.place).count() == 1


REPORT = st.fixed_dictionaries(
    {
        "days": st.integers(0, 120),
        "area": st.sampled_from([None, 0, 1]),
        "incident_type": st.sampled_from(
            [
                "abusive_behaviour",
                "threat",
                "online_content",
                "suspicious_activity",
                "disinformation",
            ]
        ),
        "bias": st.lists(
            st.sampled_from(["anti_black", "antisemitism", "not_sure", "disability"]),
            max_size=2,
            unique=True,
        ),
        "setting": st.sampled_from(["", "street", "online"]),
        "url": st.sampled_from(["", "", "", "https://x.com/a/1", "https://x.com/b/2"]),
        "verify": st.booleans(),
    }
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(st.lists(REPORT, min_size=1, max_size=6), min_size=1, max_size=3))
def test_incremental_refresh_equals_rebuild_and_brute_force(world, in_place, batches):
    """Whatever arrives in whatever order: refreshing after each batch gives the same roll-up
    as a rebuild, and the hate incidents per month are what a direct count says."""
    from locus.reporting.taxonomy import taxonomy

    place, org = world.a.place, world.a.organisation
    tax = taxonomy()
    start = date(2025, 10, 1)
    specs = []
    with in_place(place):
        PeriodCount.objects.filter(place=place).delete()
        RollupState.objects.filter(place=place).delete()
        from locus.reporting.models import Report

        Report.objects.filter(place=place).delete()
        for batch in batches:
            for spec in batch:
                day = start + timedelta(days=spec["days"])
                report = add_report(
                    place,
                    day,
                    area=world.a.areas[spec["area"]] if spec["area"] is not None else None,
                    incident_type=spec["incident_type"],
                    bias=spec["bias"],
                    setting=spec["setting"],
                    url=spec["url"],
                )
                if spec["verify"]:
                    add_case(report, org)
                specs.append((report.pk, day, spec))
            rollup_refresh(place=place)
        incremental = _table(place)
        rollup_rebuild(place=place)
        assert _table(place) == incremental

        # Brute force: hate incidents per month, groups once at their first report.
        first = {}
        for pk, _day, spec in sorted(specs, key=lambda s: (s[1], s[0])):
            if spec["url"]:
                first.setdefault(spec["url"], pk)
        expected = {}
        for pk, day, spec in specs:
            if spec["url"] and first[spec["url"]] != pk:
                continue
            if tax.counts_as_hate(spec["incident_type"], spec["bias"]):
                expected[month_start(day)] = expected.get(month_start(day), 0) + 1
        got = {}
        for row in PeriodCount.objects.filter(
            place=place,
            grain=Grain.MONTH,
            basis=Basis.PERCEIVED,
            bias="",
            incident_type="",
            setting="",
        ):
            if row.incidents:
                got[row.period] = got.get(row.period, 0) + row.incidents
        assert got == expected
        assert sum(
            PeriodCount.objects.filter(
                place=place, grain=Grain.WEEK, basis=Basis.PERCEIVED, bias="", setting=""
            )
            .exclude(incident_type="")
            .values_list("reports", flat=True)
        ) == len(specs)


def test_id_overlap_catches_late_commits(world, in_place, monkeypatch):
    """A report whose id is below the mark (committed late) is still counted."""
    monkeypatch.setattr(rollups, "_overlap", lambda: rollups.ID_OVERLAP)
    place = world.a.place
    with in_place(place):
        report = add_report(place, MONDAY)
        rollup_refresh(place=place)
        state = RollupState.objects.get(place=place)
        late = add_report(place, MONDAY - timedelta(weeks=5))
        state.report_mark = late.pk  # as if the refresh had read up to this id without it
        state.save()
        # Another new report triggers the refresh; the overlap re-reads the late one.
        add_report(place, MONDAY)
        rollup_refresh(place=place)
        assert _count(place, period=MONDAY - timedelta(weeks=5)) == (1, 1)
        assert report.pk < late.pk
    assert rollups.ID_OVERLAP >= 1


def test_the_command_refreshes_every_place_with_all(world):
    from django.core.management import call_command

    from locus.core.tenancy import place_scope

    for side in (world.a, world.b):
        with place_scope(side.place):
            add_report(side.place, MONDAY, area=side.areas[0])
    call_command("insights_rollup", "--all")
    for side in (world.a, world.b):
        with place_scope(side.place):
            assert _count(side.place) == (1, 1)


def test_counting_happens_before_the_write_transaction(world, in_place, monkeypatch):
    """A rebuild reads and counts every report of the place (minutes for a million): on SQLite
    a transaction holds the writers' queue, which every report submission waits for, so only
    the swap of the rows is in one — for a rebuild and for a refresh."""
    from django.db import connection

    depth = []

    def noting(step, function):
        def wrapper(*args, **kwargs):
            depth.append((step, len(connection.atomic_blocks)))
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(rollups, "_overlap", lambda: 0)
    monkeypatch.setattr(rollups, "_compute", noting("count", rollups._compute))
    monkeypatch.setattr(rollups, "_write", noting("write", rollups._write))
    place, area = world.a.place, world.a.areas[0]
    outside = len(connection.atomic_blocks)  # the test's own transaction
    with in_place(place):
        add_report(place, MONDAY, area=area)
        rollup_rebuild(place=place)
        add_report(place, MONDAY - timedelta(weeks=1), area=area)
        assert rollup_refresh(place=place)["weeks"] == 1
    assert depth == [("count", outside), ("write", outside + 1)] * 2


def test_a_refresh_that_another_one_overtook_counts_again(world, in_place, monkeypatch):
    """Counting runs outside the lock: when another refresh writes meanwhile (with newer
    reports), this one does not write its older counts over it but counts again."""
    monkeypatch.setattr(rollups, "_overlap", lambda: 0)
    place, area = world.a.place, world.a.areas[0]
    real = rollups._recompute
    overtaken = []

    def recompute(*args, **kwargs):
        counts = real(*args, **kwargs)
        if not overtaken:  # meanwhile another process adds a report and refreshes
            overtaken.append(add_report(place, MONDAY, area=area, bias=("antisemitism",)))
            rollup_refresh(place=place)
        return counts

    with in_place(place):
        add_report(place, MONDAY - timedelta(weeks=2), area=area)
        rollup_rebuild(place=place)
        add_report(place, MONDAY, area=area)
        monkeypatch.setattr(rollups, "_recompute", recompute)
        rollup_refresh(place=place)
        refreshed = _table(place)
        rollup_rebuild(place=place)
        assert refreshed == _table(place)
        assert _count(place, period=MONDAY) == (2, 2)
