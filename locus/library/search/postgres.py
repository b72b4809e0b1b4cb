"""PostgreSQL: a `tsvector` per record in a narrow table of its own (`RecordTsvector`,
GIN-indexed, migration 0007; empty on SQLite), built by the services with the text-search
configuration of the record's language — english, french, german or swedish, and `simple` (no
stemming, no stop words) for any other.

A query's language is not known, so it is parsed with every configuration and the results are
OR-ed: an English record matches the English-stemmed query, a Swedish one the Swedish-stemmed
query. The OR of constant queries keeps the GIN index usable. Headlines use each record's own
configuration.
"""

import functools
import operator

import numpy as np
from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection
from django.db.models import F, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Replace

from .base import Highlights, SearchBackend, TextMatches, numbers
from .highlight import GT_STANDIN, LT_STANDIN, MARK_END, MARK_START, restore_angles

CONFIGS = {"en": "english", "fr": "french", "de": "german", "sv": "swedish"}
FALLBACK_CONFIG = "simple"
QUERY_CONFIGS = (*CONFIGS.values(), FALLBACK_CONFIG)
# ts_rank weights for D, C, B, A: body, authors and publisher, summary, title.
RANK_WEIGHTS = [0.1, 0.3, 0.5, 1.0]
FIELD_WEIGHTS = {"title": "A", "summary": "B", "authors": "C", "publisher": "C", "body": "D"}
TABLE = "library_recordtsvector"  # models.RecordTsvector


def config_for(language):
    return CONFIGS.get((language or "").split("-")[0].lower(), FALLBACK_CONFIG)


def websearch_text(terms):
    """Every term quoted for websearch_to_tsquery: "or" and "-" typed inside stay words."""
    return " ".join('"' + term.text.replace('"', " ") + '"' for term in terms)


def _without_tags(field):
    """The column with "<" and ">" swapped for stand-ins, so that ts_headline, which blanks
    out anything that looks like an HTML tag, gives back all of the text."""
    return Replace(Replace(F(field), Value("<"), Value(LT_STANDIN)), Value(">"), Value(GT_STANDIN))


def tsquery(terms):
    """The terms parsed with every configuration, OR-ed, as an expression (for headlines; the
    search itself uses `tsquery_texts`)."""
    text = websearch_text(terms)
    queries = [
        SearchQuery(text, search_type="websearch", config=config) for config in QUERY_CONFIGS
    ]
    return functools.reduce(operator.or_, queries)


# The ranking: ts_rank with the weights above, normalised by the document's length.
_RANK = "ts_rank('{0.1,0.3,0.5,1.0}', search_vector, %s::tsquery, 1)"
_SCORE = f"(1e9 * {_RANK})::bigint"
# Ids (and scores, in units of 1e-9) as comma-separated strings, parsed by numpy (base.numbers).
_IDS = f"SELECT string_agg(record_id::text, ',') FROM {TABLE} WHERE search_vector @@ %s::tsquery"  # noqa: S608
_SCORED = (
    f"SELECT string_agg(record_id::text, ','), string_agg({_SCORE}::text, ',') "  # noqa: S608
    f"FROM {TABLE} WHERE search_vector @@ %s::tsquery"
)
# Scores only for the records set in a bitmap of ids (`among`); 0 for the others.
_SCORED_AMONG = (
    "SELECT string_agg(record_id::text, ','), string_agg(CASE WHEN record_id < %s "  # noqa: S608
    f"AND get_bit(%s::bytea, record_id::int) = 1 THEN {_SCORE} ELSE 0 END::text, ',') "
    f"FROM {TABLE} WHERE search_vector @@ %s::tsquery"
)
BITMAP_MAX_BITS = 1 << 26  # 8 MB: beyond, every match is scored


def tsquery_texts(*term_lists):
    """Each list of terms as one tsquery (text), every configuration's reading OR-ed, or None
    when no configuration finds a word in them (punctuation only). Only distinct readings:
    stemmers often agree ("prevention": 'prevent' in English and French, 'prevention' in the
    other three), and duplicates make the planner overestimate the matches and read the whole
    table. One round trip (0.2 ms) before the search, so the planner sees the final query as a
    constant."""
    texts = [websearch_text(terms) for terms in term_lists]
    readings = {number: [] for number in range(1, len(texts) + 1)}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT t.number, websearch_to_tsquery(config::regconfig, t.text)::text "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(text, number), "
            "unnest(%s::text[]) AS config",
            [texts, list(QUERY_CONFIGS)],
        )
        for number, reading in cursor.fetchall():
            if reading:
                readings[number].append(f"({reading})")
    return [" | ".join(sorted(parts)) or None for _number, parts in sorted(readings.items())]


def search_tsquery(terms, exclude=()):
    """(what ranks, what matches): the terms' tsquery, and the same AND NOT each excluded
    term's — one tsquery, so the GIN index answers all of it. (None, None) when the terms hold
    no word."""
    include, *left_out = tsquery_texts(terms, *([term] for term in exclude))
    if include is None:
        return None, None
    return include, f"({include})" + "".join(f" & !({text})" for text in left_out if text)


def _bitmap(record_ids):
    """Bit n set for each id n (least significant bit first, as `get_bit` reads it)."""
    bits = np.zeros(int(record_ids.max()) + 1 if len(record_ids) else 1, dtype=bool)
    bits[record_ids] = True
    return np.packbits(bits, bitorder="little").tobytes()


class PostgresBackend(SearchBackend):
    name = "postgresql-tsvector"

    def index(self, record, document):
        config = record.search_config or FALLBACK_CONFIG
        vector = " || ".join(
            f"setweight(to_tsvector(%s::regconfig, %s), '{weight}')"
            for weight in FIELD_WEIGHTS.values()
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (record_id, search_vector) VALUES (%s, {vector}) "  # noqa: S608
                "ON CONFLICT (record_id) DO UPDATE SET search_vector = EXCLUDED.search_vector",
                [
                    record.pk,
                    *(value for name in FIELD_WEIGHTS for value in (config, document[name])),
                ],
            )

    def remove(self, record_ids):
        from locus.library.models import RecordTsvector

        RecordTsvector.objects.filter(record_id__in=list(record_ids)).delete()

    def matching(self, queryset, terms):
        (text,) = tsquery_texts(terms)
        if text is None:
            return queryset.none()
        return queryset.filter(
            pk__in=RawSQL(  # noqa: S611 - fixed table name; the query is a parameter
                f"SELECT record_id FROM {TABLE} WHERE search_vector @@ %s::tsquery",  # noqa: S608
                (text,),
            )
        )

    def find(self, terms, exclude=(), *, best=None, among=None):
        """Every score, unless `best` is 0 (date order needs none): ranking the best in SQL
        would still rank every match, and read each tsvector twice. With `among`, only those
        records are scored (ts_rank is half the query's time). Ids and scores come back as two
        strings, as on SQLite."""
        include, query = search_tsquery(terms, exclude)
        if include is None:
            return TextMatches(ids=numbers(""), scores=numbers(""))
        with connection.cursor() as cursor:
            if best == 0:
                cursor.execute(_IDS, [query])
                return TextMatches(ids=numbers(cursor.fetchone()[0]), best=[])
            if among is not None and len(among) and int(among.max()) < BITMAP_MAX_BITS:
                bitmap = _bitmap(among)
                cursor.execute(_SCORED_AMONG, [len(bitmap) * 8, bitmap, include, query])
            else:
                cursor.execute(_SCORED, [include, query])
            ids, scores = cursor.fetchone()
        return TextMatches(ids=numbers(ids), scores=numbers(scores))

    def highlights(self, record_ids, terms):
        from locus.library.models import Record

        ids = list(record_ids)
        if not ids or not terms:
            return {}
        query = tsquery(terms)
        marks = {"start_sel": MARK_START, "stop_sel": MARK_END, "config": F("search_config")}
        rows = (
            Record.objects.filter(pk__in=ids)
            .annotate(
                h_title=SearchHeadline(_without_tags("title"), query, highlight_all=True, **marks),
                h_summary=SearchHeadline(
                    _without_tags("summary"),
                    query,
                    max_words=35,
                    min_words=15,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                    **marks,
                ),
                h_authors=SearchHeadline(
                    _without_tags("authors"), query, highlight_all=True, **marks
                ),
                h_publisher=SearchHeadline(
                    _without_tags("publisher"), query, highlight_all=True, **marks
                ),
            )
            .values_list("pk", "h_title", "h_summary", "h_authors", "h_publisher")
        )
        return {
            pk: Highlights(
                title=restore_angles(title),
                summary=restore_angles(summary),
                authors=restore_angles(authors),
                publisher=restore_angles(publisher),
            )
            for pk, title, summary, authors, publisher in rows
        }
