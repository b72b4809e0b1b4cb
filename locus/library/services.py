"""Writes for the library: records with their versions, facet rows and search index kept in
step (one transaction), links between records, CSV imports and the demo catalogue.

Every change of a record goes through `record_create` / `record_update` / `record_set_links`,
which store a `RecordVersion` (who, when, which fields, the record afterwards). A write that
changes nothing stores nothing, which is what makes re-running an import harmless.
"""

import re
from datetime import date
from pathlib import Path

from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from locus.core.errors import ValidationFailed
from locus.directory.models import Organisation

from . import imports
from .choices import (
    EVIDENCE_NOT_RATED,
    EvidenceLevel,
    Licence,
    LinkKind,
    Provenance,
    RecordStatus,
    ResourceType,
    TrainingFormat,
    TrainingLevel,
    VersionSource,
)
from .models import YEAR_MIN, Record, RecordFacet, RecordLink, RecordVersion
from .search import backend, document_for, embeddings, generation
from .search.postgres import config_for
from .vocabulary import RECORD_FIELDS as VOCABULARY_FIELDS
from .vocabulary import current_version, vocabulary

SEED_FILE = Path(__file__).resolve().parent / "seed" / "resources.csv"

# The fields a person (or an import) sets, in the order versions list them.
FIELDS = (
    "type",
    "status",
    "title",
    "summary",
    "authors",
    "publisher",
    "year",
    "is_ongoing",
    "languages",
    "countries",
    "regions",
    "localities",
    "coverage",
    "topics",
    "interventions",
    "target_groups",
    "outcomes",
    "methods",
    "evidence_level",
    "licence",
    "url",
    "organisation",
    "training_duration",
    "training_format",
    "training_level",
    "private_notes",
    "provenance",
)
# Editors only: left out of public version summaries, public pages and the public API.
PRIVATE_FIELDS = frozenset({"private_notes", "provenance"})
TRAINING_FIELDS = ("training_duration", "training_format", "training_level")
MULTIPLE_LANGUAGES = "mul"

LIMITS = {
    "title": 500,
    "summary": 10_000,
    "publisher": 300,
    "coverage": 300,
    "url": 2000,
    "training_duration": 100,
    "private_notes": 5000,
    "author": 200,
    "locality": 100,
}
MAX_LIST = 30

# Control characters, and the private-use characters the search highlighting reserves.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ue000-\ue003]")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")


# --------------------------------------------------------------------------------------------
# Validation


def _text(value, name, errors, *, required=False, multiline=False):
    """Stripped text without control characters (line breaks only where `multiline`), within
    its limit; the highlighter's private-use markers are removed."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = [_("Enter text.")]
        return ""
    value = _CONTROL_RE.sub("", value).replace("\r\n", "\n")
    if not multiline:
        value = " ".join(value.split())
    value = value.strip()
    if required and not value:
        errors[name] = [_("This field is required.")]
    elif len(value) > LIMITS[name]:
        errors[name] = [
            _("Write at most %(limit)s characters (this has %(count)s).")
            % {"limit": LIMITS[name], "count": len(value)}
        ]
    return value


def _choice(value, choices, name, errors, *, blank=True):
    value = value or ""
    if value == "" and blank:
        return ""
    if value not in choices.values:
        errors[name] = [_("Unknown choice: %(value)s") % {"value": value}]
    return value


def _codes(values, name, errors, *, valid):
    """A list of codes without repeats, each checked by `valid`."""
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        errors[name] = [_("Give a list.")]
        return []
    cleaned = []
    for value in values:
        if not isinstance(value, str) or not valid(value):
            errors.setdefault(name, []).append(_("Unknown code: %(code)s") % {"code": value})
        elif value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_LIST:
        errors[name] = [_("Give at most %(count)s values.") % {"count": MAX_LIST}]
    return cleaned


def _language_code_valid(code):
    return code == MULTIPLE_LANGUAGES or (_LANGUAGE_RE.match(code) and code in LANG_INFO)


def _names(values, name, errors, *, limit):
    if values is None:
        return []
    if isinstance(values, str):
        values = values.splitlines()
    if not isinstance(values, list | tuple):
        errors[name] = [_("Give a list.")]
        return []
    cleaned = []
    for value in values:
        value = " ".join(_CONTROL_RE.sub("", str(value)).split())
        if not value or value in cleaned:
            continue
        if len(value) > LIMITS[limit]:
            errors.setdefault(name, []).append(
                _("“%(name)s…” is longer than %(limit)s characters.")
                % {"name": value[:30], "limit": LIMITS[limit]}
            )
            continue
        cleaned.append(value)
    if len(cleaned) > MAX_LIST:
        errors[name] = [_("Give at most %(count)s values.") % {"count": MAX_LIST}]
    return cleaned


def _year(value, errors):
    if value in (None, ""):
        return None
    try:
        year = int(value)
    except (TypeError, ValueError):
        errors["year"] = [_("Enter a year, like 2021.")]
        return None
    latest = date.today().year + 1
    if not YEAR_MIN <= year <= latest:
        errors["year"] = [
            _("Enter a year between %(first)s and %(last)s.") % {"first": YEAR_MIN, "last": latest}
        ]
        return None
    return year


def _url(value, errors):
    value = _text(value, "url", errors)
    if value and "url" not in errors:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError:
            errors["url"] = [_("Enter a web address that starts with http:// or https://.")]
    return value


def clean_record_data(data):
    """Check a complete set of record fields; returns them cleaned or raises ValidationFailed
    naming every field in error. Codes are checked against the current vocabulary."""
    errors = {}
    vocab = vocabulary()
    cleaned = {
        "type": _choice(data.get("type"), ResourceType, "type", errors, blank=False),
        "status": _choice(
            data.get("status") or RecordStatus.DRAFT, RecordStatus, "status", errors, blank=False
        ),
        "title": _text(data.get("title"), "title", errors, required=True),
        "summary": _text(data.get("summary"), "summary", errors, multiline=True),
        "authors": "\n".join(_names(data.get("authors"), "authors", errors, limit="author")),
        "publisher": _text(data.get("publisher"), "publisher", errors),
        "year": _year(data.get("year"), errors),
        "is_ongoing": bool(data.get("is_ongoing")),
        "languages": _codes(data.get("languages"), "languages", errors, valid=_language_code_valid),
        "localities": _names(data.get("localities"), "localities", errors, limit="locality"),
        "coverage": _text(data.get("coverage"), "coverage", errors),
        "evidence_level": _choice(
            data.get("evidence_level"), EvidenceLevel, "evidence_level", errors
        ),
        "licence": _choice(
            data.get("licence") or Licence.UNKNOWN, Licence, "licence", errors, blank=False
        ),
        "url": _url(data.get("url"), errors),
        "training_duration": _text(data.get("training_duration"), "training_duration", errors),
        "training_format": _choice(
            data.get("training_format"), TrainingFormat, "training_format", errors
        ),
        "training_level": _choice(
            data.get("training_level"), TrainingLevel, "training_level", errors
        ),
        "private_notes": _text(data.get("private_notes"), "private_notes", errors, multiline=True),
        "provenance": _choice(data.get("provenance"), Provenance, "provenance", errors),
    }
    for axis, field in VOCABULARY_FIELDS.items():
        cleaned[field] = _codes(
            data.get(field), field, errors, valid=lambda code, axis=axis: vocab.has(axis, code)
        )
    organisation = data.get("organisation")
    if organisation is not None and not isinstance(organisation, Organisation):
        errors["organisation"] = [_("Choose an organisation.")]
        organisation = None
    cleaned["organisation"] = organisation
    if cleaned["is_ongoing"] and cleaned["year"] is None and "year" not in errors:
        errors["year"] = [_("Give the year a continuously updated resource started.")]
    if cleaned["type"] != ResourceType.TRAINING:
        for name in TRAINING_FIELDS:
            if cleaned[name]:
                errors[name] = [_("Only training resources have a duration, format and level.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), fields=errors)
    return cleaned


# --------------------------------------------------------------------------------------------
# Records


def _snapshot(record, links=None):
    """The record's fields as JSON, with its outgoing links: what a version keeps."""
    data = {}
    for name in FIELDS:
        if name == "organisation":
            data[name] = record.organisation_id
        else:
            data[name] = getattr(record, name)
    if links is None:
        links = (
            list(record.links_out.values_list("kind", "target_id")) if record.pk is not None else []
        )
    data["links"] = sorted([kind, target] for kind, target in links)
    return data


def _facet_rows(record):
    rows = [("type", record.type), ("evidence_level", record.evidence_level or EVIDENCE_NOT_RATED)]
    rows += [("language", code) for code in record.languages]
    for axis, field in VOCABULARY_FIELDS.items():
        rows += [(axis, code) for code in getattr(record, field)]
    if record.year is not None:
        rows.append(("year", str(record.year)))
    return [RecordFacet(record=record, facet=facet, value=value) for facet, value in rows]


def _sync_derived(record):
    """Facet rows and the search document follow the record's fields."""
    RecordFacet.objects.filter(record=record).delete()
    RecordFacet.objects.bulk_create(_facet_rows(record))
    backend().index(record, document_for(record))
    generation.bump()  # every process reloads its facet index before its next search
    embeddings.schedule(record.pk)  # the worker re-embeds it if its text changed


def _store_version(record, *, changed, actor, source, comment, links=None):
    last = record.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return RecordVersion.objects.create(
        record=record,
        number=last + 1,
        actor=actor if actor is not None and actor.is_authenticated else None,
        source=source,
        comment=comment[:300],
        changed_fields=list(changed),
        snapshot=_snapshot(record, links=links),
    )


def _apply(record, cleaned):
    for name, value in cleaned.items():
        setattr(record, name, value)
    record.vocabulary_version = current_version()
    record.search_config = config_for(record.language)
    if record.status == RecordStatus.PUBLISHED and record.published_at is None:
        record.published_at = timezone.now()


@transaction.atomic
def record_create(
    *, data, actor=None, source=VersionSource.EDITOR, comment="", import_key=None
) -> Record:
    """A new record from `data` (the fields of FIELDS; missing ones take their defaults), with
    its first version."""
    cleaned = clean_record_data(data)
    record = Record(import_key=import_key, created_by=actor if getattr(actor, "pk", None) else None)
    _apply(record, cleaned)
    record.save()
    _sync_derived(record)
    changed = [name for name in FIELDS if cleaned[name] not in ("", None, [], False)]
    _store_version(record, changed=changed, actor=actor, source=source, comment=comment)
    return record


def record_values(record):
    """The record's FIELDS, as `record_update` takes them."""
    return {name: getattr(record, name) for name in FIELDS}


@transaction.atomic
def record_update(
    *, record, data, actor=None, source=VersionSource.EDITOR, comment="", import_key=None
):
    """Change the fields given in `data` (the others stay). Returns the names of the fields that
    changed: none means nothing was saved and no version was stored."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    cleaned = clean_record_data({**record_values(record), **data})
    before = _snapshot(record)
    _apply(record, {name: cleaned[name] for name in data if name in FIELDS})
    after = _snapshot(record)
    changed = [name for name in FIELDS if before[name] != after[name]]
    if import_key is not None and record.import_key != import_key:
        record.import_key = import_key
        if not changed:
            record.save(update_fields=["import_key"])
    if not changed:
        return record, []
    record.save()
    _sync_derived(record)
    _store_version(record, changed=changed, actor=actor, source=source, comment=comment)
    return record, changed


def record_set_status(*, record, status, actor=None, comment=""):
    record, _changed = record_update(
        record=record, data={"status": status}, actor=actor, comment=comment
    )
    return record


@transaction.atomic
def record_set_links(*, record, links, actor=None, source=VersionSource.EDITOR, comment=""):
    """Make the record's outgoing links exactly `links` ([(kind, target record)]); a version
    is stored when they change. Returns True when they did."""
    wanted = set()
    errors = []
    for kind, target in links:
        if kind not in LinkKind.values:
            errors.append(_("Unknown kind of link: %(kind)s") % {"kind": kind})
        elif target.pk == record.pk:
            errors.append(_("A record cannot link to itself."))
        else:
            wanted.add((kind, target.pk))
    if errors:
        raise ValidationFailed(_("Some links are not valid."), fields={"links": errors})
    current = set(record.links_out.values_list("kind", "target_id"))
    if current == wanted:
        return False
    for kind, target_id in current - wanted:
        RecordLink.objects.filter(source=record, kind=kind, target_id=target_id).delete()
    RecordLink.objects.bulk_create(
        [
            RecordLink(source=record, kind=kind, target_id=target_id)
            for kind, target_id in wanted - current
        ]
    )
    _store_version(
        record, changed=["links"], actor=actor, source=source, comment=comment, links=wanted
    )
    return True


@transaction.atomic
def record_delete(*, record):
    """Remove a record, its index entry and its stored files, these once the deletion is
    committed (platform admin only: editors withdraw instead)."""
    from .files import files_delete_with_record

    backend().remove([record.pk])
    files_delete_with_record(record)
    record.delete()


def search_reindex(*, records=None):
    """Rebuild facet rows and search documents (after a restore, or a change of the index's
    configuration). Returns how many records were indexed."""
    count = 0
    queryset = records if records is not None else Record.objects.all()
    for record in queryset.iterator(chunk_size=500):
        with transaction.atomic():
            record.search_config = config_for(record.language)
            Record.objects.filter(pk=record.pk).update(search_config=record.search_config)
            _sync_derived(record)
        count += 1
    return count


# --------------------------------------------------------------------------------------------
# Imports


@transaction.atomic
def records_import(*, raw, filename="", skip_invalid=False, actor=None):
    """Import a resources CSV (docs/library.md): all or nothing unless `skip_invalid`.

    Rows are matched to records by their key (the web address; see `imports.row_keys`):
    re-running a file updates what changed and creates nothing twice. Returns a summary;
    raises `imports.ImportRejected` (a ValidationFailed carrying every problem with its line
    and column) when nothing was imported.
    """
    plan = imports.read_resources(raw, vocabulary=vocabulary())
    problems = plan.problems
    if plan.fatal or (problems and not skip_invalid):
        raise imports.ImportRejected(
            ngettext(
                "%(count)s problem in the file, so nothing was imported.",
                "%(count)s problems in the file, so nothing was imported.",
                len(problems),
            )
            % {"count": len(problems)},
            problems=problems,
        )
    rows = plan.valid_rows
    if not rows:
        raise imports.ImportRejected(_("No valid row to import."), problems=problems)
    name = Path(filename).name if filename else _("a CSV file")
    claimed = set()
    summary = {"created": 0, "updated": 0, "unchanged": 0, "links_changed": 0}
    by_line = {}
    for row in rows:
        comment = _("Imported from %(file)s, line %(line)s") % {"file": name, "line": row.line}
        primary, *fallbacks = row.keys
        record = _record_for_keys(row, primary, fallbacks, claimed)
        if record is None:
            record = record_create(
                data={"status": RecordStatus.PUBLISHED, **row.data},
                actor=actor,
                source=VersionSource.IMPORT,
                comment=comment,
                import_key=imports.hash_key(primary),
            )
            summary["created"] += 1
        else:
            record, changed = record_update(
                record=record,
                data=row.data,
                actor=actor,
                source=VersionSource.IMPORT,
                comment=comment,
                import_key=imports.hash_key(primary),
            )
            summary["updated" if changed else "unchanged"] += 1
        claimed.add(record.pk)
        by_line[row.line] = record
    warnings = list(plan.warnings)
    for row in rows:
        if row.links is None:  # no links column: links are left as they are
            continue
        targets = []
        for link in row.links:
            target = by_line.get(link.line) if link.line else link.record
            if target is None:
                warnings.append(
                    imports.Problem(
                        row.line,
                        "links",
                        _("Line %(line)s was not imported, so the link to it was left out.")
                        % {"line": link.line},
                    )
                )
                continue
            targets.append((link.kind, target))
        comment = _("Imported from %(file)s, line %(line)s") % {"file": name, "line": row.line}
        if record_set_links(
            record=by_line[row.line],
            links=targets,
            actor=actor,
            source=VersionSource.IMPORT,
            comment=comment,
        ):
            summary["links_changed"] += 1
    summary["skipped"] = len({problem.line for problem in problems})
    summary["problems"] = [problem.as_dict() for problem in problems]
    summary["warnings"] = [warning.as_dict() for warning in warnings]
    return summary


def _record_for_keys(row, primary, fallbacks, claimed):
    """The record this row updates: the one imported under its key, else one imported under
    an older form of it (before a web address was added, or before another row shared it)."""
    for position, key in enumerate([primary, *fallbacks]):
        record = Record.objects.filter(import_key=imports.hash_key(key)).first()
        if record is None or record.pk in claimed:
            continue
        if position and imports.fold_title(record.title) != imports.fold_title(row.data["title"]):
            continue  # an older key is only trusted for the same title
        return record
    return None


def library_load_demo():
    """Import the seed catalogue (locus/library/seed/resources.csv): 60 real published
    resources. Idempotent; `manage.py demo` calls it."""
    return records_import(raw=SEED_FILE.read_bytes(), filename=SEED_FILE.name)
