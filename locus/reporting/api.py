"""The public reporting API: the reporter-visible vocabulary, sending a report, and following
it up with its reference and follow-up code. No authentication; the place is the URL's.

The rules are the web journey's (`forms.py`), checked here on a JSON body, and the work is done
by the same services. No files through the API for now, so the account is always required.
"""

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
from ninja import Field, Header, Query, Router, Schema, Status
from pydantic import AfterValidator, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from locus.api.idempotency import IDEMPOTENCY_ERRORS, idempotent
from locus.api.schemas import BAD_BODY_ERRORS, DB_ID_MAX, ErrorOut
from locus.core.errors import NotFound, ValidationFailed
from locus.core.ratelimit import rate_limited
from locus.places.selectors import area_list

from . import selectors, services
from .choices import ReporterRole, ReportStatus, SupportWanted
from .forms import ACCOUNT_MAX_LENGTH, PHONE_RE
from .models import Report
from .taxonomy import AXES, taxonomy

router = Router(tags=["reports"])

SUBMIT_SCOPE = "report.submit"
SUBMIT_RATE = "10/h"  # settings.LOCUS_RATE_LIMITS overrides, as for the web form
FOLLOWUP_SCOPE = "followup.open"  # one budget for every request that tries a follow-up code
FOLLOWUP_RATE = "20/h"

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
Language = Literal[LANGUAGE_CODES]  # type: ignore[valid-type]
StatusCode = Literal[tuple(ReportStatus.values)]  # type: ignore[valid-type]
RateLimitErrors = {429: ErrorOut}


# --- values --------------------------------------------------------------------------------


def _clean_text(value, *, multiline):
    """Text that can be stored and encrypted: no control characters (line breaks and tabs
    allowed in multi-line text) and no lone surrogates, which UTF-8 cannot encode."""
    allowed = "\n\r\t" if multiline else ""
    for char in value:
        if (ord(char) < 32 and char not in allowed) or ord(char) == 127:
            raise PydanticCustomError(
                "control_characters", gettext("Control characters are not allowed.")
            )
        if 0xD800 <= ord(char) <= 0xDFFF:
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
    language: str
    axes: list[TaxonomyAxisOut]
    reporter_role: list[ChoiceOut]
    support_wanted: list[ChoiceOut]


class TaxonomyQuery(Schema):
    lang: Language | None = Field(
        None, description="Language of the labels; default: the request's language."
    )


class ContactIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field("", max_length=200)
    email: Annotated[Line, AfterValidator(_check_email)] = Field("", max_length=254)
    phone: Annotated[Line, AfterValidator(_check_phone)] = Field("", max_length=40)


class ReportIn(Schema):
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
    message: str


class FollowUpIn(Schema):
    reference: str = Field(..., min_length=1, max_length=40, examples=["K7QD-3MXA"])
    code: str = Field(..., min_length=1, max_length=60, examples=["H2ZC-8RTB-W4KQ-N6PE-5YJD"])


class ConsentIn(FollowUpIn):
    police_anonymised: bool
    police_with_contact: bool = Field(..., description="Needs contact details on the report.")
    support_contact: bool


class ConsentOut(Schema):
    police_anonymised: bool
    police_with_contact: bool
    support_contact: bool


class FollowUpOut(Schema):
    reference: str
    status: StatusCode
    submitted_at: datetime
    consent: ConsentOut
    routing: list[str]


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
        area = area_list(place=place).filter(pk=payload.area_id).first()
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


def _submit(request, payload):
    data = _report_data(request, payload)
    try:
        return services.report_submit(
            place=request.place, data=data, language=payload.language or get_language()
        )
    except ValidationFailed as exc:
        fields = {_SERVICE_FIELDS.get(name, name): msgs for name, msgs in exc.fields.items()}
        raise ValidationFailed(exc.message, code=exc.code, fields=fields) from None


def _routing(report, language):
    from locus.cases.routing import explain
    from locus.cases.selectors import routing_decisions_for

    return explain(list(routing_decisions_for(report)), language)


def _receipt(report, code):
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
        "routing": _routing(report, get_language()),
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
        "form's own choices."
    ),
)
def report_taxonomy(request, place_slug: str, query: Query[TaxonomyQuery]):
    language = query.lang or get_language()
    vocabulary = taxonomy()
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
@rate_limited(SUBMIT_SCOPE, SUBMIT_RATE, json=True)  # outermost: a refused request claims nothing
# The key keeps the reference only: a replay answers without the one-time follow-up code.
@idempotent(
    SUBMIT_SCOPE,
    stored=lambda body: {"reference": body["reference"]},
    replayed=lambda request, replay: _replayed_receipt(request, replay),
)
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
    submitted = _submit(request, payload)
    return Status(201, _receipt(submitted.report, submitted.followup_code))


def _replayed_receipt(request, replay):
    reference = (replay.body or {}).get("reference")
    report = Report.objects.filter(place=request.place, reference=reference).first()
    if report is None:  # deleted since
        raise Http404
    return Status(replay.status, _receipt(report, None))


@router.post(
    "/places/{slug:place_slug}/reports/follow-up",
    response={200: FollowUpOut, 404: ErrorOut, **BAD_BODY_ERRORS, **RateLimitErrors},
    auth=None,
    summary="Follow up a report",
    description=(
        "The report's status, the reporter's consent and who received it, for its reference "
        "and follow-up code. A wrong reference, a wrong code and another place's report all "
        "give the same 404. Rate limited per client, together with changing consent (429)."
    ),
)
@rate_limited(FOLLOWUP_SCOPE, FOLLOWUP_RATE, json=True)
def report_follow_up(request, place_slug: str, payload: FollowUpIn):
    report = _followed_report(request, payload)
    return {
        "reference": report.reference,
        "status": report.status,
        "submitted_at": report.submitted_at,
        "consent": _consent(report),
        "routing": _routing(report, get_language()),
    }


@router.post(
    "/places/{slug:place_slug}/reports/follow-up/consent",
    response={200: ConsentOut, 404: ErrorOut, **BAD_BODY_ERRORS, **RateLimitErrors},
    auth=None,
    summary="Change a report's consent",
    description=(
        "Sets who may receive the report: all three flags, as on the follow-up page. Sending "
        "it to the police with contact details needs contact details on the report (422) and "
        "implies sharing it anonymised. Every change is kept. 404 and rate limit as for the "
        "follow-up."
    ),
)
@rate_limited(FOLLOWUP_SCOPE, FOLLOWUP_RATE, json=True)
def report_consent_change(request, place_slug: str, payload: ConsentIn):
    report = _followed_report(request, payload)
    report = services.report_change_consent(
        report=report,
        police_anonymised=payload.police_anonymised,
        police_with_contact=payload.police_with_contact,
        support_contact=payload.support_contact,
    )
    return _consent(report)
