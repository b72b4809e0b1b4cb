from typing import Any, Literal

from django.http import Http404
from ninja import Field, Router, Schema

from locus.accounts.policies import Capability
from locus.api.auth import STAFF_AUTH, api_membership
from locus.api.schemas import PLACE_ERRORS, ErrorOut
from locus.core.selectors import access_job

from . import selectors, services

router = Router(tags=["places"])


class PlaceOut(Schema):
    slug: str
    name: str
    country: str
    default_language: str
    timezone: str
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


class AreaImportIn(Schema):
    geojson: dict[str, Any] = Field(..., description="A GeoJSON FeatureCollection (WGS84).")
    name_property: str = Field("name", min_length=1, max_length=60)
    code_property: str = Field("", max_length=60)
    population_property: str = Field("", max_length=60)
    skip_invalid: bool = Field(False, description="Import the valid features when some are not.")


class JobOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    progress: int
    log: list[dict[str, Any]]
    result: dict[str, Any]
    created_at: Any
    finished_at: Any = None


def _place_or_404(request):
    if getattr(request, "place", None) is None:
        raise Http404
    return request.place


@router.get("/places", response=list[PlaceOut], auth=None, summary="List places")
def places_list(request):
    return list(selectors.place_list())


@router.get("/places/{place_slug}", response={200: PlaceOut, 404: ErrorOut}, auth=None,
            summary="Get a place")
def place_detail(request, place_slug: str):
    return _place_or_404(request)


@router.get("/places/{place_slug}/areas", response={200: FeatureCollectionOut, 404: ErrorOut},
            auth=None, summary="The place's areas as GeoJSON")
def place_areas(request, place_slug: str):
    return selectors.areas_feature_collection(place=_place_or_404(request))


@router.post("/places/{place_slug}/areas/import",
             response={202: JobOut, 422: ErrorOut, **PLACE_ERRORS}, auth=STAFF_AUTH,
             summary="Import areas from GeoJSON (as a job)")
def place_areas_import(request, place_slug: str, payload: AreaImportIn):
    import json

    from locus.core.geo import load_feature_collection

    place = _place_or_404(request)
    api_membership(request, Capability.MANAGE_AREAS)
    raw = json.dumps(payload.geojson)
    load_feature_collection(raw)
    job = services.areas_import_job_start(
        place=place, raw=raw, name_property=payload.name_property,
        code_property=payload.code_property, population_property=payload.population_property,
        skip_invalid=payload.skip_invalid, actor=request.user, filename="API",
    )
    return 202, job


@router.get("/places/{place_slug}/jobs/{job_id}", response={200: JobOut, **PLACE_ERRORS},
            auth=STAFF_AUTH, summary="Follow a job")
def place_job(request, place_slug: str, job_id: int):
    place = _place_or_404(request)
    api_membership(request, Capability.VIEW_JOBS)
    job = access_job(place=place, job_id=job_id)
    if job is None:
        raise Http404
    return job
