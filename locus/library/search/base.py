"""What every search backend does. The selectors use only this interface, so SQLite (FTS5)
and PostgreSQL (tsvector) answer the same questions with the same meaning."""

import abc
from dataclasses import dataclass

from .highlight import strip_marks

# Columns of the search document, most important first (the rank weights follow this order).
DOCUMENT_FIELDS = ("title", "summary", "authors", "publisher", "body")


@dataclass(frozen=True)
class Highlights:
    """Text with matched words between MARK_START and MARK_END (not yet escaped)."""

    title: str = ""
    summary: str = ""
    authors: str = ""
    publisher: str = ""
    body: str = ""


def document_for(record, body=None):
    """The text indexed for a record. `body`: its files' extracted text (read from the
    database when not given, so that every re-index keeps it)."""
    if body is None:
        from locus.library.files import indexed_text

        body = indexed_text(record) if record.pk is not None else ""
    return {
        "title": strip_marks(record.title),
        "summary": strip_marks(record.summary),
        "authors": strip_marks(" · ".join(record.author_list)),
        "publisher": strip_marks(record.publisher),
        "body": strip_marks(body),
    }


def numbers(text):
    """ "1,2,3" → a numpy int64 array: how the engines hand over ids and scores (one string
    per column costs far less than a row per match through the database driver)."""
    import numpy as np

    return np.fromstring(text or "", dtype=np.int64, sep=",")


@dataclass(frozen=True)
class TextMatches:
    ids: object  # numpy int64: every match
    scores: object = None  # numpy, one per id, higher more relevant; or None when `best` is set
    best: list | None = None  # the most relevant ids, best first


class SearchBackend(abc.ABC):
    name = "base"

    @abc.abstractmethod
    def index(self, record, document):
        """Store (or replace) the record's search document."""

    @abc.abstractmethod
    def remove(self, record_ids):
        """Drop the records' search documents."""

    @abc.abstractmethod
    def matching(self, queryset, terms):
        """`queryset` narrowed to records whose document matches every term (SQL, lazy)."""

    @abc.abstractmethod
    def find(self, terms, exclude=(), *, best=None, among=None):
        """Every record matching all `terms` and none of `exclude` (drafts included: the
        caller keeps the published). With `best` (a number), the engine may rank the `best`
        most relevant itself instead of scoring every match, when that is cheaper; 0: no
        order is needed. `among` (numpy ids, the records the filters keep): only their scores
        are needed, the engine may give the others 0."""

    @abc.abstractmethod
    def highlights(self, record_ids, terms):
        """{record id: Highlights} for the given records."""
