import json
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Field, Path, Router, Schema, Status
from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from locus.accounts.policies import Capability
from locus.api.auth import STAFF_AUTH, api_membership
from locus.api.schemas import BAD_BODY_ERRORS, DB_ID_MAX, PLACE_ERRORS, ErrorOut
from locus.core.errors import ValidationFailed
from locus.core.geo import parse_area_features
from locus.core.selectors import access_job

from . import selectors, services

router = Router(tags=["places"])


class PlaceOut(Schema):
    slug: str
    name: str
    country: str
    default_language: str
    timezone: str
    emergency_number: str = Field(
        ...,
        description="The number to call in danger, for a front end that takes reports: the "
        "report pages say “If you are in danger now, call …”.",
        examples=["999"],
    )
    suppression_threshold: int
    network: str = Field(..., alias="network.slug")


class FeatureOut(Schema):
    type: Literal["Feature"]
    id: int
    properties: dict[str, Any]
    geometry: dict[str, Any]


class FeatureCollectionOut(Schema):
    type: Literal["FeatureCollection"]
    features: list[FeatureOut]


class FeatureCollectionIn(BaseModel):
    """A GeoJSON FeatureCollection; each feature is checked and reported on its own."""

    model_config = ConfigDict(extra="allow")

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]] = Field(..., min_length=1)


EXAMPLE_IMPORT = {
    "geojson": {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Riverside", "code": "E01000001", "population": 1520},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [-0.12, 51.5],
                            [-0.11, 51.5],
                            [-0.11, 51.51],
                            [-0.12, 51.51],
                            [-0.12, 51.5],
                        ]
                    ],
                },
            }
        ],
    },
    "name_property": "name",
    "code_property": "code",
    "population_property": "population",
    "skip_invalid": False,
}


def _no_control_characters(value):
    """Control characters cannot be stored (PostgreSQL refuses NUL) and name no real property."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise PydanticCustomError("control_characters", "Control characters are not allowed.")
    return value


PropertyName = Annotated[str, AfterValidator(_no_control_characters)]


class AreaImportIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_IMPORT]})

    geojson: FeatureCollectionIn = Field(..., description="A GeoJSON FeatureCollection (WGS84).")
    name_property: PropertyName = Field("name", min_length=1, max_length=60)
    code_property: PropertyName = Field("", max_length=60)
    population_property: PropertyName = Field("", max_length=60)
    skip_invalid: bool = Field(
        False,
        description=(
            "Import the valid features when some are not (each skipped one is listed in the "
            "job's result). When false, any invalid feature refuses the whole import with 422."
        ),
    )


class JobLogLine(Schema):
    at: datetime
    level: str
    message: str


class JobOut(Schema):
    id: int
    kind: str
    title: str
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: int = Field(..., ge=0, le=100)
    log: list[JobLogLine]
    result: dict[str, Any]
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


def _place_or_404(request):
    if getattr(request, "place", None) is None:
        raise Http404
    return request.place


@router.get(
    "/places",
    response=list[PlaceOut],
    auth=None,
    summary="List places",
    description=(
        "Every active place (a city or local authority running Locus): its slug, which every "
        "place address of the API takes, its languages, time zone, emergency number and "
        "small-number threshold. Public."
    ),
)
def places_list(request):
    return list(selectors.place_list())


@router.get(
    "/places/{slug:place_slug}",
    response={200: PlaceOut, 404: ErrorOut},
    auth=None,
    summary="Get a place",
    description=("One active place. Public; an unknown or inactive slug is a 404."),
)
def place_detail(request, place_slug: str):
    return _place_or_404(request)


@router.get(
    "/places/{slug:place_slug}/areas",
    response={200: FeatureCollectionOut, 404: ErrorOut},
    auth=None,
    summary="The place's areas as GeoJSON",
    description=(
        "The place's areas (boroughs, wards, districts) as a GeoJSON FeatureCollection in "
        "WGS84; each feature's `id` is the area id other endpoints take (`area`, `areas`). "
        "Public."
    ),
)
def place_areas(request, place_slug: str):
    # Served as cached JSON text: boundaries are large and change rarely.
    text = selectors.areas_geojson_text(place=_place_or_404(request))
    return HttpResponse(text, content_type="application/json")


def _geojson_text(geojson):
    """The collection as JSON text, as the client sent it (no re-serialisation by pydantic,
    which gives up on deep nesting with a 500)."""
    data = {**(geojson.model_extra or {}), "type": geojson.type, "features": geojson.features}
    try:
        return json.dumps(data)
    except (RecursionError, ValueError):
        message = "The GeoJSON is nested too deeply."
        raise ValidationFailed(message, fields={"geojson": [message]}) from None


def _check_features(raw, payload):
    """Validate every feature now, so that the caller gets each bad one in a 422 (keyed by its
    JSON path in the request) instead of a job that fails later."""
    try:
        parsed = parse_area_features(
            raw,
            name_property=payload.name_property,
            code_property=payload.code_property,
            population_property=payload.population_property,
        )
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.message, code=exc.code, fields={"geojson": exc.fields.get("file", [exc.message])}
        ) from None
    fields = {}
    for problem in parsed.problems:
        reason = f"{problem.name}: {problem.reason}" if problem.name else problem.reason
        fields.setdefault(f"geojson.features.{problem.number - 1}", []).append(reason)
    if parsed.problems and not payload.skip_invalid:
        raise ValidationFailed(
            ngettext(
                "%(count)s feature is invalid, so nothing was imported. Fix it, or send "
                '"skip_invalid": true to import the valid ones.',
                "%(count)s features are invalid, so nothing was imported. Fix them, or send "
                '"skip_invalid": true to import the valid ones.',
                len(parsed.problems),
            )
            % {"count": len(parsed.problems)},
            code="invalid_features",
            fields=fields,
        )
    if not parsed.candidates:
        raise ValidationFailed(
            _("No valid feature to import."), code="invalid_features", fields=fields
        )


@router.post(
    "/places/{slug:place_slug}/areas/import",
    response={202: JobOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Import areas from GeoJSON (as a job)",
    description=(
        "Checks every feature at once (422 naming each bad one by its JSON path, e.g. "
        "`geojson.features.3`, unless `skip_invalid`) and queues the import; 202 with the job"
        " to follow at `GET …/jobs/{job_id}`. An area whose name matches one of the place's "
        "(ignoring case) is updated, any other created. For administrators of the team that "
        "runs Locus in the place. Audited."
    ),
)
def place_areas_import(request, place_slug: str, payload: AreaImportIn):
    place = _place_or_404(request)
    api_membership(request, Capability.MANAGE_AREAS)
    raw = _geojson_text(payload.geojson)
    _check_features(raw, payload)
    job = services.areas_import_job_start(
        place=place,
        raw=raw,
        name_property=payload.name_property,
        code_property=payload.code_property,
        population_property=payload.population_property,
        skip_invalid=payload.skip_invalid,
        actor=request.user,
        filename="API",
    )
    return Status(202, job)


@router.get(
    "/places/{slug:place_slug}/jobs/{job_id}",
    response={200: JobOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Follow a job",
    description=(
        "A background job of the place (an import, an export): status, progress (0–100), log "
        "lines and, when finished, its result (counts, skipped rows). Poll until `status` is "
        "`succeeded` or `failed`. For administrators, coordinators and analysts of the team that "
        "runs Locus in the place (partners: 403)."
    ),
)
def place_job(request, place_slug: str, job_id: int = Path(..., ge=1, le=DB_ID_MAX)):
    place = _place_or_404(request)
    api_membership(request, Capability.VIEW_JOBS)
    job = access_job(place=place, job_id=job_id)
    if job is None:
        raise Http404
    return job
