"""Faceted full-text search through the one selector API. These tests run on SQLite (FTS5)
and, with `make test-postgres`, on PostgreSQL (tsvector + GIN): the few that depend on one
engine's language handling say so and are skipped on the other."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus.library.choices import RecordStatus, ResourceType, SearchSort
from locus.library.search import fuse, parse_query, render_marked
from locus.library.search.query import MAX_TERMS
from locus.library.selectors import SearchParams, record_search

from .factories import make_record

pytestmark = pytest.mark.django_db

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5 behaviour")
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL text-search configurations"
)


def search(q="", **params):
    return record_search(SearchParams(q=q, **params), language="en")


def titles(q="", **params):
    return [hit.record.title for hit in search(q, **params).hits]


def facet(result, name):
    return {
        value.code: value.count for value in next(f for f in result.facets if f.name == name).values
    }


@pytest.fixture
def catalogue():
    return {
        "mentoring": make_record(
            title="Mentoring young people out of violent groups",
            summary="How mentors support disengagement, and what evaluations found.",
            authors=["Emily Winterbotham"],
            publisher="RUSI",
            year=2020,
            type=ResourceType.EVALUATION,
            topics=["violent_extremism", "reintegration"],
            interventions=["mentoring"],
            countries=["GB"],
            evidence_level="pre_post",
        ),
        "schools": make_record(
            title="Education against polarisation in schools",
            summary="A guide for teachers. Mentoring is mentioned once.",
            publisher="Efus",
            year=2017,
            topics=["polarisation"],
            interventions=["education"],
            countries=["FR", "DE"],
        ),
        "plan": make_record(
            title="Handledning för en lokal handlingsplan",
            summary=(
                "Vägledning för kommuner om lokala handlingsplaner mot våldsbejakande extremism."
            ),
            publisher="Nationella samordnaren",
            year=2017,
            languages=["sv"],
            type=ResourceType.GUIDE,
            topics=["violent_extremism", "local_governance"],
            countries=["SE"],
        ),
        "french": make_record(
            title="Guide interministériel de prévention de la radicalisation",
            summary="Fiches pratiques pour les acteurs locaux et les collectivités territoriales.",
            publisher="SG-CIPDR",
            year=2016,
            languages=["fr"],
            topics=["radicalisation", "local_governance"],
            countries=["FR"],
        ),
        "draft": make_record(
            title="Unpublished mentoring evaluation",
            status=RecordStatus.DRAFT,
            topics=["violent_extremism"],
        ),
    }


# --- matching --------------------------------------------------------------------------------


def test_words_are_found_in_title_summary_authors_and_publisher(catalogue):
    assert titles("disengagement") == ["Mentoring young people out of violent groups"]
    assert titles("Winterbotham") == ["Mentoring young people out of violent groups"]
    assert titles("Efus") == ["Education against polarisation in schools"]
    assert titles("teachers") == ["Education against polarisation in schools"]


def test_only_published_records_are_found(catalogue):
    assert "Unpublished mentoring evaluation" not in titles("mentoring")
    assert search().total == 4


def test_every_word_must_match_and_phrases_keep_their_order(catalogue):
    assert titles("mentoring teachers") == ["Education against polarisation in schools"]
    assert titles('"young people"') == ["Mentoring young people out of violent groups"]
    assert titles('"people young"') == []


def test_a_minus_leaves_records_out(catalogue):
    assert titles("mentoring -teachers") == ["Mentoring young people out of violent groups"]
    assert titles("-teachers", sort=SearchSort.NEWEST) == [
        "Mentoring young people out of violent groups",
        "Handledning för en lokal handlingsplan",
        "Guide interministériel de prévention de la radicalisation",
    ]


def test_english_plurals_and_verb_forms_match(catalogue):
    assert "Mentoring young people out of violent groups" in titles("evaluation")
    assert "Mentoring young people out of violent groups" in titles("mentor")


def test_a_query_in_french_finds_the_french_record(catalogue):
    assert titles("prévention radicalisation") == [
        "Guide interministériel de prévention de la radicalisation"
    ]
    assert titles("collectivités territoriales") == [
        "Guide interministériel de prévention de la radicalisation"
    ]


@on_sqlite
def test_sqlite_folds_accents(catalogue):
    assert titles("vagledning") == ["Handledning för en lokal handlingsplan"]
    assert titles("interministeriel") == [
        "Guide interministériel de prévention de la radicalisation"
    ]


@on_postgres
def test_postgres_stems_each_record_in_its_own_language(catalogue):
    # Swedish: "handlingsplanerna" (the plans) and "handlingsplan" share a stem; no record has
    # the word itself, so the `simple` configuration could not find it.
    assert titles("handlingsplanerna") == ["Handledning för en lokal handlingsplan"]
    # French: "collectivité" (singular) finds "collectivités".
    assert titles("collectivité") == ["Guide interministériel de prévention de la radicalisation"]
    from locus.library.models import Record

    configs = dict(Record.objects.values_list("title", "search_config"))
    assert configs["Handledning för en lokal handlingsplan"] == "swedish"
    assert configs["Education against polarisation in schools"] == "english"


def test_search_syntax_typed_by_people_is_never_an_error(catalogue):
    for q in ["AND OR NOT", "NEAR(a b)", '"unclosed', "title:x", "a*", "-", "((", '"', "\x00"]:
        result = search(q)
        assert result.total >= 0


@given(st.text(max_size=60))
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_query_is_answered(catalogue, text):
    result = search(text)
    assert 0 <= result.total <= 4
    assert len(result.hits) <= result.total


def test_query_parsing():
    parsed = parse_query('mentoring "young people" -schools "" -- ¿? evaluation mentoring')
    assert [(t.text, t.phrase) for t in parsed.include] == [
        ("mentoring", False),
        ("young people", True),
        ("evaluation", False),
    ]
    assert [t.text for t in parsed.exclude] == ["schools"]
    assert not parse_query("  !!! --- ")
    assert len(parse_query(" ".join(f"w{i}" for i in range(50))).include) == MAX_TERMS


# --- ranking, sorting, pages -----------------------------------------------------------------


def test_relevance_puts_title_matches_first(catalogue):
    result = search("mentoring")
    assert result.sort == SearchSort.RELEVANCE
    assert titles("mentoring") == [
        "Mentoring young people out of violent groups",
        "Education against polarisation in schools",
    ]


def test_without_words_the_newest_come_first_and_oldest_on_request(catalogue):
    make_record(title="Undated note")
    result = search()
    assert result.sort == SearchSort.NEWEST
    assert [hit.record.year for hit in result.hits] == [2020, 2017, 2017, 2016, None]
    assert [hit.record.year for hit in search(sort=SearchSort.OLDEST).hits] == [
        2016,
        2017,
        2017,
        2020,
        None,
    ]
    assert search("mentoring", sort=SearchSort.OLDEST).hits[0].record.year == 2017


def test_pages(catalogue):
    first = search(page_size=3)
    second = search(page_size=3, page=2)
    assert (first.total, first.pages, second.page) == (4, 2, 2)
    assert first.has_next and not second.has_next and second.has_previous
    seen = [hit.record.pk for hit in first.hits + second.hits]
    assert len(seen) == len(set(seen)) == 4
    assert search(page_size=3, page=99).page == 2  # past the end: the last page


def test_fusion_keeps_a_single_signal_in_order_and_rewards_agreement():
    assert fuse({"fulltext": [5, 3, 9]}) == [5, 3, 9]
    assert fuse({"fulltext": [5, 3, 9], "embeddings": [3, 7]}) == [3, 5, 7, 9]


# --- facets ----------------------------------------------------------------------------------


def test_facet_counts_and_filters(catalogue):
    result = search()
    assert facet(result, "type") == {"evaluation": 1, "guide": 3}
    assert facet(result, "country") == {"GB": 1, "FR": 2, "DE": 1, "SE": 1}
    assert facet(result, "language") == {"en": 2, "sv": 1, "fr": 1}
    assert facet(result, "year") == {"2020": 1, "2017": 2, "2016": 1}
    assert facet(result, "evidence_level") == {"pre_post": 1, "not_rated": 3}
    assert facet(result, "topic")["local_governance"] == 2

    filtered = search(filters={"country": ["FR"], "topic": ["local_governance"]})
    assert [hit.record.title for hit in filtered.hits] == [
        "Guide interministériel de prévention de la radicalisation"
    ]


def test_values_of_one_facet_are_ored_and_its_counts_ignore_its_own_filter(catalogue):
    result = search(filters={"country": ["SE", "GB"]})
    assert result.total == 2
    # Choosing countries keeps every country's count visible…
    assert facet(result, "country") == {"GB": 1, "FR": 2, "DE": 1, "SE": 1}
    # …while the other facets count only the chosen records.
    assert facet(result, "type") == {"evaluation": 1, "guide": 1}
    selected = {
        v.code for f in result.facets if f.name == "country" for v in f.values if v.selected
    }
    assert selected == {"SE", "GB"}


def test_facets_follow_the_query(catalogue):
    result = search("mentoring")
    assert facet(result, "type") == {"evaluation": 1, "guide": 1}
    assert facet(result, "intervention") == {"mentoring": 1, "education": 1}


def test_a_chosen_value_without_records_stays_listed(catalogue):
    result = search(filters={"topic": ["gender"]})
    assert result.total == 0
    assert facet(result, "topic")["gender"] == 0


def test_year_range(catalogue):
    assert {hit.record.year for hit in search(year_from=2017, year_to=2017).hits} == {2017}
    assert search(year_from=2018).total == 1
    # The year facet counts without the range, so other years can still be chosen.
    assert facet(search(year_from=2018), "year") == {"2020": 1, "2017": 2, "2016": 1}


def test_facet_labels_are_in_the_language_asked(catalogue):
    result = record_search(SearchParams(), language="de")
    topics = {v.code: v.label for f in result.facets if f.name == "topic" for v in f.values}
    assert topics["local_governance"] == "Lokale Steuerung und Strategie"


# --- highlights ------------------------------------------------------------------------------


def test_matched_words_are_highlighted_in_title_and_snippet(catalogue):
    hit = search("disengagement").hits[0]
    assert "<mark>disengagement</mark>" in hit.snippet
    hit = search("mentoring").hits[0]
    assert "<mark>Mentoring</mark>" in hit.title
    hit = search("Winterbotham").hits[0]
    assert "<mark>Winterbotham</mark>" in hit.authors


def test_highlighted_text_is_escaped():
    make_record(
        title='<script>alert("x")</script> Toolkit & guide',
        summary="<img src=x onerror=alert(1)> toolkit for <b>cities</b>",
        publisher="<i>Evil</i> publisher",
    )
    hit = search("toolkit").hits[0]
    for html in (hit.title, hit.snippet, hit.publisher):
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert "<i>" not in html
    assert "&lt;script&gt;" in hit.title
    assert "<mark>" in hit.title and "&amp;" in hit.title
    plain = search().hits[0]  # no query: no marks, still escaped
    assert "&lt;script&gt;" in plain.title and "<mark>" not in plain.title


def test_marks_are_balanced_whatever_the_text():
    assert render_marked("a \ue000b\ue000 c\ue001\ue001 <d>") == "a <mark>b c</mark> &lt;d&gt;"
    assert render_marked("\ue000open") == "<mark>open</mark>"
    assert render_marked("close\ue001") == "close"


# --- cost ------------------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_records(catalogue):
    with CaptureQueriesContext(connection) as few:
        search("guide", filters={"topic": ["local_governance"]})
    for number in range(25):
        make_record(title=f"Local guide {number}", topics=["local_governance"], countries=["SE"])
    with CaptureQueriesContext(connection) as many:
        result = search("guide", filters={"topic": ["local_governance"]})
    assert result.total > 20
    assert len(many.captured_queries) == len(few.captured_queries)


def test_cross_language_search_is_reported_as_not_enabled(catalogue):
    assert search("mentoring").cross_language is False
