"""Staff API: spike alarms and the organisation's alert subscription. Mounted in
locus/api/urls.py. The same rules as the alerts page, through the same selectors and services.
"""

from datetime import date, datetime
from typing import Annotated, Literal

from django.http import Http404
from ninja import Field, Path, Query, Router, Schema
from pydantic import ConfigDict

from locus.accounts.policies import Capability
from locus.api.auth import STAFF_AUTH, api_membership
from locus.api.pagination import PageOut, PageQuery, paginate
from locus.api.schemas import BAD_BODY_ERRORS, DB_ID_MAX, PLACE_ERRORS, ErrorOut
from locus.core.errors import ValidationFailed
from locus.places.models import Area

from . import selectors, services
from .choices import AlarmStatus, Axis

router = Router(tags=["alerts"])

StatusCode = Literal[tuple(AlarmStatus.values)]  # type: ignore[valid-type]
AxisCode = Literal[tuple(Axis.values)]  # type: ignore[valid-type]
READ_ERRORS = {422: ErrorOut, **PLACE_ERRORS}


class AreaRef(Schema):
    id: int
    name: str


class AlarmOut(Schema):
    """One unusual week of one series: figures only, nothing of any report."""

    id: int
    week: date = Field(..., description="The Monday of the week judged.")
    area: AreaRef | None = Field(..., description="null: the whole place.")
    axis: AxisCode
    category: str = Field(..., description="A bias or incident type code of the taxonomy.")
    category_label: str
    method: str = Field(..., description="ears or farrington (docs/insights.md).")
    observed: int = Field(..., description="Incidents in the week (grouped reports once).")
    expected: float
    upper_bound: float = Field(..., description="The largest count that is not flagged.")
    p_value: float
    q_value: float = Field(..., description="Benjamini–Hochberg across the series judged.")
    score: float
    reports: int = Field(..., description="Reports behind the incidents (report pressure).")
    series_judged: int
    status: StatusCode
    created_at: datetime
    closed_at: datetime | None


class SeriesWeekOut(Schema):
    week: date
    incidents: int
    reports: int


class AlarmSeriesOut(Schema):
    alarm: AlarmOut
    weeks: list[SeriesWeekOut] = Field(
        ..., description="26 weeks before the alarm's week to 8 after (at most the last ended)."
    )


class AlarmPage(PageOut):
    results: list[AlarmOut]


class AlarmQuery(PageQuery):
    status: StatusCode | None = None
    area: int | None = Field(None, ge=1, le=DB_ID_MAX, description="Only this area's alarms.")
    axis: AxisCode | None = None
    category: str | None = Field(None, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    since: date | None = Field(None, description="Only weeks from this date on.")


AreaId = Annotated[int, Field(ge=1, le=DB_ID_MAX)]
Code = Annotated[str, Field(max_length=40)]


class SubscriptionIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "areas": [3, 4],
                    "bias": ["antisemitism", "anti_muslim"],
                    "incident_types": [],
                    "is_active": True,
                }
            ]
        }
    )

    areas: list[AreaId] = Field(
        default_factory=list, max_length=500, description="Area ids; empty: every area."
    )
    bias: list[Code] = Field(
        default_factory=list, max_length=60, description="Bias codes; see incident_types."
    )
    incident_types: list[Code] = Field(
        default_factory=list,
        max_length=60,
        description="Incident type codes. No bias and no incident types: every category.",
    )
    is_active: bool = True


class SubscriptionOut(Schema):
    subscribed: bool
    organisation_id: int
    areas: list[AreaRef]
    bias: list[str]
    incident_types: list[str]
    is_active: bool
    updated_at: datetime | None


def _alarm_out(alarm, language):
    return {
        "id": alarm.pk,
        "week": alarm.week,
        "area": None if alarm.area_id is None else {"id": alarm.area_id, "name": alarm.area.name},
        "axis": alarm.axis,
        "category": alarm.category,
        "category_label": selectors.category_label(alarm.axis, alarm.category, language),
        "method": alarm.method,
        "observed": alarm.observed,
        "expected": alarm.expected,
        "upper_bound": alarm.upper_bound,
        "p_value": alarm.p_value,
        "q_value": alarm.q_value,
        "score": alarm.score,
        "reports": alarm.reports,
        "series_judged": alarm.series_judged,
        "status": alarm.status,
        "created_at": alarm.created_at,
        "closed_at": alarm.closed_at,
    }


def _subscription_out(membership, subscription):
    if subscription is None:
        return {
            "subscribed": False,
            "organisation_id": membership.organisation_id,
            "areas": [],
            "bias": [],
            "incident_types": [],
            "is_active": False,
            "updated_at": None,
        }
    return {
        "subscribed": True,
        "organisation_id": subscription.organisation_id,
        "areas": [{"id": a.pk, "name": a.name} for a in subscription.areas.all()],
        "bias": subscription.bias,
        "incident_types": subscription.incident_types,
        "is_active": subscription.is_active,
        "updated_at": subscription.updated_at,
    }


@router.get(
    "/places/{slug:place_slug}/alerts",
    response={200: AlarmPage, **READ_ERRORS},
    auth=STAFF_AUTH,
    summary="List spike alarms",
    description=(
        "Unusual weekly rises that spike detection flagged (docs/insights.md, Alerts), newest"
        " week first. Filters: `status`, `area` (an area id of the place; another place's is "
        "a 422), `axis`, `category`, `since`. For the team that runs Locus in the place "
        "(administrators, coordinators, caseworkers, analysts)."
    ),
)
def alarm_list(request, place_slug: str, query: Query[AlarmQuery]):
    api_membership(request, Capability.VIEW_INSIGHTS)
    place = request.place
    area = None
    if query.area is not None:
        area = Area.objects.filter(place=place, pk=query.area).first()
        if area is None:
            raise ValidationFailed(
                "The request is not valid.", fields={"area": ["No area of this place."]}
            )
    alarms = selectors.alarm_list(
        place=place,
        status=query.status,
        area=area,
        axis=query.axis,
        category=query.category,
        since=query.since,
    )
    language = request.LANGUAGE_CODE
    return paginate(alarms, query, item=lambda alarm: _alarm_out(alarm, language))


def _alarm(request, alarm_id, capability):
    """The place's alarm for a member who may do `capability`; 404 for another place's."""
    api_membership(request, capability)
    alarm = selectors.access_alarm(place=request.place, alarm_id=alarm_id)
    if alarm is None:
        raise Http404
    return alarm


@router.get(
    "/places/{slug:place_slug}/alerts/{alarm_id}",
    response={200: AlarmOut, **READ_ERRORS},
    auth=STAFF_AUTH,
    summary="Get a spike alarm",
    description=(
        "One alarm with its figures (observed, expected, upper bound, p and q values). For "
        "the team that runs Locus in the place."
    ),
)
def alarm_get(request, place_slug: str, alarm_id: int = Path(..., ge=1, le=DB_ID_MAX)):
    alarm = _alarm(request, alarm_id, Capability.VIEW_INSIGHTS)
    return _alarm_out(alarm, request.LANGUAGE_CODE)


@router.get(
    "/places/{slug:place_slug}/alerts/{alarm_id}/series",
    response={200: AlarmSeriesOut, **READ_ERRORS},
    auth=STAFF_AUTH,
    summary="A spike alarm with its weekly series around it",
    description=(
        "The alarm and the weekly counts of its series from 26 weeks before to 8 after its "
        "week (at most the last week ended), for a chart. For the team that runs Locus in the"
        " place."
    ),
)
def alarm_series(request, place_slug: str, alarm_id: int = Path(..., ge=1, le=DB_ID_MAX)):
    alarm = _alarm(request, alarm_id, Capability.VIEW_INSIGHTS)
    points = selectors.alarm_series(place=request.place, alarm=alarm)
    return {
        "alarm": _alarm_out(alarm, request.LANGUAGE_CODE),
        "weeks": [{"week": w, "incidents": c, "reports": r} for w, c, r in points],
    }


@router.post(
    "/places/{slug:place_slug}/alerts/{alarm_id}/close",
    response={200: AlarmOut, **READ_ERRORS},
    auth=STAFF_AUTH,
    summary="Close a spike alarm (it leaves the list of open alarms)",
    description=(
        "Marks the alarm closed (it leaves the list of open alarms); closing a closed one "
        "changes nothing. For the team's administrators, coordinators and analysts."
    ),
)
def alarm_close(request, place_slug: str, alarm_id: int = Path(..., ge=1, le=DB_ID_MAX)):
    alarm = _alarm(request, alarm_id, Capability.MANAGE_INSIGHTS)
    alarm = services.alarm_close(place=request.place, alarm=alarm, actor=request.user)
    return _alarm_out(alarm, request.LANGUAGE_CODE)


@router.get(
    "/places/{slug:place_slug}/alert-subscription",
    response={200: SubscriptionOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Your organisation's alert subscription",
    description=(
        "Which alarms your organisation is told of (webhook event `insights.alert`, and "
        "e-mail when it has an inbox). `subscribed: false` when it has none. For "
        "administrators, coordinators and caseworkers, partners included."
    ),
)
def subscription_get(request, place_slug: str):
    membership = api_membership(request, Capability.SUBSCRIBE_ALERTS)
    subscription = selectors.subscription_get(
        place=request.place, organisation=membership.organisation
    )
    return _subscription_out(membership, subscription)


@router.put(
    "/places/{slug:place_slug}/alert-subscription",
    response={200: SubscriptionOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Set your organisation's alert subscription",
    description=(
        "Creates or replaces the subscription: `areas` (ids; empty: every area), `bias` and "
        "`incident_types` (codes; both empty: every category), `is_active`. An area of "
        "another place or an unknown code is a 422 naming the field. Audited."
    ),
)
def subscription_set(request, place_slug: str, payload: SubscriptionIn):
    membership = api_membership(request, Capability.SUBSCRIBE_ALERTS)
    subscription = services.subscription_set(
        place=request.place,
        membership=membership,
        actor=request.user,
        area_ids=payload.areas,
        bias=payload.bias,
        incident_types=payload.incident_types,
        is_active=payload.is_active,
    )
    subscription = selectors.subscription_get(
        place=request.place, organisation=membership.organisation
    )
    return _subscription_out(membership, subscription)


@router.delete(
    "/places/{slug:place_slug}/alert-subscription",
    response={200: SubscriptionOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="End your organisation's alert subscription",
    description=(
        "Ends the subscription; answers the empty subscription. Deleting none is not an "
        "error. Audited."
    ),
)
def subscription_delete(request, place_slug: str):
    membership = api_membership(request, Capability.SUBSCRIBE_ALERTS)
    services.subscription_delete(place=request.place, membership=membership, actor=request.user)
    return _subscription_out(membership, None)
