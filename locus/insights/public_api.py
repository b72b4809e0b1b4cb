"""API: the public open data, the jurisdiction exports (staff) and the network roll-up.
Mounted in locus/api/urls.py. The same figures as the pages, from the same functions."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import Http404
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema

from locus.accounts.policies import Capability
from locus.api.auth import STAFF_AUTH, api_membership, token_membership
from locus.api.schemas import PLACE_ERRORS, ErrorOut
from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.services import audit_record

from . import exports, network, open_data
from .public_views import MAX_EXPORT_DAYS, default_period

router = Router(tags=["open data and exports"])

SchemeCode = Literal[exports.SCHEMES]  # type: ignore[valid-type]
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class OpenDataFigureOut(Schema):
    category: str
    count: int | None = Field(None, description="Absent (null) when the figure is hidden.")
    status: Literal["published", "fewer_than_threshold", "hidden_to_protect", "withheld"]


class OpenDataRowOut(Schema):
    area_code: str = Field(..., description="The area's code (or id), a place's slug, or 'all'.")
    area: str
    figures: list[OpenDataFigureOut]
    total: OpenDataFigureOut


class OpenDataMonthOut(Schema):
    month: str
    withheld: bool
    rows: list[OpenDataRowOut]


class OpenDataLicenceOut(Schema):
    name: str
    url: str


class OpenDataCategoryOut(Schema):
    code: str
    label: str


class OpenDataOut(Schema):
    title: str
    threshold: int
    publication_delay_days: int
    latest_month: str | None
    licence: OpenDataLicenceOut
    method: str
    categories: list[OpenDataCategoryOut]
    months: list[OpenDataMonthOut]


class OpenDataMonthQuery(Schema):
    month: str | None = Field(
        None, pattern=MONTH_PATTERN, description="Only this month (YYYY-MM); all by default."
    )


def _language():
    return get_language() or "en"


def _place_or_404(request):
    if getattr(request, "place", None) is None:
        raise Http404
    return request.place


def _filtered(payload, month):
    if month:
        payload["months"] = [m for m in payload["months"] if m["month"] == month]
    return payload


@router.get(
    "/places/{slug:place_slug}/open-data",
    response={200: OpenDataOut, 404: ErrorOut, 422: ErrorOut},
    auth=None,
    url_name="open_data",
    summary="Public open data: hate incidents by area × month × bias category (suppressed)",
    description=(
        "The place's public statistics: hate incidents by area, month and bias category, with"
        " cells below the place's threshold shown as fewer than it (`count` null, `status`) "
        "and secondary suppression so totals reveal no hidden cell; months inside the "
        "publication delay are left out. `month` (YYYY-MM) narrows to one month. Licence and "
        "method note included. Public, no authentication."
    ),
)
def open_data_get(request, place_slug: str, query: Query[OpenDataMonthQuery]):
    place = _place_or_404(request)
    data = open_data.open_data(place=place, language=_language())
    return _filtered(open_data.as_json(data), query.month)


class ExportPeriodQuery(Schema):
    start: date | None = Field(None, description="First day (default: twelve months ago).")
    end: date | None = Field(None, description="Last day (default: end of last month).")


def _period(place, query):
    start, end = default_period(open_data.today_for(place))
    start, end = query.start or start, query.end or end
    if end < start:
        raise ValidationFailed(
            "The end of the period must not be before its start.",
            fields={"end": ["The end of the period must not be before its start."]},
        )
    if (end - start).days > MAX_EXPORT_DAYS:
        raise ValidationFailed(
            "Choose a period of at most ten years.",
            fields={"end": ["Choose a period of at most ten years."]},
        )
    return start, end


class ExportCategoryOut(Schema):
    code: str
    label: str
    source_label: str
    parent: str | None
    level: int
    incidents: int


class ExportSchemeOut(Schema):
    scheme: str
    label: str
    start: date
    end: date
    categories: list[ExportCategoryOut]
    incidents: int = Field(..., description="Incidents counted in at least one category (once).")
    not_in_scheme: int
    hate_incidents: int


class OdihrSubmissionRowOut(Schema):
    bias: str
    label: str
    source_label: str
    violent_attacks_against_people: int
    threats: int
    attacks_against_property: int
    total: int
    outside_odihr_scope: int


class OdihrSubmissionOut(Schema):
    start: date
    end: date
    rows: list[OdihrSubmissionRowOut]
    all_incidents: OdihrSubmissionRowOut


def _audit(request, place, scheme, start, end):
    audit_record(
        action=AuditAction.STATISTICS_EXPORTED,
        actor=request.user,
        place=place,
        data={"scheme": scheme, "start": start.isoformat(), "end": end.isoformat(), "api": True},
    )


def _row(row):
    return {
        "bias": row.code,
        "label": row.label,
        "source_label": row.source_label,
        **{code: n for (code, _l, _k), n in zip(exports.ODIHR_TYPES, row.by_type, strict=True)},
        "total": row.total,
        "outside_odihr_scope": row.outside,
    }


@router.get(
    "/places/{slug:place_slug}/insights/exports/osce_odihr_submission",
    response={200: OdihrSubmissionOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="OSCE/ODIHR civil-society submission table (bias × type of incident)",
    description=(
        "Exact counts (not suppressed, for submission) of hate incidents by the day they "
        "happened in `start`…`end` (default: the last twelve months), in the OSCE/ODIHR "
        "civil-society table: bias × type of incident, discrimination and hate speech in "
        "`outside_odihr_scope`. An `end` before `start` is a 422 naming `end`. For the team "
        "that runs Locus in the place. Audited."
    ),
)
def export_submission(request, place_slug: str, query: Query[ExportPeriodQuery]):
    place = _place_or_404(request)
    api_membership(request, Capability.VIEW_INSIGHTS)
    start, end = _period(place, query)
    rows, total = exports.odihr_submission(
        exports.hate_incidents(place=place, start=start, end=end), language=_language()
    )
    _audit(request, place, exports.SUBMISSION, start, end)
    return {
        "start": start,
        "end": end,
        "rows": [_row(r) for r in rows],
        "all_incidents": _row(total),
    }


@router.get(
    "/places/{slug:place_slug}/insights/exports/{scheme}",
    response={200: ExportSchemeOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Counts of hate incidents in a jurisdiction's scheme",
    description=(
        "Exact counts of hate incidents by the day they happened in `start`…`end` (default: "
        "the last twelve months), in the categories of a jurisdiction's scheme (`uk_strands`,"
        " `osce_odihr`, `de_pmk`, `se_bra`, `fr`); incidents the scheme does not count are in"
        " `not_in_scheme`. An `end` before `start` is a 422 naming `end`. For the team that "
        "runs Locus in the place. Audited."
    ),
)
def export_scheme(request, place_slug: str, scheme: SchemeCode, query: Query[ExportPeriodQuery]):
    place = _place_or_404(request)
    api_membership(request, Capability.VIEW_INSIGHTS)
    start, end = _period(place, query)
    counts = exports.scheme_counts(
        exports.hate_incidents(place=place, start=start, end=end),
        scheme=scheme,
        start=start,
        end=end,
        language=_language(),
    )
    _audit(request, place, scheme, start, end)
    return {
        "scheme": counts.scheme,
        "label": counts.label,
        "start": start,
        "end": end,
        "categories": [
            {
                "code": c.code,
                "label": c.label,
                "source_label": c.source_label,
                "parent": c.parent,
                "level": c.depth + 1,
                "incidents": c.incidents,
            }
            for c in counts.categories
        ],
        "incidents": counts.incidents,
        "not_in_scheme": counts.not_in_scheme,
        "hate_incidents": counts.hate_incidents,
    }


def _network_of(request, network_slug):
    """The network the caller is a member of, else 404. A token acts only through the
    organisation membership it was made in, which holds no network role (docs/api.md): the
    roll-up answers it as anyone outside the network."""
    if token_membership(request) is not None:
        raise Http404
    return network.access_network(user=request.user, network_slug=network_slug)


@router.get(
    "/networks/{slug:network_slug}/insights",
    response={200: OpenDataOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    auth=STAFF_AUTH,
    summary="A network's roll-up: hate incidents by place × month × bias category (suppressed)",
    description=(
        "The network's places as rows (never their areas or reports), month by month and bias"
        " category, at the strictest threshold of its places and suppressed as the open data."
        " For members of the network, signed in (a token carries no network role); anyone "
        "else gets 404."
    ),
)
def network_get(request, network_slug: str, query: Query[OpenDataMonthQuery]):
    the_network = _network_of(request, network_slug)
    data = network.network_open_data(network=the_network, language=_language())
    return _filtered(open_data.as_json(data), query.month)


class NetworkExportQuery(Schema):
    month: str = Field(..., pattern=MONTH_PATTERN, description="The month (YYYY-MM).")


@router.get(
    "/networks/{slug:network_slug}/insights/exports/{scheme}",
    response={200: OpenDataOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    auth=STAFF_AUTH,
    summary="One month of a scheme across a network: places × categories (suppressed)",
    description=(
        "One month (`month`, YYYY-MM) of one scheme across the network: places × the scheme's"
        " categories, suppressed. A month not published yet is a 422 naming `month`. For "
        "members of the network, signed in (a token carries no network role); anyone else "
        "gets 404. Audited."
    ),
)
def network_export_get(
    request, network_slug: str, scheme: SchemeCode, query: Query[NetworkExportQuery]
):
    the_network = _network_of(request, network_slug)
    month = date.fromisoformat(query.month + "-01")
    table = network.network_scheme_table(
        network=the_network, scheme=scheme, month=month, language=_language()
    )
    if table is None:
        message = "This month is not published yet."
        raise ValidationFailed(message, fields={"month": [message]})
    audit_record(
        action=AuditAction.STATISTICS_EXPORTED,
        actor=request.user,
        data={"network": the_network.slug, "scheme": scheme, "month": query.month, "api": True},
    )
    return open_data.as_json(table)
