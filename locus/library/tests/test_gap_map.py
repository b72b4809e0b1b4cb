"""The evidence-and-gap map: counts per intervention × outcome by evidence level, gaps, filters,
links into the search, the CSV export, bad input, and a query budget that does not grow."""

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from locus.library.choices import RecordStatus
from locus.library.gap_map import MapFilters, _safe, evidence_gap_map, gap_map_csv
from locus.library.services import library_load_demo

from .factories import make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def studies():
    make_record(
        title="Mentoring trial",
        interventions=["mentoring"],
        outcomes=["attitudes", "resilience"],
        evidence_level="experimental",
        countries=["GB"],
        target_groups=["young_people"],
        year=2020,
    )
    make_record(
        title="Mentoring monitoring",
        interventions=["mentoring"],
        outcomes=["attitudes"],
        evidence_level="monitoring_data",
        countries=["SE"],
        year=2015,
    )
    make_record(
        title="Mentoring guide",
        interventions=["mentoring"],
        outcomes=["attitudes"],
        countries=["GB"],
        year=2021,
    )
    make_record(
        title="Draft study",
        interventions=["education"],
        outcomes=["attitudes"],
        status=RecordStatus.DRAFT,
    )
    make_record(title="No outcome", interventions=["education"])


def cell(gap_map, intervention, outcome):
    row = next(row for row in gap_map.rows if row.code == intervention)
    return next(cell for cell in row.cells if cell.outcome == outcome)


def test_cells_count_records_by_evidence_level(studies):
    gap_map = evidence_gap_map(MapFilters(), language="en")
    mentoring = cell(gap_map, "mentoring", "attitudes")
    assert mentoring.total == 3 and mentoring.rated == 2
    assert mentoring.by_level == {"experimental": 1, "monitoring_data": 1, "not_rated": 1}
    assert (mentoring.highest, mentoring.highest_rank) == ("experimental", 5)
    assert cell(gap_map, "mentoring", "resilience").total == 1
    # Drafts are not counted; an intervention without an outcome is not on the map.
    assert cell(gap_map, "education", "attitudes").is_gap
    assert (gap_map.records, gap_map.mapped) == (4, 3)
    assert gap_map.gaps == len(gap_map.cells) - 2
    query = parse_qs(urlsplit(mentoring.search_url).query)
    assert query == {"intervention": ["mentoring"], "outcome": ["attitudes"]}


def test_filters_narrow_the_map_and_follow_into_the_search(studies, client):
    filters = MapFilters(facets={"country": ["GB"]}, year_from=2019)
    mentoring = cell(evidence_gap_map(filters, language="en"), "mentoring", "attitudes")
    assert mentoring.total == 2 and mentoring.highest == "experimental"
    query = parse_qs(urlsplit(mentoring.search_url).query)
    assert query["country"] == ["GB"] and query["year_from"] == ["2019"]
    # The link opens exactly the records counted in the cell.
    response = client.get(mentoring.search_url)
    assert response.context["result"].total == 2
    filters = MapFilters(facets={"target_group": ["young_people"], "country": ["SE"]})
    assert cell(evidence_gap_map(filters, language="en"), "mentoring", "attitudes").is_gap


def test_the_page_is_a_real_table_with_gaps_marked(studies, client):
    response = client.get("/library/map/", {"country": "GB"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<table" in html and '<th scope="col"' in html and '<th scope="row">' in html
    assert "map-gap" in html and ">gap<" in html
    assert "strongest: 5/5" in html
    assert "/library/map.csv?country=GB" in html


def test_bad_filters_are_named_and_the_map_still_answers(studies, client):
    response = client.get(
        "/library/map/", {"country": "ZZ", "year_from": "2020", "year_to": "1999"}
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert {"country", "year_to"} <= set(form.errors)
    assert response.context["map"].records == 2  # from 2020; the invalid parts are left out
    response = client.get("/library/map.csv", {"method": "nonsense"})
    assert response.status_code == 422 and b"method" in response.content


def test_csv_export_has_every_cell(studies, client):
    response = client.get("/library/map.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    gap_map = evidence_gap_map(MapFilters(), language="en")
    assert len(rows) == len(gap_map.cells)
    row = next(r for r in rows if (r["intervention"], r["outcome"]) == ("mentoring", "attitudes"))
    assert row["records"] == "3" and row["highest_evidence_level"] == "experimental"
    assert row["experimental"] == "1" and row["not_rated"] == "1"
    assert row["intervention_label"] == "Mentoring"


def test_map_query_budget_does_not_grow(client, django_assert_max_num_queries):
    for number in range(12):
        make_record(
            title=f"Study {number}",
            interventions=["mentoring", "education"],
            outcomes=["attitudes", "behaviour"],
            evidence_level="pre_post",
            countries=["GB"],
        )
    with django_assert_max_num_queries(8):
        assert (
            client.get("/library/map/", {"country": "GB", "year_from": "1990"}).status_code == 200
        )
    with django_assert_max_num_queries(8):
        assert client.get("/library/map.csv").status_code == 200


def test_seed_catalogue_shows_strengths_and_gaps():
    library_load_demo()
    gap_map = evidence_gap_map(MapFilters(), language="fr")
    assert gap_map.records == 60 and gap_map.mapped > 10
    assert 0 < gap_map.gaps < len(gap_map.cells)
    assert any(cell.highest_rank >= 3 for cell in gap_map.cells)
    assert gap_map_csv(gap_map).count("\n") == len(gap_map.cells) + 1


@given(st.text(max_size=30))
@settings(max_examples=200, deadline=None)
def test_csv_cells_never_start_a_formula(text):
    assert _safe(text)[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert _safe(text).endswith(text)
