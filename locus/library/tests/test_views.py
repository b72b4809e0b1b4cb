"""The public library pages: search without JavaScript, errors next to their fields, a record's
page, and what only editors see."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from locus.library import services
from locus.library.choices import RecordStatus
from locus.library.models import Record

from .factories import make_record

pytestmark = pytest.mark.django_db

SEARCH = "/library/"


def record_url(record):
    return f"/library/{record.pk}/"


@pytest.fixture
def guide():
    return make_record(
        title="Measuring the effects of prevention",
        summary="How to measure attitudes and behaviours before and after a programme.",
        authors=["Georgia Holmer"],
        year=2018,
        topics=["monitoring_evaluation"],
        countries=["GB"],
        evidence_level="pre_post",
        private_notes="Author list checked from memory [M]",
        provenance="memory",
        url="https://example.org/measuring-up",
    )


def test_search_page_lists_highlights_and_counts(client, guide):
    make_record(title="Another toolkit", topics=["gender"], year=2020)
    response = client.get(SEARCH, {"q": "measure"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<mark>Measuring</mark> the effects of prevention" in html
    assert "1 resource" in html
    assert "Another toolkit" not in html
    assert 'value="measure"' in html  # what was typed stays in the box
    assert "Cross-language search is not available on this server" in html
    # Facets are checkboxes of the same GET form, with their counts.
    assert re.search(
        r'name="topic" value="monitoring_evaluation"[^>]*><label [^>]*>Monitoring and evaluation '
        r'<span class="count">\(1\)</span>',
        html,
    )


def test_filters_work_from_the_query_string_and_can_be_removed(client, guide):
    make_record(title="Gender toolkit", topics=["gender"], year=2020)
    response = client.get(SEARCH, {"topic": ["gender"], "year_from": "2019"})
    html = response.content.decode()
    assert "Gender toolkit" in html and "Measuring the effects" not in html
    assert 'value="gender" id="f-topic-gender" checked' in html
    assert "Remove filter Topic: Gender" in html
    removal = re.search(r'href="(\?[^"]*)">Remove filter Topic', html).group(1)
    assert "topic=" not in removal and "year_from=2019" in removal.replace("&amp;", "&")


def test_bad_input_is_shown_next_to_its_field_and_kept(client, guide):
    response = client.get(
        SEARCH, {"q": "x" * 201, "topic": ["nope"], "year_from": "2020", "year_to": "2010"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_q_error"' in html and "at most 200 characters" in html
    assert 'aria-describedby="facet-topic-error"' in html
    assert "nope is not one of the values you can filter on." in html
    assert 'id="id_year_to_error"' in html
    assert 'value="2010"' in html and 'value="2020"' in html


def test_search_pages_with_page_links(client):
    for number in range(23):
        make_record(title=f"Guide number {number}", year=2000 + number)
    html = client.get(SEARCH).content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?page=2" rel="next"' in html
    html = client.get(SEARCH, {"page": "2"}).content.decode()
    assert "Guide number 0" in html and 'rel="prev"' in html


def test_a_page_number_that_is_not_one_shows_a_page_not_an_error(client):
    """`/library/?page=abc` answered 422 with no message anywhere on the page: like the other
    paged lists (Paginator.get_page), a page number that is not one shows the first page and
    one past the end the last; the link to the same search in the API carries the page shown."""
    for number in range(23):
        make_record(title=f"Guide number {number}", year=2000 + number)
    for value, shown in [("abc", 1), ("0", 1), ("-2", 1), ("２", 1), ("", 1), ("99999", 2)]:
        response = client.get(SEARCH, {"page": value})
        assert response.status_code == 200, value
        html = response.content.decode()
        assert f"Page {shown} of 2" in html, value
        api = response.context["api_search_url"]
        assert ("page=2" in api) == (shown == 2) and "abc" not in api, value
    assert client.get(response.context["api_search_url"]).status_code == 200


def test_search_page_queries_do_not_grow_with_the_records(client, guide):
    client.get(SEARCH, {"q": "prevention"})
    with CaptureQueriesContext(connection) as few:
        client.get(SEARCH, {"q": "prevention"})
    for number in range(15):
        make_record(title=f"Prevention guide {number}", topics=["gender"], countries=["SE"])
    with CaptureQueriesContext(connection) as reload:
        client.get(SEARCH, {"q": "prevention"})  # the records changed: the facet index reloads
    with CaptureQueriesContext(connection) as many:
        client.get(SEARCH, {"q": "prevention"})
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(reload.captured_queries) == len(few.captured_queries) + 5


def test_record_page_shows_metadata_links_and_versions(client, guide):
    companion = make_record(title="Taking stock", year=2018)
    services.record_set_links(record=companion, links=[("companion", guide)])
    services.record_update(record=guide, data={"summary": "Updated summary.", "private_notes": "x"})
    response = client.get(record_url(guide))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Measuring the effects of prevention" in html
    assert "Georgia Holmer" in html
    assert "Before and after" in html and "level 3 of 5" in html
    assert "Monitoring and evaluation" in html and "United Kingdom" in html
    assert f'href="{record_url(companion)}">Taking stock</a>' in html
    assert 'href="https://example.org/measuring-up" rel="noopener noreferrer external"' in html
    assert '<th scope="row">2</th>' in html and "summary" in html
    # Public: no editors' notes, no provenance, no names in the versions.
    assert "Author list checked" not in html and "[M]" not in html
    assert "editors' notes" not in html.lower() and "For library editors" not in html


def test_unpublished_and_missing_records_are_the_same_404(client, guide):
    draft = make_record(title="Draft", status=RecordStatus.DRAFT)
    assert client.get(record_url(draft)).status_code == 404
    assert client.get("/library/999999/").status_code == 404
    withdrawn = services.record_set_status(record=guide, status=RecordStatus.WITHDRAWN)
    assert client.get(record_url(withdrawn)).status_code == 404


def test_editors_see_drafts_notes_and_who_changed_what(client, world, guide):
    editor = world.a.users["editor"]
    services.record_update(record=guide, data={"year": 2019}, actor=editor, comment="Year fixed")
    draft = make_record(title="Draft toolkit", status=RecordStatus.DRAFT)
    client.force_login(editor)
    html = client.get(record_url(guide)).content.decode()
    assert "Author list checked from memory [M]" in html
    assert "From memory, not re-verified" in html
    assert "Year fixed" in html and editor.name in html
    response = client.get(record_url(draft))
    assert response.status_code == 200
    assert "only library editors see it" in response.content.decode()
    # Drafts stay out of search, for editors too: search is the public catalogue.
    assert "Draft toolkit" not in client.get(SEARCH).content.decode()


def test_other_staff_are_not_library_editors(client, world, guide):
    client.force_login(world.a.users["admin"])
    html = client.get(record_url(guide)).content.decode()
    assert "Author list checked" not in html
    draft = make_record(title="Draft", status=RecordStatus.DRAFT)
    assert client.get(record_url(draft)).status_code == 404


def test_record_text_is_escaped(client):
    record = make_record(title="<script>alert(1)</script> guide", summary="<b>bold</b> claim")
    html = client.get(record_url(record)).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    html = client.get(SEARCH, {"q": "guide"}).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html


def test_pages_speak_the_visitors_language(client, guide):
    html = client.get(SEARCH, headers={"accept-language": "fr"}).content.decode()
    assert '<html lang="fr">' in html
    assert "Suivi et évaluation" in html  # vocabulary labels come from the data file
    html = client.get(record_url(guide), headers={"accept-language": "sv"}).content.decode()
    assert "Uppföljning och utvärdering" in html and "Storbritannien" in html
    assert 'lang="en">Measuring the effects of prevention</h1>' in html


def test_seed_notes_never_reach_public_pages(client):
    services.library_load_demo()
    from locus.library.models import Record

    html = client.get(SEARCH, {"page_size": "100"}).content.decode()
    for page in (1, 2, 3):
        html += client.get(SEARCH, {"page": str(page)}).content.decode()
    for record in Record.objects.all():
        html += client.get(record_url(record)).content.decode()
    for marker in ("[V]", "[M]", "[U]"):
        assert marker not in html
    for notes in Record.objects.values_list("private_notes", flat=True):
        assert notes and notes not in html


def test_the_search_page_leads_harvesters_to_oai_pmh_and_the_same_search_as_json(client, guide):
    """A researcher who wants to reuse the catalogue finds the OAI-PMH endpoint and the API from
    the page (neither was linked from anywhere), and the JSON link answers the very search on
    the screen, though the submitted form carries empty year fields that the API refuses."""
    make_record(title="Gender toolkit", topics=["gender"], year=2020)
    response = client.get(
        SEARCH,
        {"q": "", "sort": "newest", "topic": ["gender"], "year_from": "", "year_to": "", "x": "1"},
    )
    html = response.content.decode()
    assert 'href="/oai?verb=Identify"' in html
    assert 'href="/api/v1/docs"' in html
    json_url = re.search(r'href="(/api/v1/library/records[^"]*)">This search as JSON', html)
    json_url = json_url.group(1).replace("&amp;", "&")
    assert json_url == "/api/v1/library/records?sort=newest&topic=gender"
    answer = client.get(json_url)
    assert answer.status_code == 200
    assert [hit["title"] for hit in answer.json()["results"]] == ["Gender toolkit"]
    assert client.get("/oai?verb=Identify").status_code == 200


def test_a_record_with_neither_file_nor_address_says_where_to_look(client, guide):
    """Nineteen seed records have no web address and no file: their page ended at the metadata,
    with no next step. It now says where to look; a record with an address does not."""
    paper = make_record(title="A paper without a link", publisher="Strong Cities Network")
    nameless = make_record(title="A paper with no publisher")
    html = client.get(record_url(paper)).content.decode()
    assert "The library holds no copy of this resource and has no web address for it." in html
    assert "with its publisher, Strong Cities Network, or in a library catalogue" in html
    html = client.get(record_url(nameless)).content.decode()
    assert "Look for its title in a search engine or a library catalogue." in html
    assert "holds no copy" not in client.get(record_url(guide)).content.decode()


def test_a_search_typed_on_the_first_page_is_ranked_by_relevance(client, guide):
    """The first page (no words) lists the newest first, but its sort box must not say so: the
    form sent "newest" with the words typed next, so every search begun there came back in
    date order. The box offers relevance unless the person chose another order."""
    news = make_record(title="Prevention news", summary="A measure in passing.", year=2024)
    landing = client.get(SEARCH).content.decode()
    chosen = re.search(r'<option value="(\w+)" selected>', landing).group(1)
    assert chosen == "relevance"
    html = client.get(SEARCH, {"q": "measure", "sort": chosen}).content.decode()
    assert html.index(f'href="{record_url(guide)}"') < html.index(f'href="{record_url(news)}"')
    kept = client.get(SEARCH, {"q": "measure", "sort": "newest"}).content.decode()
    assert '<option value="newest" selected>' in kept


def test_an_editor_of_the_contributing_organisation_is_told_it_sees_its_record(client, world):
    """Every organisation's editor is a library editor: a charity's editor opening its own
    evaluation in review read "only library editors see it", as if its organisation could not."""
    from locus.library.models import Record

    editor = world.a.users["editor"]
    draft = make_record(title="Our evaluation", status=RecordStatus.IN_REVIEW)
    Record.objects.filter(pk=draft.pk).update(organisation=world.a.organisation)
    client.force_login(editor)
    html = client.get(record_url(draft)).content.decode()
    assert "only your organisation and the library editors see it" in html
    assert "only library editors see it" not in html


def test_a_record_saved_with_an_older_vocabulary_reads_in_todays_wording(client):
    """Codes keep their meaning, so an old record shows the current (inclusive) labels: on its
    page, in the search filters, and in the API."""
    record = make_record(
        title="Working with researchers", target_groups=["researchers", "policy_makers"]
    )
    Record.objects.filter(pk=record.pk).update(vocabulary_version="2026.1")
    html = client.get(record_url(record), headers={"accept-language": "fr"}).content.decode()
    assert "Équipes de recherche" in html and "Responsables des politiques publiques" in html
    assert "Chercheurs" not in html and "Décideurs" not in html
    html = client.get(SEARCH, headers={"accept-language": "de"}).content.decode()
    assert "Verantwortliche in Politik und Verwaltung" in html
    assert "Entscheidungsträger" not in html
    body = client.get(f"/api/v1/library/records/{record.pk}", {"lang": "fr"}).json()
    assert body["vocabulary_version"] == "2026.1"
    assert {"code": "researchers", "label": "Équipes de recherche"} in body["target_groups"]
