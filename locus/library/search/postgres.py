"""PostgreSQL: a `tsvector` column on the record, GIN-indexed (migration 0003, a no-op on
SQLite), built by the services with the text-search configuration of the record's language —
english, french, german or swedish, and `simple` (no stemming, no stop words) for any other.

A query's language is not known, so it is parsed with every configuration and the results are
OR-ed: an English record matches the English-stemmed query, a Swedish one the Swedish-stemmed
query. The OR of constant queries keeps the GIN index usable. Headlines use each record's own
configuration.
"""

import functools
import operator

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db.models import BigIntegerField, F, StringAgg, TextField, Value
from django.db.models.functions import Cast, Replace

from .base import Highlights, SearchBackend, TextMatches, numbers
from .highlight import GT_STANDIN, LT_STANDIN, MARK_END, MARK_START, restore_angles

CONFIGS = {"en": "english", "fr": "french", "de": "german", "sv": "swedish"}
FALLBACK_CONFIG = "simple"
QUERY_CONFIGS = (*CONFIGS.values(), FALLBACK_CONFIG)
# ts_rank weights for D, C, B, A: body, authors and publisher, summary, title.
RANK_WEIGHTS = [0.1, 0.3, 0.5, 1.0]
FIELD_WEIGHTS = {"title": "A", "summary": "B", "authors": "C", "publisher": "C", "body": "D"}


def config_for(language):
    return CONFIGS.get((language or "").split("-")[0].lower(), FALLBACK_CONFIG)


def websearch_text(terms):
    """Every term quoted for websearch_to_tsquery: "or" and "-" typed inside stay words."""
    return " ".join('"' + term.text.replace('"', " ") + '"' for term in terms)


def _without_tags(field):
    """The column with "<" and ">" swapped for stand-ins, so that ts_headline, which blanks
    out anything that looks like an HTML tag, gives back all of the text."""
    return Replace(Replace(F(field), Value("<"), Value(LT_STANDIN)), Value(">"), Value(GT_STANDIN))


def tsquery(terms, *, negate=False):
    """The terms parsed with every configuration, OR-ed; `negate`: matching none of them
    (the AND of each configuration's negation)."""
    text = websearch_text(terms)
    queries = [
        SearchQuery(text, search_type="websearch", config=config, invert=negate)
        for config in QUERY_CONFIGS
    ]
    return functools.reduce(operator.and_ if negate else operator.or_, queries)


class PostgresBackend(SearchBackend):
    name = "postgresql-tsvector"

    def index(self, record, document):
        from locus.library.models import Record

        config = record.search_config or FALLBACK_CONFIG
        vector = None
        for name, weight in FIELD_WEIGHTS.items():
            part = SearchVector(
                Value(document[name], output_field=TextField()), config=config, weight=weight
            )
            vector = part if vector is None else vector + part
        Record.objects.filter(pk=record.pk).update(search_vector=vector)

    def remove(self, record_ids):
        from locus.library.models import Record

        Record.objects.filter(pk__in=list(record_ids)).update(search_vector=None)

    def matching(self, queryset, terms):
        return queryset.filter(search_vector=tsquery(terms))

    def find(self, terms, exclude=(), *, best=None):
        """Always every score: ts_rank reads each match's tsvector once, where ranking the
        best in SQL and reading the ids apart would read them twice. Ids and scores come back
        as two strings (scores in units of 1e-9, integers), as on SQLite."""
        from locus.library.models import Record

        rank = SearchRank(F("search_vector"), tsquery(terms), weights=RANK_WEIGHTS, normalization=1)
        query = tsquery(terms)
        for term in exclude:
            query &= tsquery([term], negate=True)  # one tsquery: the GIN index answers it too
        matched = Record.objects.order_by().filter(search_vector=query)
        found = matched.aggregate(
            ids=StringAgg(Cast("pk", TextField()), Value(",")),
            scores=StringAgg(Cast(Cast(rank * 1e9, BigIntegerField()), TextField()), Value(",")),
        )
        return TextMatches(ids=numbers(found["ids"]), scores=numbers(found["scores"]))

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
