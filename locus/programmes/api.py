"""Staff API: programmes. Mounted in locus/api/urls.py.

The same rules as the pages, through the same selectors and services: a programme is found by
its own organisation (and, read only, by the place team with the portfolio); results are
reported through `results_report`; the place's programmes come out as an IATI 2.03 file.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict

from locus.accounts.policies import Capability, membership_can
from locus.api.auth import STAFF_AUTH, api_membership
from locus.api.schemas import BAD_BODY_ERRORS, DB_ID_MAX, PLACE_ERRORS, ErrorOut, TextBody
from locus.core.errors import PermissionDenied, ValidationFailed

from . import iati, policies, selectors, services
from .choices import IndicatorLevel, Measure, ProgrammeStatus, ResultSource, ordered_breakdown
from .models import FUNDER_MAX_LENGTH, FUNDERS_MAX, NARRATIVE_MAX_LENGTH, SUMMARY_MAX_LENGTH

router = Router(tags=["programmes"])

ObjectId = Annotated[int, Path(..., ge=1, le=DB_ID_MAX)]
StatusCode = Literal[tuple(ProgrammeStatus.values)]  # type: ignore[valid-type]
LevelCode = Literal[tuple(IndicatorLevel.values)]  # type: ignore[valid-type]
MeasureCode = Literal[tuple(Measure.values)]  # type: ignore[valid-type]
SourceCode = Literal[tuple(ResultSource.values)]  # type: ignore[valid-type]
LanguageCode = Literal["en", "fr", "de", "sv"]
VALUE_LIMIT = 999_999_999_999


# --- schemas -------------------------------------------------------------------------------


class AreaRef(Schema):
    id: int
    name: str


class ProgrammeOut(Schema):
    id: int
    title: str
    organisation: str
    status: StatusCode
    start_date: date
    end_date: date
    budget: Decimal | None
    currency: str
    intervention: str = Field(..., description="A code of the library's intervention vocabulary.")
    target_groups: list[str] = Field(..., description="Codes of the target-group vocabulary.")
    areas: list[AreaRef]
    progress: int | None = Field(
        ..., description="Mean progress of the indicators from baseline to target, 0–100."
    )


class ResultOut(Schema):
    period_id: int
    value: Decimal | None
    disaggregation: dict[str, dict[str, float]]
    source: SourceCode
    respondents: int | None
    comment: str


class IndicatorOut(Schema):
    id: int
    level: LevelCode
    title: str
    measure: MeasureCode
    unit: str
    baseline: Decimal | None
    baseline_year: int | None
    target: Decimal
    ascending: bool
    bank_code: str
    dimensions: list[str]
    results: list[ResultOut]


class ProgrammePeriodOut(Schema):
    id: int
    start: date
    end: date
    due: date
    narrative: str
    submitted_at: datetime | None


class TheoryOfChangeOut(Schema):
    problem: list[str]
    activities: list[str]
    outputs: list[str]
    outcomes_short: list[str]
    outcomes_medium: list[str]
    impact: list[str]
    assumptions: list[str]
    risks: list[str]


class ProgrammeDetailOut(ProgrammeOut):
    summary: str
    funders: list[str]
    theory_of_change: TheoryOfChangeOut
    indicators: list[IndicatorOut]
    periods: list[ProgrammePeriodOut]
    library_record_id: int | None


class ResultIn(TextBody):
    model_config = ConfigDict(extra="forbid")

    indicator: int = Field(..., ge=1, le=DB_ID_MAX)
    value: Decimal | None = Field(None, ge=-VALUE_LIMIT, le=VALUE_LIMIT)
    disaggregation: dict[str, dict[str, Annotated[Decimal, Field(ge=0, le=VALUE_LIMIT)]]] = {}
    comment: str = Field("", max_length=500)


class ResultsIn(TextBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "indicator": 5,
                            "value": "120",
                            "disaggregation": {"gender": {"female": "64", "male": "56"}},
                            "comment": "",
                        }
                    ],
                    "narrative": "All six schools took part.",
                    "submit": False,
                }
            ]
        },
    )

    results: list[ResultIn] = Field(..., max_length=200)
    narrative: str | None = Field(None, max_length=NARRATIVE_MAX_LENGTH)
    submit: bool = Field(False, description="Mark the period as reported.")


class ProgrammeIn(TextBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Bystander training in secondary schools",
                    "start_date": "2026-09-01",
                    "end_date": "2027-07-31",
                    "intervention": "practitioner_training",
                    "areas": [3],
                    "target_groups": ["young_people"],
                    "budget": "25000",
                    "currency": "GBP",
                    "funders": ["City Council"],
                }
            ]
        },
    )

    title: str = Field(..., min_length=1, max_length=200)
    summary: str = Field("", max_length=SUMMARY_MAX_LENGTH)
    start_date: date
    end_date: date
    areas: list[Annotated[int, Field(ge=1, le=DB_ID_MAX)]] = Field([], max_length=200)
    intervention: str = Field(..., max_length=40, description="A code of the intervention axis.")
    target_groups: list[Annotated[str, Field(max_length=40)]] = Field([], max_length=30)
    budget: Decimal | None = Field(None, ge=0, le=VALUE_LIMIT)
    currency: str = Field("GBP", min_length=3, max_length=3)
    funders: list[Annotated[str, Field(max_length=FUNDER_MAX_LENGTH)]] = Field(
        [], max_length=FUNDERS_MAX
    )
    status: StatusCode = ProgrammeStatus.ACTIVE
    iati_org_ref: str = Field("", max_length=60)


class PortfolioGroupOut(Schema):
    label: str
    programmes: list[int]


class PortfolioOut(Schema):
    programmes: list[ProgrammeOut]
    by_area: list[PortfolioGroupOut]
    by_target_group: list[PortfolioGroupOut]
    by_intervention: list[PortfolioGroupOut]


class IatiQuery(Schema):
    language: LanguageCode = "en"
    programme: int | None = Field(
        None, ge=1, le=DB_ID_MAX, description="Only this programme (default: all of the place)."
    )


# --- helpers -------------------------------------------------------------------------------


def _place(request):
    if getattr(request, "place", None) is None:
        raise Http404
    return request.place


def _reader(request):
    """Those who may read a programme: its organisation's people who run programmes, or the
    place team with the portfolio."""
    membership = api_membership(request, Capability.STAFF_HOME)
    if not (
        policies.can_view_portfolio(membership)
        or membership_can(membership, Capability.MANAGE_PROGRAMMES)
    ):
        raise PermissionDenied(_("Your role does not allow this."))
    return membership


def _programme_out(programme, areas, progress):
    return {
        "id": programme.pk,
        "title": programme.title,
        "organisation": programme.organisation.name,
        "status": programme.status,
        "start_date": programme.start_date,
        "end_date": programme.end_date,
        "budget": programme.budget,
        "currency": programme.currency,
        "intervention": programme.intervention,
        "target_groups": programme.target_groups,
        "areas": [{"id": a.pk, "name": a.name} for a in areas],
        "progress": int(progress) if progress is not None else None,
    }


def _detail(programme):
    indicators = selectors.indicators_with_results(programme)
    areas = list(programme.areas.all())
    area_ids = [a.pk for a in areas]
    out = _programme_out(programme, areas, selectors.programme_progress(indicators))
    out |= {
        "summary": programme.summary,
        "funders": programme.funder_list,
        "theory_of_change": {
            name: programme.toc_items(name) for name in TheoryOfChangeOut.model_fields
        },
        "indicators": [
            {
                "id": i.pk,
                "level": i.level,
                "title": i.title,
                "measure": i.measure,
                "unit": i.unit,
                "baseline": i.baseline,
                "baseline_year": i.baseline_year,
                "target": i.target,
                "ascending": i.ascending,
                "bank_code": i.bank_code,
                "dimensions": i.dimensions,
                "results": [
                    {
                        "period_id": r.period_id,
                        "value": r.value,
                        "disaggregation": {
                            dimension: dict(groups)
                            for dimension, groups in ordered_breakdown(r.disaggregation, area_ids)
                        },
                        "source": r.source,
                        "respondents": r.respondents,
                        "comment": r.comment,
                    }
                    for r in i.result_list
                ],
            }
            for i in indicators
        ],
        "periods": [
            {
                "id": p.pk,
                "start": p.start,
                "end": p.end,
                "due": p.due,
                "narrative": p.narrative,
                "submitted_at": p.submitted_at,
            }
            for p in selectors.period_list(programme)
        ],
        "library_record_id": programme.library_record_id,
    }
    return out


# --- operations ----------------------------------------------------------------------------


@router.get(
    "/places/{slug:place_slug}/programmes",
    response={200: list[ProgrammeOut], **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Your organisation's programmes",
    description=(
        "Your organisation's programmes in the place, with their areas and progress. For "
        "administrators, coordinators and editors."
    ),
)
def programme_list(request, place_slug: str):
    place = _place(request)
    membership = api_membership(request, Capability.MANAGE_PROGRAMMES)
    return [
        _programme_out(p, list(p.areas.all()), selectors.programme_progress(p.indicator_list))
        for p in selectors.programme_list(place, membership)
    ]


@router.post(
    "/places/{slug:place_slug}/programmes",
    response={201: ProgrammeDetailOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Create a programme of your organisation",
    description="Areas are ids of the place's areas; an area of another place is a 422 naming "
    "`areas`. The theory of change, indicators and periods are added on the programme's pages.",
)
def programme_create(request, place_slug: str, payload: ProgrammeIn):
    from locus.places.models import Area

    place = _place(request)
    membership = api_membership(request, Capability.MANAGE_PROGRAMMES)
    areas = list(Area.objects.filter(place=place, pk__in=payload.areas))
    if len(areas) != len(set(payload.areas)):
        raise ValidationFailed(
            "The request is not valid.", fields={"areas": ["Give ids of this place's areas."]}
        )
    data = payload.model_dump()
    data["areas"] = areas
    data["funders"] = "\n".join(data["funders"])
    programme = services.programme_create(
        place=place, organisation=membership.organisation, actor=request.user, data=data
    )
    programme = selectors.access_programme(place, membership, programme.pk)
    return Status(201, _detail(programme))


@router.get(
    "/places/{slug:place_slug}/programmes/portfolio",
    response={200: PortfolioOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="The place's portfolio of programmes",
    description="Every programme of the place with its progress, grouped by area, target "
    "group and type of intervention (labels in the request's language).",
)
def programme_portfolio(request, place_slug: str):
    place = _place(request)
    api_membership(request, Capability.VIEW_PORTFOLIO)
    data = selectors.portfolio(place, get_language())

    def groups(items):
        return [
            {"label": g["label"], "programmes": [row["programme"].pk for row in g["rows"]]}
            for g in items
        ]

    return {
        "programmes": [
            _programme_out(row["programme"], row["areas"], row["progress"]) for row in data["rows"]
        ],
        "by_area": groups(data["by_area"]),
        "by_target_group": groups(data["by_target_group"]),
        "by_intervention": groups(data["by_intervention"]),
    }


class IatiOut(Schema):
    activities: int = Field(..., description="How many programmes (IATI activities) it holds.")
    version: Literal["2.03"]
    filename: str
    xml: str = Field(..., description="The `iati-activities` file (UTF-8 XML).")


@router.get(
    "/places/{slug:place_slug}/programmes/iati",
    response={200: IatiOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="The place's programmes as IATI 2.03 activities",
    description="One IATI activity per programme with results, indicators, baselines, targets "
    "and actuals, valid against the IATI 2.03 activity schema; the file is in `xml`. 404 "
    "when the place has no programme (or not the one asked for).",
)
def programme_iati(request, place_slug: str, query: Query[IatiQuery]):
    place = _place(request)
    api_membership(request, Capability.VIEW_PORTFOLIO)
    ids = [query.programme] if query.programme else None
    programmes = selectors.place_programmes_for_export(place, ids)
    if not programmes:
        raise Http404
    content = iati.activities_xml(programmes, language=query.language)
    return {
        "activities": len(programmes),
        "version": iati.IATI_VERSION,
        "filename": f"iati-{place.slug}.xml",
        "xml": content.decode("utf-8"),
    }


@router.get(
    "/places/{slug:place_slug}/programmes/{programme_id}",
    response={200: ProgrammeDetailOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="A programme with its theory of change, indicators, periods and results",
    description=(
        "The programme with its theory of change, indicators, reporting periods and results. "
        "For the programme's organisation (administrators, coordinators, editors) and, read-"
        "only, the team that runs Locus in the place (its portfolio)."
    ),
)
def programme_detail(request, place_slug: str, programme_id: ObjectId):
    place = _place(request)
    membership = _reader(request)
    programme = selectors.access_programme(place, membership, programme_id, read=True)
    if programme is None:
        raise Http404
    return _detail(programme)


@router.post(
    "/places/{slug:place_slug}/programmes/{programme_id}/periods/{period_id}/results",
    response={200: ProgrammeDetailOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Report a period's results",
    description="Values per indicator with breakdowns (`gender`, `age`, `area` by area id), "
    "the narrative, and `submit` to mark the period as reported. A blank value clears an "
    "entered result; survey results are kept.",
)
def programme_results(
    request, place_slug: str, programme_id: ObjectId, period_id: ObjectId, payload: ResultsIn
):
    place = _place(request)
    membership = api_membership(request, Capability.MANAGE_PROGRAMMES)
    programme = selectors.access_programme(place, membership, programme_id)
    if programme is None:
        raise Http404
    period = selectors.access_period(programme, period_id)
    if period is None:
        raise Http404
    values = {}
    for index, item in enumerate(payload.results):
        if item.indicator in values:
            raise ValidationFailed(
                "The request is not valid.",
                fields={f"results.{index}.indicator": ["Each indicator once."]},
            )
        values[item.indicator] = {
            "value": item.value,
            "disaggregation": item.disaggregation,
            "comment": item.comment,
        }
    try:
        services.results_report(
            period=period,
            actor=request.user,
            values=values,
            narrative=payload.narrative,
            submit=payload.submit,
        )
    except ValidationFailed as exc:
        fields = {}
        for key, messages in exc.fields.items():
            indicator_id = key.removeprefix("indicator_").removesuffix("_breakdown")
            index = next(
                (
                    i
                    for i, item in enumerate(payload.results)
                    if str(item.indicator) == indicator_id
                ),
                None,
            )
            name = (
                f"results.{index}.{'disaggregation' if key.endswith('_breakdown') else 'value'}"
                if index is not None
                else key
            )
            fields[name] = messages
        raise ValidationFailed(exc.message, fields=fields) from exc
    programme.refresh_from_db()
    return _detail(programme)
