"""The directory's API: organisations and services (public reads), coverage, HSDS 3.1 export
and import, and service / partnership writes (staff, `/directory/…`)."""

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict

from locus.accounts.policies import Capability
from locus.api.auth import STAFF_AUTH, api_membership
from locus.api.schemas import BAD_BODY_ERRORS, DB_ID_MAX, PLACE_ERRORS, ErrorOut, TextBody
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.places.api import JobOut

from . import selectors, services
from .choices import PartnershipKind, ServiceStatus
from .models import DESCRIPTION_MAX_LENGTH, SERVICE_TEXT_MAX_LENGTH
from .policies import can_edit_organisation

router = Router(tags=["directory"])

ObjectId = Path(..., ge=1, le=DB_ID_MAX)
# An area's id in a body: beyond the database's integers it is an error, not an overflow.
AreaId = Annotated[int, Field(ge=1, le=DB_ID_MAX)]


class DirectoryOrganisationOut(Schema):
    id: int
    name: str
    type: str
    website: str
    description: str = ""
    email: str = ""
    phone: str = ""
    hsds_id: str = Field("", description="The organisation's id in HSDS exports.")

    @staticmethod
    def resolve_hsds_id(obj):
        return str(obj.hsds_id)


class DirectoryServiceOut(Schema):
    id: int
    hsds_id: str
    organisation_id: int
    organisation: str
    name: str
    description: str
    service_type: str
    status: str
    target_groups: list[str]
    min_age: int | None
    max_age: int | None
    languages: list[str]
    whole_place: bool
    areas: list[int]
    eligibility: str
    how_to_refer: str
    email: str
    phone: str
    url: str
    opening_hours: str
    cost: str
    last_checked_on: date | None
    stale: bool
    updated_at: datetime

    @staticmethod
    def resolve_hsds_id(obj):
        return str(obj.hsds_id)

    @staticmethod
    def resolve_organisation(obj):
        return obj.organisation.name

    @staticmethod
    def resolve_areas(obj):
        areas = getattr(obj, "area_list", None)
        if areas is None:
            areas = list(obj.areas.all())
        return sorted(a.pk for a in areas)

    @staticmethod
    def resolve_stale(obj):
        return bool(getattr(obj, "is_stale", False))


class DirectoryServiceIn(TextBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Mentoring for young people",
                    "service_type": "mentoring",
                    "target_groups": ["young_people"],
                    "min_age": 12,
                    "max_age": 18,
                    "languages": ["en", "pl"],
                    "areas": [3, 4],
                    "how_to_refer": "E-mail us with the young person’s consent.",
                    "email": "mentoring@riverside-youth.example.org",
                }
            ]
        },
    )

    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=DESCRIPTION_MAX_LENGTH)
    service_type: str = Field(..., max_length=40, description="A directory vocabulary code.")
    status: Literal["active", "inactive", "temporarily closed", "defunct"] = "active"
    target_groups: list[str] = Field(default_factory=list, max_length=30)
    min_age: int | None = Field(None, ge=0, le=120)
    max_age: int | None = Field(None, ge=0, le=120)
    languages: list[str] = Field(default_factory=list, max_length=40)
    whole_place: bool = False
    areas: list[AreaId] = Field(default_factory=list, max_length=500)
    eligibility: str = Field("", max_length=SERVICE_TEXT_MAX_LENGTH)
    how_to_refer: str = Field("", max_length=SERVICE_TEXT_MAX_LENGTH)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    url: str = Field("", max_length=200)
    opening_hours: str = Field("", max_length=300)
    cost: str = Field("", max_length=300)


class DirectoryServicePatch(TextBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"status": "temporarily closed", "opening_hours": "Reopens in September"}]
        },
    )

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=DESCRIPTION_MAX_LENGTH)
    service_type: str | None = Field(None, max_length=40)
    status: Literal["active", "inactive", "temporarily closed", "defunct"] | None = None
    target_groups: list[str] | None = Field(None, max_length=30)
    min_age: int | None = Field(None, ge=0, le=120)
    max_age: int | None = Field(None, ge=0, le=120)
    languages: list[str] | None = Field(None, max_length=40)
    whole_place: bool | None = None
    areas: list[AreaId] | None = Field(None, max_length=500)
    eligibility: str | None = Field(None, max_length=SERVICE_TEXT_MAX_LENGTH)
    how_to_refer: str | None = Field(None, max_length=SERVICE_TEXT_MAX_LENGTH)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    url: str | None = Field(None, max_length=200)
    opening_hours: str | None = Field(None, max_length=300)
    cost: str | None = Field(None, max_length=300)


class DirectoryOrganisationPatch(TextBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"website": "https://riverside-youth.example.org", "phone": "+44 20 7946 0000"}
            ]
        },
    )

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=DESCRIPTION_MAX_LENGTH)
    website: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)


class DirectoryDeletedOut(Schema):
    id: int
    deleted: bool


class DirectoryPartnershipOut(Schema):
    id: int
    source_id: int
    source: str
    target_id: int
    target: str
    kind: str
    description: str
    last_checked_on: date | None

    @staticmethod
    def resolve_source(obj):
        return obj.source.name

    @staticmethod
    def resolve_target(obj):
        return obj.target.name


class DirectoryPartnershipIn(TextBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"kind": "referral", "description": "Refers young people for mentoring."}]
        },
    )

    kind: Literal["funding", "referral", "delivery", "data_sharing"]
    description: str = Field("", max_length=300)


class DirectoryCoverageCellOut(Schema):
    service_type: str
    providers: int
    organisations: list[int]
    overlap_groups: list[str]
    gap: bool


class DirectoryCoverageRowOut(Schema):
    area_id: int
    area: str
    cells: list[DirectoryCoverageCellOut]


class DirectoryCoverageOut(Schema):
    service_types: list[str]
    overlaps: int
    gaps: int
    rows: list[DirectoryCoverageRowOut]


class DirectoryHsdsOut(Schema):
    organizations: list[dict[str, Any]]
    services: list[dict[str, Any]]


class DirectoryHsdsImportIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "csv": {
                        "organizations.csv": "id,name,description\n…",
                        "services.csv": "id,organization_id,name,status\n…",
                    },
                    "mode": "nothing",
                }
            ]
        },
    )

    data: Any = Field(
        None,
        description="HSDS JSON: an object, a list, a paginated list, an export "
        '(`{"organizations", "services"}`) or the tabular package as JSON.',
    )
    csv: dict[str, str] | None = Field(
        None, description="The CSV tabular package: {file name: CSV text}."
    )
    mode: Literal["good_rows", "nothing"] = "good_rows"


class DirectorySearchQuery(Schema):
    need: str | None = Field(None, max_length=40, description="A type of service code.")
    area: int | None = Field(None, ge=1, le=DB_ID_MAX)
    language: str | None = Field(None, max_length=10)
    group: str | None = Field(None, max_length=40)
    age: int | None = Field(None, ge=1, le=DB_ID_MAX, description="In years (1–120).")


class DirectoryCoverageQuery(Schema):
    target_group: str | None = Field(None, max_length=40)
    language: str | None = Field(None, max_length=10)
    age: int | None = Field(None, ge=1, le=DB_ID_MAX, description="In years (1–120).")


def _place(request):
    if getattr(request, "place", None) is None:
        raise Http404
    return request.place


def _check_codes(fields: dict):
    from .vocabulary import vocabulary

    words = vocabulary()
    errors = {}
    if fields.get("age") is not None and fields["age"] > 120:
        errors["age"] = ["An age from 1 to 120."]
    for name, axis in (
        ("need", "service_type"),
        ("group", "target_group"),
        ("language", "language"),
        ("target_group", "target_group"),
    ):
        value = fields.get(name)
        if value and not words.has(axis, value):
            errors[name] = [f"Unknown code: {value}"]
    if errors:
        raise ValidationFailed(_("The request is not valid."), fields=errors)


# --- public --------------------------------------------------------------------------------


@router.get(
    "/places/{slug:place_slug}/organisations",
    response={200: list[DirectoryOrganisationOut], 404: ErrorOut},
    auth=None,
    summary="Organisations working in a place",
    description=(
        "The organisations listed in the place's public directory, with their public contact "
        "details. Public."
    ),
)
def organisations_list(request, place_slug: str):
    return list(selectors.organisation_list(place=_place(request)))


@router.get(
    "/places/{slug:place_slug}/organisations/{organisation_id}",
    response={200: DirectoryOrganisationOut, 404: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="An organisation working in a place",
    description=("One organisation listed in the place. Public; one not listed here is a 404."),
)
def organisation_detail(request, place_slug: str, organisation_id: int = ObjectId):
    organisation = selectors.access_organisation(
        place=_place(request), organisation_id=organisation_id
    )
    if organisation is None:
        raise Http404
    return organisation


@router.get(
    "/places/{slug:place_slug}/services",
    response={200: list[DirectoryServiceOut], 404: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="Find active services (the public directory)",
    description=(
        "Active services of the place's directory. Filters (all optional, AND-ed): `need` (a "
        "service type code), `area` (an area id: services there or place-wide), `language`, "
        "`group` (a target group code), `age` (years). Codes as in the staff coverage view; "
        "an unknown code is a 422 naming the filter. Public."
    ),
)
def services_search(request, place_slug: str, filters: Query[DirectorySearchQuery]):
    place = _place(request)
    _check_codes(filters.dict())
    area = None
    if filters.area is not None:
        from locus.places.models import Area

        area = Area.objects.filter(place=place, pk=filters.area).first()
        if area is None:
            raise ValidationFailed(
                _("The request is not valid."), fields={"area": [_("Unknown area.")]}
            )
    return selectors.service_search(
        place=place,
        service_type=filters.need,
        area=area,
        language=filters.language,
        target_group=filters.group,
        age=filters.age,
    )


@router.get(
    "/places/{slug:place_slug}/services/{service_id}",
    response={200: DirectoryServiceOut, 404: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="One active service",
    description=(
        "One active service of an organisation listed in the place. Public; inactive, removed"
        " or another place's: 404."
    ),
)
def service_detail(request, place_slug: str, service_id: int = ObjectId):
    place = _place(request)
    service = selectors.access_service(place=place, service_id=service_id)
    if (
        service is None
        or service.status != ServiceStatus.ACTIVE
        or not selectors.listing_exists(place=place, organisation=service.organisation)
    ):
        raise Http404
    return service


# --- staff ---------------------------------------------------------------------------------


@router.get(
    "/places/{slug:place_slug}/directory/coverage",
    response={200: DirectoryCoverageOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Coverage: providers per area and type of service, overlaps and gaps",
    description=(
        "For each area and type of service: how many providers serve it, which organisations,"
        " overlap groups and gaps. Filters `target_group`, `language`, `age`. For the team "
        "that runs Locus in the place (administrators, coordinators)."
    ),
)
def directory_coverage(request, place_slug: str, filters: Query[DirectoryCoverageQuery]):
    place = _place(request)
    api_membership(request, Capability.MANAGE_DIRECTORY)
    _check_codes(filters.dict())
    result = selectors.coverage(
        place=place, target_group=filters.target_group, language=filters.language, age=filters.age
    )
    return {
        "service_types": [code for code, _label in result.types],
        "overlaps": result.overlaps,
        "gaps": result.gaps,
        "rows": [
            {
                "area_id": area.pk,
                "area": area.name,
                "cells": [
                    {
                        "service_type": cell.service_type,
                        "providers": cell.count,
                        "organisations": sorted(cell.providers),
                        "overlap_groups": cell.overlap_groups,
                        "gap": cell.is_gap,
                    }
                    for cell in cells
                ],
            }
            for area, cells in result.rows
        ],
    }


@router.get(
    "/places/{slug:place_slug}/directory/hsds",
    response={200: DirectoryHsdsOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="The place's directory as HSDS 3.1 JSON",
    description=(
        "Every listed organisation and active service of the place as Open Referral HSDS 3.1 "
        "JSON (`organizations`, `services`), valid against the official schemas. For the team"
        " that runs Locus in the place (administrators, coordinators)."
    ),
)
def directory_hsds_export(request, place_slug: str):
    from .hsds.export import export_place

    place = _place(request)
    api_membership(request, Capability.MANAGE_DIRECTORY)
    return export_place(place)


@router.post(
    "/places/{slug:place_slug}/directory/hsds/import",
    response={202: JobOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Import HSDS 3.1 JSON or the CSV tabular package (as a job)",
    description=(
        "Send `data` (HSDS 3.1 JSON) or `csv` (the tabular package: file name → CSV text), "
        "not both, and `mode`: `good_rows` imports the valid rows, `nothing` imports nothing "
        "when any row is bad. 202 with the job; its result lists each bad row with its number"
        " and reasons. For the team that runs Locus in the place. Audited."
    ),
)
def directory_hsds_import(request, place_slug: str, payload: DirectoryHsdsImportIn):
    from .hsds.apply import hsds_import_job_start

    place = _place(request)
    api_membership(request, Capability.MANAGE_DIRECTORY)
    if (payload.data is None) == (payload.csv is None):
        raise ValidationFailed(
            "Send either `data` (HSDS JSON) or `csv` (the tabular package).",
            fields={"data": ["Send either data or csv."]},
        )
    if payload.csv is not None:
        raw = json.dumps({"csv": payload.csv}).encode()
        filename = "package.json"
    else:
        try:
            raw = json.dumps(payload.data).encode()
        except (ValueError, RecursionError):
            raise ValidationFailed(
                "The data is nested too deeply.", fields={"data": ["Nested too deeply."]}
            ) from None
        filename = "API"
    job = hsds_import_job_start(
        place=place, raw=raw, filename=filename, mode=payload.mode, actor=request.user
    )
    return Status(202, job)


def _refuse_nulls(data, nullable=()):
    """A PATCH may leave a field out, not send null for it (except where null means "none")."""
    nulls = [key for key, value in data.items() if value is None and key not in nullable]
    if nulls:
        raise ValidationFailed(
            "The request is not valid.", fields={key: ["May not be null."] for key in nulls}
        )


def _if_editable(membership, found, organisation_id):
    """`found` (an entry of the place, or None) when this membership may edit the entries of
    its organisation: 404 when missing, 403 when another organisation's."""
    if found is None:
        raise Http404
    if not can_edit_organisation(membership, organisation_id):
        raise PermissionDenied(_("Your role does not allow this."))
    return found


def _editable_organisation(request, place, organisation_id):
    membership = api_membership(request, Capability.MANAGE_OWN_DIRECTORY)
    organisation = selectors.access_organisation(place=place, organisation_id=organisation_id)
    return _if_editable(membership, organisation, organisation and organisation.pk)


@router.patch(
    "/places/{slug:place_slug}/directory/organisations/{organisation_id}",
    response={200: DirectoryOrganisationOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Change an organisation's directory entry (and mark it checked today)",
    description=(
        "Only the fields sent change (null is refused: leave a field out instead); the entry "
        "is marked checked today. For administrators, coordinators and editors of that "
        "organisation (403 for another organisation's). Audited."
    ),
)
def directory_organisation_update(
    request, place_slug: str, payload: DirectoryOrganisationPatch, organisation_id: int = ObjectId
):
    place = _place(request)
    organisation = _editable_organisation(request, place, organisation_id)
    data = payload.dict(exclude_unset=True)
    _refuse_nulls(data)
    return services.organisation_entry_update(
        place=place, actor=request.user, organisation=organisation, **data
    )


@router.post(
    "/places/{slug:place_slug}/directory/organisations/{organisation_id}/services",
    response={201: DirectoryServiceOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Add a service to an organisation's entry",
    description=(
        "201 with the service. `areas` are ids of the place's areas (another place's: 422 "
        "naming `areas`); `whole_place` instead of areas for a place-wide service. For "
        "administrators, coordinators and editors of that organisation. Audited."
    ),
)
def directory_service_create(
    request, place_slug: str, payload: DirectoryServiceIn, organisation_id: int = ObjectId
):
    place = _place(request)
    organisation = _editable_organisation(request, place, organisation_id)
    data = payload.dict()
    areas = data.pop("areas")
    service = services.service_write(
        place=place, actor=request.user, organisation=organisation, areas=areas, **data
    )
    return Status(201, selectors.access_service(place=place, service_id=service.pk))


def _editable_service(request, place, service_id):
    membership = api_membership(request, Capability.MANAGE_OWN_DIRECTORY)
    service = selectors.access_service(place=place, service_id=service_id)
    return _if_editable(membership, service, service and service.organisation_id)


@router.patch(
    "/places/{slug:place_slug}/directory/services/{service_id}",
    response={200: DirectoryServiceOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Change a service (only the fields sent)",
    description=(
        "Only the fields sent change (null only for `min_age` and `max_age`); `areas` is "
        "replaced whole. For administrators, coordinators and editors of the service's "
        "organisation (403 for another organisation's). Audited."
    ),
)
def directory_service_update(
    request, place_slug: str, payload: DirectoryServicePatch, service_id: int = ObjectId
):
    place = _place(request)
    service = _editable_service(request, place, service_id)
    data = payload.dict(exclude_unset=True)
    areas = data.pop("areas", None)
    _refuse_nulls(data, nullable=("min_age", "max_age"))
    services.service_write(place=place, actor=request.user, service=service, areas=areas, **data)
    return selectors.access_service(place=place, service_id=service.pk)


@router.delete(
    "/places/{slug:place_slug}/directory/services/{service_id}",
    response={200: DirectoryDeletedOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Delete a service",
    description=(
        "The service leaves the directory, the coverage view and the public directory. For "
        "administrators, coordinators and editors of the service's organisation. Audited."
    ),
)
def directory_service_delete(request, place_slug: str, service_id: int = ObjectId):
    place = _place(request)
    service = _editable_service(request, place, service_id)
    deleted_id = service.pk
    services.service_delete(place=place, actor=request.user, service=service)
    return {"id": deleted_id, "deleted": True}


@router.get(
    "/places/{slug:place_slug}/directory/partnerships",
    response={200: list[DirectoryPartnershipOut], **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="The place's partnerships",
    description=(
        "Every recorded partnership between organisations of the place (who funds, refers to,"
        " delivers with or shares data with whom). For administrators, coordinators and "
        "editors."
    ),
)
def directory_partnerships(request, place_slug: str):
    place = _place(request)
    api_membership(request, Capability.MANAGE_OWN_DIRECTORY)
    return list(selectors.partnership_list(place=place))


@router.post(
    "/places/{slug:place_slug}/directory/organisations/{organisation_id}/partnerships/{target_id}",
    response={201: DirectoryPartnershipOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Record that an organisation funds, refers to, delivers with or shares data with "
    "another organisation of the place",
    description=(
        "201 with the partnership; the same kind between the same two organisations again is "
        "a 422 naming `target`. For administrators, coordinators and editors of the first "
        "organisation. Audited."
    ),
)
def directory_partnership_create(
    request,
    place_slug: str,
    payload: DirectoryPartnershipIn,
    organisation_id: int = ObjectId,
    target_id: int = ObjectId,
):
    place = _place(request)
    organisation = _editable_organisation(request, place, organisation_id)
    target = selectors.access_organisation(place=place, organisation_id=target_id)
    if target is None:
        raise Http404
    partnership = services.partnership_write(
        place=place,
        actor=request.user,
        source=organisation,
        target=target,
        kind=PartnershipKind(payload.kind),
        description=payload.description,
    )
    return Status(201, partnership)
