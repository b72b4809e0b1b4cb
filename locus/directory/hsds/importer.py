"""Read HSDS 3.1 data — JSON (one object, a list, a paginated `contents` list, an export bundle
`{"organizations": [...], "services": [...]}`, or the tabular package as JSON) and the CSV
tabular package (`organizations.csv`, `services.csv` and their child tables) — into rows, each
checked against the official schema and Locus's rules, with its row number and reasons.

Parsing never writes and never raises anything but `ImportFailed` (the file as a whole cannot
be read); a bad row becomes a `Problem`. `apply_import` writes the good rows (or nothing).
"""

import csv
import datetime as dt
import io
import json
import math
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext as _

from locus.core.errors import ValidationFailed
from locus.core.spreadsheets import spreadsheet_unescape

from ..choices import OrganisationType, PartnershipKind, ServiceStatus
from ..vocabulary import vocabulary
from .export import TAXONOMIES
from .validation import errors as schema_errors

MAX_ROWS = 5000
MAX_BYTES = 10 * 1024 * 1024
CSV_TABLES = (
    "organizations.csv",
    "services.csv",
    "phones.csv",
    "languages.csv",
    "service_areas.csv",
    "schedules.csv",
    "attributes.csv",
    "taxonomy_terms.csv",
    "taxonomies.csv",
)


class ImportFailed(ValidationFailed):
    """The input as a whole cannot be read (not JSON, no known table…)."""

    code = "unreadable"


@dataclass
class Problem:
    source: str  # "services.csv" or "services" (JSON)
    row: int  # 1-based data row (CSV: the line number, the header being line 1)
    reasons: list
    name: str = ""

    def as_dict(self):
        return {"source": self.source, "row": self.row, "name": self.name, "reasons": self.reasons}

    def __str__(self):
        where = _("%(source)s row %(row)s") % {"source": self.source, "row": self.row}
        if self.name:
            where = f"{where} ({self.name})"
        return f"{where}: " + "; ".join(self.reasons)


@dataclass
class OrganisationRow:
    source: str
    row: int
    hsds_id: uuid.UUID
    fields: dict
    type: str
    partnerships: list = field(default_factory=list)  # (kind, target uuid, description)


@dataclass
class ServiceRow:
    source: str
    row: int
    hsds_id: uuid.UUID
    organisation_id: uuid.UUID | None
    fields: dict
    area_names: list = field(default_factory=list)
    whole_place: bool = False


@dataclass
class Parsed:
    organisations: list = field(default_factory=list)
    services: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def rows(self):
        return len(self.organisations) + len(self.services) + len(self.problems)


# --- reading -------------------------------------------------------------------------------


def parse_text(text: str, *, filename: str = "") -> Parsed:
    """JSON text, or one CSV table named by `filename`."""
    if not isinstance(text, str):
        raise ImportFailed(_("The file is not text."))
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise ImportFailed(_("The file is too large."))
    if filename.lower().endswith(".csv"):
        return parse_csv_package({filename.rsplit("/", 1)[-1].lower(): text})
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ImportFailed(
            _("The file is not valid JSON."), fields={"file": [_("Not valid JSON.")]}
        ) from None
    return parse_json(data)


def parse_json(data) -> Parsed:
    """Any of the JSON shapes HSDS uses (see the module docstring)."""
    if isinstance(data, dict) and any(str(k).endswith(".csv") for k in data):
        files = {}
        for name, rows in data.items():
            if isinstance(rows, list):
                files[str(name).lower()] = [r for r in rows if isinstance(r, dict)]
        return _assemble_tables(files, typed=True)
    parsed = Parsed()
    organisations, services = [], []
    if (
        isinstance(data, dict)
        and "id" not in data
        and ("organizations" in data or "services" in data)
    ):
        organisations = _as_list(data.get("organizations"))
        services = _as_list(data.get("services"))
    elif isinstance(data, dict) and "contents" in data:
        for item in _as_list(data.get("contents")):
            (services if _looks_like_service(item) else organisations).append(item)
    elif isinstance(data, list):
        for item in data:
            (services if _looks_like_service(item) else organisations).append(item)
    elif isinstance(data, dict):
        (services if _looks_like_service(data) else organisations).append(data)
    else:
        raise ImportFailed(
            _("No HSDS organisation or service found."),
            fields={"file": [_("Expected an HSDS object or a list of them.")]},
        )
    if len(organisations) + len(services) > MAX_ROWS:
        raise ImportFailed(_("Too many records: at most %(max)s.") % {"max": MAX_ROWS})
    nested_services = []
    for index, item in enumerate(organisations, start=1):
        if isinstance(item, dict) and isinstance(item.get("services"), list):
            item = dict(item)
            for child in item.pop("services"):
                if isinstance(child, dict):
                    child = dict(child)
                    child.setdefault("organization_id", item.get("id"))
                    nested_services.append(("organizations", index, child))
        _organisation_row(parsed, "organizations", index, item)
    for index, item in enumerate(services, start=1):
        if isinstance(item, dict) and isinstance(item.get("organization"), dict):
            item = dict(item)
            organisation = item.pop("organization")
            item.setdefault("organization_id", organisation.get("id"))
            known = {str(r.hsds_id) for r in parsed.organisations}
            if str(organisation.get("id")) not in known:
                _organisation_row(parsed, "services", index, organisation)
        _service_row(parsed, "services", index, item)
    for source, index, child in nested_services:
        _service_row(parsed, source, index, child)
    return parsed


def _as_list(value):
    return value if isinstance(value, list) else []


def _looks_like_service(item):
    return isinstance(item, dict) and ("status" in item or "organization_id" in item)


def parse_csv_package(files: dict) -> Parsed:
    """The tabular package: {file name: CSV text}. organizations.csv and/or services.csv are
    needed; phones, languages, service_areas, schedules, attributes and taxonomy_terms are
    joined to them by id. Unknown tables are ignored (with a warning)."""
    tables = {}
    for name, text in files.items():
        name = str(name).rsplit("/", 1)[-1].lower()
        if not name.endswith(".csv"):
            continue
        if not isinstance(text, str):
            raise ImportFailed(_("%(file)s is not text.") % {"file": name})
        try:
            reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
            rows = []
            for row in reader:
                if len(rows) >= MAX_ROWS:
                    raise ImportFailed(_("Too many records: at most %(max)s.") % {"max": MAX_ROWS})
                rows.append(
                    {
                        (k or "").strip(): (spreadsheet_unescape(v) if isinstance(v, str) else "")
                        for k, v in row.items()
                        if k
                    }
                )
        except csv.Error as error:
            raise ImportFailed(
                _("%(file)s is not valid CSV: %(error)s") % {"file": name, "error": error}
            ) from None
        tables[name] = rows
    return _assemble_tables(tables, typed=False)


def _schema_types(name):
    from .validation import BASE_URI, registry

    schema = registry().contents(BASE_URI + f"{name}.json")
    return {key: prop.get("type") for key, prop in schema.get("properties", {}).items()}


def _coerce(row, schema_name, typed):
    """A CSV row as the JSON object the schema describes: empty cells left out, numbers as
    numbers (a cell that is not a number stays text, so the schema names it)."""
    types = _schema_types(schema_name)
    obj = {}
    for key, value in row.items():
        if key not in types:
            continue
        if typed:
            if value is not None and value != "":
                obj[key] = value
            continue
        value = value.strip() if types.get(key) != "string" else value
        if value == "":
            continue
        if types.get(key) == "number":
            try:
                number = float(value)
                obj[key] = int(number) if number.is_integer() else number
            except ValueError:
                obj[key] = value
        else:
            obj[key] = value
    return obj


def _assemble_tables(tables: dict, *, typed: bool) -> Parsed:
    known = set(CSV_TABLES)
    if not ({"organizations.csv", "services.csv"} & set(tables)):
        raise ImportFailed(
            _("No organizations.csv or services.csv in the package."),
            fields={"file": [_("Expected organizations.csv and/or services.csv.")]},
        )
    parsed = Parsed()
    unused = sorted(set(tables) - known)
    if unused:
        parsed.warnings.append(
            _("Not used by Locus, ignored: %(files)s") % {"files": ", ".join(unused)}
        )
    terms = {
        r.get("id"): _coerce(r, "taxonomy_term", typed)
        for r in tables.get("taxonomy_terms.csv", [])
    }
    children = {
        "phones": {},
        "languages": {},
        "service_areas": {},
        "schedules": {},
        "attributes": {},
    }
    sources = {
        "phones": ("phones.csv", "phone"),
        "languages": ("languages.csv", "language"),
        "service_areas": ("service_areas.csv", "service_area"),
        "schedules": ("schedules.csv", "schedule"),
        "attributes": ("attributes.csv", "attribute"),
    }
    for key, (file_name, schema_name) in sources.items():
        for row in tables.get(file_name, []):
            obj = _coerce(row, schema_name, typed)
            if key == "attributes":
                term = terms.get(row.get("taxonomy_term_id"))
                if term:
                    obj["taxonomy_term"] = term
                owners = [row.get("link_id")]
            elif key == "phones":
                owners = [row.get("service_id"), row.get("organization_id")]
            else:
                owners = [row.get("service_id")]
            for owner in owners:
                if owner:
                    children[key].setdefault(owner, []).append(obj)
    for index, row in enumerate(tables.get("organizations.csv", []), start=2):
        obj = _coerce(row, "organization", typed)
        for key in ("phones", "attributes"):
            if children[key].get(row.get("id")):
                obj[key] = children[key][row["id"]]
        _organisation_row(parsed, "organizations.csv", index, obj)
    for index, row in enumerate(tables.get("services.csv", []), start=2):
        obj = _coerce(row, "service", typed)
        for key in children:
            if children[key].get(row.get("id")):
                obj[key] = children[key][row["id"]]
        _service_row(parsed, "services.csv", index, obj)
    return parsed


# --- one row -------------------------------------------------------------------------------

_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])


def _text(obj, key, limit, reasons, label):
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        return ""  # the schema names it
    value = value.strip()
    if "\x00" in value:
        reasons.append(_("%(field)s contains a NUL character.") % {"field": label})
        return ""
    if limit and len(value) > limit:
        reasons.append(
            _("%(field)s is longer than %(max)s characters.") % {"field": label, "max": limit}
        )
    return value


def _check(validator, value, reasons, message):
    if value:
        try:
            validator(value)
        except ValidationError:
            reasons.append(message)


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _attributes(obj, taxonomy_key):
    """Codes (and values, labels) of the object's attributes in one Locus taxonomy."""
    found = []
    for attribute in _as_list(obj.get("attributes")):
        if not isinstance(attribute, dict):
            continue
        term = (
            attribute.get("taxonomy_term")
            if isinstance(attribute.get("taxonomy_term"), dict)
            else {}
        )
        detail = term.get("taxonomy_detail")
        taxonomy = term.get("taxonomy") or (
            detail.get("name") if isinstance(detail, dict) else None
        )
        if taxonomy == TAXONOMIES[taxonomy_key] and isinstance(term.get("code"), str):
            found.append((term["code"], attribute.get("value"), attribute.get("label")))
    return found


def _organisation_row(parsed, source, row, obj):
    if not isinstance(obj, dict):
        parsed.problems.append(Problem(source, row, [_("Not an object.")]))
        return
    reasons = list(schema_errors("organization", obj))
    name = _text(obj, "name", 200, reasons, _("Name"))
    if not name and not any("name" in r for r in reasons):
        reasons.append(_("The name is empty."))
    hsds_id = _uuid(obj.get("id"))
    fields = {
        "name": name,
        "description": _text(obj, "description", 0, reasons, _("Description")),
        "website": _text(obj, "website", 200, reasons, _("Website")),
        "email": _text(obj, "email", 254, reasons, _("E-mail")),
    }
    phones = [p for p in _as_list(obj.get("phones")) if isinstance(p, dict)]
    fields["phone"] = _text(phones[0], "number", 40, reasons, _("Phone")) if phones else ""
    _check(_url, fields["website"], reasons, _("The website is not a valid web address."))
    _check(_email, fields["email"], reasons, _("The e-mail address is not valid."))
    types = [code for code, _v, _l in _attributes(obj, "organisation_type")]
    org_type = types[0] if types else OrganisationType.CSO
    if org_type not in OrganisationType.values:
        reasons.append(_("Unknown type of organisation: %(code)s") % {"code": org_type})
    partnerships = []
    kind_labels = {k: str(v) for k, v in PartnershipKind.choices}
    for code, value, label in _attributes(obj, "partnership"):
        target = _uuid(value)
        if code not in PartnershipKind.values or target is None:
            reasons.append(_("A partnership attribute is not valid."))
            continue
        description = label if isinstance(label, str) and label != kind_labels.get(code) else ""
        partnerships.append((code, target, description[:300]))
    if reasons or hsds_id is None:
        parsed.problems.append(Problem(source, row, reasons or [_("No valid id.")], name))
        return
    parsed.organisations.append(
        OrganisationRow(source, row, hsds_id, fields, org_type, partnerships)
    )


def _schedule_text(schedules, reasons):
    for schedule in schedules:
        if not isinstance(schedule, dict):
            continue
        if isinstance(schedule.get("description"), str) and schedule["description"].strip():
            return _text(schedule, "description", 300, reasons, _("Opening hours"))
        parts = [
            str(schedule.get(k)) for k in ("byday", "opens_at", "closes_at") if schedule.get(k)
        ]
        if parts:
            return " ".join(parts)[:300]
    return ""


def _service_row(parsed, source, row, obj):
    if not isinstance(obj, dict):
        parsed.problems.append(Problem(source, row, [_("Not an object.")]))
        return
    reasons = list(schema_errors("service", obj))
    words = vocabulary()
    name = _text(obj, "name", 200, reasons, _("Name"))
    if not name and not any("name" in r for r in reasons):
        reasons.append(_("The name is empty."))
    hsds_id = _uuid(obj.get("id"))
    organisation_id = _uuid(obj.get("organization_id"))
    if organisation_id is None:
        reasons.append(_("The service names no organisation (organization_id)."))
    fields = {
        "name": name,
        "description": _text(obj, "description", 0, reasons, _("Description")),
        "url": _text(obj, "url", 200, reasons, _("Web page")),
        "email": _text(obj, "email", 254, reasons, _("E-mail")),
        "how_to_refer": _text(obj, "application_process", 0, reasons, _("How to refer")),
        "eligibility": _text(obj, "eligibility_description", 0, reasons, _("Eligibility")),
        "cost": _text(obj, "fees_description", 300, reasons, _("Cost"))
        or _text(obj, "fees", 300, reasons, _("Cost")),
    }
    status = obj.get("status")
    fields["status"] = status if status in ServiceStatus.values else ServiceStatus.ACTIVE
    _check(_url, fields["url"], reasons, _("The web page is not a valid web address."))
    _check(_email, fields["email"], reasons, _("The e-mail address is not valid."))
    phones = [p for p in _as_list(obj.get("phones")) if isinstance(p, dict)]
    fields["phone"] = _text(phones[0], "number", 40, reasons, _("Phone")) if phones else ""
    fields["opening_hours"] = _schedule_text(_as_list(obj.get("schedules")), reasons)
    for key, target in (("minimum_age", "min_age"), ("maximum_age", "max_age")):
        value = obj.get(key)
        if value is None:
            fields[target] = None
        elif isinstance(value, bool) or not isinstance(value, int | float):
            fields[target] = None  # the schema names it
        elif not math.isfinite(value) or not 0 <= value <= 120 or value != int(value):
            reasons.append(_("%(field)s must be a whole number from 0 to 120.") % {"field": key})
            fields[target] = None
        else:
            fields[target] = int(value)
    if (
        fields.get("min_age") is not None
        and fields.get("max_age") is not None
        and fields["min_age"] > fields["max_age"]
    ):
        reasons.append(_("The maximum age is below the minimum age."))
    types = [c for c, _v, _l in _attributes(obj, "service_type")]
    fields["service_type"] = types[0] if types else "other"
    if not words.has("service_type", fields["service_type"]):
        reasons.append(_("Unknown type of service: %(code)s") % {"code": fields["service_type"]})
    groups = []
    for code, _v, _l in _attributes(obj, "target_group"):
        if words.has("target_group", code):
            if code not in groups:
                groups.append(code)
        else:
            reasons.append(_("Unknown target group: %(code)s") % {"code": code})
    fields["target_groups"] = groups
    languages = []
    for language in _as_list(obj.get("languages")):
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(code, str) or not code.strip():
            continue
        code = code.strip().lower()
        if words.has("language", code):
            if code not in languages:
                languages.append(code)
        else:
            parsed.warnings.append(
                _(
                    "%(source)s row %(row)s: language %(code)s is not in the directory's "
                    "list and was left out."
                )
                % {"source": source, "row": row, "code": code[:20]}
            )
    fields["languages"] = languages
    assured = obj.get("assured_date")
    fields["last_checked_on"] = None
    if isinstance(assured, str) and assured:
        try:
            fields["last_checked_on"] = dt.date.fromisoformat(assured[:10])
        except ValueError:
            reasons.append(_("assured_date is not a date (YYYY-MM-DD)."))
    area_names = []
    for area in _as_list(obj.get("service_areas")):
        if isinstance(area, dict) and isinstance(area.get("name"), str) and area["name"].strip():
            area_names.append(area["name"].strip()[:200])
    if reasons or hsds_id is None:
        parsed.problems.append(Problem(source, row, reasons or [_("No valid id.")], name))
        return
    parsed.services.append(
        ServiceRow(source, row, hsds_id, organisation_id, fields, area_names=area_names)
    )
