"""The library's public API: faceted search, a record, and the vocabularies. No
authentication; only published records, and never the editors' notes or the provenance of
the metadata. The same selectors as the web pages, so both answer alike."""

from datetime import datetime
from typing import Annotated, Literal

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema
from pydantic import ConfigDict

from locus.api.pagination import PageOut, PageQuery, check_page, page_size_field
from locus.api.schemas import DB_ID_MAX, ErrorOut
from locus.core.errors import NotFound, ValidationFailed

from . import selectors
from .choices import (
    EVIDENCE_DESCRIPTIONS,
    EVIDENCE_RANK,
    EvidenceLevel,
    Licence,
    ResourceType,
    SearchSort,
    TrainingFormat,
    TrainingLevel,
    VersionSource,
)
from .forms import facet_choices
from .search import MAX_QUERY_LENGTH
from .selectors import FACET_NAMES, MAX_PAGE_SIZE, PAGE_SIZE, SearchParams
from .services import PRIVATE_FIELDS
from .vocabulary import AXES, available_versions, current_version, label_in, vocabulary
from .vocabulary import RECORD_FIELDS as VOCABULARY_FIELDS

router = Router(tags=["library"])

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
Language = Literal[LANGUAGE_CODES]  # type: ignore[valid-type]
VocabularyVersion = Literal[tuple(available_versions())]  # type: ignore[valid-type]


def _codes(name, description):
    """A list of one facet's codes in the query string (`?topic=a&topic=b`): OR-ed."""
    return Field(
        [],
        max_length=50,
        description=description,
        json_schema_extra={"items": {"type": "string", "enum": facet_choices(name)}},
    )


FacetCode = Annotated[str, Field(min_length=1, max_length=40)]


# --- schemas -------------------------------------------------------------------------------


class LibrarySearchQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        "",
        max_length=MAX_QUERY_LENGTH,
        description=(
            "Words matched in titles, summaries, authors and publishers, in each record's own "
            'language. "Quoted phrase"; -word leaves a word out. Operators are plain words.'
        ),
    )
    type: list[FacetCode] = _codes("type", "Resource types.")
    language: list[FacetCode] = _codes("language", "ISO 639-1 codes; `mul`: several languages.")
    country: list[FacetCode] = _codes("country", "ISO 3166-1 alpha-2 codes.")
    region: list[FacetCode] = _codes("region", "Region codes (GET /library/vocabulary).")
    topic: list[FacetCode] = _codes("topic", "Topic codes.")
    intervention: list[FacetCode] = _codes("intervention", "Types of intervention.")
    target_group: list[FacetCode] = _codes("target_group", "Target groups.")
    outcome: list[FacetCode] = _codes("outcome", "Outcomes measured.")
    method: list[FacetCode] = _codes("method", "Methods.")
    evidence_level: list[FacetCode] = _codes(
        "evidence_level", "Evidence levels; `not_rated` for records without one."
    )
    year: list[FacetCode] = _codes("year", "Years of publication.")
    year_from: int | None = Field(None, ge=1900, le=2100)
    year_to: int | None = Field(None, ge=1900, le=2100)
    sort: Literal[tuple(SearchSort.values)] | None = Field(  # type: ignore[valid-type]
        None,
        description="Default: relevance when `q` has words to rank by, else newest.",
    )
    page_size: int = page_size_field(PAGE_SIZE, MAX_PAGE_SIZE)
    lang: Language | None = Field(
        None, description="Language of the labels; default: the request's language."
    )


class LibraryCodeOut(Schema):
    code: str
    label: str


class LibraryEvidenceOut(Schema):
    code: str
    label: str
    rank: int = Field(..., description="1 (practice description) to 5 (experimental).")
    description: str


class LibraryHighlightsOut(Schema):
    """HTML: the text is escaped and the matched words are in <mark>…</mark>."""

    title: str
    snippet: str
    authors: str
    publisher: str


class LibraryRecordSummaryOut(Schema):
    id: int
    page: str = Field(..., description="The record's page in Locus.")
    title: str
    type: LibraryCodeOut
    year: int | None
    is_ongoing: bool
    publisher: str
    authors: list[str]
    languages: list[LibraryCodeOut]
    summary: str
    evidence_level: LibraryEvidenceOut | None
    url: str = Field(..., description="The resource on its publisher's site ('' if unknown).")


class LibrarySearchHitOut(LibraryRecordSummaryOut):
    highlights: LibraryHighlightsOut


class LibraryFacetValueOut(Schema):
    code: str
    label: str
    count: int
    selected: bool


class LibraryFacetOut(Schema):
    name: str
    label: str
    values: list[LibraryFacetValueOut]


class LibraryCrossLanguageOut(Schema):
    enabled: bool
    message: str


class LibrarySearchOut(PageOut):
    query: str
    sort: Literal[tuple(SearchSort.values)]  # type: ignore[valid-type]
    results: list[LibrarySearchHitOut]
    facets: list[LibraryFacetOut]
    cross_language: LibraryCrossLanguageOut


class LibraryLinkedRecordOut(Schema):
    relation: str
    id: int
    title: str
    year: int | None


class LibraryVersionOut(Schema):
    number: int
    created_at: datetime
    source: LibraryCodeOut
    changed_fields: list[str] = Field(..., description="Public fields only.")


class LibraryOrganisationOut(Schema):
    id: int
    name: str


class LibraryTrainingOut(Schema):
    duration: str
    format: LibraryCodeOut | None
    level: LibraryCodeOut | None


class LibraryRecordOut(LibraryRecordSummaryOut):
    countries: list[LibraryCodeOut]
    regions: list[LibraryCodeOut]
    localities: list[str]
    coverage: str
    topics: list[LibraryCodeOut]
    interventions: list[LibraryCodeOut]
    target_groups: list[LibraryCodeOut]
    outcomes: list[LibraryCodeOut]
    methods: list[LibraryCodeOut]
    licence: LibraryCodeOut
    organisation: LibraryOrganisationOut | None
    training: LibraryTrainingOut | None
    vocabulary_version: str
    published_at: datetime | None
    updated_at: datetime
    links: list[LibraryLinkedRecordOut]
    versions: list[LibraryVersionOut]


class LibraryVocabularyAxisOut(Schema):
    name: str
    label: str
    values: list[LibraryCodeOut]


class LibraryVocabularyOut(Schema):
    version: str
    current_version: str
    versions: list[str] = Field(description="Every published version, oldest first.")
    language: str
    types: list[LibraryCodeOut]
    evidence_levels: list[LibraryEvidenceOut]
    licences: list[LibraryCodeOut]
    axes: list[LibraryVocabularyAxisOut]


class LibraryLanguageQuery(Schema):
    lang: Language | None = Field(
        None, description="Language of the labels; default: the request's language."
    )


class LibraryVocabularyQuery(LibraryLanguageQuery):
    version: VocabularyVersion | None = Field(
        None,
        description="A published version (a record's `vocabulary_version`), to read the codes "
        "of a record saved with it; default: the current version.",
    )


# --- helpers -------------------------------------------------------------------------------


def _choice(choices, code):
    return {"code": code, "label": str(choices(code).label)} if code else None


def _evidence(code):
    if not code:
        return None
    level = EvidenceLevel(code)
    return {
        "code": code,
        "label": str(level.label),
        "rank": EVIDENCE_RANK[code],
        "description": str(EVIDENCE_DESCRIPTIONS[level]),
    }


def _summary(record):
    return {
        "id": record.pk,
        "page": reverse("library:record", kwargs={"record_id": record.pk}),
        "title": record.title,
        "type": _choice(ResourceType, record.type),
        "year": record.year,
        "is_ongoing": record.is_ongoing,
        "publisher": record.publisher,
        "authors": record.author_list,
        "languages": [
            {"code": code, "label": selectors.language_name(code)} for code in record.languages
        ],
        "summary": record.summary,
        "evidence_level": _evidence(record.evidence_level),
        "url": record.url,
    }


def _labelled(record, axis, language):
    field = VOCABULARY_FIELDS[axis]
    return [
        {"code": code, "label": label_in(axis, code, language, record.vocabulary_version)}
        for code in getattr(record, field)
    ]


def _check_codes(query):
    """Every facet value is one the library knows (422 naming the facet otherwise)."""
    errors = {}
    for name in FACET_NAMES:
        allowed = set(facet_choices(name))
        unknown = [value for value in getattr(query, name) if value not in allowed]
        if unknown:
            errors[name] = [_("Unknown value: %(value)s") % {"value": value} for value in unknown]
    if query.year_from and query.year_to and query.year_from > query.year_to:
        errors["year_to"] = [_("The last year must not be before the first.")]
    if errors:
        raise ValidationFailed(_("Some filters are not valid."), fields=errors)


# --- endpoints -----------------------------------------------------------------------------


@router.get(
    "/library/records",
    response={200: LibrarySearchOut, 422: ErrorOut},
    auth=None,
    summary="Search the library",
    description=(
        "Full-text search of the published records with facets. Repeat a facet to OR its "
        "values (`?topic=gender&topic=polarisation`); different facets are AND-ed. Each "
        "facet's counts apply every filter but its own, so the other values stay visible. "
        "`highlights` are HTML with the matched words in `<mark>`. With cross-language search "
        "(`cross_language.enabled`), the records nearest in meaning in any language join the "
        "full-text matches and the two rankings are fused. Ranked by relevance, the pages stop "
        "at the 2,000th result (`count` still tells every match): refine the query or sort by "
        "date to go further."
    ),
)
def library_search(request, query: Query[LibrarySearchQuery]):
    _check_codes(query)
    language = query.lang or get_language()
    params = SearchParams(
        q=query.q,
        filters={name: list(getattr(query, name)) for name in FACET_NAMES if getattr(query, name)},
        year_from=query.year_from,
        year_to=query.year_to,
        sort=query.sort or "",
        page=query.page,
        page_size=query.page_size,
    )
    with translation.override(language):
        result = selectors.record_search(params, language=language)
        check_page(query.page, result.pages)
        return {
            "query": query.q,
            "count": result.total,
            "page": result.page,
            "pages": result.pages,
            "page_size": result.page_size,
            "sort": result.sort,
            "results": [
                {
                    **_summary(hit.record),
                    "highlights": {
                        "title": str(hit.title),
                        "snippet": str(hit.snippet),
                        "authors": str(hit.authors),
                        "publisher": str(hit.publisher),
                    },
                }
                for hit in result.hits
            ],
            "facets": [
                {
                    "name": facet.name,
                    "label": facet.label,
                    "values": [
                        {
                            "code": value.code,
                            "label": value.label,
                            "count": value.count,
                            "selected": value.selected,
                        }
                        for value in facet.values
                    ],
                }
                for facet in result.facets
            ],
            "cross_language": {
                "enabled": result.cross_language,
                "message": _(
                    "Cross-language search is on: the resources closest in meaning, in any "
                    "language, are found besides those containing the words."
                )
                if result.cross_language
                else _(
                    "Cross-language search is not available on this server (multilingual "
                    "embeddings are not installed): words are matched in each resource's own "
                    "language."
                ),
            },
        }


@router.get(
    "/library/records/{record_id}",
    response={200: LibraryRecordOut, 404: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="Get a library record",
    description=(
        "A published record with its links to other published records and the summary of its "
        "versions. Unpublished and missing records are the same 404."
    ),
)
def library_record(
    request,
    query: Query[LibraryLanguageQuery],
    record_id: int = Path(..., ge=1, le=DB_ID_MAX),
):
    record = selectors.access_record(record_id=record_id, editor=False)
    if record is None:
        raise NotFound(_("No published record has this id."))
    language = query.lang or get_language()
    with translation.override(language):
        versions = [
            {
                "number": version.number,
                "created_at": version.created_at,
                "source": _choice(VersionSource, version.source),
                "changed_fields": [
                    name for name in version.changed_fields if name not in PRIVATE_FIELDS
                ],
            }
            for version in selectors.record_versions(record)
        ]
        training = None
        if record.type == ResourceType.TRAINING:
            training = {
                "duration": record.training_duration,
                "format": _choice(TrainingFormat, record.training_format),
                "level": _choice(TrainingLevel, record.training_level),
            }
        return {
            **_summary(record),
            "countries": _labelled(record, "country", language),
            "regions": _labelled(record, "region", language),
            "localities": record.localities,
            "coverage": record.coverage,
            "topics": _labelled(record, "topic", language),
            "interventions": _labelled(record, "intervention", language),
            "target_groups": _labelled(record, "target_group", language),
            "outcomes": _labelled(record, "outcome", language),
            "methods": _labelled(record, "method", language),
            "licence": _choice(Licence, record.licence),
            "organisation": (
                {"id": record.organisation.pk, "name": record.organisation.name}
                if record.organisation
                else None
            ),
            "training": training,
            "vocabulary_version": record.vocabulary_version,
            "published_at": record.published_at,
            "updated_at": record.updated_at,
            "links": [
                {
                    "relation": link.label,
                    "id": link.record.pk,
                    "title": link.record.title,
                    "year": link.record.year,
                }
                for link in selectors.record_links(record, editor=False)
            ],
            "versions": versions,
        }


@router.get(
    "/library/vocabulary",
    response={200: LibraryVocabularyOut, 422: ErrorOut},
    auth=None,
    summary="The library's vocabularies",
    description=(
        "Every code the search filters and records use — types, evidence levels, licences, "
        "and the controlled vocabularies (topics, interventions, target groups, outcomes, "
        "methods, regions, countries) — with labels in `lang`. Records are saved with "
        "`current_version`; `version` gives an older published version, whose codes keep their "
        "meaning (docs/library.md, Controlled vocabularies)."
    ),
)
def library_vocabulary(request, query: Query[LibraryVocabularyQuery]):
    language = query.lang or get_language()
    current = vocabulary(query.version)
    with translation.override(language):
        return {
            "version": current.version,
            "current_version": current_version(),
            "versions": available_versions(),
            "language": language,
            "types": [{"code": c, "label": str(label)} for c, label in ResourceType.choices],
            "evidence_levels": [_evidence(code) for code in EvidenceLevel.values],
            "licences": [{"code": c, "label": str(label)} for c, label in Licence.choices],
            "axes": [
                {
                    "name": axis,
                    "label": current.axis_label(axis, language),
                    "values": [
                        {"code": code, "label": label}
                        for code, label in current.choices(axis, language)
                    ],
                }
                for axis in AXES
            ],
        }
