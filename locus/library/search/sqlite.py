"""SQLite: an FTS5 virtual table, `library_record_fts`, whose rowid is the record's id.

Created by migration 0002 (a no-op on PostgreSQL) and kept in step by the services in the same
transaction as the record (no triggers: SQLite drops triggers when Django rebuilds a table in
a later migration). `porter unicode61 remove_diacritics 2` folds accents ("malmo" finds
"Malmö") and applies English Porter stemming to every language — it helps English plurals and
does little harm elsewhere; per-language stemming is PostgreSQL's strength.
"""

import numpy as np
from django.db import connection
from django.db.models.expressions import RawSQL

from .base import DOCUMENT_FIELDS, Highlights, SearchBackend, TextMatches, numbers
from .highlight import MARK_END, MARK_START

FTS_TABLE = "library_record_fts"
WEIGHTS = (10.0, 4.0, 3.0, 2.0, 1.0)  # title, summary, authors, publisher, body
SNIPPET_TOKENS = 32
RANKED_IN_FULL = 200

# Ids (and scores) come back as comma-separated strings (base.numbers): a row per match
# through the sqlite3 module would cost more than computing bm25. Scores are bm25 (lower is
# better) negated, in units of 1e-9, so integers. `LIMIT -1` keeps SQLite from flattening the
# subquery into the aggregate, where bm25() cannot be called.
_ALL_IDS = f"SELECT group_concat(rowid) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
_SCORED = (
    "SELECT group_concat(id), group_concat(score) FROM ("  # noqa: S608 - fixed names
    f"SELECT rowid AS id, CAST(-1e9 * bm25({FTS_TABLE}, {{weights}}) AS INTEGER) AS score "
    f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT -1)"
)
_RANKED = (
    f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "  # noqa: S608 - fixed names
    f"ORDER BY bm25({FTS_TABLE}, {{weights}}), rowid LIMIT %s"
)


def fts_query(terms):
    """Every term as an FTS5 string (implicit AND): nothing typed is read as FTS5 syntax."""
    return " ".join('"' + term.text.replace('"', '""') + '"' for term in terms)


class SQLiteFTS5Backend(SearchBackend):
    name = "sqlite-fts5"

    def index(self, record, document):
        columns = ", ".join(DOCUMENT_FIELDS)
        placeholders = ", ".join(["%s"] * (len(DOCUMENT_FIELDS) + 1))
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [record.pk])  # noqa: S608
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, {columns}) VALUES ({placeholders})",  # noqa: S608
                [record.pk, *(document[name] for name in DOCUMENT_FIELDS)],
            )

    def remove(self, record_ids):
        ids = list(record_ids)
        if not ids:
            return
        placeholders = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({placeholders})",  # noqa: S608
                ids,
            )

    def matching(self, queryset, terms):
        return queryset.filter(
            pk__in=RawSQL(  # noqa: S611 - fixed table name; the query is a parameter
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",  # noqa: S608
                (fts_query(terms),),
            )
        )

    def find(self, terms, exclude=(), *, best=None, among=None):
        """`among` is not used: on SQLite every match is scored."""
        match = fts_query(terms)
        for term in exclude:
            match += " NOT " + fts_query([term])
        weights = ", ".join(str(weight) for weight in WEIGHTS)
        with connection.cursor() as cursor:
            if best:
                # The best ranked by SQLite — all of the matches when there are fewer than
                # RANKED_IN_FULL (one query) — and otherwise every id apart (cheap: no bm25):
                # faster than handing every score to Python (bench/bench_search.py).
                limit = max(best, RANKED_IN_FULL)
                cursor.execute(_RANKED.format(weights=weights), [match, limit])
                ranked = [row[0] for row in cursor.fetchall()]
                if len(ranked) < limit:
                    return TextMatches(ids=np.array(ranked, dtype=np.int64), best=ranked[:best])
            if best is not None:
                cursor.execute(_ALL_IDS, [match])
                ids = numbers(cursor.fetchone()[0])
                return TextMatches(ids=ids, best=ranked if best else [])
            cursor.execute(_SCORED.format(weights=weights), [match])
            ids, scores = cursor.fetchone()
            return TextMatches(ids=numbers(ids), scores=numbers(scores))

    def highlights(self, record_ids, terms):
        ids = list(record_ids)
        if not ids or not terms:
            return {}
        marks = (MARK_START, MARK_END)
        placeholders = ", ".join(["%s"] * len(ids))
        sql = (
            f"SELECT rowid, highlight({FTS_TABLE}, 0, %s, %s), "  # noqa: S608
            f"snippet({FTS_TABLE}, 1, %s, %s, '…', {SNIPPET_TOKENS}), "
            f"highlight({FTS_TABLE}, 2, %s, %s), highlight({FTS_TABLE}, 3, %s, %s), "
            f"snippet({FTS_TABLE}, 4, %s, %s, '…', {SNIPPET_TOKENS}) "
            f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid IN ({placeholders})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*marks * 5, fts_query(terms), *ids])
            return {
                row[0]: Highlights(
                    title=row[1] or "",
                    summary=row[2] or "",
                    authors=row[3] or "",
                    publisher=row[4] or "",
                    body=row[5] or "",
                )
                for row in cursor.fetchall()
            }
