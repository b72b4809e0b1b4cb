"""Staff API: context indicators (import, indicators beside incident rates, correlation).
Mounted in locus/api/urls.py."""

from datetime import date
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from locus.accounts.policies import Capability
from locus.api.auth import STAFF_AUTH, api_membership
from locus.api.schemas import BAD_BODY_ERRORS, PLACE_ERRORS, ErrorOut
from locus.core.errors import ValidationFailed

from . import indicator_selectors, indicator_services, indicators
from .api import JobOut

router = Router(tags=["indicators"])


class AreaIndicatorOut(Schema):
    indicator: str
    periods: list[str] = Field(..., description="Newest first.")


class AreaRowOut(Schema):
    area_id: int
    name: str
    population: int | None
    incidents: int = Field(..., description="Grouped reports of the same content count once.")
    rate: float | None = Field(..., description="Incidents a year per 1,000 residents.")
    value: float | None = Field(..., description="The indicator's value; null when none.")


class CorrelationOut(Schema):
    n: int = Field(..., description="Areas with both a value and a rate.")
    pearson: float | None
    pearson_p: float | None
    spearman: float | None
    spearman_p: float | None
    reason: Literal["", "too_few", "constant"]


class IndicatorContextOut(Schema):
    indicator: str | None
    period: str | None
    start: date
    end: date
    rows: list[AreaRowOut]
    correlation: CorrelationOut | None
    caution: str


PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class ContextQuery(Schema):
    indicator: str | None = Field(None, max_length=indicators.INDICATOR_MAX, pattern=PRINTABLE)
    period: str | None = Field(None, max_length=10, pattern=r"^[0-9-]*$")
    days: int = Field(365, ge=7, le=3660)


class ImportIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "csv": "area,indicator,value,year\nE09000012,Deprivation score,31.2,2019\n",
                    "skip_invalid": False,
                    "filename": "deprivation.csv",
                }
            ]
        }
    )

    csv: str = Field(
        ...,
        min_length=1,
        max_length=indicators.MAX_BYTES,
        description="The CSV text: area, indicator, value, year (docs/insights.md).",
    )
    skip_invalid: bool = Field(
        False,
        description=(
            "Import the good rows when some are not (each skipped one is listed in the job's "
            "result). When false, any bad row refuses the whole import with 422 naming it."
        ),
    )
    filename: str = Field("", max_length=100, pattern=PRINTABLE)


CAUTION = (
    "Correlation is not cause: areas where both figures are high may share a third reason, "
    "and over a few areas a strong correlation can be chance."
)


@router.get(
    "/places/{slug:place_slug}/indicators",
    response={200: list[AreaIndicatorOut], **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="The place's area indicators",
    description=(
        "The names of the area indicators imported for the place (a deprivation score, the "
        "population…) and the periods each has values for. For the team that runs Locus in "
        "the place."
    ),
)
def indicator_list(request, place_slug: str):
    api_membership(request, Capability.VIEW_INSIGHTS)
    return [
        {"indicator": name, "periods": periods}
        for name, periods in indicator_selectors.indicator_names(place=request.place)
    ]


@router.get(
    "/places/{slug:place_slug}/indicators/context",
    response={200: IndicatorContextOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="An indicator beside incident rates per area, with their correlation",
    description=(
        "For each area: the indicator's value (`indicator`, default: the first by name; "
        "`period`, default: its newest; the answer names the ones used; one the place does not "
        "have is a 422 naming it) beside its rate of "
        "incidents a year per 1,000 residents over the last `days` days, and their Pearson "
        "and Spearman correlation with `caution`: correlation is not cause. For the team that"
        " runs Locus in the place."
    ),
)
def indicator_context(request, place_slug: str, query: Query[ContextQuery]):
    api_membership(request, Capability.VIEW_INSIGHTS)
    view = indicator_selectors.context_view(
        place=request.place, indicator=query.indicator, period=query.period, days=query.days
    )
    _refuse_unknown(query, view)
    correlation = view.correlation
    return {
        "indicator": view.indicator,
        "period": view.period,
        "start": view.start,
        "end": view.end,
        "rows": [
            {
                "area_id": row.area.pk,
                "name": row.area.name,
                "population": row.area.population,
                "incidents": row.incidents,
                "rate": row.rate,
                "value": row.value,
            }
            for row in view.rows
        ],
        "correlation": None if correlation is None else correlation.__dict__,
        "caution": CAUTION,
    }


def _refuse_unknown(query, view):
    """The page falls back to the first indicator and the newest period (its selects offer only
    those that exist); an integrator asking for one the place lacks gets a 422, not an answer
    about another indicator that it might read as the one it asked for."""
    fields = {}
    if query.indicator and view.indicator != query.indicator:
        fields["indicator"] = ["The place has no indicator of this name (see /indicators)."]
    elif query.period and view.period != query.period:
        fields["period"] = ["The indicator has no value for this period (see /indicators)."]
    if fields:
        raise ValidationFailed(_("The request is not valid."), fields=fields)


@router.post(
    "/places/{slug:place_slug}/indicators/import",
    response={202: JobOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Import area indicators from CSV (as a job)",
    description=(
        "CSV text with columns area, indicator, value, year (docs/insights.md). Every row is "
        "checked first: any bad row is a 422 listing each under `fields.csv` by its line, "
        "unless `skip_invalid`. 202 with the job. For the team's administrators, coordinators"
        " and analysts. Audited."
    ),
)
def indicator_import(request, place_slug: str, payload: ImportIn):
    api_membership(request, Capability.MANAGE_INSIGHTS)
    parsed = indicator_services.indicators_check(place=request.place, raw=payload.csv)
    if parsed.fatal or (parsed.problems and not payload.skip_invalid) or not parsed.rows:
        # Every bad row named by its line, before anything is queued.
        raise indicator_services.IndicatorImportRejected(
            "The file has problems, so nothing was imported. Fix them, or send "
            '"skip_invalid": true to import the good rows.'
            if parsed.problems
            else "No valid row to import.",
            problems=parsed.problems,
            field="csv",
        )
    job = indicator_services.indicators_import_job_start(
        place=request.place,
        raw=payload.csv,
        skip_invalid=payload.skip_invalid,
        actor=request.user,
        filename=payload.filename or "API",
    )
    return Status(202, job)
