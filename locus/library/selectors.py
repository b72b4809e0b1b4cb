"""Reads for the library: faceted full-text search (one API on SQLite and PostgreSQL), a
record with its links and versions, and who counts as a library editor.

Search, step by step: published records → the full-text match (the backend's SQL, lazy) →
the facet filters (values of one facet OR-ed, facets AND-ed) → counts per facet value, each
facet counted with every filter but its own so that choosing a value never hides the others
→ one page, ranked by relevance (fused, ready for a second signal) or by date → highlights
for that page only.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, F, Q
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _

from locus.accounts.models import Membership

from . import policies
from .choices import (
    EVIDENCE_NOT_RATED,
    EVIDENCE_RANK,
    LINK_INVERSE_LABELS,
    EvidenceLevel,
    LinkKind,
    RecordStatus,
    ResourceType,
    SearchSort,
)
from .models import Record, RecordFacet, RecordLink, RecordVersion
from .search import backend, embeddings, facet_index, fuse, has_marks, parse_query, render_marked
from .vocabulary import RECORD_FIELDS as VOCABULARY_RECORD_FIELDS
from .vocabulary import label_in, vocabulary

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Relevance ranks every match up to the page asked for, so its pages stop at this many results
# (refine the query, or sort by date, to go further).
MAX_RESULTS = 2000
# The engine ranks the best of an unfiltered page itself, drafts included (they are dropped
# after): beyond this many unpublished records, every match is scored instead.
MAX_UNPUBLISHED_RANKED = 1000

# Facets in the order pages show them: (name, the axis of the vocabulary or None).
FACETS = (
    ("type", None),
    ("language", None),
    ("country", "country"),
    ("region", "region"),
    ("topic", "topic"),
    ("intervention", "intervention"),
    ("target_group", "target_group"),
    ("outcome", "outcome"),
    ("method", "method"),
    ("evidence_level", None),
    ("year", None),
)
FACET_NAMES = tuple(name for name, _axis in FACETS)
FACET_AXES = dict(FACETS)


def facet_label(name):
    axis = FACET_AXES.get(name)
    if axis:
        return vocabulary().axis_label(axis, get_language())
    return {
        "type": _("Type"),
        "language": _("Language"),
        "evidence_level": _("Evidence level"),
        "year": _("Year"),
    }[name]


def language_name(code):
    """A language's name in the active language (Django's own list); the code if unknown."""
    if code == "mul":
        return _("Several languages")
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def value_label(facet, code, language, version=None):
    """The label of one facet value, in `language` (vocabulary) or the active language."""
    if facet == "type":
        return str(ResourceType(code).label) if code in ResourceType.values else code
    if facet == "language":
        return language_name(code)
    if facet == "evidence_level":
        if code == EVIDENCE_NOT_RATED:
            return _("Not rated")
        return str(EvidenceLevel(code).label) if code in EvidenceLevel.values else code
    if facet == "year":
        return code
    return label_in(FACET_AXES[facet], code, language, version)


# --------------------------------------------------------------------------------------------
# Search


@dataclass
class SearchParams:
    q: str = ""
    filters: dict = field(default_factory=dict)  # facet name → [values]
    year_from: int | None = None
    year_to: int | None = None
    sort: str = ""
    page: int = 1
    page_size: int = PAGE_SIZE

    @property
    def effective_sort(self):
        """Relevance needs words to rank by; without a query the newest come first."""
        if self.sort in (SearchSort.NEWEST, SearchSort.OLDEST):
            return self.sort
        return SearchSort.RELEVANCE if parse_query(self.q).include else SearchSort.NEWEST


@dataclass
class FacetValue:
    code: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    name: str
    label: str
    values: list

    @property
    def selected(self):
        return [value for value in self.values if value.selected]


@dataclass
class SearchHit:
    record: Record
    title: str  # safe HTML: escaped, matched words in <mark>
    snippet: str
    authors: str
    publisher: str
    # Found by meaning only (cross-language search), not by its words.
    by_meaning: bool = False


@dataclass
class SearchResult:
    params: SearchParams
    total: int
    page: int
    pages: int
    hits: list
    facets: list
    sort: str
    backend: str
    page_size: int = PAGE_SIZE
    # Cross-language search (multilingual embeddings, search/embeddings.py) is on: the
    # nearest records by meaning join the full-text matches and both rankings are fused.
    cross_language: bool = False

    @property
    def has_previous(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def _published():
    return Record.objects.filter(status=RecordStatus.PUBLISHED)


def _facet_order(name, values):
    if name == "evidence_level":
        return sorted(values, key=lambda v: EVIDENCE_RANK.get(v.code, len(EVIDENCE_RANK) + 1))
    if name == "year":
        return sorted(values, key=lambda v: -int(v.code) if v.code.isdigit() else 0)
    return sorted(values, key=lambda v: (-v.count, v.label.casefold()))


def _own_filter(name, params):
    if name == "year":
        return (
            params.year_from is not None or params.year_to is not None or params.filters.get(name)
        )
    return bool(params.filters.get(name))


def _facets(snapshot, matched, filtered, params, language):
    """Each facet counted with every filter but its own, so that choosing a value never hides
    the others; a chosen value with no records stays listed (with 0) to be unchosen."""
    shared = [name for name in FACET_NAMES if not _own_filter(name, params)]
    all_counts = snapshot.counts(shared, filtered)
    for name in FACET_NAMES:
        if name not in shared:
            within = matched & snapshot.filter_mask(
                params.filters, params.year_from, params.year_to, skip=name
            )
            all_counts.update(snapshot.counts([name], within))
    facets = []
    for name in FACET_NAMES:
        counts = all_counts[name]
        selected = set(params.filters.get(name, []))
        values = [
            FacetValue(
                code=code,
                label=value_label(name, code, language),
                count=counts.get(code, 0),
                selected=code in selected,
            )
            for code in set(counts) | selected
        ]
        facets.append(Facet(name=name, label=facet_label(name), values=_facet_order(name, values)))
    return facets


def _plain_snippet(text, words=40):
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _hits(records, highlights, by_meaning=frozenset()):
    hits = []
    for record in records:
        marked = highlights.get(record.pk)
        summary = marked.summary if marked and has_marks(marked.summary) else ""
        if not summary and marked and has_marks(marked.body):
            summary = marked.body
        hits.append(
            SearchHit(
                record=record,
                title=render_marked(marked.title if marked and marked.title else record.title),
                snippet=render_marked(summary or _plain_snippet(record.summary)),
                authors=render_marked(
                    marked.authors
                    if marked and has_marks(marked.authors)
                    else " · ".join(record.author_list)
                ),
                publisher=render_marked(
                    marked.publisher if marked and has_marks(marked.publisher) else record.publisher
                ),
                by_meaning=record.pk in by_meaning,
            )
        )
    return hits


@dataclass
class _Matches:
    """What the query finds, as masks over the facet index's positions."""

    found: object  # by words or by meaning
    by_words: object
    scores: object = None  # full-text score per position (meaningless where not found by words)
    best: list | None = None  # or the engine's most relevant ids, best first (drafts included)


def _excluded_ids(engine, terms, among=None):
    queryset = Record.objects.all() if among is None else Record.objects.filter(pk__in=among)
    excluded = set()
    for term in terms:
        excluded |= set(engine.matching(queryset, [term]).values_list("pk", flat=True))
    return excluded


def _match(snapshot, engine, query, semantic, best, among=None):
    """`best`: how many of the most relevant are needed when no filter narrows the matches
    (None when one does: the page's best are then chosen among the filtered, by score, and
    `among` are the ids the filters keep)."""
    if not query.include:
        found = snapshot.everything()
        if query.exclude:
            found &= ~snapshot.mask_of(list(_excluded_ids(engine, query.exclude)))
        return _Matches(found=found, by_words=found, scores=np.zeros(snapshot.size))
    if best and snapshot.unpublished > MAX_UNPUBLISHED_RANKED:
        best = None  # so many drafts that scoring every match costs less than ranking them
    if best:
        best += snapshot.unpublished  # drafts the engine may rank among them
    text = engine.find(query.include, query.exclude, best=best, among=among)
    positions, published = snapshot.locate(text.ids)
    by_words = np.zeros(snapshot.size, dtype=bool)
    by_words[positions[published]] = True
    by_position = None
    if text.scores is not None:
        by_position = np.zeros(snapshot.size)
        by_position[positions[published]] = text.scores[published]
    found = by_words
    if semantic:
        if query.exclude:
            left_out = _excluded_ids(engine, query.exclude, among=semantic)
            semantic = [pk for pk in semantic if pk not in left_out]
        found = by_words | snapshot.mask_of(semantic)
    return _Matches(found=found, by_words=by_words, scores=by_position, best=text.best)


def _best_by_words(snapshot, matches, filtered, limit):
    """Ids of the `limit` best full-text matches within `filtered` (ties: lower id first)."""
    if matches.scores is None:
        kept = snapshot.within(matches.best, filtered)
        return [pk for pk, keep in zip(matches.best, kept, strict=True) if keep][:limit]
    candidates = np.flatnonzero(filtered & matches.by_words)
    scores = matches.scores[candidates]
    if len(candidates) > limit:
        threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        keep = scores >= threshold  # ties at the threshold stay: the sort below settles them
        candidates, scores = candidates[keep], scores[keep]
    order = np.lexsort((candidates, -scores))[:limit]
    return [int(pk) for pk in snapshot.ids[candidates[order]]]


def _page_ids(snapshot, matches, filtered, semantic, sort, start, stop):
    """The ids of one page: by relevance (full text fused with meaning) or by date."""
    if sort != SearchSort.RELEVANCE:
        return snapshot.by_date(filtered, oldest=sort == SearchSort.OLDEST, start=start, stop=stop)
    signals = {"fulltext": _best_by_words(snapshot, matches, filtered, stop)}
    if semantic:
        kept = snapshot.within(semantic, filtered)
        signals["meaning"] = [pk for pk, keep in zip(semantic, kept, strict=True) if keep]
    return fuse(signals)[start:stop]


def record_search(params: SearchParams, *, language) -> SearchResult:
    """Published records matching the query and filters, one page of them, and the counts of
    every facet value. `language`: for the vocabulary's labels.

    The engine finds the matches (with their scores) in one query; filters, counts and the
    order of the page are computed over the facet index in memory (search/facet_index.py)."""
    engine = backend()
    snapshot = facet_index.INDEX.get()
    query = parse_query(params.q)
    cross_language = embeddings.available()
    semantic = []
    if query.include and cross_language:
        # The nearest published records by meaning, in any language (docs/library.md).
        semantic = embeddings.semantic_candidates(" ".join(term.text for term in query.include))
    sort = params.effective_sort
    page_size = max(1, min(params.page_size, MAX_PAGE_SIZE))
    narrowed = any(params.filters.values()) or not (params.year_from is params.year_to is None)
    # The page asked for, while the total is unknown: the engine ranks enough for it.
    wanted = min(max(1, params.page), math.ceil(MAX_RESULTS / page_size)) * page_size
    best = wanted if sort == SearchSort.RELEVANCE and not narrowed else None
    if sort != SearchSort.RELEVANCE:
        best = 0  # sorted by date: the matches' ids are enough
    kept = snapshot.filter_mask(params.filters, params.year_from, params.year_to)
    among = snapshot.ids[kept] if narrowed and best is None else None  # only theirs are ranked
    matches = _match(snapshot, engine, query, semantic, best, among)
    filtered = matches.found & kept
    total = int(filtered.sum())
    reachable = min(total, MAX_RESULTS) if sort == SearchSort.RELEVANCE else total
    pages = max(1, math.ceil(reachable / page_size))
    page = max(1, min(params.page, pages))
    offset = (page - 1) * page_size
    ids = _page_ids(snapshot, matches, filtered, semantic, sort, offset, offset + page_size)
    by_id = Record.objects.select_related("organisation").in_bulk(ids)
    records = [by_id[pk] for pk in ids if pk in by_id]
    highlights = engine.highlights(ids, query.include) if query.include else {}
    by_meaning = frozenset()
    if semantic and ids:
        by_meaning = frozenset(
            pk
            for pk, words in zip(ids, snapshot.within(ids, matches.by_words), strict=True)
            if pk in semantic and not words
        )
    return SearchResult(
        params=params,
        total=total,
        page=page,
        pages=pages,
        hits=_hits(records, highlights, by_meaning),
        facets=_facets(snapshot, matches.found, filtered, params, language),
        sort=sort,
        backend=engine.name,
        page_size=page_size,
        cross_language=cross_language,
    )


# --------------------------------------------------------------------------------------------
# Records


def library_editor(user, *, membership=None):
    """Is this person a library editor (policies.is_library_editor)? With `membership` (an API
    token's), by that membership's role alone."""
    if user is None or not user.is_authenticated:
        return False
    if membership is not None:
        return policies.is_library_editor(user, [membership.role])
    roles = Membership.objects.filter(user=user, is_active=True).values_list("role", flat=True)
    return policies.is_library_editor(user, roles)


def access_record(*, record_id, editor=False, organisation_ids=()):
    """The record, or None — the same for "missing" and "not published" (unless editor, or a
    member of the contributing organisation)."""
    record = Record.objects.select_related("organisation").filter(pk=record_id).first()
    if record is None or not policies.can_view_record(
        record, editor=editor, organisation_ids=organisation_ids
    ):
        return None
    return record


@dataclass
class LinkedRecord:
    label: str
    record: Record


def record_links(record, *, editor=False):
    """Records this one links to and records that link to it, each with how they relate (read
    from this record). Unpublished records appear to editors only."""
    visible = Q() if editor else Q(status=RecordStatus.PUBLISHED)
    rows = []
    outgoing = RecordLink.objects.filter(source=record).select_related("target")
    for link in outgoing.filter(target__in=Record.objects.filter(visible)):
        rows.append(LinkedRecord(label=str(LinkKind(link.kind).label), record=link.target))
    incoming = RecordLink.objects.filter(target=record).select_related("source")
    for link in incoming.filter(source__in=Record.objects.filter(visible)):
        rows.append(
            LinkedRecord(label=str(LINK_INVERSE_LABELS[LinkKind(link.kind)]), record=link.source)
        )
    return sorted(rows, key=lambda row: (row.label, row.record.title.casefold()))


def record_versions(record):
    """Every version, newest first (with the person who made it: editors only)."""
    return list(RecordVersion.objects.filter(record=record).select_related("actor"))


# --------------------------------------------------------------------------------------------
# More like this

SIMILAR_LIMIT = 5
# Shared facets that make two records alike when there are no embeddings, most telling first.
SIMILAR_FACETS = ("intervention", "outcome", "topic", "target_group", "method")


@dataclass
class Similar:
    records: list
    by_meaning: bool  # nearest by embedding; False: the records sharing most facets


def similar_records(record, *, limit=SIMILAR_LIMIT):
    """Published records most like this one: nearest by embedding when the library has them,
    otherwise those sharing the most topics, interventions, outcomes, target groups and
    methods (ties: newest first). A fixed number of queries."""
    ids = embeddings.similar_records(record.pk, limit=limit)
    by_meaning = bool(ids)
    if not ids:
        wanted = Q(pk__in=[])
        for facet in SIMILAR_FACETS:
            values = list(getattr(record, VOCABULARY_RECORD_FIELDS[facet]))
            if values:
                wanted |= Q(facet=facet, value__in=values)
        ids = list(
            RecordFacet.objects.filter(wanted, record__status=RecordStatus.PUBLISHED)
            .exclude(record_id=record.pk)
            .values("record_id")
            .annotate(shared=Count("id"))
            .order_by("-shared", F("record__year").desc(nulls_last=True), "record_id")
            .values_list("record_id", flat=True)[:limit]
        )
    by_id = _published().in_bulk(ids)
    return Similar(records=[by_id[pk] for pk in ids if pk in by_id], by_meaning=by_meaning)
