"""The facet index in memory (search/facet_index.py) against plain SQL over the same rows: the
totals, the facet counts (each facet without its own filter) and the pages must be exactly
what the GROUP BY queries it replaced would give, and a change must be seen by the next
search — even one rolled back. Runs on SQLite and PostgreSQL."""

import random

import pytest
from django.db import transaction
from django.db.models import Count

from locus.library import services
from locus.library.choices import RecordStatus, ResourceType, SearchSort
from locus.library.models import Record, RecordFacet
from locus.library.search import backend, facet_index, parse_query
from locus.library.search.facet_index import INDEX
from locus.library.selectors import FACET_NAMES, SearchParams, record_search

from .factories import make_record

pytestmark = pytest.mark.django_db

WORDS = ["mentoring", "schools", "resilience", "families", "online", "sport"]
COUNTRIES = ["GB", "FR", "DE", "SE", "BE"]
TOPICS = ["polarisation", "violent_extremism", "hate_crime", "reintegration"]
TYPES = [ResourceType.GUIDE, ResourceType.EVALUATION, ResourceType.TOOLKIT]


def search(q="", **params):
    return record_search(SearchParams(q=q, **params), language="en")


def counts(result):
    return {
        facet.name: {value.code: value.count for value in facet.values if value.count}
        for facet in result.facets
    }


@pytest.fixture
def random_library():
    rng = random.Random(20261129)
    for number in range(36):
        make_record(
            title=f"Record {number} on {' and '.join(rng.sample(WORDS, 2))}",
            summary=" ".join(rng.choices(WORDS, k=6)),
            type=rng.choice(TYPES),
            year=rng.choice([None, 2010, 2015, 2020, 2024]),
            countries=rng.sample(COUNTRIES, rng.randint(0, 3)),
            topics=rng.sample(TOPICS, rng.randint(0, 2)),
            languages=[rng.choice(["en", "fr", "de"])],
            status=rng.choice([RecordStatus.PUBLISHED] * 4 + [RecordStatus.DRAFT]),
        )


def _sql_records(q, filters, year_from, year_to, skip=None):
    """The published records the old SQL path found: the match, then every filter but `skip`'s."""
    records = Record.objects.filter(status=RecordStatus.PUBLISHED)
    query = parse_query(q)
    if query.include:
        records = backend().matching(records, query.include)
    for term in query.exclude:
        records = records.exclude(pk__in=backend().matching(Record.objects.all(), [term]))
    for name, values in filters.items():
        if name != skip and values:
            chosen = RecordFacet.objects.filter(facet=name, value__in=values)
            records = records.filter(pk__in=chosen.values("record_id"))
    if skip != "year":
        if year_from is not None:
            records = records.filter(year__gte=year_from)
        if year_to is not None:
            records = records.filter(year__lte=year_to)
    return records


def _sql_counts(q, filters, year_from, year_to):
    found = {}
    for name in FACET_NAMES:
        own = bool(filters.get(name)) or (name == "year" and (year_from or year_to))
        within = _sql_records(q, filters, year_from, year_to, skip=name if own else None)
        rows = (
            RecordFacet.objects.filter(facet=name, record__in=within)
            .values("value")
            .annotate(n=Count("id"))
            .values_list("value", "n")
        )
        found[name] = dict(rows)
    return found


CASES = [
    ("", {}, None, None),
    ("mentoring", {}, None, None),
    ("mentoring schools", {}, None, None),
    ("resilience -online", {}, None, None),
    ("-sport", {}, None, None),
    ("", {"country": ["FR", "SE"]}, None, None),
    ("families", {"country": ["GB"], "type": ["guide", "toolkit"]}, None, None),
    ("", {"topic": ["hate_crime"]}, 2012, 2022),
    ("online", {"year": ["2020", "2024"]}, None, None),
    ("sport", {"country": ["BE"]}, None, 2016),
    ("nothingmatchesthis", {}, None, None),
]


@pytest.fixture(params=[facet_index.TABLE_WIDTH, 0], ids=["table", "pairs"])
def counting(request, monkeypatch):
    """Both ways of counting: from the table of facets, and from (record, value) pairs."""
    monkeypatch.setattr(facet_index, "TABLE_WIDTH", request.param)
    facet_index.INDEX.clear()
    yield
    facet_index.INDEX.clear()


@pytest.mark.parametrize(("q", "filters", "year_from", "year_to"), CASES)
def test_totals_and_facet_counts_are_those_of_sql(
    random_library, counting, q, filters, year_from, year_to
):
    result = search(q, filters=filters, year_from=year_from, year_to=year_to, page_size=100)
    expected = _sql_records(q, filters, year_from, year_to)
    assert result.total == expected.count()
    assert {hit.record.pk for hit in result.hits} == set(expected.values_list("pk", flat=True))
    assert counts(result) == _sql_counts(q, filters, year_from, year_to)


@pytest.mark.parametrize(("q", "filters"), [("mentoring", {}), ("families", {"country": ["GB"]})])
def test_relevance_pages_follow_the_engine_ranking(random_library, q, filters):
    """Unfiltered (the engine ranks the page) and filtered (ranked in memory by score) agree
    with the engine's own order over the same records."""
    everything = search(q, filters=filters, page_size=100)
    first, second = (search(q, filters=filters, page_size=3, page=page).hits for page in (1, 2))
    ordered = [hit.record.pk for hit in everything.hits]
    assert [hit.record.pk for hit in first + second] == ordered[:6]
    assert everything.sort == SearchSort.RELEVANCE


@pytest.mark.parametrize("q", ["mentoring", "families -online", "schools resilience"])
def test_scoring_only_the_filtered_keeps_their_scores(random_library, monkeypatch, q):
    """`among` (the records the filters keep): their scores are those of a full scoring, and
    every match is still found; the others may score 0 (PostgreSQL skips ts_rank for them)."""
    import numpy as np

    from locus.library.search import postgres

    query = parse_query(q)
    full = backend().find(query.include, query.exclude)
    scores = dict(zip(full.ids.tolist(), full.scores.tolist(), strict=True))
    rng = random.Random(q)
    among = np.array(sorted(rng.sample(sorted(scores), len(scores) // 2)), dtype=np.int64)
    for bitmap_limit in (postgres.BITMAP_MAX_BITS, 1):  # 1: too many ids for a bitmap
        monkeypatch.setattr(postgres, "BITMAP_MAX_BITS", bitmap_limit)
        part = backend().find(query.include, query.exclude, among=among)
        assert sorted(part.ids.tolist()) == sorted(scores)
        got = dict(zip(part.ids.tolist(), part.scores.tolist(), strict=True))
        assert {pk: got[pk] for pk in among.tolist()} == {pk: scores[pk] for pk in among.tolist()}
    assert len(among) >= 2


def test_a_filtered_relevance_page_is_the_best_scored_of_the_filtered(random_library):
    filters = {"country": ["GB", "FR"]}
    result = search("mentoring", filters=filters, page_size=5)
    kept = set(_sql_records("mentoring", filters, None, None).values_list("pk", flat=True))
    full = backend().find(parse_query("mentoring").include)
    ranked = sorted(
        (
            (-score, pk)
            for pk, score in zip(full.ids.tolist(), full.scores.tolist(), strict=True)
            if pk in kept
        )
    )
    assert [hit.record.pk for hit in result.hits] == [pk for _score, pk in ranked[:5]]
    assert result.total == len(kept) > 5


def test_date_order_is_the_database_order(random_library):
    published = Record.objects.filter(status=RecordStatus.PUBLISHED)
    for sort, expected in (
        (SearchSort.NEWEST, published.order_by("-year", "title", "pk")),
        (SearchSort.OLDEST, published.order_by("year", "title", "pk")),
    ):
        result = search(sort=sort, page_size=100)
        pks = [hit.record.pk for hit in result.hits]
        with_year = [record.pk for record in expected if record.year is not None]
        without = [record.pk for record in expected if record.year is None]
        assert pks == with_year + sorted(without, key=lambda pk: Record.objects.get(pk=pk).title)


@pytest.mark.parametrize("drafts_ranked", [1000, 0], ids=["engine ranks", "every score"])
def test_drafts_ranked_first_by_the_engine_never_shorten_the_page(monkeypatch, drafts_ranked):
    from locus.library import selectors

    monkeypatch.setattr(selectors, "MAX_UNPUBLISHED_RANKED", drafts_ranked)
    for number in range(5):
        make_record(title=f"Published guide {number}", summary="resilience")
    for number in range(25):
        make_record(
            title=f"Resilience resilience draft {number}",
            summary="resilience resilience resilience",
            status=RecordStatus.DRAFT,
        )
    result = search("resilience", page_size=3)
    assert result.total == 5
    assert len(result.hits) == 3
    assert all(hit.record.status == RecordStatus.PUBLISHED for hit in result.hits)


def test_a_publication_or_withdrawal_is_seen_by_the_next_search():
    record = make_record(title="Sport against hate", status=RecordStatus.DRAFT)
    assert search("sport").total == 0
    services.record_set_status(record=record, status=RecordStatus.PUBLISHED)
    assert search("sport").total == 1
    assert facet_codes(search("sport"), "type") == {"guide": 1}
    services.record_set_status(record=record, status=RecordStatus.WITHDRAWN)
    assert search("sport").total == 0
    assert search().total == 0


def facet_codes(result, name):
    facet = next(f for f in result.facets if f.name == name)
    return {value.code: value.count for value in facet.values}


def test_a_rolled_back_change_is_not_kept_in_memory():
    make_record(title="Kept record")
    with pytest.raises(RuntimeError), transaction.atomic():
        make_record(title="Rolled back record")
        assert search("record").total == 2  # loaded with the uncommitted record
        raise RuntimeError
    assert [hit.record.title for hit in search("record").hits] == ["Kept record"]


def test_a_deleted_record_leaves_the_index():
    record = make_record(title="Deleted guide")
    assert search("guide").total == 1
    Record.objects.filter(pk=record.pk).delete()  # not through the services: the signal bumps
    assert search("guide").total == 0
    assert search().total == 0


def test_the_index_loads_once_per_change():
    make_record(title="Loaded once")
    search("loaded")
    loads = INDEX.loads
    search("loaded")
    search("once")
    assert INDEX.loads == loads
    make_record(title="Loaded twice")
    assert search("loaded").total == 2
    assert INDEX.loads == loads + 1


def _store_vector(record, vector):
    from locus.library.models import RecordEmbedding
    from locus.library.search import embeddings, generation

    RecordEmbedding.objects.create(
        record=record,
        model=embeddings.MODEL_NAME,
        dimensions=embeddings.DIMENSIONS,
        vector=embeddings.to_bytes(vector),
        text_sha256="test",
    )
    generation.bump(generation.VECTORS)


def _unit(position):
    import numpy as np

    from locus.library.search import embeddings

    vector = np.zeros(embeddings.DIMENSIONS, dtype=np.float32)
    vector[position] = 1.0
    return vector


def test_vectors_reload_at_most_so_often_but_publication_counts_at_once(settings):
    """Stored vectors may reach a process a few seconds late; a withdrawn record never comes
    back through them, because the facet index says what is published."""
    from locus.library.search.embeddings import INDEX as VECTORS

    settings.LIBRARY_VECTORS_RELOAD_SECONDS = 3600
    near = make_record(title="Near")
    nearer = make_record(title="Nearer")
    query = _unit(0) * 0.9 + _unit(1) * 0.1
    _store_vector(near, _unit(0) * 0.8 + _unit(2) * 0.6)
    VECTORS.clear()
    assert [pk for pk, _s in VECTORS.nearest(query, limit=5)] == [near.pk]
    _store_vector(nearer, _unit(0))  # within the interval: not loaded yet
    assert [pk for pk, _s in VECTORS.nearest(query, limit=5)] == [near.pk]
    services.record_set_status(record=near, status=RecordStatus.WITHDRAWN)
    assert VECTORS.nearest(query, limit=5) == []  # withdrawn at once, vectors still old
    settings.LIBRARY_VECTORS_RELOAD_SECONDS = 0
    assert [pk for pk, _s in VECTORS.nearest(query, limit=5)] == [nearer.pk]
