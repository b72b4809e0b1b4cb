"""The public library: search and a record's page. Network-wide (no place in the URL). Parse,
call one selector, render. Editors (policies.py) also see drafts and the private notes."""

from urllib.parse import urlencode

from django.http import Http404, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import selectors
from .choices import (
    EVIDENCE_DESCRIPTIONS,
    EVIDENCE_RANK,
    EvidenceLevel,
    RecordStatus,
    SearchSort,
    VersionSource,
)
from .forms import SearchForm
from .models import Record
from .review_selectors import user_organisation_ids
from .selectors import language_name, value_label
from .services import PRIVATE_FIELDS
from .vocabulary import RECORD_FIELDS as VOCABULARY_FIELDS
from .vocabulary import label_in

# How many values of a facet show before "more".
FACET_VISIBLE = 8


def _without(query, name, code):
    """The query string without one value of one facet (and back on the first page)."""
    query = query.copy()
    query.setlist(name, [value for value in query.getlist(name) if value != code])
    query.pop("page", None)
    pairs = [(key, value) for key in query for value in query.getlist(key) if value != ""]
    return "?" + urlencode(pairs)


def _active_filters(request, result):
    active = []
    for facet in result.facets:
        for value in facet.selected:
            active.append(
                {
                    "facet": facet.label,
                    "label": value.label,
                    "remove": _without(request.GET, facet.name, value.code),
                }
            )
    return active


def search(request):
    """Faceted full-text search of the published records."""
    form = SearchForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    result = selectors.record_search(form.params(), language=get_language())
    facets = [
        {
            "facet": facet,
            "field": form[facet.name],
            "visible": facet.values[:FACET_VISIBLE],
            "more": facet.values[FACET_VISIBLE:],
        }
        for facet in result.facets
    ]
    context = {
        "form": form,
        "result": result,
        "facets": facets,
        "active_filters": _active_filters(request, result),
        "sort_choices": SearchSort.choices,
        # The sort the person chose, else relevance: pre-selecting the order actually used
        # (newest first while the box is empty) sent every search typed on the first page
        # sorted by date, its best matches anywhere in the list.
        "chosen_sort": result.params.sort or SearchSort.RELEVANCE,
        "evidence_levels": [
            (level, EVIDENCE_DESCRIPTIONS[level], EVIDENCE_RANK[level]) for level in EvidenceLevel
        ],
        "api_search_url": _api_search_url(request, form, result.page)
        if valid
        else reverse("api:library_search"),
    }
    return render(request, "library/search.html", context, status=200 if valid else 422)


def _api_search_url(request, form, page):
    """The same search in the JSON API, for a researcher who wants to reuse it: the form's
    parameters are the API's, less the empty fields a submitted form sends (which the API,
    rightly, refuses as numbers) and anything the form does not read."""
    query = QueryDict(mutable=True)
    for key in form.fields:
        kept = [value for value in request.GET.getlist(key) if value.strip()]
        if key == "page":  # the page shown, not the number asked for ("abc", past the end)
            kept = [str(page)] if page > 1 else []
        if kept:
            query.setlist(key, kept)
    url = reverse("api:library_search")
    return f"{url}?{query.urlencode()}" if query else url


def _labels(record, field, axis, language):
    return [
        label_in(axis, code, language, record.vocabulary_version) for code in getattr(record, field)
    ]


def field_label(name):
    """A record field's name in the reader's language (a version's changed fields; the
    platform administration's versions too)."""
    if name == "links":
        return _("links")
    return str(Record._meta.get_field(name).verbose_name)


def _version_rows(versions, *, editor):
    """What each version changed. The public sees which fields, never who or the private
    fields (a change of private fields only reads as an editorial change)."""
    rows = []
    for version in versions:
        changed = [name for name in version.changed_fields if editor or name not in PRIVATE_FIELDS]
        labels = [field_label(name) for name in changed]
        if not labels:
            labels = [_("editorial details")]
        rows.append(
            {
                "version": version,
                "changed": labels,
                "source": VersionSource(version.source).label,
                "actor": (version.actor.name or version.actor.email)
                if editor and version.actor
                else "",
                "comment": version.comment if editor else "",
            }
        )
    return rows


def record_detail(request, record_id):
    """One record: its metadata, links and the summary of its versions."""
    editor = selectors.library_editor(request.user)
    owner_ids = user_organisation_ids(request.user)  # drafts: their organisation's members
    record = selectors.access_record(record_id=record_id, editor=editor, organisation_ids=owner_ids)
    if record is None:
        raise Http404
    language = get_language()
    vocabulary_rows = [
        (selectors.facet_label(axis), _labels(record, field, axis, language))
        for axis, field in VOCABULARY_FIELDS.items()
        if axis not in ("country", "region")
    ]
    places = [
        *_labels(record, "countries", "country", language),
        *_labels(record, "regions", "region", language),
        *record.localities,
    ]
    evidence = None
    if record.evidence_level:
        level = EvidenceLevel(record.evidence_level)
        evidence = {
            "label": level.label,
            "description": EVIDENCE_DESCRIPTIONS[level],
            "rank": EVIDENCE_RANK[level],
            "of": len(EVIDENCE_RANK),
        }
    context = {
        "record": record,
        "editor": editor,
        # An editor of the contributing organisation is told its organisation sees it too.
        "owner": record.organisation_id is not None and record.organisation_id in owner_ids,
        "is_published": record.status == RecordStatus.PUBLISHED,
        "type_label": value_label("type", record.type, language),
        "languages": [language_name(code) for code in record.languages],
        "places": places,
        "vocabulary_rows": [(label, values) for label, values in vocabulary_rows if values],
        "evidence": evidence,
        "links": selectors.record_links(record, editor=editor),
        "versions": _version_rows(selectors.record_versions(record), editor=editor),
    }
    return render(request, "library/record.html", context)
