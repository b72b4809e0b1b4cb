from django.http import Http404
from ninja import Path, Router, Schema

from locus.api.schemas import DB_ID_MAX, ErrorOut

from . import selectors

router = Router(tags=["organisations"])


class OrganisationOut(Schema):
    id: int
    name: str
    type: str
    website: str


@router.get(
    "/places/{slug:place_slug}/organisations",
    response={200: list[OrganisationOut], 404: ErrorOut},
    auth=None,
    summary="Organisations working in a place",
)
def organisations_list(request, place_slug: str):
    return list(selectors.organisation_list(place=request.place))


@router.get(
    "/places/{slug:place_slug}/organisations/{organisation_id}",
    response={200: OrganisationOut, 404: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="An organisation working in a place",
)
def organisation_detail(
    request, place_slug: str, organisation_id: int = Path(..., ge=1, le=DB_ID_MAX)
):
    organisation = selectors.access_organisation(
        place=request.place, organisation_id=organisation_id
    )
    if organisation is None:
        raise Http404
    return organisation
