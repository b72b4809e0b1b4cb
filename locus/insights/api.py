"""Staff API: the dashboard's figures, the service's own figures and annotations (read-only).
Mounted in locus/api/urls.py. The same filters, rules and selectors as the pages; aggregate
figures only, never a report."""

from datetime import date
from typing import Literal

from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema

from locus.accounts.policies import Capability
from locus.api.auth import STAFF_AUTH, api_membership
from locus.api.schemas import DB_ID_MAX, PLACE_ERRORS, ErrorOut
from locus.core.errors import ValidationFailed

from . import selectors
from .forms import DashboardForm, ServicePeriodForm
from .rollups import place_tz

router = Router(tags=["insights"])

READ_ERRORS = {422: ErrorOut, **PLACE_ERRORS}


def _place(request):
    if getattr(request, "place", None) is None:
        raise Http404
    return request.place


def _form_errors(form):
    fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
    if "__all__" in fields:
        fields["non_field"] = fields.pop("__all__")
    return ValidationFailed("The request is not valid.", fields=fields)


class DashboardQuery(Schema):
    grain: Literal["W", "M"] = Field("M", description="W: ISO weeks; M: calendar months.")
    start: date | None = Field(None, description="First period shown (snapped to its start).")
    end: date | None = Field(None, description="Last period shown (snapped to its start).")
    area: int | None = Field(None, ge=1, le=DB_ID_MAX, description="One area of the place.")
    bias: str = Field("", max_length=40, description="A bias code (with its sub-values).")
    incident_type: str = Field(
        "", max_length=40, description='An incident type code; "" for the hate incidents.'
    )
    setting: str = Field("", max_length=40, description="A setting code.")
    basis: Literal["p", "v"] = Field(
        "p", description="p: as reporters perceived it; v: as staff verified it."
    )


class FigureOut(Schema):
    incidents: int
    reports: int
    previous: int
    last_year: int
    change_previous: float | None = Field(description="Percent change against the previous period.")
    change_last_year: float | None


class PeriodOut(Schema):
    period: date
    incidents: int
    reports: int
    last_year: int | None
    provisional: bool


class AreaOut(FigureOut):
    id: int
    name: str
    population: int | None
    rate: float | None = Field(description="Incidents per 1,000 residents over the period.")


class CodeOut(FigureOut):
    code: str
    label: str
    counts_as_hate: bool


class AnnotationOut(Schema):
    id: int
    starts_on: date
    ends_on: date
    text: str


class RangeOut(Schema):
    start: date
    end: date = Field(description="The day after the last period (exclusive).")


class DashboardOut(Schema):
    grain: str
    basis: str
    current: RangeOut
    previous: RangeOut
    last_year: RangeOut
    comparisons: list[Literal["previous", "last_year"]] = Field(
        description=(
            "The distinct comparisons: both, or only `last_year` when the period is a year "
            "long (12 months, 52 weeks: the default by month). Then `previous` is the same "
            "range as `last_year` and every `previous` figure equals its `last_year` one: "
            "show it once."
        )
    )
    provisional_days: int
    total: FigureOut
    rate: float | None
    periods: list[PeriodOut]
    areas: list[AreaOut]
    no_area: FigureOut
    by_bias: list[CodeOut]
    by_type: list[CodeOut]
    by_setting: list[CodeOut]
    annotations: list[AnnotationOut]


def _figure(figure):
    return {
        "incidents": figure.incidents,
        "reports": figure.reports,
        "previous": figure.previous,
        "last_year": figure.last_year,
        "change_previous": figure.change_previous,
        "change_last_year": figure.change_last_year,
    }


def _codes(figures, axis, language):
    return [
        {
            **_figure(f),
            "code": f.code,
            "label": selectors.code_label(axis, f.code, language),
            "counts_as_hate": f.counts_as_hate,
        }
        for f in figures
    ]


def _range(grain, pair):
    return {"start": pair[0], "end": pair[1]}


@router.get(
    "/places/{slug:place_slug}/insights/dashboard",
    response={200: DashboardOut, **READ_ERRORS},
    auth=STAFF_AUTH,
    summary="The dashboard's figures",
    url_name="insights_dashboard",
    description=(
        "Incidents (groups of reports of the same content counted once) and reports by period "
        "and area, with the same periods before and a year earlier, breakdowns by bias, type "
        "and setting, rates per 1,000 residents and the place's annotations. The same filters "
        "as the dashboard page; a bad filter answers 422 naming it."
    ),
)
def insights_dashboard(request, place_slug: str, query: Query[DashboardQuery]):
    place = _place(request)
    api_membership(request, Capability.VIEW_INSIGHTS)
    today = timezone.localdate(timezone=place_tz(place))
    language = get_language()
    params = {k: v for k, v in query.dict().items() if v not in (None, "")}
    form = DashboardForm(
        {k: str(v) for k, v in params.items()}, place=place, language=language, today=today
    )
    if not form.is_valid():
        raise _form_errors(form)
    filters = form.filters()
    data = selectors.dashboard(place, filters, today=today)
    last_year = data.last_year + [None] * (len(data.periods) - len(data.last_year))
    return {
        "grain": filters.grain,
        "basis": filters.basis,
        "current": {"start": filters.start, "end": filters.end},
        "previous": _range(filters.grain, filters.previous),
        "last_year": _range(filters.grain, filters.last_year),
        "comparisons": list(filters.comparisons),
        "provisional_days": selectors.PROVISIONAL_DAYS,
        "total": _figure(data.total),
        "rate": data.rate,
        "periods": [
            {
                "period": period,
                "incidents": data.incidents[i],
                "reports": data.reports[i],
                "last_year": last_year[i],
                "provisional": data.provisional[i],
            }
            for i, period in enumerate(data.periods)
        ],
        "areas": [
            {
                **_figure(a),
                "id": a.id,
                "name": a.name,
                "population": a.population,
                "rate": a.rate,
            }
            for a in data.areas
        ],
        "no_area": _figure(data.no_area),
        "by_bias": _codes(data.by_bias, "bias", language),
        "by_type": _codes(data.by_type, "incident_type", language),
        "by_setting": _codes(data.by_setting, "setting", language),
        "annotations": [
            {"id": a.pk, "starts_on": a.starts_on, "ends_on": a.ends_on, "text": a.text}
            for a in data.annotations
        ],
    }


class ServiceQuery(Schema):
    start: date | None = Field(None, description="First day (default: 364 days before the end).")
    end: date | None = Field(None, description="Last day (default: today).")


class OrganisationOut(Schema):
    organisation_id: int
    name: str
    acknowledge_target_hours: int | None
    close_target_days: int | None
    cases: int
    acknowledged: int
    median_acknowledge_hours: float | None
    acknowledge_within: float | None = Field(description="Share (0–1) within the target.")
    closed: int
    median_close_days: float | None
    close_within: float | None
    open_overdue: int
    handed_on: int


class ReachOut(Schema):
    code: str
    name: str
    reports: int
    share: float | None
    population: int | None
    population_share: float | None
    index: float | None
    by_person_targeted: int


class MonthOut(Schema):
    month: date
    reports: int


class ServiceOut(Schema):
    start: date
    end: date
    reports: int
    months: list[MonthOut]
    reports_with_cases: int
    handed_on: int
    handed_on_share: float | None
    asked_support: int
    support_consent: int
    supported: int
    organisations: list[OrganisationOut]
    areas: list[ReachOut]
    no_area: int
    communities: list[ReachOut]


def _hours(delta):
    return None if delta is None else round(delta.total_seconds() / 3600, 2)


def _days(delta):
    return None if delta is None else round(delta.total_seconds() / 86400, 2)


@router.get(
    "/places/{slug:place_slug}/insights/service",
    response={200: ServiceOut, **READ_ERRORS},
    auth=STAFF_AUTH,
    summary="How well the service works",
    url_name="insights_service",
    description=(
        "For the reports received between `start` and `end`: handling per organisation against "
        "its targets, hand-ons, support, and reach by area (against the population) and by "
        "community targeted."
    ),
)
def insights_service(request, place_slug: str, query: Query[ServiceQuery]):
    place = _place(request)
    api_membership(request, Capability.VIEW_INSIGHTS)
    today = timezone.localdate(timezone=place_tz(place))
    params = {k: str(v) for k, v in query.dict().items() if v is not None}
    form = ServicePeriodForm(params, today=today)
    if not form.is_valid():
        raise _form_errors(form)
    since, until = form.period()
    figures = selectors.service_figures(place, since=since, until=until, now=timezone.now())
    language = get_language()
    _label = selectors.code_label

    def reach(items, community=False):
        return [
            {
                "code": r.code,
                "name": _label("bias", r.code, language) if community else r.name,
                "reports": r.reports,
                "share": r.share,
                "population": r.population,
                "population_share": r.population_share,
                "index": r.index,
                "by_person_targeted": r.by_person_targeted,
            }
            for r in items
        ]

    return {
        "start": since,
        "end": until,
        "reports": figures.reports,
        "months": [{"month": m, "reports": c} for m, c in figures.months],
        "reports_with_cases": figures.with_cases,
        "handed_on": figures.handed_on,
        "handed_on_share": figures.handed_on_share,
        "asked_support": figures.asked_support,
        "support_consent": figures.support_consent,
        "supported": figures.supported,
        "organisations": [
            {
                "organisation_id": o.organisation_id,
                "name": o.name,
                "acknowledge_target_hours": o.targets.acknowledge_hours,
                "close_target_days": o.targets.close_days,
                "cases": o.cases,
                "acknowledged": o.acknowledged,
                "median_acknowledge_hours": _hours(o.median_acknowledge),
                "acknowledge_within": o.acknowledge_within,
                "closed": o.closed,
                "median_close_days": _days(o.median_close),
                "close_within": o.close_within,
                "open_overdue": o.open_overdue,
                "handed_on": o.handed_on,
            }
            for o in figures.organisations
        ],
        "areas": reach(figures.areas),
        "no_area": figures.no_area,
        "communities": reach(figures.communities, community=True),
    }


@router.get(
    "/places/{slug:place_slug}/insights/annotations",
    response={200: list[AnnotationOut], **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Trigger-event annotations",
    description=(
        "Events the place's team marked on its charts (a trigger event, a campaign), with "
        "their dates. For the team that runs Locus in the place (administrators, "
        "coordinators, caseworkers, analysts)."
    ),
)
def insights_annotations(request, place_slug: str):
    place = _place(request)
    api_membership(request, Capability.VIEW_INSIGHTS)
    return [
        {"id": a.pk, "starts_on": a.starts_on, "ends_on": a.ends_on, "text": a.text}
        for a in selectors.annotation_list(place)
    ]
