"""The library API for contributors and editors (issue 5 §6, §8): submit a record, list and
submit your organisation's drafts, the review queue and editors' decisions — and "more like
this" for any published record (public). Same services and policies as the pages."""

from datetime import datetime
from functools import wraps
from typing import Annotated, Literal

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status
from pydantic import ConfigDict

from locus.api.auth import STAFF_AUTH, token_membership
from locus.api.idempotency import IDEMPOTENCY_ERRORS, idempotency_key_header, idempotent
from locus.api.schemas import BAD_BODY_ERRORS, DB_ID_MAX, ErrorOut
from locus.core.errors import NotFound, PermissionDenied, ValidationFailed
from locus.core.tenancy import place_scope

from . import moderation, policies, review_selectors, selectors
from .choices import (
    EvidenceLevel,
    Licence,
    RecordStatus,
    ResourceType,
    TrainingFormat,
    TrainingLevel,
)
from .models import Record, ReviewAction

router = Router(tags=["library"])

RecordId = Path(..., ge=1, le=DB_ID_MAX)
Code = Annotated[str, Field(min_length=1, max_length=40)]
Name = Annotated[str, Field(max_length=200)]


# --- schemas -------------------------------------------------------------------------------


class SubmissionIn(Schema):
    """A record contributed by a member organisation. Codes as in GET /library/vocabulary."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "toolkit",
                    "title": "Toolkit for youth workers",
                    "summary": "Exercises for talking about hate online.",
                    "authors": ["A. Author"],
                    "year": 2025,
                    "languages": ["en"],
                    "topics": ["online_harms"],
                    "interventions": ["practitioner_training"],
                    "licence": "cc_by_4_0",
                    "url": "https://example.org/toolkit.pdf",
                    "submit": True,
                }
            ]
        },
    )

    organisation: int | None = Field(
        None,
        ge=1,
        le=DB_ID_MAX,
        description="Your organisation (required when you belong to several; a token acts for "
        "its own membership's organisation).",
    )
    type: Literal[tuple(ResourceType.values)]  # type: ignore[valid-type]
    title: str = Field(..., min_length=1, max_length=500)
    summary: str = Field("", max_length=10_000)
    authors: list[Name] = Field([], max_length=30)
    publisher: str = Field("", max_length=300)
    year: int | None = Field(None, ge=1900, le=2100)
    is_ongoing: bool = False
    languages: list[Annotated[str, Field(min_length=2, max_length=3)]] = Field(
        ..., min_length=1, max_length=30, description="ISO 639-1 codes, the summary's first."
    )
    countries: list[Code] = Field([], max_length=30)
    regions: list[Code] = Field([], max_length=30)
    localities: list[Name] = Field([], max_length=30)
    coverage: str = Field("", max_length=300)
    topics: list[Code] = Field([], max_length=30)
    interventions: list[Code] = Field([], max_length=30)
    target_groups: list[Code] = Field([], max_length=30)
    outcomes: list[Code] = Field([], max_length=30)
    methods: list[Code] = Field([], max_length=30)
    evidence_level: Literal[("", *EvidenceLevel.values)] = ""  # type: ignore[valid-type]
    licence: Literal[tuple(Licence.values)] = Licence.UNKNOWN  # type: ignore[valid-type]
    url: str = Field("", max_length=2000)
    training_duration: str = Field("", max_length=100)
    training_format: Literal[("", *TrainingFormat.values)] = ""  # type: ignore[valid-type]
    training_level: Literal[("", *TrainingLevel.values)] = ""  # type: ignore[valid-type]
    submit: bool = Field(False, description="Send it to the editors at once (else a draft).")


class SubmissionCreatedOut(Schema):
    id: int
    status: str
    page: str


class ReviewStepOut(Schema):
    action: str
    comment: str
    created_at: datetime


class SubmissionOut(Schema):
    id: int
    title: str
    status: str
    organisation_id: int | None
    page: str
    updated_at: datetime
    last_checked_at: datetime | None
    latest_review: ReviewStepOut | None


class DecisionIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"decision": "changes_requested", "comment": "Please add the year of publication."}
            ]
        },
    )

    decision: Literal[ReviewAction.APPROVED, ReviewAction.CHANGES_REQUESTED, ReviewAction.REJECTED]
    comment: str = Field(
        "", max_length=moderation.COMMENT_MAX, description="Required unless approving."
    )


class ReviewDecisionOut(Schema):
    id: int
    status: str
    action: str
    notified: bool


class QueueItemOut(Schema):
    id: int
    title: str
    type: str
    organisation: str | None
    submitted_at: datetime | None
    page: str


class SimilarRecordOut(Schema):
    id: int
    title: str
    year: int | None
    languages: list[str]
    page: str


class SimilarOut(Schema):
    by_meaning: bool = Field(
        ..., description="Nearest by multilingual embedding; false: sharing the most facets."
    )
    results: list[SimilarRecordOut]


# --- helpers -------------------------------------------------------------------------------


def _page(record):
    return reverse("library:record", kwargs={"record_id": record.pk})


def _acting_organisation(request, wanted):
    """The organisation the caller contributes for: the token's, or one of the person's."""
    token = getattr(request, "api_token", None)
    if token is not None:
        organisation = token.membership.organisation
        if wanted is not None and wanted != organisation.pk:
            raise ValidationFailed(
                _("Some fields are not valid."),
                fields={"organisation": [_("A token contributes for its own organisation.")]},
            )
        return organisation
    organisations = list(review_selectors.user_organisations(request.user))
    if not organisations:
        raise PermissionDenied(_("Only members of an organisation contribute to the library."))
    if wanted is None:
        if len(organisations) == 1:
            return organisations[0]
        raise ValidationFailed(
            _("Some fields are not valid."),
            fields={"organisation": [_("Choose one of your organisations.")]},
        )
    for organisation in organisations:
        if organisation.pk == wanted:
            return organisation
    raise ValidationFailed(
        _("Some fields are not valid."),
        fields={"organisation": [_("Choose one of your organisations.")]},
    )


def _owner_ids(request):
    ids = review_selectors.user_organisation_ids(request.user, membership=token_membership(request))
    if not ids:
        raise PermissionDenied(_("Only members of an organisation contribute to the library."))
    return ids


def _editor(request):
    if not selectors.library_editor(request.user, membership=token_membership(request)):
        raise PermissionDenied(_("Only library editors review records."))


def _submission_out(row):
    record = row.record
    latest = row.latest
    return {
        "id": record.pk,
        "title": record.title,
        "status": record.status,
        "organisation_id": record.organisation_id,
        "page": _page(record),
        "updated_at": record.updated_at,
        "last_checked_at": record.last_checked_at,
        "latest_review": (
            {"action": latest.action, "comment": latest.comment, "created_at": latest.created_at}
            if latest
            else None
        ),
    }


# --- contributors --------------------------------------------------------------------------


def _in_contributor_place(operation):
    """Idempotency keys are kept per place; the library is network-wide, so a submission's key
    is kept in a place where the contributing organisation is listed."""

    @wraps(operation)
    def wrapper(request, *args, **kwargs):
        if request.headers.get("Idempotency-Key") is None:
            return operation(request, *args, **kwargs)
        organisation = _acting_organisation(request, kwargs["payload"].organisation)
        place = moderation.listing_place(organisation.pk)
        if place is None:
            raise ValidationFailed(
                _("Some fields are not valid."),
                fields={
                    "Idempotency-Key": [
                        _("Your organisation is not listed in any place: send no key.")
                    ]
                },
            )
        request.place = place
        with place_scope(place):
            return operation(request, *args, **kwargs)

    return wrapper


@router.post(
    "/library/submissions",
    response={
        201: SubmissionCreatedOut,
        401: ErrorOut,
        403: ErrorOut,
        **BAD_BODY_ERRORS,
        **IDEMPOTENCY_ERRORS,
    },
    auth=STAFF_AUTH,
    summary="Contribute a library record",
    description=(
        "A member of any organisation contributes a record for it: a draft seen only by the "
        "organisation, or straight into review with `submit: true`. Errors name the fields. "
        "Send an `Idempotency-Key` to retry safely."
    ),
)
@_in_contributor_place
@idempotent("library.submit")  # the body holds only the id, status and address
def submission_create(
    request,
    payload: SubmissionIn,
    idempotency_key_header: str | None = idempotency_key_header(),
):
    organisation = _acting_organisation(request, payload.organisation)
    data = payload.model_dump(exclude={"organisation", "submit"})
    record = moderation.record_draft_create(
        actor=request.user, organisation=organisation, data=data
    )
    if payload.submit:
        moderation.record_submit(actor=request.user, record=record)
        record.refresh_from_db()
    return Status(201, {"id": record.pk, "status": record.status, "page": _page(record)})


@router.get(
    "/library/submissions",
    response={200: list[SubmissionOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    auth=STAFF_AUTH,
    summary="Your organisation's library records",
    description=(
        "Every record of your organisations — drafts, in review, published, withdrawn — with "
        "the latest review step (an editor's comment when changes were asked)."
    ),
)
def submission_list(
    request,
    status: Literal[tuple(RecordStatus.values)] | None = None,  # type: ignore[valid-type]
):
    rows = review_selectors.organisation_records(_owner_ids(request))
    if status:
        rows = [row for row in rows if row.record.status == status]
    return [_submission_out(row) for row in rows]


@router.post(
    "/library/submissions/{record_id}/submit",
    response={
        200: SubmissionCreatedOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: ErrorOut,
    },
    auth=STAFF_AUTH,
    summary="Send a draft for review",
    description=(
        "Sends one of your organisation's draft records to the library editors for review "
        "(`status` becomes `in_review`). Another organisation's record, or none, is a 404; a "
        "record not in draft is a 422 naming `status`."
    ),
)
def submission_submit(request, record_id: int = RecordId):
    ids = _owner_ids(request)
    record = Record.objects.filter(pk=record_id).first()
    if record is None or not policies.is_owner(record, ids):
        raise NotFound(_("None of your organisation's records has this id."))
    moderation.record_submit(actor=request.user, record=record)
    record.refresh_from_db()
    return {"id": record.pk, "status": record.status, "page": _page(record)}


# --- editors -------------------------------------------------------------------------------


@router.get(
    "/library/review",
    response={200: list[QueueItemOut], 401: ErrorOut, 403: ErrorOut},
    auth=STAFF_AUTH,
    summary="The review queue (library editors)",
    description=(
        "Records waiting for review (`in_review`), the longest-waiting first. For library "
        "editors only (403 for anyone else)."
    ),
)
def review_queue(request):
    _editor(request)
    return [
        {
            "id": row.record.pk,
            "title": row.record.title,
            "type": row.record.type,
            "organisation": row.record.organisation.name if row.record.organisation else None,
            "submitted_at": row.submitted.created_at if row.submitted else None,
            "page": _page(row.record),
        }
        for row in review_selectors.review_queue()
    ]


@router.post(
    "/library/review/{record_id}",
    response={
        200: ReviewDecisionOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        **BAD_BODY_ERRORS,
    },
    auth=STAFF_AUTH,
    summary="Decide on a record in review (library editors)",
    description=(
        "`approved` publishes it; `changes_requested` sends it back to the contributor as a "
        "draft and `rejected` withdraws it — both with a `comment` the contributor reads. "
        "Versioned, audited, and the contributor is e-mailed a link."
    ),
)
def review_decide(request, payload: DecisionIn, record_id: int = RecordId):
    _editor(request)
    record = Record.objects.filter(pk=record_id).first()
    if record is None:
        raise NotFound(_("No record has this id."))
    if record.created_by_id is not None and record.created_by_id == request.user.pk:
        raise PermissionDenied(_("Another editor reviews the records you submitted."))
    step = moderation.record_review(
        actor=request.user,
        record=record,
        decision=payload.decision,
        comment=payload.comment,
        base_url=request.build_absolute_uri("/").rstrip("/"),
    )
    return {
        "id": record.pk,
        "status": step.record.status,
        "action": step.action,
        "notified": step.notified,
    }


# --- more like this ------------------------------------------------------------------------


@router.get(
    "/library/records/{record_id}/similar",
    response={200: SimilarOut, 404: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="More like this",
    description=(
        "Published records most like this one: the nearest by multilingual embedding (any "
        "language) when the server has them, otherwise those sharing the most topics, "
        "interventions, outcomes, target groups and methods (`by_meaning: false`)."
    ),
)
def record_similar(request, record_id: int = RecordId):
    record = selectors.access_record(record_id=record_id, editor=False)
    if record is None:
        raise NotFound(_("No published record has this id."))
    similar = selectors.similar_records(record)
    return {
        "by_meaning": similar.by_meaning,
        "results": [
            {
                "id": other.pk,
                "title": other.title,
                "year": other.year,
                "languages": other.languages,
                "page": _page(other),
            }
            for other in similar.records
        ],
    }
