"""The library's public API: search with facets and pages, a record, the vocabularies, the one
error shape, and nothing private ever in the output."""

import pytest

from locus.library import services
from locus.library.choices import RecordStatus

from .factories import make_record

pytestmark = pytest.mark.django_db

API = "/api/v1/library"


def assert_error(response, status, fields=()):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "fields"}
    assert set(fields) <= set(body["fields"]), body
    return body


@pytest.fixture
def records():
    first = make_record(
        title="Mentoring evaluation",
        summary="Mentors and <young> people.",
        authors=["Emily Winterbotham"],
        type="evaluation",
        year=2020,
        topics=["violent_extremism"],
        interventions=["mentoring"],
        countries=["GB"],
        evidence_level="pre_post",
        private_notes="Checked by phone [V]",
        provenance="verified",
    )
    second = make_record(title="Mentoring guide", year=2018, topics=["gender"], languages=["sv"])
    services.record_set_links(record=second, links=[("related", first)])
    make_record(title="Draft mentoring", status=RecordStatus.DRAFT)
    return first, second


def test_search_answers_results_facets_and_pages(client, records):
    response = client.get(f"{API}/records", {"q": "mentoring", "page_size": 1})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["pages"], body["page"], body["sort"]) == (2, 2, 1, "relevance")
    hit = body["results"][0]
    assert hit["title"] in {"Mentoring evaluation", "Mentoring guide"}
    assert "<mark>Mentoring</mark>" in hit["highlights"]["title"]
    assert hit["page"] == f"/library/{hit['id']}/"
    facets = {facet["name"]: facet for facet in body["facets"]}
    assert {v["code"]: v["count"] for v in facets["type"]["values"]} == {
        "evaluation": 1,
        "guide": 1,
    }
    assert body["cross_language"]["enabled"] is False
    assert body["cross_language"]["message"]


def test_page_size_over_the_ceiling_and_a_page_past_the_end_are_422(client, records):
    """As every paged list of the API (locus/api/pagination.py): never a silently other page."""
    response = client.get(f"{API}/records", {"page_size": 101})
    assert response.status_code == 422 and set(response.json()["fields"]) == {"page_size"}
    response = client.get(f"{API}/records", {"page": 2})
    assert response.status_code == 422
    assert response.json()["fields"] == {"page": ["The last page is 1."]}
    body = client.get(f"{API}/records", {"page_size": 100}).json()
    assert (body["page_size"], body["page"], body["pages"], body["count"]) == (100, 1, 1, 2)
    assert len(body["results"]) == 2


def test_search_filters_repeat_a_facet_to_or_its_values(client, records):
    body = client.get(f"{API}/records", {"topic": ["gender", "violent_extremism"]}).json()
    assert body["count"] == 2
    body = client.get(f"{API}/records", {"topic": "gender", "language": "sv"}).json()
    assert [r["title"] for r in body["results"]] == ["Mentoring guide"]
    selected = [
        v for f in body["facets"] if f["name"] == "topic" for v in f["values"] if v["selected"]
    ]
    assert [v["code"] for v in selected] == ["gender"]


def test_search_highlights_are_escaped(client, records):
    body = client.get(f"{API}/records", {"q": "people"}).json()
    snippet = body["results"][0]["highlights"]["snippet"]
    assert "&lt;young&gt;" in snippet and "<mark>people</mark>" in snippet


def test_search_labels_in_the_language_asked(client, records):
    body = client.get(f"{API}/records", {"lang": "de"}).json()
    topics = {
        v["code"]: v["label"] for f in body["facets"] if f["name"] == "topic" for v in f["values"]
    }
    assert topics["gender"] == "Geschlecht"
    assert body["results"][0]["type"]["code"] in {"evaluation", "guide"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"topic": "nope"}, "topic"),
        ({"country": "ZZ"}, "country"),
        ({"evidence_level": "anecdote"}, "evidence_level"),
        ({"page": "0"}, "page"),
        ({"page_size": "-1"}, "page_size"),
        ({"sort": "random"}, "sort"),
        ({"year_from": "2020", "year_to": "2010"}, "year_to"),
        ({"q": "x" * 201}, "q"),
        ({"lang": "xx"}, "lang"),
    ],
)
def test_bad_search_parameters_are_422_naming_the_field(client, params, field):
    body = assert_error(client.get(f"{API}/records", params), 422)
    assert any(key.split(".")[0] == field for key in body["fields"]), body


def test_record_detail(client, records):
    first, second = records
    response = client.get(f"{API}/records/{first.pk}", {"lang": "fr"})
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Mentoring evaluation"
    assert body["authors"] == ["Emily Winterbotham"]
    assert body["evidence_level"]["code"] == "pre_post" and body["evidence_level"]["rank"] == 3
    assert body["countries"] == [{"code": "GB", "label": "Royaume-Uni"}]
    assert body["interventions"] == [{"code": "mentoring", "label": "Mentorat"}]
    # The guide links to this evaluation; read from here the link points back.
    [link] = body["links"]
    assert (link["id"], link["title"], link["year"]) == (second.pk, "Mentoring guide", 2018)
    assert link["relation"]
    assert [v["number"] for v in body["versions"]] == [1]
    assert body["training"] is None


def test_nothing_private_is_in_the_api(client, records):
    first, _second = records
    services.record_update(record=first, data={"private_notes": "Second check [U]"})
    raw = client.get(f"{API}/records/{first.pk}").content.decode()
    raw += client.get(f"{API}/records", {"q": "mentoring"}).content.decode()
    for secret in ("Checked by phone", "Second check", "[V]", "[U]", "private_notes", "provenance"):
        assert secret not in raw
    versions = client.get(f"{API}/records/{first.pk}").json()["versions"]
    assert versions[0]["changed_fields"] == []  # a change of private fields only


def test_unpublished_missing_and_bad_ids(client, records):
    draft = make_record(title="Draft", status=RecordStatus.DRAFT)
    assert_error(client.get(f"{API}/records/{draft.pk}"), 404)
    assert_error(client.get(f"{API}/records/999999"), 404)
    assert_error(client.get(f"{API}/records/0"), 422, fields=["record_id"])
    assert_error(client.get(f"{API}/records/abc"), 422, fields=["record_id"])


def test_links_to_unpublished_records_are_left_out(client, records):
    first, second = records
    services.record_set_status(record=first, status=RecordStatus.WITHDRAWN)
    assert client.get(f"{API}/records/{second.pk}").json()["links"] == []


def test_vocabulary(client):
    body = client.get(f"{API}/vocabulary", {"lang": "sv"}).json()
    axes = {axis["name"]: axis for axis in body["axes"]}
    assert set(axes) == {
        "topic",
        "intervention",
        "target_group",
        "outcome",
        "method",
        "region",
        "country",
    }
    assert {"code": "SE", "label": "Sverige"} in axes["country"]["values"]
    assert [level["rank"] for level in body["evidence_levels"]] == [1, 2, 3, 4, 5]
    assert body["language"] == "sv"
    assert_error(client.get(f"{API}/vocabulary", {"lang": "xx"}), 422, fields=["lang"])


def test_vocabulary_versions(client):
    """Records are saved with the current version; an older one can be read by its name."""
    body = client.get(f"{API}/vocabulary", {"lang": "fr"}).json()
    assert (body["version"], body["current_version"]) == ("2026.2", "2026.2")
    assert body["versions"] == ["2026.1", "2026.2"]
    axes = {axis["name"]: axis["values"] for axis in body["axes"]}
    groups = {v["code"]: v["label"] for v in axes["target_group"]}
    assert groups["researchers"] == "Équipes de recherche"
    old = client.get(f"{API}/vocabulary", {"lang": "fr", "version": "2026.1"}).json()
    assert (old["version"], old["current_version"]) == ("2026.1", "2026.2")
    labels = {axis["name"]: axis for axis in old["axes"]}["target_group"]["values"]
    assert {"code": "researchers", "label": "Chercheurs"} in labels
    response = client.get(f"{API}/vocabulary", {"version": "1999.1"})
    assert_error(response, 422, fields=["version"])
