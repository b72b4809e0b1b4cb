"""Staff API: cases. Mounted in locus/api/urls.py.

The same rules as the inbox and the case page, through the same selectors and services: a
case is found only by the organisation that received it (and, read-only, by the team that runs
Locus in the place); what the detail shows of the report follows the routing decision's level;
every detail read is audited; every step is a service call, refused in the one error shape.
Creating steps (note, message, hand-on) accept an `Idempotency-Key`, so a retry is safe.
"""

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict

from locus.accounts.models import User
from locus.accounts.policies import Capability
from locus.api.auth import STAFF_AUTH, api_membership
from locus.api.conditional import HEADER as IF_MATCH
from locus.api.conditional import etag, if_match_header, parse_if_match
from locus.api.idempotency import IDEMPOTENCY_ERRORS, idempotency_key_header, idempotent
from locus.api.pagination import PageOut, PageQuery, paginate
from locus.api.schemas import BAD_BODY_ERRORS, DB_ID_MAX, PLACE_ERRORS, ErrorOut
from locus.core.errors import PreconditionFailed, ValidationFailed
from locus.directory.selectors import access_organisation

from . import policies, selectors, services
from .choices import CaseOutcome, CaseStatus, MessageDirection, ShareLevel, Verification

router = Router(tags=["cases"])

CaseId = Annotated[int, Path(..., ge=1, le=DB_ID_MAX)]
StatusCode = Literal[tuple(CaseStatus.values)]  # type: ignore[valid-type]
OutcomeCode = Literal[tuple(CaseOutcome.values)]  # type: ignore[valid-type]
VerificationCode = Literal[tuple(Verification.values)]  # type: ignore[valid-type]
LevelCode = Literal[tuple(ShareLevel.values)]  # type: ignore[valid-type]
DirectionCode = Literal[tuple(MessageDirection.values)]  # type: ignore[valid-type]
DAYS_MAX = 3660

READ_ERRORS = {422: ErrorOut, **PLACE_ERRORS}
STEP_ERRORS = {**BAD_BODY_ERRORS, **PLACE_ERRORS}


def _text_field(max_length, description):
    """A `body` text field, checked by `_checked_text` in the operation rather than by the
    schema: the API's error handler drops "body" from an error's location (it is also the name
    of the request part), and an error must name its field."""
    return Field(
        ...,
        description=description,
        json_schema_extra={"type": "string", "minLength": 1, "maxLength": max_length},
    )


def _checked_text(value, *, max_length, field="body"):
    """Text that can be stored and encrypted: a string, not blank, not too long, no control
    characters but line breaks and tabs, no lone surrogates. Else 422 naming the field."""
    problem = None
    if not isinstance(value, str):
        problem = _("Give text.")
    elif not value.strip():
        problem = _("This field is required.")
    elif len(value.strip()) > max_length:
        problem = _("Keep it under %(limit)s characters.") % {"limit": max_length}
    elif any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in value):
        problem = _("Control characters are not allowed.")
    elif any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        problem = _("The text is not valid Unicode.")
    if problem:
        raise ValidationFailed(_("The request is not valid."), fields={field: [problem]})
    return value.strip()


# --- schemas -------------------------------------------------------------------------------


class OrganisationRef(Schema):
    id: int
    name: str


class PersonRef(Schema):
    id: int
    name: str = Field(..., description="The person's name, or their e-mail address.")


class GroupOut(Schema):
    key: str = Field(..., description="Report.content_key: the `group` filter of the list.")
    size: int = Field(..., description="Cases of the organisation reporting the same content.")


class CaseOut(Schema):
    """A case as a list row: no personal data of the report."""

    id: int
    reference: str = Field(..., description="The report's reference.")
    organisation: OrganisationRef
    status: StatusCode
    outcome: OutcomeCode | None
    verification: VerificationCode
    incident_type: str = Field(..., description="Verified by staff, else as reported.")
    verified_incident_type: str
    verified_bias: list[str]
    ideology: str
    taxonomy_version: str
    area: str | None = Field(
        ..., description="The area's name; null when none, or not shared with this viewer."
    )
    assigned_to: PersonRef | None
    level: LevelCode = Field(..., description="What the organisation was sent of the report.")
    with_contact: bool
    created_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    overdue: bool = Field(..., description="Open and past its organisation's targets.")
    unread: int = Field(..., description="Messages from the reporter(s) not read yet.")
    group: GroupOut | None = Field(..., description="Reports of the same online content.")
    merged_into: int | None = Field(..., description="The case this duplicate is merged into.")
    handed_on_from: OrganisationRef | None


VERSION_DESCRIPTION = (
    "The case's version, also its `ETag`: it changes with every step and every change in its "
    "timeline. Send it back in `If-Match` to assign or classify only the case you read."
)


class CaseVersionedOut(CaseOut):
    """A case with its version: a list row, or the case after a step."""

    version: str = Field(..., description=VERSION_DESCRIPTION)


class CaseListQuery(PageQuery):
    status: StatusCode | None = None
    assigned: str | None = Field(
        None,
        pattern=r"^(me|none|[1-9][0-9]{0,17})$",
        description='"me", "none" (nobody), or the id of a person.',
    )
    overdue: bool = Field(False, description="Only open cases past their targets.")
    group: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="Only the cases of one group (its key)."
    )
    scope: Literal["own", "all"] = Field(
        "own",
        description="all: every organisation's cases, for the team that runs Locus here.",
    )
    order: Literal["newest", "oldest", "due"] = Field(
        "newest",
        description=(
            "newest or oldest first, or due: open cases by when their next step is due under "
            "their organisation's targets (most overdue first), then open cases without a "
            "target (oldest first), closed cases last."
        ),
    )


class CaseListOut(PageOut):
    counts: dict[str, int] = Field(
        ..., description="Cases per status, all, overdue, unread; under the filters but status."
    )
    results: list[CaseVersionedOut]


class VisibilityOut(Schema):
    level: LevelCode
    with_contact: bool
    own: bool = Field(..., description="False: the place team reading another's case.")
    shows_report: bool
    shows_identity: bool
    shows_contact: bool


class AreaRef(Schema):
    id: int
    name: str


class ContactOut(Schema):
    name: str = ""
    email: str = ""
    phone: str = ""


class ReportOut(Schema):
    """What the viewer may see of the report; what it may not is null."""

    reference: str
    submitted_at: datetime
    taxonomy_version: str
    language: str
    incident_type: str
    content_url: str
    platform: str
    occurred_on: date | None = None
    occurred_approx: bool | None = None
    ongoing: bool | None = None
    area: AreaRef | None = None
    location_text: str | None = None
    setting: str | None = None
    bias: list[str] | None = None
    reporter_role: str | None = None
    account: str | None = None
    already_reported: list[str] | None = None
    support_wanted: list[str] | None = None
    police_reference: str | None = None
    contact: ContactOut | None = None


class DecisionOut(Schema):
    reason: str
    rule: str | None
    fallback: bool


class EventOut(Schema):
    kind: str
    at: datetime
    actor: PersonRef | None
    data: dict = Field(..., description="Codes and ids only.")


class NoteOut(Schema):
    id: int
    body: str
    author: PersonRef | None
    created_at: datetime


class MessageOut(Schema):
    id: int
    direction: DirectionCode
    body: str
    author: PersonRef | None = Field(..., description="Staff author; null from the reporter.")
    at: datetime
    read_at: datetime | None


class EvidenceOut(Schema):
    id: int
    kind: str
    mime: str
    size: int
    sha256: str
    received_at: datetime


class CaseRefOut(Schema):
    id: int
    reference: str
    status: StatusCode
    created_at: datetime
    merged_into: int | None


class DuplicateOut(Schema):
    case: CaseRefOut
    similarity: float = Field(..., ge=0, le=1)


class HandedOnOut(Schema):
    organisation: OrganisationRef
    created_at: datetime


class TimingOut(Schema):
    done: bool
    seconds: float = Field(..., description="Taken when done, else elapsed so far.")
    target_seconds: float | None
    due: datetime | None
    late: bool


class CaseDetailOut(CaseOut):
    version: str = Field(..., description=VERSION_DESCRIPTION)
    visibility: VisibilityOut
    report: ReportOut
    decision: DecisionOut
    timing: dict[str, TimingOut] = Field(..., description="acknowledge and close.")
    timeline: list[EventOut]
    notes: list[NoteOut] = Field(..., description="Only for the case's own organisation.")
    messages: list[MessageOut] = Field(
        ..., description="Only for the case's own organisation; reading marks them read."
    )
    evidence: list[EvidenceOut]
    group_cases: list[CaseRefOut]
    merged_cases: list[CaseRefOut]
    duplicate_suggestions: list[DuplicateOut]
    handed_on_to: list[HandedOnOut]


class CloseIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"outcome": "referred_to_police"}]}
    )

    outcome: OutcomeCode


class AssignIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"assignee": 17}]})

    assignee: int | None = Field(
        ..., ge=1, le=DB_ID_MAX, description="A person of the organisation who handles cases."
    )


class NoteIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"body": "Called the school; they will talk to the class on Monday."}]
        },
    )

    body: Any = _text_field(services.NOTE_MAX_LENGTH, "The note.")


class ClassifyIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "verification": "verified",
                    "incident_type": "threat",
                    "bias": ["antisemitism"],
                    "ideology": "",
                }
            ]
        },
    )

    verification: VerificationCode
    incident_type: str = Field("", max_length=40, description="Empty: as reported.")
    bias: list[Annotated[str, Field(max_length=40)]] = Field(
        [], max_length=50, description="Empty: as reported."
    )
    ideology: str = Field("", max_length=40, description="Empty: not given.")


class MessageIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"body": "Thank you for your report. Would a call on Monday morning suit you?"}
            ]
        },
    )

    body: Any = _text_field(services.MESSAGE_MAX_LENGTH, "The message to the reporter.")


class CreatedOut(Schema):
    id: int
    case_id: int
    at: datetime


class StatsQuery(Schema):
    days: int = Field(
        90, ge=1, le=DB_ID_MAX, description=f"The period: the last N days (at most {DAYS_MAX})."
    )


class TargetsOut(Schema):
    acknowledge_target_hours: int | None
    close_target_days: int | None


class TargetsIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"acknowledge_target_hours": 48, "close_target_days": 30}]},
    )

    acknowledge_target_hours: int | None = Field(
        ..., ge=1, le=services.TARGET_HOURS_MAX, description="null: no target."
    )
    close_target_days: int | None = Field(
        ..., ge=1, le=services.TARGET_DAYS_MAX, description="null: no target."
    )


class StatsOut(Schema):
    since: datetime
    until: datetime
    targets: TargetsOut
    cases: int
    acknowledged: int
    median_acknowledge_seconds: float | None
    acknowledge_judged: int
    acknowledge_within: float | None = Field(..., description="Share 0..1; null: no target.")
    closed: int
    median_close_seconds: float | None
    close_judged: int
    close_within: float | None
    open_overdue: int


# --- helpers -------------------------------------------------------------------------------


def _place(request):
    if getattr(request, "place", None) is None:
        raise Http404
    return request.place


def _membership(request):
    return api_membership(request, Capability.VIEW_PERSONAL_DATA)


def _case(request, membership, case_id):
    case = selectors.access_case(_place(request), membership, case_id)
    if case is None:
        raise Http404
    return case


def _person(user):
    if user is None:
        return None
    return {"id": user.pk, "name": user.name or user.email}


def _seconds(delta):
    return None if delta is None else delta.total_seconds()


def _case_out(case, membership, *, targets, now, group_size=None, unread=None, origin=None):
    """A CaseOut from a case (with report, organisation, assigned_to and decision loaded)."""
    key = case.report.content_key
    if group_size is None:
        group_size = selectors.case_group(case).count() if key else 0
    if unread is None:
        unread = getattr(case, "unread", 0)
    own = case.organisation_id == membership.organisation_id
    shows_area = policies.case_list_shows_area(membership, case)
    return {
        "id": case.pk,
        "reference": case.report.reference,
        "organisation": {"id": case.organisation_id, "name": case.organisation.name},
        "status": case.status,
        "outcome": case.outcome or None,
        "verification": case.verification,
        "incident_type": case.incident_type,
        "verified_incident_type": case.verified_incident_type,
        "verified_bias": case.verified_bias,
        "ideology": case.ideology,
        "taxonomy_version": case.taxonomy_version or case.report.taxonomy_version,
        "area": case.report.area.name if shows_area and case.report.area_id else None,
        "assigned_to": _person(case.assigned_to),
        "level": case.decision.level,
        "with_contact": case.decision.with_contact,
        "created_at": case.created_at,
        "acknowledged_at": case.acknowledged_at,
        "closed_at": case.closed_at,
        "overdue": targets.get(case.organisation_id, selectors.Targets()).is_overdue(case, now),
        "unread": unread if own else 0,
        "group": {"key": key, "size": group_size} if key and group_size > 1 else None,
        "merged_into": case.merged_into_id,
        "handed_on_from": (
            {"id": origin.organisation_id, "name": origin.organisation.name} if origin else None
        ),
    }


def _step_answer(request, membership, case_id):
    """The case after a step, read again (the service returns the locked row, without the
    related rows a CaseOut shows)."""
    place = _place(request)
    case = _case(request, membership, case_id)
    # A model, not a dict: an idempotent step stores its answer as JSON.
    return CaseVersionedOut.model_validate(
        _case_out(
            case,
            membership,
            targets=selectors.case_targets(place, [case.organisation_id]),
            now=timezone.now(),
            unread=selectors.case_unread_count(case),
        )
        | {"version": selectors.case_version(case)}
    )


@contextmanager
def _if_match():
    """A step under `If-Match`: a refusal names the header, and gives the case's current
    version as the 412's `ETag`."""
    try:
        yield
    except PreconditionFailed as exc:
        exc.fields = {IF_MATCH: exc.fields.pop("version", [])}
        exc.headers = {"ETag": etag(exc.version)}
        raise


@contextmanager
def _field_renamed(field, parameter):
    """The services name form fields; the API names its own parameter in errors."""
    try:
        yield
    except ValidationFailed as exc:
        if field in exc.fields:
            exc.fields[parameter] = exc.fields.pop(field)
        raise


def _case_ref(case):
    return {
        "id": case.pk,
        "reference": case.report.reference,
        "status": case.status,
        "created_at": case.created_at,
        "merged_into": case.merged_into_id,
    }


def _report_out(report, visibility):
    data = {
        "reference": report.reference,
        "submitted_at": report.submitted_at,
        "taxonomy_version": report.taxonomy_version,
        "language": report.language,
        "incident_type": report.incident_type,
        "content_url": report.content_url,
        "platform": report.platform,
    }
    if visibility.shows_report:
        data |= {
            "occurred_on": report.occurred_on,
            "occurred_approx": report.occurred_approx,
            "ongoing": report.ongoing,
            "area": {"id": report.area_id, "name": report.area.name} if report.area_id else None,
            "location_text": report.location_text,
            "setting": report.setting,
            "bias": report.bias,
            "reporter_role": report.reporter_role,
            "account": report.account,
            "already_reported": report.already_reported,
        }
    if visibility.shows_identity:
        data |= {
            "support_wanted": report.support_wanted,
            "police_reference": report.police_reference,
        }
    if visibility.shows_contact and report.contact:
        contact = report.contact
        data["contact"] = {key: contact.get(key) or "" for key in ("name", "email", "phone")}
    return data


def _timing_out(timing):
    return {
        step: {
            "done": item.taken is not None,
            "seconds": item.elapsed.total_seconds(),
            "target_seconds": _seconds(item.target),
            "due": item.due,
            "late": item.late,
        }
        for step, item in timing.items()
    }


# --- list, detail, figures, targets --------------------------------------------------------


@router.get(
    "/places/{slug:place_slug}/cases",
    response={200: CaseListOut, **READ_ERRORS},
    auth=STAFF_AUTH,
    summary="List cases",
    description=(
        "The organisation's cases, newest first (see `order`), without personal data; merged "
        "duplicates are left out (see their case). Filters: status, assigned, overdue, group "
        "(reports of the same online content), scope=all (every organisation's cases, for "
        "the team that runs Locus in the place). `counts` are under the same filters but the "
        "status."
    ),
)
def case_list(request, place_slug: str, query: Query[CaseListQuery]):
    place = _place(request)
    membership = _membership(request)
    now = timezone.now()
    filters = {
        "status": query.status or "",
        "assigned": query.assigned,
        "overdue": query.overdue,
        "group": query.group or "",
        "scope": "all" if query.scope == "all" else "",
        "order": "" if query.order == "newest" else query.order,
    }
    if filters["scope"] == "all" and not getattr(membership, "manages_place", False):
        raise ValidationFailed(
            _("Only the team that runs Locus in this place can list every organisation's cases."),
            fields={"scope": [_("Use own.")]},
        )
    targets = selectors.case_targets(
        place, None if filters["scope"] == "all" else [membership.organisation_id]
    )
    page = paginate(
        selectors.case_list(place, membership, filters, with_version=True, now=now),
        query,
        item=lambda case: (
            _case_out(case, membership, targets=targets, now=now, group_size=case.group_size)
            | {"version": str(case.version)}
        ),
    )
    return {**page, "counts": selectors.case_stats(place, membership, filters, now=now)}


@router.get(
    "/places/{slug:place_slug}/cases/stats",
    response={200: StatsOut, **READ_ERRORS},
    auth=STAFF_AUTH,
    summary="Handling figures of your organisation",
    description=(
        "For the cases your organisation received in the last `days` days: the median time to "
        "acknowledge and to close, and the share within its targets (a case counts once the "
        "step is done or once the target has passed without it)."
    ),
)
def case_stats(request, place_slug: str, query: Query[StatsQuery]):
    place = _place(request)
    membership = _membership(request)
    now = timezone.now()
    if query.days > DAYS_MAX:
        raise ValidationFailed(
            _("The period is too long."),
            fields={"days": [_("At most %(days)s days.") % {"days": DAYS_MAX}]},
        )
    stats = selectors.case_handling_stats(
        place, membership.organisation_id, since=now - timedelta(days=query.days), until=now
    )
    return {
        "since": stats.since,
        "until": stats.until,
        "targets": {
            "acknowledge_target_hours": stats.targets.acknowledge_hours,
            "close_target_days": stats.targets.close_days,
        },
        "cases": stats.cases,
        "acknowledged": stats.acknowledged,
        "median_acknowledge_seconds": _seconds(stats.median_acknowledge),
        "acknowledge_judged": stats.acknowledge_judged,
        "acknowledge_within": stats.acknowledge_within,
        "closed": stats.closed,
        "median_close_seconds": _seconds(stats.median_close),
        "close_judged": stats.close_judged,
        "close_within": stats.close_within,
        "open_overdue": stats.open_overdue,
    }


def _targets_out(place, membership):
    targets = selectors.organisation_targets(place, membership.organisation_id)
    return {
        "acknowledge_target_hours": targets.acknowledge_hours,
        "close_target_days": targets.close_days,
    }


@router.get(
    "/places/{slug:place_slug}/cases/targets",
    response={200: TargetsOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Your organisation's handling targets",
    description=(
        "Hours to acknowledge and days to close a case that your organisation set itself "
        "(null: no target); `overdue` in the case list follows them. For its administrators."
    ),
)
def case_targets_get(request, place_slug: str):
    place = _place(request)
    membership = api_membership(request, Capability.MANAGE_MEMBERS)
    return _targets_out(place, membership)


@router.post(
    "/places/{slug:place_slug}/cases/targets",
    response={200: TargetsOut, **STEP_ERRORS},
    auth=STAFF_AUTH,
    summary="Set your organisation's handling targets",
    description="For its administrators. Both values; null means no target. Audited.",
)
def case_targets_set(request, place_slug: str, payload: TargetsIn):
    place = _place(request)
    membership = api_membership(request, Capability.MANAGE_MEMBERS)
    services.case_targets_set(
        place=place,
        membership=membership,
        acknowledge_target_hours=payload.acknowledge_target_hours,
        close_target_days=payload.close_target_days,
    )
    return _targets_out(place, membership)


@router.get(
    "/places/{slug:place_slug}/cases/{case_id}",
    response={200: CaseDetailOut, **READ_ERRORS},
    auth=STAFF_AUTH,
    summary="Get a case",
    description=(
        "The case and what your organisation may see of its report under the routing "
        "decision (fields it may not see are null). Audited as a view of personal data; the "
        "reporter's messages count as read."
    ),
)
def case_detail(request, place_slug: str, case_id: CaseId, response: HttpResponse):
    place = _place(request)
    membership = _membership(request)
    case = _case(request, membership, case_id)
    now = timezone.now()
    visibility = policies.case_visibility(membership, case)
    services.case_record_view(case=case, membership=membership, visibility=visibility)
    can_act = policies.case_can_act(membership, case)
    group = list(selectors.case_group(case))
    messages = []
    if visibility.own:
        messages = list(selectors.case_messages(case))
        services.case_messages_mark_read(case=case, membership=membership, now=now)
    suggestions = []
    if can_act and visibility.shows_report and not case.is_closed and not case.merged_into_id:
        suggestions = selectors.case_duplicate_suggestions(case)
    explanation = case.decision.explanation or {}
    targets = selectors.case_targets(place, [case.organisation_id])
    data = _case_out(
        case,
        membership,
        targets=targets,
        now=now,
        group_size=len(group),
        unread=selectors.case_unread_count(case),
        origin=selectors.case_origin(case),
    )
    version = selectors.case_version(case)
    response["ETag"] = etag(version)
    data |= {
        "version": version,
        "visibility": {
            "level": visibility.level,
            "with_contact": visibility.with_contact,
            "own": visibility.own,
            "shows_report": visibility.shows_report,
            "shows_identity": visibility.shows_identity,
            "shows_contact": visibility.shows_contact,
        },
        "report": _report_out(case.report, visibility),
        "decision": {
            "reason": case.decision.reason,
            "rule": (explanation.get("rule") or {}).get("name"),
            "fallback": bool(explanation.get("fallback")),
        },
        "timing": _timing_out(
            selectors.case_timing(case, targets.get(case.organisation_id, selectors.Targets()))
        ),
        "timeline": [
            {"kind": e.kind, "at": e.at, "actor": _person(e.actor), "data": e.data}
            for e in selectors.case_timeline(case)
        ],
        "notes": [
            {"id": n.pk, "body": n.body, "author": _person(n.author), "created_at": n.created_at}
            for n in (selectors.case_notes(case) if visibility.own else [])
        ],
        "messages": [
            {
                "id": m.pk,
                "direction": m.direction,
                "body": m.body,
                "author": _person(m.author) if m.direction == "to_reporter" else None,
                "at": m.at,
                "read_at": m.read_at,
            }
            for m in messages
        ],
        "evidence": list(selectors.case_evidence(case)) if visibility.shows_report else [],
        "group_cases": [_case_ref(c) for c in group] if len(group) > 1 else [],
        "merged_cases": [_case_ref(c) for c in selectors.case_merged_cases(case)],
        "duplicate_suggestions": [
            {"case": _case_ref(s.case), "similarity": round(s.similarity, 3)} for s in suggestions
        ],
        "handed_on_to": [
            {
                "organisation": {"id": c.organisation_id, "name": c.organisation.name},
                "created_at": c.created_at,
            }
            for c in (selectors.case_handed_on_to(case) if visibility.own else [])
        ],
    }
    return data


# --- steps ---------------------------------------------------------------------------------


def _steps_description(text):
    return text + " Only the organisation that received the case; refused with 422 when the step "
    "does not apply (e.g. `invalid_transition`, `merged`)."


def _step_post(
    action,
    out=CaseVersionedOut,
    *,
    conditional=False,
    summary,
    description,
    status=200,
    idempotent=False,
):
    """Declare a step on one case: `POST …/cases/{case_id}/<action>`, staff only, answering
    `out` or the step errors (and 409/422 of an `Idempotency-Key` when it accepts one)."""
    responses = {status: out, **STEP_ERRORS}
    if idempotent:
        responses |= IDEMPOTENCY_ERRORS
    if conditional:
        responses |= {412: ErrorOut}
    return router.post(
        f"/places/{{slug:place_slug}}/cases/{{case_id}}/{action}",
        response=responses,
        auth=STAFF_AUTH,
        summary=summary,
        description=_steps_description(description),
    )


def _step(request, case_id, service, **arguments):
    """Run a step's service on the member's case and answer the case as it is now."""
    membership = _membership(request)
    service(case=_case(request, membership, case_id), membership=membership, **arguments)
    return _step_answer(request, membership, case_id)


@_step_post(
    "acknowledge",
    summary="Acknowledge a case",
    description="Say the organisation has seen a new case.",
)
def case_acknowledge(request, place_slug: str, case_id: CaseId):
    return _step(request, case_id, services.case_acknowledge)


@_step_post(
    "start",
    summary="Start work on a case",
    description="From new or acknowledged to in progress.",
)
def case_start(request, place_slug: str, case_id: CaseId):
    return _step(request, case_id, services.case_start)


@_step_post(
    "close",
    summary="Close a case with an outcome",
    description=(
        "Duplicates merged into the case close with it. When it was the report's last open "
        "case, the reporter sees the report as closed."
    ),
)
def case_close(request, place_slug: str, case_id: CaseId, payload: CloseIn):
    return _step(request, case_id, services.case_close, outcome=payload.outcome)


@_step_post(
    "reopen",
    summary="Reopen a closed case",
    description="Back to in progress, with the duplicates merged into it.",
)
def case_reopen(request, place_slug: str, case_id: CaseId):
    return _step(request, case_id, services.case_reopen)


IF_MATCH_DESCRIPTION = (
    " Accepts `If-Match` with the case's `ETag` (its `version`): when the case changed since "
    "it was read, nothing is done: 412 `changed_meanwhile` naming the change and who made it, "
    "with the case's current `ETag`."
)


@_step_post(
    "assign",
    conditional=True,
    summary="Assign a case",
    description=(
        "To a person of the organisation who handles cases (`assignee`: their user id), or "
        "to nobody (`null`)." + IF_MATCH_DESCRIPTION
    ),
)
def case_assign(
    request,
    place_slug: str,
    case_id: CaseId,
    payload: AssignIn,
    response: HttpResponse,
    if_match: str | None = if_match_header(),
):
    membership = _membership(request)
    case = _case(request, membership, case_id)
    versions = parse_if_match(if_match)
    assignee = None
    if payload.assignee is not None:
        assignee = User.objects.filter(pk=payload.assignee).first()
        if assignee is None:
            raise ValidationFailed(
                _("A case can only be given to someone of this organisation who handles cases."),
                fields={"assignee": [_("Choose a person of your organisation who handles cases.")]},
            )
    with _if_match():
        services.case_assign(case=case, membership=membership, assignee=assignee, versions=versions)
    answer = _step_answer(request, membership, case_id)
    response["ETag"] = etag(answer.version)
    return answer


@_step_post(
    "classify",
    conditional=True,
    summary="Classify a case",
    description=(
        "The verification, and the verified incident type, bias codes and ideology (current "
        "taxonomy codes; empty: as reported / not given)." + IF_MATCH_DESCRIPTION
    ),
)
def case_classify(
    request,
    place_slug: str,
    case_id: CaseId,
    payload: ClassifyIn,
    response: HttpResponse,
    if_match: str | None = if_match_header(),
):
    membership = _membership(request)
    case = _case(request, membership, case_id)
    versions = parse_if_match(if_match)  # after: a stranger learns nothing from a 422
    with _if_match():
        services.case_classify(
            case=case,
            membership=membership,
            verification=payload.verification,
            incident_type=payload.incident_type,
            bias=payload.bias,
            ideology=payload.ideology,
            versions=versions,
        )
    answer = _step_answer(request, membership, case_id)
    response["ETag"] = etag(answer.version)
    return answer


@_step_post(
    "notes",
    CreatedOut,
    status=201,
    idempotent=True,
    summary="Add an internal note",
    description=(
        "Seen only by the organisation, never by the reporter. Accepts an `Idempotency-Key`."
    ),
)
@idempotent("case.note")
def case_note(
    request,
    place_slug: str,
    case_id: CaseId,
    payload: NoteIn,
    idempotency_key_header: str | None = idempotency_key_header(),
):
    membership = _membership(request)
    note = services.case_add_note(
        case=_case(request, membership, case_id),
        membership=membership,
        body=_checked_text(payload.body, max_length=services.NOTE_MAX_LENGTH),
    )
    return Status(201, CreatedOut(id=note.pk, case_id=note.case_id, at=note.created_at))


@_step_post(
    "messages",
    CreatedOut,
    status=201,
    idempotent=True,
    summary="Write to the reporter",
    description=(
        "The reporter reads it on the follow-up page; if they asked for e-mail updates, Locus "
        "tells them there is a message (without it). Not for content-only cases "
        "(`not_allowed`). Accepts an `Idempotency-Key`."
    ),
)
@idempotent("case.message")
def case_message(
    request,
    place_slug: str,
    case_id: CaseId,
    payload: MessageIn,
    idempotency_key_header: str | None = idempotency_key_header(),
):
    membership = _membership(request)
    message = services.case_message_send(
        case=_case(request, membership, case_id),
        membership=membership,
        body=_checked_text(payload.body, max_length=services.MESSAGE_MAX_LENGTH),
        base_url=request.build_absolute_uri("/").rstrip("/"),
    )
    return Status(201, CreatedOut(id=message.pk, case_id=message.case_id, at=message.at))


@_step_post(
    "hand-on/{organisation_id}",
    idempotent=True,
    summary="Hand a case's report on to another organisation",
    description=(
        "Opens a case at the organisation (listed in the place) only as far as the reporter's "
        "consent allows; otherwise 422 `consent_refused` says why and nothing is sent. The "
        "case becomes `handed_on`. Accepts an `Idempotency-Key`."
    ),
)
@idempotent("case.hand_on")
def case_hand_on(
    request,
    place_slug: str,
    case_id: CaseId,
    organisation_id: Annotated[int, Path(..., ge=1, le=DB_ID_MAX)],
    idempotency_key_header: str | None = idempotency_key_header(),
):
    place = _place(request)
    membership = _membership(request)
    case = _case(request, membership, case_id)
    organisation = access_organisation(place=place, organisation_id=organisation_id)
    if organisation is None:
        raise ValidationFailed(
            _("This organisation does not work in this place."),
            fields={"organisation_id": [_("Choose an organisation listed in this place.")]},
        )
    with _field_renamed("organisation", "organisation_id"):
        services.case_hand_on(
            case=case,
            membership=membership,
            organisation=organisation,
            base_url=request.build_absolute_uri("/").rstrip("/"),
        )
    return _step_answer(request, membership, case_id)


@_step_post(
    "merge/{into_id}",
    summary="Merge a case into another as its duplicate",
    description=(
        "Both open cases of your organisation. The case is marked a duplicate, leaves the "
        "list and closes with the other one; undo with split."
    ),
)
def case_merge(
    request,
    place_slug: str,
    case_id: CaseId,
    into_id: Annotated[int, Path(..., ge=1, le=DB_ID_MAX)],
):
    place = _place(request)
    membership = _membership(request)
    case = _case(request, membership, case_id)
    into = selectors.access_own_case(place, membership, into_id)
    if into is None:
        raise Http404
    with _field_renamed("into", "into_id"):
        services.case_merge(case=case, membership=membership, into=into)
    return _step_answer(request, membership, case_id)


@_step_post(
    "split",
    summary="Split a merged case off again",
    description="Undoes a merge and restores the verification.",
)
def case_split(request, place_slug: str, case_id: CaseId):
    return _step(request, case_id, services.case_split)
