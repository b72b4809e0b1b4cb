"""Public open data: incidents, categories, the published tables, the recovery attack on the
downloaded CSV, the pages, the downloads and the API."""

import json
from datetime import date

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus.core.tenancy import place_scope
from locus.insights import open_data
from locus.insights.disclosure import default_min_width
from locus.insights.open_data import (
    NO_AREA,
    SEVERAL,
    OpenData,
    Row,
    incident_list,
    protect_months,
    public_category,
)

from .open_data_helpers import attack_month, by_month, make_many, make_report, parse_csv

MARCH = date(2025, 3, 1)
TODAY = date(2025, 5, 20)


def city_month(world):
    """One month of a city with small and large figures."""
    place = world.a.place
    north, south = world.a.areas
    day = date(2025, 3, 10)
    make_many(
        place,
        [
            (day, north, "threat", ["antisemitism"], 12),
            (day, north, "abusive_behaviour", ["anti_muslim"], 3),
            (day, north, "assault", ["anti_roma_sinti"], 15),
            (day, south, "threat", ["antisemitism"], 20),
            (day, south, "abusive_behaviour", ["anti_muslim"], 11),
            (day, south, "threat", ["racism_xenophobia"], 2),
            (day, south, "threat", ["antisemitism", "anti_muslim"], 1),
            (day, None, "online_content", ["sexual_orientation"], 14),
            # not hate: never counted
            (day, north, "suspicious_activity", ["anti_muslim"], 30),
            (day, north, "disinformation", ["anti_muslim"], 30),
        ],
    )
    return place


# --- incidents and categories ----------------------------------------------------------------


def test_public_category_is_one_per_incident():
    assert public_category(["anti_roma_sinti"]) == "racism_xenophobia"
    assert public_category(["anti_roma_sinti", "racism_xenophobia"]) == "racism_xenophobia"
    assert public_category(["antisemitism", "anti_muslim"]) == SEVERAL
    assert public_category(["not_sure"]) == "not_sure"
    assert public_category(["not_sure", "disability"]) == "disability"


def test_reports_of_the_same_content_count_once(world):
    place = world.a.place
    for i in range(40):
        make_report(
            place,
            day=date(2025, 3, 1 + i % 20),
            kind="online_content",
            bias=["antisemitism"] if i else ["anti_muslim"],
            content_key="same-post",
        )
    with place_scope(place):
        incidents = incident_list(place=place)
    assert len(incidents) == 1
    (incident,) = incidents
    assert incident.reports == 40
    assert incident.day == date(2025, 3, 1)
    assert set(incident.bias) == {"antisemitism", "anti_muslim"}


def test_staff_verdicts_are_used(world):
    from locus.cases.models import Case
    from locus.cases.tests.factories import another_team_case

    place = world.a.place
    not_hate = another_team_case(world.a)
    verified = another_team_case(world.a)
    with place_scope(place):
        Case.objects.filter(pk=not_hate.pk).update(verification="not_hate_related")
        Case.objects.filter(pk=verified.pk).update(
            verification="verified", verified_bias=["disability"], verified_incident_type="assault"
        )
        incidents = incident_list(place=place)
    # the team's first report (unverified, as perceived), the verified one; not the other
    assert sorted((i.incident_type, i.bias) for i in incidents) == [
        ("assault", ("disability",)),
        ("threat", ("anti_roma_sinti",)),
    ]


def test_merged_duplicates_count_once(world):
    from locus.cases.tests.factories import merged_team_case

    merged_team_case(world.a)
    with place_scope(world.a.place):
        incidents = incident_list(place=world.a.place)
    assert len(incidents) == 1
    assert incidents[0].reports == 2


# --- the published tables --------------------------------------------------------------------


def test_published_figures(world):
    place = city_month(world)
    north, south = world.a.areas
    with place_scope(place):
        data = open_data.open_data(place=place, today=TODAY)
    assert [m.label for m in data.months] == ["2025-03", "2025-04"]
    march = data.month("2025-03").table
    assert march.values[(str(north.pk), "antisemitism")] == 12
    assert march.values[(str(south.pk), SEVERAL)] == 1
    assert march.values[(NO_AREA, "sexual_orientation")] == 14
    assert march.values[(None, None)] == 12 + 3 + 15 + 20 + 11 + 2 + 1 + 14  # no non-hate
    # small figures are hidden, zero is shown
    assert march.status[(str(north.pk), "anti_muslim")] == "primary"
    assert march.status[(str(south.pk), SEVERAL)] == "primary"
    assert march.status[(str(north.pk), "disability")] == "published"
    assert march.fully_protected


def test_recovery_attack_on_the_downloaded_csv_fails(world, client):
    """Anyone can download the CSV; from it alone, no "fewer than 10" figure can be narrowed
    below the documented width (three possible values), in any month."""
    city_month(world)
    response = client.get(reverse("insights_data:open_data_csv", args=[world.a.place.slug]))
    assert response.status_code == 200
    records = parse_csv(response.content.decode())
    small = [r for r in records if r["status"] == "fewer_than_threshold"]
    assert small and all(r["count"] == "" and r["display"] == "fewer than 10" for r in small)
    assert any(r["status"] == "hidden_to_protect" for r in records)
    attacked = 0
    for month, rows in by_month(records).items():
        for key, (low, high) in attack_month(rows, 10).items():
            attacked += 1
            assert high - low >= default_min_width(10), (month, key, low, high)
    assert attacked == len(small)


def test_hiding_only_small_figures_would_not_be_enough(world, client):
    """The attack is real: with the secondary suppression undone, it pins figures."""
    city_month(world)
    response = client.get(reverse("insights_data:open_data_csv", args=[world.a.place.slug]))
    records = parse_csv(response.content.decode())
    place = world.a.place
    with place_scope(place):
        data = open_data.open_data(place=place)
    true_values = {}
    for month in data.months:
        for (row, column), value in month.table.values.items():
            true_values[(month.label, row, column)] = value
    naive = []
    for record in records:
        record = dict(record)
        if record["status"] == "hidden_to_protect":
            row = None if record["area_code"] == "all" else record["area_code"]
            if row not in (None, NO_AREA):
                row = str(next(a.pk for a in world.a.areas if (a.code or str(a.pk)) == row))
            column = None if record["category_code"] == "all" else record["category_code"]
            record["status"] = "published"
            record["count"] = str(true_values[(record["month"], row, column)])
        naive.append(record)
    widths = [
        high - low
        for rows in by_month(naive).values()
        for (low, high) in attack_month(rows, 10).values()
    ]
    assert min(widths) < default_min_width(10)


def test_publication_delay(world):
    place = city_month(world)
    make_report(place, day=date(2025, 5, 2), area=world.a.areas[0])
    with place_scope(place):
        assert open_data.open_data(place=place, today=date(2025, 5, 31)).latest_month == date(
            2025, 4, 1
        )
        place.publication_delay_days = 45
        data = open_data.open_data(place=place, today=date(2025, 5, 31))
    assert data.latest_month == date(2025, 3, 1)  # April + 45 days is mid-June
    assert [m.label for m in data.months] == ["2025-03"]
    with place_scope(place):
        data = open_data.open_data(place=place, today=date(2025, 4, 10))
    assert data.months == []  # March + 45 days is mid-May


def test_a_month_that_cannot_be_protected_is_withheld():
    # One row of two small cells under a small total: the labels alone confine each cell.
    counts = {("a", MARCH, "x"): 1, ("a", MARCH, "y"): 1}
    (month,) = protect_months(
        counts, rows=["a"], columns=["x", "y"], months=[MARCH], threshold=3, cache_prefix="t"
    )
    assert month.withheld
    data = OpenData("T", 3, 0, MARCH, [Row("a", "A")], [("x", "X"), ("y", "Y")], [month])
    records = parse_csv(open_data.csv_text(data))
    assert {r["status"] for r in records} == {"withheld"}
    assert all(r["count"] == "" for r in records)


# --- property: every published table resists the attack ---------------------------------------

ROWS = ["r1", "r2", "r3"]
COLUMNS = ["c1", "c2", "c3", "c4"]
small_counts = st.one_of(st.just(0), st.integers(1, 12), st.integers(10, 40))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    threshold=st.sampled_from([3, 5, 10]),
    cells=st.lists(small_counts, min_size=24, max_size=24),
)
def test_published_tables_resist_recovery(threshold, cells):
    months = [MARCH, date(2025, 4, 1)]
    keys = [(r, m, c) for m in months for r in ROWS for c in COLUMNS]
    counts = {key: n for key, n in zip(keys, cells, strict=True) if n}
    tables = protect_months(
        counts, rows=ROWS, columns=COLUMNS, months=months, threshold=threshold, cache_prefix="p"
    )
    data = OpenData(
        "T", threshold, 0, months[-1], [Row(r, r) for r in ROWS], [(c, c) for c in COLUMNS], tables
    )
    records = parse_csv(open_data.csv_text(data))
    width = default_min_width(threshold)
    merged = {t.label: t.merged for t in tables}

    def true_value(month, row, column):
        day = date.fromisoformat(month + "-01")
        columns = merged[month] if column == "combined" else [column]
        if column == "all":
            columns = COLUMNS
        return sum(
            counts.get((r, day, c), 0) for r in (ROWS if row == "all" else [row]) for c in columns
        )

    for month, rows in by_month(records).items():
        if rows[0]["status"] == "withheld":
            assert {r["status"] for r in rows} == {"withheld"}
            continue
        for record in rows:
            true = true_value(month, record["area_code"], record["category_code"])
            if 0 < true < threshold:
                assert record["status"] == "fewer_than_threshold"
            if record["status"] == "published":
                assert int(record["count"]) == true
        for (row, column), (low, high) in attack_month(rows, threshold).items():
            true = true_value(month, row, column)
            assert low <= true <= high
            assert high - low >= width


# --- pages, downloads, API -------------------------------------------------------------------


def test_public_page_without_login(world, client):
    city_month(world)
    url = reverse("insights_data:open_data", args=[world.a.place.slug])
    response = client.get(url)  # the latest month published, empty here
    assert response.status_code == 200
    assert "CC BY 4.0" in response.content.decode()
    response = client.get(url, {"month": "2025-03"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "fewer than 10" in html and "hidden to protect other figures" in html
    assert 'scope="row"' in html and "<caption" in html and "March 2025" in html
    assert '<option value="2025-03" selected>March 2025</option>' in html
    assert "<script>" not in html and "style=" not in html
    client.cookies["django_language"] = "fr"  # the month is named, not "2025-03"
    html = client.get(url, {"month": "2025-03"}).content.decode()
    assert '<option value="2025-03" selected>mars 2025</option>' in html
    assert "Incidents de haine — Alphaville, mars 2025, par" in html


def test_bad_month_is_refused_next_to_the_field(world, client):
    city_month(world)
    url = reverse("insights_data:open_data", args=[world.a.place.slug])
    response = client.get(url, {"month": "1999-01"})
    assert response.status_code == 422
    assert 'class="errorlist"' in response.content.decode()


def test_open_data_of_an_unknown_place_is_404(db, client):
    response = client.get("/nowhere/open-data/")
    assert response.status_code == 404


def test_geojson(world, client):
    city_month(world)
    response = client.get(reverse("insights_data:open_data_geojson", args=[world.a.place.slug]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 2
    north = next(f for f in data["features"] if f["properties"]["area"].endswith("North"))
    assert north["geometry"]["type"] in ("Polygon", "MultiPolygon")
    march = north["properties"]["months"]["2025-03"]
    assert march["antisemitism"] == {"count": 12, "status": "published"}
    assert march["anti_muslim"] == {"count": None, "status": "fewer_than_threshold"}
    assert data["area_not_given"]["2025-03"]["sexual_orientation"]["count"] == 14


def test_nothing_of_another_place(world, client):
    city_month(world)
    response = client.get(reverse("insights_data:open_data_csv", args=[world.b.place.slug]))
    assert response.status_code == 200
    assert parse_csv(response.content.decode()) == []


def test_api(world, client):
    city_month(world)
    url = f"/api/v1/places/{world.a.place.slug}/open-data"
    response = client.get(url, {"month": "2025-03"})
    assert response.status_code == 200
    data = response.json()
    assert data["threshold"] == 10
    (month,) = data["months"]
    total = month["rows"][-1]
    assert total["area_code"] == "all"
    assert total["total"] == {"category": "all", "count": 78, "status": "published"}
    response = client.get(url, {"month": "2025-13"})
    assert response.status_code == 422 and "month" in response.json()["fields"]
    assert client.get("/api/v1/places/nowhere/open-data").status_code == 404


@pytest.mark.parametrize("scale", [1, 4])
def test_query_budget_does_not_grow(world, client, django_assert_max_num_queries, scale):
    place = world.a.place
    north, south = world.a.areas
    make_many(
        place,
        [
            (date(2025, m, 3), area, "threat", [bias], 4 * scale)
            for m in (1, 2, 3)
            for area in (north, south, None)
            for bias in ("antisemitism", "disability")
        ],
    )
    url = reverse("insights_data:open_data", args=[place.slug])
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200


def test_a_rare_category_is_combined_rather_than_the_month_withheld():
    """Nine areas with one incident each of a rare category (total 9): with zeros published,
    "fewer than 10" under a total of "fewer than 10" pins every one at 1. The month is
    published with that category combined with the next smallest one."""
    rows = [f"a{i}" for i in range(12)]
    counts = {(r, MARCH, "common"): 12 + i for i, r in enumerate(rows)}
    counts |= {(r, MARCH, "rare"): 1 for r in rows[:9]}
    counts |= {(r, MARCH, "small"): 2 for r in rows[3:6]}
    columns = ["common", "rare", "small", "empty"]
    (month,) = protect_months(
        counts, rows=rows, columns=columns, months=[MARCH], threshold=10, cache_prefix="r"
    )
    assert not month.withheld
    assert month.merged == ("rare", "small")
    data = OpenData(
        "T", 10, 0, MARCH, [Row(r, r) for r in rows], [(c, c.title()) for c in columns], [month]
    )
    assert [code for code, _l in data.columns_for(month)] == ["common", "empty", "combined"]
    assert data.columns_for(month)[-1][1] == "Combined: Rare, Small"
    records = parse_csv(open_data.csv_text(data))
    assert month.table.values[(None, "combined")] == 15
    intervals = attack_month(records, 10)
    assert intervals and all(high - low >= 2 for low, high in intervals.values())


def test_demo_loader_sets_a_delay_and_fills_the_cache(world):
    city_month(world)
    line = open_data.open_data_load_demo()
    assert line.startswith("Open data: ") and "withheld" in line
    world.a.place.refresh_from_db()
    assert world.a.place.publication_delay_days == 14


def test_area_names_cannot_start_a_formula_in_a_spreadsheet(world, client):
    north = world.a.areas[0]
    with place_scope(world.a.place):
        north.name = "=HYPERLINK(1)"
        north.save()
    city_month(world)
    response = client.get(reverse("insights_data:open_data_csv", args=[world.a.place.slug]))
    areas = {r["area"] for r in parse_csv(response.content.decode())}
    assert "'=HYPERLINK(1)" in areas and "=HYPERLINK(1)" not in areas


def test_at_most_ten_years_of_months():
    months = open_data.published_months(date(1990, 1, 1), date(2025, 4, 1))
    assert len(months) == 120 and months[0] == date(2015, 5, 1) and months[-1] == date(2025, 4, 1)
    assert open_data.published_months(date(2025, 5, 1), date(2025, 4, 1)) == []
    assert open_data.published_months(None, date(2025, 4, 1)) == []
