"""The public reporting API: the reporter-visible vocabulary, sending a report, and following
it up with its reference and follow-up code. No authentication; the place is the URL's.

The rules are the web journey's (`forms.py`), checked here on a JSON body, and the work is done
by the same services. No files when sending a report through the API for now, so the account
is always required; files can be added afterwards (`…/follow-up/additions`, multipart).
"""

import re
import secrets
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Header, Query, Router, Schema, Status, UploadedFile
from pydantic import AfterValidator, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from locus.api.auth import rate_limited_operation
from locus.api.idempotency import IDEMPOTENCY_ERRORS, idempotency_key, idempotent, request_hash
from locus.api.schemas import BAD_BODY_ERRORS, DB_ID_MAX, BodySchema, ErrorOut
from locus.cases.choices import CaseOutcome, CaseStatus, MessageDirection
from locus.core.errors import ApplicationError, NotFound, RateLimited, ValidationFailed
from locus.core.idempotency import InlineClaim
from locus.core.ratelimit import try_again_in

from . import intake, references, selectors, services
from .choices import ReporterRole, ReportStatus, SupportWanted
from .forms import ACCOUNT_MAX_LENGTH, PHONE_RE
from .models import Report
from .taxonomy import AXES, CURRENT_VERSION, available_versions, taxonomy

router = Router(tags=["reports"])

SUBMIT_SCOPE = "report.submit"
SUBMIT_RATE = "10/h"  # settings.LOCUS_RATE_LIMITS overrides, as for the web form
FOLLOWUP_SCOPE = "followup.open"  # one budget for every request that tries a follow-up code
FOLLOWUP_RATE = "20/h"

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
Language = Literal[LANGUAGE_CODES]  # type: ignore[valid-type]
StatusCode = Literal[tuple(ReportStatus.values)]  # type: ignore[valid-type]
TaxonomyVersion = Literal[tuple(available_versions())]  # type: ignore[valid-type]
RateLimitErrors = {429: ErrorOut}


# --- values --------------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _clean_text(value, *, multiline):
    """Text that can be stored and encrypted: no control characters (line breaks and tabs
    allowed in multi-line text) and no lone surrogates, which UTF-8 cannot encode."""
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(value):
        raise PydanticCustomError(
            "control_characters", gettext("Control characters are not allowed.")
        )
    if _SURROGATE.search(value):
        raise PydanticCustomError("invalid_unicode", gettext("The text is not valid Unicode."))
    return value


Line = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(lambda v: _clean_text(v, multiline=False)),
]
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(lambda v: _clean_text(v, multiline=True)),
]


def _reporter_codes(axis):
    return [value.code for value in taxonomy().axis(axis, reporter=True)]


def _code(axis, *, max_length=40):
    """A taxonomy code of `axis`. The schema lists today's reporter-visible codes; the view
    checks them against the taxonomy in use, with the web form's messages."""
    return Annotated[
        str,
        Field(
            max_length=max_length,
            json_schema_extra={"enum": _reporter_codes(axis)},
            description=f"A code of the `{axis}` axis (GET …/taxonomy).",
        ),
    ]


def _check_url(value):
    if not value:
        return value
    try:
        URLValidator(schemes=["http", "https"])(value)
    except DjangoValidationError:
        raise PydanticCustomError(
            "url", gettext("Enter a web address that starts with http:// or https://.")
        ) from None
    return value


def _check_email(value):
    if not value:
        return value
    try:
        validate_email(value)
    except DjangoValidationError:
        raise PydanticCustomError("email", gettext("Enter a valid email address.")) from None
    return value


def _check_phone(value):
    if value and not PHONE_RE.match(value):
        raise PydanticCustomError(
            "phone", gettext("Enter a phone number with digits only, like 0123 456789.")
        )
    return value


# --- schemas -------------------------------------------------------------------------------


class ChoiceOut(Schema):
    code: str
    label: str


class TaxonomyValueOut(Schema):
    code: str
    label: str
    description: str | None = None
    parent: str | None = None
    online: bool = Field(False, description="incident_type, setting: it happens online.")
    requires_bias: bool = Field(
        False, description="incident_type: a report of this type needs at least one bias."
    )


class TaxonomyAxisOut(Schema):
    name: str
    label: str
    multiple: bool
    values: list[TaxonomyValueOut]


class TaxonomyOut(Schema):
    version: str
    current_version: str
    versions: list[str] = Field(description="Every published version, oldest first.")
    language: str
    axes: list[TaxonomyAxisOut]
    reporter_role: list[ChoiceOut]
    support_wanted: list[ChoiceOut]


class TaxonomyQuery(Schema):
    lang: Language | None = Field(
        None, description="Language of the labels; default: the request's language."
    )
    version: TaxonomyVersion | None = Field(
        None,
        description="A published version (a record's `taxonomy_version`), to read the codes "
        "of a record written in it; default: the current version.",
    )


class ContactIn(BodySchema):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field("", max_length=200)
    email: Annotated[Line, AfterValidator(_check_email)] = Field("", max_length=254)
    phone: Annotated[Line, AfterValidator(_check_phone)] = Field("", max_length=40)


class ReportIn(BodySchema):
    """The answers of the web form's steps. Codes come from GET …/taxonomy."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "incident_type": "abusive_behaviour",
                    "occurred_on": "2026-03-01",
                    "setting": "public_transport",
                    "bias": ["anti_muslim"],
                    "account": "Two men shouted abuse at me at the bus stop.",
                    "reporter_role": "victim",
                    "support_wanted": ["emotional"],
                    "consent_police_anonymised": True,
                }
            ]
        },
    )

    incident_type: _code("incident_type")
    occurred_on: date | None = Field(None, description="Not in the future. Empty: not known.")
    occurred_approx: bool = False
    ongoing: bool = False
    area_id: int | None = Field(None, ge=1, le=DB_ID_MAX, description="An area of the place.")
    location_text: Text = Field("", max_length=2000)
    setting: _code("setting") | None = Field(
        None,
        description="Required unless the type of incident happens online (then: online).",
    )
    platform: _code("platform") | None = Field(
        None, description="Empty: worked out from content_url where possible."
    )
    content_url: Annotated[Line, AfterValidator(_check_url)] = Field(
        "", max_length=2000, description="The address of online content (http or https)."
    )
    bias: list[_code("bias")] = Field(
        [], max_length=50, description="Required when the type of incident requires_bias."
    )
    account: Text = Field(
        ..., max_length=ACCOUNT_MAX_LENGTH, description="What happened, in the reporter's words."
    )
    reporter_role: Literal[tuple(ReporterRole.values)]  # type: ignore[valid-type]
    support_wanted: list[Literal[tuple(SupportWanted.values)]] = Field(  # type: ignore[valid-type]
        [], max_length=len(SupportWanted.values)
    )
    already_reported: list[_code("already_reported")] = Field([], max_length=20)
    police_reference: Line = Field(
        "", max_length=100, description="Only with `police` in already_reported."
    )
    consent_police_anonymised: bool = False
    consent_police_with_contact: bool = Field(
        False, description="Implies consent_police_anonymised; needs an e-mail or phone."
    )
    consent_support_contact: bool = Field(False, description="Needs an e-mail or phone.")
    contact: ContactIn | None = None
    wants_email_updates: bool = Field(False, description="Needs an e-mail address.")
    language: Language | None = Field(
        None, description="The reporter's language; default: the request's language."
    )


class ReceiptOut(Schema):
    reference: str
    followup_code: str | None = Field(
        ...,
        description=(
            "Shown once: only in the first answer. A replay (same Idempotency-Key) gives null."
        ),
    )
    status: StatusCode
    routing: list[str] = Field(..., description="Who receives the report and why.")
    routing_pending: bool = Field(
        ...,
        description=(
            "True while the report is still being passed on (routing runs moments after the "
            "report is stored): `routing` is then empty; follow the report up to see it."
        ),
    )
    message: str


class FollowUpIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reference": "K7QD-3MXA", "code": "H2ZC-8RTB-W4KQ-N6PE-5YJD"}]
        }
    )

    reference: str = Field(..., min_length=1, max_length=40, examples=["K7QD-3MXA"])
    code: str = Field(..., min_length=1, max_length=60, examples=["H2ZC-8RTB-W4KQ-N6PE-5YJD"])


class ConsentIn(FollowUpIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reference": "K7QD-3MXA",
                    "code": "H2ZC-8RTB-W4KQ-N6PE-5YJD",
                    "police_anonymised": True,
                    "police_with_contact": False,
                    "support_contact": True,
                }
            ]
        }
    )

    police_anonymised: bool
    police_with_contact: bool = Field(..., description="Needs contact details on the report.")
    support_contact: bool


class ConsentOut(Schema):
    police_anonymised: bool
    police_with_contact: bool
    support_contact: bool


GoneErrors = {410: ErrorOut}
CaseStatusCode = Literal[tuple(CaseStatus.values)]  # type: ignore[valid-type]
OutcomeCode = Literal[tuple(CaseOutcome.values)]  # type: ignore[valid-type]
Direction = Literal[tuple(MessageDirection.values)]  # type: ignore[valid-type]


class HandlingOut(Schema):
    """One organisation handling the report, as the reporter sees it."""

    case_id: int
    organisation: str
    status: CaseStatusCode
    status_label: str
    outcome: OutcomeCode | None = Field(..., description="Set once the organisation closed it.")
    outcome_label: str | None
    unread: int = Field(..., description="Its messages not yet shown to the reporter.")


class FollowUpOut(Schema):
    reference: str
    status: StatusCode
    submitted_at: datetime
    erased_at: datetime | None = Field(
        ...,
        description=(
            "Set when the reporter had the report's personal data erased: then nothing else "
            "is given, and the other follow-up operations answer 410."
        ),
    )
    consent: ConsentOut
    routing: list[str]
    organisations: list[HandlingOut] = Field(
        ..., description="Read and write their messages with …/follow-up/threads and …/messages."
    )


# --- helpers -------------------------------------------------------------------------------


def _place_today(place):
    try:
        return timezone.localdate(timezone=ZoneInfo(place.timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.localdate()


def _check_codes(payload, errors):
    """Every code is a reporter-visible value of its axis (the form offers nothing else)."""
    vocabulary = taxonomy()

    def visible(axis, code):
        return vocabulary.has(axis, code) and code in _reporter_codes(axis)

    def unknown(code):
        return _("Unknown choice: %(code)s") % {"code": code}

    if not visible("incident_type", payload.incident_type):
        errors["incident_type"] = [_("Choose what happened.")]
    for axis in ("bias", "already_reported"):
        for code in getattr(payload, axis):
            if not visible(axis, code):
                errors.setdefault(axis, []).append(unknown(code))
    for axis in ("setting", "platform"):
        code = getattr(payload, axis)
        if code and not visible(axis, code):
            errors[axis] = [unknown(code)]


def _contact(payload):
    contact = payload.contact
    if contact is None:
        return None
    given = {key: getattr(contact, key) for key in ("name", "email", "phone")}
    return {key: value for key, value in given.items() if value} or None


def _report_data(request, payload):
    """The data `services.report_submit` expects, after the web form's rules; raises
    ValidationFailed naming every field in error."""
    place = request.place
    errors = {}
    _check_codes(payload, errors)
    vocabulary = taxonomy()
    kind = (
        vocabulary.get("incident_type", payload.incident_type)
        if "incident_type" not in errors
        else None
    )
    setting = payload.setting or ""
    if kind is not None and "setting" not in errors:
        if kind.online:
            setting = setting or "online"
            if not vocabulary.get("setting", setting).online:
                errors["setting"] = [
                    _("This type of incident happens online: choose an online setting or none.")
                ]
        elif not setting:
            errors["setting"] = [_("Choose what kind of place it was.")]
    if kind is not None and kind.requires_bias and not payload.bias:
        errors["bias"] = [_("Choose at least one answer, or “Not sure”.")]
    if payload.occurred_on and payload.occurred_on > _place_today(place):
        errors["occurred_on"] = [_("The date cannot be in the future.")]
    area = None
    if payload.area_id is not None:
        area = intake.area_of_place(place=place, area_id=payload.area_id)
        if area is None:
            errors["area_id"] = [_("Choose an area of this place.")]
    if not payload.account:
        errors["account"] = [_("Tell us what happened in your own words.")]
    if payload.police_reference and "police" not in payload.already_reported:
        errors["police_reference"] = [
            _("Tick “Already reported to the police”, or leave the reference empty.")
        ]
    contact = _contact(payload)
    reachable = contact and (contact.get("email") or contact.get("phone"))
    if payload.consent_police_with_contact and not reachable:
        errors["contact"] = [
            _(
                "To send your contact details to the police, give an e-mail address or a "
                "phone number."
            )
        ]
    elif payload.consent_support_contact and not reachable:
        errors["contact"] = [
            _(
                "For a support organisation to contact you, give an e-mail address or a "
                "phone number."
            )
        ]
    if payload.wants_email_updates and not (contact and contact.get("email")):
        errors["wants_email_updates"] = [_("Give an e-mail address to get news by e-mail.")]
    if errors:
        raise ValidationFailed(_("Some answers are not valid."), fields=errors)
    platform = payload.platform or ""
    if not platform and payload.content_url:
        platform = vocabulary.platform_for_url(payload.content_url) or ""
    return {
        "incident_type": payload.incident_type,
        "occurred_on": payload.occurred_on,
        "occurred_approx": payload.occurred_approx,
        "ongoing": payload.ongoing,
        "area": area,
        "location_text": payload.location_text,
        "setting": setting,
        "platform": platform,
        "content_url": payload.content_url,
        "bias": list(payload.bias),
        "account": payload.account,
        "reporter_role": payload.reporter_role,
        "support_wanted": list(payload.support_wanted),
        "already_reported": list(payload.already_reported),
        "police_reference": payload.police_reference,
        "consent_police_anonymised": payload.consent_police_anonymised,
        "consent_police_with_contact": payload.consent_police_with_contact,
        "consent_support_contact": payload.consent_support_contact,
        "contact": contact,
        "wants_email_updates": payload.wants_email_updates,
    }


# The service names the web form's fields; the API's have these names.
_SERVICE_FIELDS = {"area": "area_id", "contact_email": "contact"}


def _submit(request, payload, data, idempotency=None):
    """The submission, with the request's rate count (when the limiter deferred it) written in
    its transaction: marked written only when the report was committed, so a refused, replayed
    or failed submission is counted on its own afterwards (`rate_limited`)."""
    count = getattr(request, "deferred_rate_count", None)
    try:
        submitted = services.report_submit(
            place=request.place,
            data=data,
            language=payload.language or get_language(),
            idempotency=idempotency,
            also_write=count.write_in_transaction if count is not None else None,
        )
    except ValidationFailed as exc:
        fields = {_SERVICE_FIELDS.get(name, name): msgs for name, msgs in exc.fields.items()}
        raise ValidationFailed(exc.message, code=exc.code, fields=fields) from None
    if count is not None and submitted.replay is None:
        count.written = True
    return submitted


def _routing(report, language):
    from locus.cases.routing import explain
    from locus.cases.selectors import routing_decisions_for

    return explain(list(routing_decisions_for(report)), language)


def _receipt(report, code, *, routed=None):
    """The answer to a submission. A new report is usually not routed yet (routing runs in the
    task worker): then its routing is left out rather than read back empty."""
    if routed is None:
        routed = selectors.report_is_routed(report)
    routing = _routing(report, get_language()) if routed else []
    if code is None:
        message = _(
            "This report was already received. Its follow-up code was shown only once, in the "
            "first answer to this request."
        )
    else:
        message = _(
            "Your report has been received. Keep the reference and the follow-up code: the "
            "code is shown only this once and cannot be shown again."
        )
    return {
        "reference": report.reference,
        "followup_code": code,
        "status": report.status,
        "routing": routing,
        "routing_pending": not routed,
        "message": message,
    }


def _consent(report):
    return {
        "police_anonymised": report.consent_police_anonymised,
        "police_with_contact": report.consent_police_with_contact,
        "support_contact": report.consent_support_contact,
    }


def _followed_report(request, payload):
    """The report, or one 404 whatever was wrong (reference, code or place)."""
    attempt = references.followup_attempt(request, place=request.place, reference=payload.reference)
    if not attempt.allowed:
        raise RateLimited(
            _("Too many attempts on this reference.") + " " + try_again_in(attempt.retry_after),
            retry_after=attempt.retry_after,
        )
    report = selectors.report_for_followup(
        place=request.place, reference=payload.reference, code=payload.code
    )
    if report is None:
        raise NotFound(
            _(
                "We found no report with this reference and code. Check both and try again: "
                "the code is the long one you were given when you sent the report."
            )
        )
    return report


def _followup_post(path, out, *, summary, description, status=200, gone=True, idempotent=False):
    """Declare a follow-up operation: `POST …/reports/follow-up<path>`, no authentication, the
    follow-up rate limit, and the answers every one of them may give (404 for a wrong
    reference or code, 410 once erased, 422 for a bad body, 429; 409 with an idempotency key).
    """
    responses = {status: out, 404: ErrorOut}
    if gone:
        responses |= GoneErrors
    responses |= BAD_BODY_ERRORS
    if idempotent:
        responses |= IDEMPOTENCY_ERRORS
    responses |= RateLimitErrors
    route = router.post(
        f"/places/{{slug:place_slug}}/reports/follow-up{path}",
        response=responses,
        auth=None,
        summary=summary,
        description=description,
    )

    def decorate(operation):
        return route(rate_limited_operation(FOLLOWUP_SCOPE, FOLLOWUP_RATE)(operation))

    return decorate


# --- endpoints -----------------------------------------------------------------------------


@router.get(
    "/places/{slug:place_slug}/taxonomy",
    response={200: TaxonomyOut, 404: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="The reporting vocabulary",
    description=(
        "The values a reporter can choose, axis by axis, with labels and descriptions in "
        "`lang` (or the request's language), their parent value and the taxonomy's version. "
        "Staff-only axes and values are left out. `reporter_role` and `support_wanted` are the "
        "form's own choices. New reports use `current_version`; `version` gives an older "
        "published version, whose codes keep their meaning (docs/taxonomy.md, Versions)."
    ),
)
def report_taxonomy(request, place_slug: str, query: Query[TaxonomyQuery]):
    language = query.lang or get_language()
    vocabulary = taxonomy(query.version)
    axes = []
    for name in AXES:
        values = vocabulary.axis(name, reporter=True)
        if not values:
            continue
        axes.append(
            {
                "name": name,
                "label": vocabulary.axis_label(name, language),
                "multiple": vocabulary.is_multiple(name),
                "values": [
                    {
                        "code": value.code,
                        "label": value.label(language),
                        "description": value.describe(language),
                        "parent": value.parent,
                        "online": value.online,
                        "requires_bias": value.requires_bias,
                    }
                    for value in values
                ],
            }
        )
    with translation.override(language):
        roles = [{"code": c, "label": str(label)} for c, label in ReporterRole.choices]
        support = [{"code": c, "label": str(label)} for c, label in SupportWanted.choices]
    return {
        "version": vocabulary.version,
        "current_version": CURRENT_VERSION,
        "versions": available_versions(),
        "language": language,
        "axes": axes,
        "reporter_role": roles,
        "support_wanted": support,
    }


@router.post(
    "/places/{slug:place_slug}/reports",
    response={
        201: ReceiptOut,
        404: ErrorOut,
        **BAD_BODY_ERRORS,
        **IDEMPOTENCY_ERRORS,
        **RateLimitErrors,
    },
    auth=None,
    summary="Send a report",
    description=(
        "Sends a report, with the same answers and rules as the web form; no files through the "
        "API, so `account` is required. A 422 names every field in error.\n\n"
        "The answer carries the report's `reference` and its `followup_code`. **The follow-up "
        "code is returned once**, in this first answer, and is never stored: keep it, with "
        "the reference it opens the report's follow-up.\n\n"
        "Send an `Idempotency-Key` header (any 1–255 printable ASCII characters, e.g. a UUID) "
        "to retry safely: the same key with the same body within 24 hours sends nothing new "
        "and answers 201 with the first report's `reference` and `followup_code: null` (the "
        "code was shown once, in the first answer); the same key with another body is a 422; "
        "while the first request is still being processed, a 409 with `Retry-After`.\n\n"
        "Rate limited per client (429 with `Retry-After`)."
    ),
)
# First: a refused request claims nothing. The count goes into the submission's transaction.
@rate_limited_operation(SUBMIT_SCOPE, SUBMIT_RATE, defer_count=True)
def report_send(
    request,
    place_slug: str,
    payload: ReportIn,
    idempotency_key_header: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="Optional: makes a retry safe (see above). 1–255 printable ASCII characters.",
    ),
):
    # The key is recorded in the submission's own transaction (`InlineClaim`), completed with
    # the reference only: a replay answers without the one-time follow-up code.
    key = idempotency_key(request)
    data = _report_data(request, payload)
    idempotency = None
    if key is not None:
        claim = InlineClaim(
            place=request.place, scope=SUBMIT_SCOPE, key=key, request_hash=request_hash(request)
        )
        idempotency = services.IdempotentResponse(
            claim=claim, respond=lambda report: (201, {"reference": report.reference})
        )
    submitted = _submit(request, payload, data, idempotency)
    if submitted.replay is not None:
        return _replayed_receipt(request, submitted.replay)
    return Status(201, _receipt(submitted.report, submitted.followup_code, routed=submitted.routed))


def _replayed_receipt(request, replay):
    reference = (replay.body or {}).get("reference")
    report = Report.objects.filter(place=request.place, reference=reference).first()
    if report is None:  # deleted since
        raise Http404
    return Status(replay.status, _receipt(report, None))


@_followup_post(
    "",
    FollowUpOut,
    gone=False,
    summary="Follow up a report",
    description=(
        "The report's status, the reporter's consent, who received it and how far each "
        "organisation handling it is (with its count of unread messages), for its reference "
        "and follow-up code. A wrong reference, a wrong code and another place's report all "
        "give the same 404. Rate limited per client, together with every other follow-up "
        "operation (429)."
    ),
)
def report_follow_up(request, place_slug: str, payload: FollowUpIn):
    report = _followed_report(request, payload)
    services.report_record_followup(report=report, channel="api")
    if selectors.report_is_erased(report):
        return {
            "reference": report.reference,
            "status": report.status,
            "submitted_at": report.submitted_at,
            "erased_at": report.anonymised_at,
            "consent": _consent(report),
            "routing": [],
            "organisations": [],
        }
    return {
        "reference": report.reference,
        "status": report.status,
        "submitted_at": report.submitted_at,
        "erased_at": None,
        "consent": _consent(report),
        "routing": _routing(report, get_language()),
        "organisations": [
            {
                "case_id": thread.case.pk,
                "organisation": thread.organisation.name,
                "status": thread.case.status,
                "status_label": thread.status_label,
                "outcome": thread.case.outcome or None,
                "outcome_label": thread.outcome_label or None,
                "unread": len(thread.unread),
            }
            for thread in selectors.report_threads(report)
        ],
    }


@_followup_post(
    "/consent",
    ConsentOut,
    summary="Change a report's consent",
    description=(
        "Sets who may receive the report: all three flags, as on the follow-up page. Sending "
        "it to the police with contact details needs contact details on the report (422) and "
        "implies sharing it anonymised. Every change is kept. 404 and rate limit as for the "
        "follow-up."
    ),
)
def report_consent_change(request, place_slug: str, payload: ConsentIn):
    report = _followed_report(request, payload)
    report = services.report_change_consent(
        report=report,
        police_anonymised=payload.police_anonymised,
        police_with_contact=payload.police_with_contact,
        support_contact=payload.support_contact,
    )
    return _consent(report)


# --- follow-up: messages, additions, a copy, erasure (docs/reporting.md) --------------------
#
# Every request carries the reference and the follow-up code in its body (never in the
# address, which ends up in logs), and shares the follow-up rate limit. A report whose
# personal data was erased answers 410 (`report_erased`) to everything but the follow-up.


class CodedOut(Schema):
    code: str
    label: str


class ThreadMessageOut(Schema):
    id: int
    direction: Direction = Field(..., description="to_reporter: from the organisation.")
    at: datetime
    read_at: datetime | None = Field(
        ..., description="When the reporter was first shown it; null: new in this answer."
    )
    addition: bool = Field(..., description="The reporter's addition to the report.")
    body: str


class ThreadOut(Schema):
    case_id: int = Field(..., description="Write to this organisation with this id.")
    organisation: str
    status: CaseStatusCode
    status_label: str
    outcome: OutcomeCode | None
    outcome_label: str | None
    reads_report: bool = Field(
        ...,
        description=(
            "Whether the organisation was sent the report itself: then it takes messages and "
            "receives the text of additions. One that received only the public online content "
            "does neither."
        ),
    )
    messages: list[ThreadMessageOut]


class ThreadsOut(Schema):
    threads: list[ThreadOut]


class FollowUpMessageIn(FollowUpIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reference": "K7QD-3MXA",
                    "code": "H2ZC-8RTB-W4KQ-N6PE-5YJD",
                    "case_id": 42,
                    "text": "Monday morning is fine, thank you.",
                }
            ]
        }
    )

    case_id: int = Field(..., ge=1, le=DB_ID_MAX, description="A `case_id` of …/threads.")
    text: Text = Field(..., max_length=services.MESSAGE_MAX_LENGTH, description="The message.")


class FollowUpMessageOut(ThreadMessageOut):
    case_id: int
    organisation: str


class AdditionIn(FollowUpIn):
    text: Text = Field("", max_length=services.ADDITION_MAX_LENGTH)


class AdditionEvidenceOut(Schema):
    name: str
    kind: str
    mime: str
    size: int
    sha256: str = Field(..., description="SHA-256 of the file as stored (chain of custody).")
    received_at: datetime


class AdditionOut(Schema):
    evidence: list[AdditionEvidenceOut] = Field(
        ..., description="The files attached by this addition."
    )
    sent_to: list[str] = Field(..., description="The organisations the text was sent to.")
    message: str


class ContactOut(Schema):
    name: str = ""
    email: str = ""
    phone: str = ""


class CopyReportOut(Schema):
    incident_type: CodedOut | None
    occurred_on: date | None
    occurred_approx: bool
    ongoing: bool
    area: str | None
    location_text: str
    setting: CodedOut | None
    platform: CodedOut | None
    content_url: str
    bias: list[CodedOut]
    account: str
    reporter_role: CodedOut | None
    support_wanted: list[CodedOut]
    already_reported: list[CodedOut]
    police_reference: str
    contact: ContactOut | None
    wants_email_updates: bool


class ConsentChangeOut(ConsentOut):
    at: datetime


class CopyMessageOut(Schema):
    direction: Direction
    at: datetime
    read_at: datetime | None
    addition: bool
    body: str


class CopyOrganisationOut(Schema):
    organisation: str
    status: CodedOut
    outcome: CodedOut | None
    received_at: datetime
    closed_at: datetime | None
    merged: bool = Field(..., description="Handled together with another report's case.")
    messages: list[CopyMessageOut]


class PlaceRefOut(Schema):
    slug: str
    name: str


class ReportCopyOut(Schema):
    generated_at: datetime
    place: PlaceRefOut
    reference: str
    status: CodedOut
    submitted_at: datetime
    closed_at: datetime | None
    erased_at: datetime | None
    language: str
    taxonomy_version: str
    report: CopyReportOut
    consent: ConsentOut
    consent_history: list[ConsentChangeOut]
    routing: list[str] = Field(..., description="Who received the report and why, in words.")
    organisations: list[CopyOrganisationOut]
    evidence: list[AdditionEvidenceOut]


class ErasureIn(FollowUpIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"reference": "K7QD-3MXA", "code": "H2ZC-8RTB-W4KQ-N6PE-5YJD", "confirm": True}
            ]
        }
    )

    confirm: bool = Field(
        ...,
        description="Must be true: the erasure cannot be undone (see the description above).",
    )


class ErasureOut(Schema):
    reference: str
    erased_at: datetime
    organisations_told: int = Field(..., description="Handling organisations told (no data).")
    message: str


def _live_report(request, payload):
    """The report, unless its personal data was erased (410)."""
    report = _followed_report(request, payload)
    if selectors.report_is_erased(report):
        raise services.ReportErased(
            _("The personal data of this report has been erased. Nothing more can be done with it.")
        )
    return report


def _base_url(request):
    """The address this request came in on: links in e-mails to organisations start here."""
    return request.build_absolute_uri("/").rstrip("/")


def _message_out(message, *, additions=frozenset(), read_at=None):
    return {
        "id": message.pk,
        "direction": message.direction,
        "at": message.at,
        "read_at": read_at if read_at is not None else message.read_at,
        "addition": message.pk in additions,
        "body": message.body,
        "case_id": message.case_id,
        "organisation": message.case.organisation.name,
    }


def _evidence_out(evidence):
    return {
        "name": evidence.original_name,
        "kind": evidence.kind,
        "mime": evidence.mime,
        "size": evidence.size,
        "sha256": evidence.sha256,
        "received_at": evidence.received_at,
    }


@_followup_post(
    "/threads",
    ThreadsOut,
    summary="The messages with the organisations handling a report",
    description=(
        "One thread per organisation handling the report, with its status, its outcome once "
        "closed, and the messages both ways, oldest first. The organisations' messages in this "
        "answer are then marked read (`read_at` null marks them new here). 404, 410 and rate "
        "limit as for the follow-up."
    ),
)
def report_threads(request, place_slug: str, payload: FollowUpIn):
    report = _live_report(request, payload)
    threads = selectors.report_threads(report)
    answer = {
        "threads": [
            {
                "case_id": thread.case.pk,
                "organisation": thread.organisation.name,
                "status": thread.case.status,
                "status_label": thread.status_label,
                "outcome": thread.case.outcome or None,
                "outcome_label": thread.outcome_label or None,
                "reads_report": thread.reads_report,
                "messages": [
                    _message_out(message, additions=thread.additions) for message in thread.messages
                ],
            }
            for thread in threads
        ]
    }
    services.report_messages_mark_read(
        report=report, messages=[m for thread in threads for m in thread.messages]
    )
    services.report_record_followup(report=report, channel="api", view="threads")
    return answer


def _replayed_message(request, replay):
    message = selectors.followup_message(request.place, (replay.body or {}).get("id"))
    if message is None:  # erased since
        raise Http404
    return Status(replay.status, _message_out(message))


@_followup_post(
    "/messages",
    FollowUpMessageOut,
    status=201,
    idempotent=True,
    summary="Write to an organisation handling a report",
    description=(
        "Sends a message to one organisation handling the report (`case_id` from …/threads; "
        "another id, or one whose `reads_report` is false, is a 422 naming `case_id`). The "
        "organisation gets an e-mail with a link "
        "only, never the message. Send an `Idempotency-Key` header to retry safely (as for "
        "sending a report). 404, 410 and rate limit as for the follow-up."
    ),
)
@idempotent(
    "followup.message",
    stored=lambda body: {"id": body["id"]},
    replayed=lambda request, replay: _replayed_message(request, replay),
)
def report_message_send(
    request,
    place_slug: str,
    payload: FollowUpMessageIn,
    idempotency_key_header: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="Optional: makes a retry safe. 1–255 printable ASCII characters.",
    ),
):
    report = _live_report(request, payload)
    case = selectors.report_thread_case(report, payload.case_id)
    if case is None:
        raise ValidationFailed(
            _("Choose one of the organisations handling your report."),
            fields={"case_id": [_("Unknown organisation for this report.")]},
        )
    try:
        message = services.report_message_send(
            report=report, case=case, body=payload.text, base_url=_base_url(request)
        )
    except ValidationFailed as exc:  # the service names the web form's field
        names = {"body": "text", "case": "case_id"}
        fields = {names.get(name, name): msgs for name, msgs in exc.fields.items()}
        raise ValidationFailed(exc.message, code=exc.code, fields=fields) from None
    return Status(201, _message_out(message))


@_followup_post(
    "/additions",
    AdditionOut,
    status=201,
    summary="Add information or files to a report",
    description=(
        "A `multipart/form-data` request: `reference`, `code`, an optional `text` and any "
        "number of `files` (at least one of the two). Files are checked as on the web form "
        "(type by content, images cleaned of hidden data, at most 10 files and the size caps "
        "per report, counting the files the report already has); a refused file is a 422 "
        "naming `files`, and then nothing is added. The text is sent, as a message from the "
        "reporter, to the organisations that received the report itself. 404, 410 and rate "
        "limit as for the follow-up."
    ),
)
def report_addition_add(
    request,
    place_slug: str,
    payload: Form[AdditionIn],
    files: File[list[UploadedFile]] = None,
):
    report = _live_report(request, payload)
    token = secrets.token_hex(16)
    staged, refusals = [], []
    for uploaded in files or []:
        try:
            staged.append(
                services.report_evidence_stage(report=report, uploaded=uploaded, staged_token=token)
            )
        except ValidationFailed as exc:
            refusals.append(
                _("%(name)s: %(reason)s") % {"name": uploaded.name or "", "reason": exc.message}
            )
    try:
        if refusals:
            raise ValidationFailed(_("Some files were refused."), fields={"files": refusals})
        addition = services.report_add_information(
            report=report,
            text=payload.text,
            staged_token=token,
            staged_ids=[evidence.pk for evidence in staged],
            base_url=_base_url(request),
        )
    except ApplicationError:
        for evidence in staged:  # nothing is added: the staged files go
            services.evidence_unstage(
                place=request.place, staged_token=token, evidence_id=evidence.pk
            )
        raise
    sent_to = [message.case.organisation.name for message in addition.messages]
    return Status(
        201,
        {
            "evidence": [_evidence_out(evidence) for evidence in addition.evidence],
            "sent_to": sent_to,
            "message": _("What you added has been saved with your report."),
        },
    )


@_followup_post(
    "/copy",
    ReportCopyOut,
    summary="A copy of everything held about a report",
    description=(
        "Everything Locus holds about the report, for its reporter: what they sent, their "
        "consent and its history, where it went and why (in words, in the request's "
        "language), each organisation's status and outcome, the messages, and the files with "
        "their SHA-256 (not the files themselves). The same data as the follow-up page's "
        "download. 404, 410 and rate limit as for the follow-up."
    ),
)
def report_copy(request, place_slug: str, payload: FollowUpIn):
    report = _live_report(request, payload)
    copy = selectors.report_copy(report, language=get_language())
    services.report_record_copy(report=report, channel="api", file_format="json")
    return copy


@_followup_post(
    "/erasure",
    ErasureOut,
    summary="Erase a report's personal data",
    description=(
        "Erases now, for good, the reporter's personal data: what they wrote, their contact "
        "details and police reference, the messages both ways and the files. What statistics "
        "count stays (incident type, bias, area, month). Consent to share is withdrawn. The "
        "organisations handling the report are told (a `report.erased` webhook event and an "
        "e-mail, without personal data); their cases are not closed. `confirm` must be true "
        "(422 otherwise). Afterwards the follow-up answers with `erased_at` and everything "
        "else with 410. 404 and rate limit as for the follow-up."
    ),
)
def report_erasure(request, place_slug: str, payload: ErasureIn):
    report = _live_report(request, payload)
    if not payload.confirm:
        raise ValidationFailed(
            _("Confirm that you want the erasure: it cannot be undone."),
            fields={"confirm": [_("Must be true.")]},
        )
    erasure = services.report_erase(report=report, base_url=_base_url(request))
    return {
        "reference": erasure.report.reference,
        "erased_at": erasure.report.anonymised_at,
        "organisations_told": len({case.organisation_id for case in erasure.cases}),
        "message": _("Your personal data has been erased."),
    }
