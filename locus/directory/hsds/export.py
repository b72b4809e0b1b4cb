"""The directory of a place as HSDS 3.1 objects: one `organization` per organisation listed in
the place and one `service` per service, valid against the official schemas.

Locus fields without an HSDS field travel as attributes with Locus taxonomies (so an export
re-imports to the same data): the type of service and target groups of a service, the type of
an organisation and its partnerships. Identifiers are stable: `hsds_id` of the record, and
UUIDv5 names derived from it for the sub-objects.
"""

import json
import uuid

from django.utils import timezone, translation
from django.utils.encoding import iri_to_uri

from locus.core.spreadsheets import spreadsheet_safe_keeping_numbers

from ..selectors import organisation_list, partnership_list, service_list
from ..vocabulary import vocabulary

NAMESPACE = uuid.UUID("6f1d8b1e-0c56-4b7a-9f0e-5d8c7a1b2c3d")
TAXONOMY_URI = "https://locus.invalid/taxonomies/"
TAXONOMIES = {
    "service_type": "locus-service-type",
    "target_group": "locus-target-group",
    "organisation_type": "locus-organisation-type",
    "partnership": "locus-partnership",
}
HSDS_VERSION = "3.1"


def sub_id(parent, *parts) -> str:
    """A stable identifier for a sub-object of `parent` (a UUID)."""
    return str(uuid.uuid5(uuid.UUID(str(parent)), ":".join(str(p) for p in parts)))


def _taxonomy(key):
    name = TAXONOMIES[key]
    return {
        "id": str(uuid.uuid5(NAMESPACE, name)),
        "name": name,
        "description": f"Locus directory vocabulary: {key.replace('_', ' ')}",
        "uri": TAXONOMY_URI + name,
        "version": vocabulary().version,
    }


def _term(key, code, label):
    taxonomy = _taxonomy(key)
    return {
        "id": str(uuid.uuid5(NAMESPACE, f"{taxonomy['name']}:{code}")),
        "code": code,
        "name": label,
        "description": label,
        "taxonomy": taxonomy["name"],
        "taxonomy_detail": taxonomy,
        "taxonomy_id": taxonomy["id"],
        "language": "en",
    }


def _attribute(owner_id, entity, key, code, label, value=None):
    attribute = {
        "id": sub_id(owner_id, "attribute", key, code, value or ""),
        "link_id": str(owner_id),
        "link_type": key,
        "link_entity": entity,
        "taxonomy_term_id": str(uuid.uuid5(NAMESPACE, f"{TAXONOMIES[key]}:{code}")),
        "taxonomy_term": _term(key, code, label),
        "label": label,
    }
    if value is not None:
        attribute["value"] = value
    return attribute


def _uri(address):
    """A web address as HSDS's `format: uri` wants it (RFC 3986): the non-ASCII letters a
    person may type (https://förening.example/tjänster) percent-encoded."""
    return iri_to_uri(address) if address else address


def _strip(obj):
    """Leave out empty strings, None and empty lists (HSDS fields are optional)."""
    return {k: v for k, v in obj.items() if v not in ("", None, [])}


def organisation_object(organisation, partnerships=()) -> dict:
    from ..choices import OrganisationType, PartnershipKind

    oid = organisation.hsds_id
    kind_labels = dict(PartnershipKind.choices)
    with translation.override("en"):
        type_label = str(dict(OrganisationType.choices).get(organisation.type, organisation.type))
        attributes = [
            _attribute(oid, "organization", "organisation_type", organisation.type, type_label)
        ]
        for partnership in partnerships:
            attributes.append(
                _attribute(
                    oid,
                    "organization",
                    "partnership",
                    partnership.kind,
                    # The label carries the partnership's own description, if any.
                    partnership.description
                    or str(kind_labels.get(partnership.kind, partnership.kind)),
                    value=str(partnership.target.hsds_id),
                )
            )
    phones = (
        [{"id": sub_id(oid, "phone"), "number": organisation.phone}] if organisation.phone else []
    )
    return _strip(
        {
            "id": str(oid),
            "name": organisation.name,
            # Required by HSDS: an organisation without a description gets its name.
            "description": organisation.description or organisation.name,
            "email": organisation.email,
            "website": _uri(organisation.website),
            "phones": phones,
            "attributes": attributes,
        }
    )


def service_object(service, place) -> dict:
    sid = service.hsds_id
    words = vocabulary()
    attributes = [
        _attribute(
            sid,
            "service",
            "service_type",
            service.service_type,
            words.label("service_type", service.service_type, "en"),
        )
    ]
    for code in service.target_groups:
        attributes.append(
            _attribute(
                sid, "service", "target_group", code, words.label("target_group", code, "en")
            )
        )
    if service.whole_place:
        areas = [{"id": sub_id(sid, "area", "place"), "name": place.name}]
    else:
        areas = [
            _strip(
                {"id": sub_id(sid, "area", area.name), "name": area.name, "description": area.code}
            )
            for area in sorted(service.area_list, key=lambda a: a.name)
        ]
    return _strip(
        {
            "id": str(sid),
            "organization_id": str(service.organisation.hsds_id),
            "name": service.name,
            "description": service.description,
            "url": _uri(service.url),
            "email": service.email,
            "status": service.status,
            "application_process": service.how_to_refer,
            "eligibility_description": service.eligibility,
            "fees_description": service.cost,
            "minimum_age": service.min_age,
            "maximum_age": service.max_age,
            "assured_date": service.last_checked_on.isoformat()
            if service.last_checked_on
            else None,
            "last_modified": service.updated_at.isoformat() if service.updated_at else None,
            "phones": [{"id": sub_id(sid, "phone"), "number": service.phone}]
            if service.phone
            else [],
            "schedules": [{"id": sub_id(sid, "schedule"), "description": service.opening_hours}]
            if service.opening_hours
            else [],
            "languages": [
                {
                    "id": sub_id(sid, "language", code),
                    "code": code,
                    "name": words.label("language", code, "en"),
                }
                for code in service.languages
            ],
            "service_areas": areas,
            "attributes": attributes,
        }
    )


def export_place(place) -> dict:
    """{"organizations": [...], "services": [...]} for the place (a constant number of
    queries)."""
    partnerships: dict = {}
    for partnership in partnership_list(place=place):
        partnerships.setdefault(partnership.source_id, []).append(partnership)
    organisations = [
        organisation_object(o, partnerships.get(o.pk, ())) for o in organisation_list(place=place)
    ]
    services = [service_object(s, place) for s in service_list(place=place)]
    return {"organizations": organisations, "services": services}


def export_metadata(place) -> dict:
    """The dataset's `base` document (as in the HSDS examples)."""
    return {
        "version": HSDS_VERSION,
        "profile": "https://docs.openreferral.org/en/v3.1/",
        "publisher": place.name,
        "generator": "Locus",
        "language": place.default_language,
    }


CSV_TABLES = {
    # file: (schema, the key of the child list in the parent object, the parent's id column)
    "organizations.csv": ("organization", None, None),
    "services.csv": ("service", None, None),
    "phones.csv": ("phone", "phones", None),
    "languages.csv": ("language", "languages", "service_id"),
    "service_areas.csv": ("service_area", "service_areas", "service_id"),
    "schedules.csv": ("schedule", "schedules", "service_id"),
    "attributes.csv": ("attribute", "attributes", None),
    "taxonomy_terms.csv": ("taxonomy_term", None, None),
    "taxonomies.csv": ("taxonomy", None, None),
}


def _columns(schema_name):
    """The scalar fields of an HSDS schema, in the schema's order (the CSV columns)."""
    from .validation import BASE_URI, registry

    schema = registry().contents(BASE_URI + f"{schema_name}.json")
    return [
        key
        for key, prop in schema.get("properties", {}).items()
        if prop.get("type") not in ("array", "object") and "$ref" not in prop
    ]


def _cell(value):
    """Text a partner typed (a service's name, say) must not run as a formula in the
    spreadsheet of the team that downloads the package; phone numbers and negative numbers
    stay as they are, and the import takes the apostrophe off again."""
    return spreadsheet_safe_keeping_numbers(value) if isinstance(value, str) else value


# Table Schema types for the JSON Schema types and formats of HSDS's scalar fields, where the
# schema gives no `datapackage_type` of its own (it does for dates, times and date-times).
_FIELD_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean"}
_STRING_FORMATS = {"uri": "uri", "email": "email", "uuid": "uuid"}
# Foreign keys among the tables Locus writes (a child of an organisation or a service, a term
# of a taxonomy); the attribute's link_id names either an organisation or a service, so none.
_FOREIGN_KEYS = {
    "organization_id": "organizations",
    "service_id": "services",
    "taxonomy_term_id": "taxonomy_terms",
    "taxonomy_id": "taxonomies",
}


def _table_field(name, prop, required):
    """A Table Schema field from an HSDS property: its `datapackage_type` and `constraints`
    (as the specification's own datapackage.json is generated), else its JSON type."""
    field = {"name": name}
    kind = prop.get("datapackage_type") or _FIELD_TYPES.get(prop.get("type"), "string")
    field["type"] = kind
    if kind == "string" and prop.get("format") in _STRING_FORMATS:
        field["format"] = _STRING_FORMATS[prop["format"]]
    elif kind in ("datetime", "time"):
        field["format"] = "any"  # ISO 8601 with an offset and fractions of a second
    constraints = dict(prop.get("constraints") or {})
    if "enum" in prop:
        constraints["enum"] = prop["enum"]
    if name in required:
        constraints["required"] = True
    if constraints:
        field["constraints"] = constraints
    return field


def datapackage(place) -> dict:
    """`datapackage.json` of the tabular package (Frictionless Tabular Data Package, as HSDS's
    tabular format is published): each CSV file, its columns typed from the HSDS schema, its
    primary key and its foreign keys to the other files."""
    from .validation import BASE_URI, registry

    resources = []
    for file_name, (schema_name, _key, _parent) in CSV_TABLES.items():
        schema = registry().contents(BASE_URI + f"{schema_name}.json")
        required = set(schema.get("required", []))
        columns = _columns(schema_name)
        properties = schema.get("properties", {})
        table = file_name.removesuffix(".csv")
        keys = [
            {"fields": column, "reference": {"resource": target, "fields": "id"}}
            for column, target in _FOREIGN_KEYS.items()
            if column in columns and target != table and f"{target}.csv" in CSV_TABLES
        ]
        table_schema = {
            "fields": [_table_field(c, properties[c], required) for c in columns],
            "primaryKey": "id",
        }
        if keys:
            table_schema["foreignKeys"] = keys
        resources.append(
            {
                "name": table,
                "path": file_name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": table_schema,
            }
        )
    return {
        "profile": "tabular-data-package",
        "name": f"{place.slug}-directory-hsds",
        "title": f"{place.name}: directory (Open Referral HSDS {HSDS_VERSION})",
        "created": timezone.now().replace(microsecond=0).isoformat(),
        "keywords": ["HSDS", "Open Referral"],
        "resources": resources,
    }


def export_csv_package(place) -> dict[str, str]:
    """The place's directory as the HSDS 3.1 tabular package: {file name: text}, the CSV files
    (the same data as `export_place`, one row per object, children joined by id) and their
    `datapackage.json`."""
    import csv
    import io

    data = export_place(place)
    rows: dict[str, list] = {name: [] for name in CSV_TABLES}
    terms, taxonomies = {}, {}

    def children(owner, entity):
        owner_id = owner["id"]
        for phone in owner.get("phones", []):
            rows["phones.csv"].append({**phone, f"{entity}_id": owner_id})
        for key, file in (
            ("languages", "languages.csv"),
            ("service_areas", "service_areas.csv"),
            ("schedules", "schedules.csv"),
        ):
            for child in owner.get(key, []):
                rows[file].append({**child, "service_id": owner_id})
        for attribute in owner.get("attributes", []):
            term = attribute["taxonomy_term"]
            terms[term["id"]] = term
            taxonomies[term["taxonomy_detail"]["id"]] = term["taxonomy_detail"]
            rows["attributes.csv"].append(attribute)

    for organisation in data["organizations"]:
        rows["organizations.csv"].append(organisation)
        children(organisation, "organization")
    for service in data["services"]:
        rows["services.csv"].append(service)
        children(service, "service")
    rows["taxonomy_terms.csv"] = [terms[key] for key in sorted(terms)]
    rows["taxonomies.csv"] = [taxonomies[key] for key in sorted(taxonomies)]
    files = {}
    for name, (schema_name, _key, _parent) in CSV_TABLES.items():
        buffer = io.StringIO()
        columns = _columns(schema_name)
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows[name]:
            writer.writerow({k: _cell(row.get(k, "")) for k in columns})
        files[name] = buffer.getvalue()
    files["datapackage.json"] = json.dumps(datapackage(place), ensure_ascii=False, indent=2)
    return files
