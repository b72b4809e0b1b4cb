"""Full-text search of the library: one interface (`base.SearchBackend`), an implementation
per database — SQLite FTS5 (`sqlite.py`) and PostgreSQL tsvector/GIN (`postgres.py`) — chosen
by the database in use. See docs/library.md."""

from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from .base import DOCUMENT_FIELDS, Highlights, SearchBackend, document_for
from .highlight import MARK_END, MARK_START, has_marks, render_marked, strip_marks
from .query import MAX_QUERY_LENGTH, ParsedQuery, Term, parse_query
from .ranking import fuse

__all__ = [
    "DOCUMENT_FIELDS",
    "MARK_END",
    "MARK_START",
    "MAX_QUERY_LENGTH",
    "Highlights",
    "ParsedQuery",
    "SearchBackend",
    "Term",
    "backend",
    "document_for",
    "fuse",
    "has_marks",
    "parse_query",
    "render_marked",
    "strip_marks",
]


def backend() -> SearchBackend:
    if connection.vendor == "sqlite":
        from .sqlite import SQLiteFTS5Backend

        return SQLiteFTS5Backend()
    if connection.vendor == "postgresql":
        from .postgres import PostgresBackend

        return PostgresBackend()
    raise ImproperlyConfigured(f"The library has no search backend for {connection.vendor}")
