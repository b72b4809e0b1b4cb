"""Staff API: a place's routing rules — list, get, create, update, delete, reorder, and the
preview of a sample report (optionally with a rule as edited, before saving it). Mounted in
locus/api/urls.py. Only for those who may edit the place's routing (`MANAGE_ROUTING`: the
administrators and coordinators of the team that runs Locus in the place).

Errors name the field: `conditions.bias`, `destinations`, `is_fallback`, `sample.area_id`,
`draft.conditions.area`… Every change is validated and audited by the services, as in the
editor."""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status
from pydantic import AfterValidator, ConfigDict
from pydantic_core import PydanticCustomError

from locus.accounts.policies import Capability
from locus.api.auth import STAFF_AUTH, api_membership
from locus.api.idempotency import IDEMPOTENCY_ERRORS, idempotency_key_header, idempotent
from locus.api.schemas import BAD_BODY_ERRORS, DB_ID_MAX, PLACE_ERRORS, ErrorOut
from locus.core.errors import ValidationFailed
from locus.directory.selectors import organisation_list

from . import rule_selectors, rule_services, selectors, services
from .choices import CONSENT_CONDITIONS

router = Router(tags=["routing"])

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
Language = Literal[LANGUAGE_CODES]  # type: ignore[valid-type]
Consent = Literal[CONSENT_CONDITIONS]  # type: ignore[valid-type]
Id = Annotated[int, Field(ge=1, le=DB_ID_MAX)]
MAX_VALUES = 100


def _plain_text(value):
    """Text that can be stored: no control characters, no lone surrogates."""
    for char in value:
        if ord(char) < 32 or ord(char) == 127:
            raise PydanticCustomError(
                "control_characters", _("Control characters are not allowed.")
            )
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise PydanticCustomError("invalid_unicode", _("The text is not valid Unicode."))
    return value.strip()


Name = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_plain_text)]
Code = Annotated[str, Field(max_length=60), AfterValidator(_plain_text)]
Codes = Annotated[list[Code], Field(max_length=MAX_VALUES)]


# --- schemas -------------------------------------------------------------------------------


class ConditionsIn(Schema):
    """Every key optional; null or an empty list means "any". Codes: GET …/taxonomy."""

    model_config = ConfigDict(extra="forbid")

    incident_type: Codes | None = None
    bias: Codes | None = Field(None, description="A broader code also matches its sub-values.")
    setting: Codes | None = None
    platform: Codes | None = None
    area: Annotated[list[Id], Field(max_length=MAX_VALUES)] | None = Field(
        None, description="Area ids of the place."
    )
    online: bool | None = Field(None, description="true: online only; false: offline only.")
    language: Annotated[list[Language], Field(max_length=10)] | None = None
    consent: Annotated[list[Consent], Field(max_length=3)] | None = Field(
        None, description="The reporter gave any of these consents."
    )

    def as_conditions(self):
        return self.model_dump(exclude_none=True)


class RuleIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Antisemitic incidents to the charity",
                    "conditions": {"bias": ["antisemitism"], "consent": ["support_contact"]},
                    "destinations": [7],
                }
            ]
        },
    )

    name: Name
    is_active: bool = True
    is_fallback: bool = Field(False, description="Used only when no other rule matched.")
    stop: bool = Field(False, description="When this rule matches, later rules are not looked at.")
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    destinations: Annotated[list[Id], Field(max_length=MAX_VALUES)] = Field(
        [], description="Ids of organisations working in the place."
    )


class RulePatchIn(Schema):
    """Only the fields given change; `conditions` and `destinations` are replaced whole."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"is_active": False}]}
    )

    name: Name | None = None
    is_active: bool | None = None
    is_fallback: bool | None = None
    stop: bool | None = None
    conditions: ConditionsIn | None = None
    destinations: Annotated[list[Id], Field(max_length=MAX_VALUES)] | None = None


class RuleOrganisationRef(Schema):
    id: int
    name: str
    type: str


class DestinationRef(RuleOrganisationRef):
    listed: bool = Field(..., description="False: no longer works in the place, receives nothing.")


class RuleOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    is_fallback: bool
    stop: bool
    conditions: dict[str, Any]
    destinations: list[DestinationRef]
    summary: list[str] = Field(..., description="The rule in words, in the request's language.")
    created_at: datetime
    updated_at: datetime


class DeletedOut(Schema):
    id: int
    deleted: bool


class RuleListOut(Schema):
    rules: list[RuleOut] = Field(..., description="In evaluation order.")
    warnings: list[Literal["no_fallback", "several_fallbacks"]]


class ReorderIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"order": [4, 2, 7]}]}
    )

    order: Annotated[list[Id], Field(max_length=1000)] = Field(
        ..., description="Every rule id of the place, once each, in the new order."
    )


class SampleIn(Schema):
    """A sample report: what routing looks at. Nothing is saved."""

    model_config = ConfigDict(extra="forbid")

    incident_type: Code
    bias: Codes = []
    setting: Code = ""
    platform: Code = ""
    content_url: Annotated[str, Field(max_length=2000), AfterValidator(_plain_text)] = ""
    area_id: Id | None = None
    language: Language | None = Field(None, description="Default: the place's language.")
    consent_police_anonymised: bool = False
    consent_police_with_contact: bool = False
    consent_support_contact: bool = False
    has_contact: bool = Field(False, description="The reporter gave contact details.")


class DraftIn(RuleIn):
    id: Id | None = Field(None, description="The rule this draft replaces; none: a new rule.")


class PreviewIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sample": {
                        "incident_type": "threat",
                        "bias": ["anti_roma_sinti"],
                        "setting": "street",
                        "consent_police_anonymised": True,
                    }
                }
            ]
        },
    )

    sample: SampleIn
    draft: DraftIn | None = Field(
        None, description="A rule as edited, tried in place of the rule it replaces."
    )


class RuleRef(Schema):
    id: int | None
    name: str


class PreviewDestinationOut(Schema):
    organisation: RuleOrganisationRef
    sent: bool
    level: Literal["full", "anonymised", "content_only"] | None
    with_contact: bool
    reason: str
    sentence: str = Field(..., description="What the reporter's receipt would say.")
    rule: RuleRef
    fallback: bool
    matched: dict[str, Any]
    also_matched: list[RuleRef]


class PreviewResultOut(Schema):
    destinations: list[PreviewDestinationOut]
    matched_rules: list[RuleRef]
    not_named: list[RuleOrganisationRef] = Field(
        ..., description="Organisations of the place no matching rule names."
    )
    record_only: str | None


class PreviewOut(Schema):
    result: PreviewResultOut = Field(
        ..., description="With the draft in place when one was given, else the saved rules."
    )
    current: PreviewResultOut | None = Field(
        None, description="With the saved rules, when a draft was given."
    )
    changes: list[str] = Field(..., description="What the draft changes for this sample.")


# --- helpers -------------------------------------------------------------------------------


def _membership(request):
    if getattr(request, "place", None) is None:
        raise Http404
    return api_membership(request, Capability.MANAGE_ROUTING)


def _rule_or_404(place, rule_id):
    rule = selectors.access_routing_rule(place, rule_id)
    if rule is None:
        raise Http404
    return rule


def _rule_out(view):
    rule = view.rule
    return {
        "id": rule.pk,
        "name": rule.name,
        "position": rule.position,
        "is_active": rule.is_active,
        "is_fallback": rule.is_fallback,
        "stop": rule.stop,
        "conditions": rule.conditions if isinstance(rule.conditions, dict) else {},
        "destinations": [
            {
                "id": d.organisation.pk,
                "name": d.organisation.name,
                "type": d.organisation.type,
                "listed": d.listed,
            }
            for d in view.destinations
        ],
        "summary": view.summary,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def _rules_out(place, rules=None):
    views = rule_selectors.routing_rule_views(place, language=get_language(), rules=rules)
    return [_rule_out(view) for view in views]


def _one_rule_out(place, rule):
    rule = _rule_or_404(place, rule.pk)  # fresh, with its destinations
    return _rules_out(place, [rule])[0]


def _prefixed(exc, prefix):
    fields = {f"{prefix}{name}": msgs for name, msgs in exc.fields.items()}
    return ValidationFailed(exc.message, code=exc.code, fields=fields)


def _destinations(place, ids, field="destinations"):
    """Organisations working in the place, by id; an id of any other is an error (without
    saying whose it is)."""
    found = {o.pk: o for o in organisation_list(place=place).filter(pk__in=ids)}
    unknown = [i for i in dict.fromkeys(ids) if i not in found]
    if unknown:
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={
                field: [
                    _("No organisation %(id)s works in this place.") % {"id": i} for i in unknown
                ]
            },
        )
    return [found[i] for i in dict.fromkeys(ids)]


def _changes(place, data, prefix=""):
    """The service's keyword arguments from a RuleIn / RulePatchIn dump."""
    changes = {}
    for name in ("name", "is_active", "is_fallback", "stop"):
        if name in data:
            changes[name] = data[name]
    if "conditions" in data:
        changes["conditions"] = {k: v for k, v in data["conditions"].items() if v is not None}
    if "destinations" in data:
        changes["destinations"] = _destinations(
            place, data["destinations"], f"{prefix}destinations"
        )
    return changes


def _org_ref(organisation):
    return {"id": organisation.pk, "name": organisation.name, "type": organisation.type}


def _result_out(view):
    return {
        "destinations": [
            {
                "organisation": _org_ref(d.organisation),
                "sent": d.sent,
                "level": d.level or None,
                "with_contact": d.with_contact,
                "reason": d.reason,
                "sentence": d.sentence,
                "rule": {"id": d.rule.get("id"), "name": d.rule.get("name", "")},
                "fallback": d.fallback,
                "matched": d.matched_raw,
                "also_matched": [
                    {"id": r.get("id"), "name": r.get("name", "")} for r in d.also_matched
                ],
            }
            for d in view.destinations
        ],
        "matched_rules": view.matched_rules,
        "not_named": [_org_ref(o) for o in view.not_named],
        "record_only": view.record_only,
    }


def _sample(place, sample):
    area = None
    if sample.area_id is not None:
        from locus.places.selectors import area_list

        area = area_list(place=place).filter(pk=sample.area_id).first()
        if area is None:
            raise ValidationFailed(
                _("Some answers are not valid."),
                fields={"sample.area_id": [_("Choose an area of this place.")]},
            )
    return {
        "incident_type": sample.incident_type,
        "bias": list(sample.bias),
        "setting": sample.setting,
        "platform": sample.platform,
        "content_url": sample.content_url,
        "area": area,
        "language": sample.language or place.default_language,
        "consent_police_anonymised": sample.consent_police_anonymised,
        "consent_police_with_contact": sample.consent_police_with_contact,
        "consent_support_contact": sample.consent_support_contact,
        "contact": {"email": "sample@example.invalid"} if sample.has_contact else None,
    }


_SAMPLE_FIELDS = {"area": "sample.area_id"}


# --- endpoints -----------------------------------------------------------------------------

RULES = "/places/{slug:place_slug}/routing/rules"


@router.get(
    RULES,
    response={200: RuleListOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="List the routing rules",
    description="The place's rules in evaluation order, each with a summary in words, and "
    "warnings: `no_fallback` (a report no rule matches reaches only the place's own team), "
    "`several_fallbacks`.",
)
def rules_list(request, place_slug: str):
    _membership(request)
    place = request.place
    return {"rules": _rules_out(place), "warnings": selectors.routing_rule_warnings(place)}


@router.post(
    RULES,
    response={201: RuleOut, **BAD_BODY_ERRORS, **IDEMPOTENCY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Create a routing rule",
    description="Adds a rule after the others. Conditions use taxonomy codes of the current "
    "version (GET …/taxonomy), area ids of the place, `en`/`fr`/`de`/`sv` and consent codes; "
    "destinations are ids of organisations working in the place. A fallback rule has no "
    "conditions. Errors name the field (`conditions.bias`, `destinations`, `is_fallback`). "
    "Audited. Send an `Idempotency-Key` to retry safely.",
)
@idempotent(
    "routing.rule_create",
    stored=lambda body: {"id": body["id"]},
    replayed=lambda request, replay: _replayed_rule(request, replay),
)
def rules_create(
    request,
    place_slug: str,
    payload: RuleIn,
    idempotency_key_header: str | None = idempotency_key_header(),
):
    _membership(request)
    place = request.place
    rule = rule_services.routing_rule_write(
        place=place, actor=request.user, **_changes(place, payload.model_dump())
    )
    return Status(201, _one_rule_out(place, rule))


def _replayed_rule(request, replay):
    _membership(request)
    rule = _rule_or_404(request.place, (replay.body or {}).get("id"))
    return Status(replay.status, _one_rule_out(request.place, rule))


# Before RULE: otherwise "reorder" would be read as a rule id.
@router.post(
    RULES + "/reorder",
    response={200: RuleListOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Put the routing rules in a new order",
    description="`order` lists every rule id of the place once. Each rule whose position "
    "changes is audited.",
)
def rules_reorder(request, place_slug: str, payload: ReorderIn):
    _membership(request)
    place = request.place
    rule_services.routing_rules_reorder(place=place, actor=request.user, order=payload.order)
    return {"rules": _rules_out(place), "warnings": selectors.routing_rule_warnings(place)}


RULE = RULES + "/{rule_id}"


@router.get(
    RULE,
    response={200: RuleOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Get a routing rule",
    description=(
        "One routing rule of the place with its conditions, destinations (organisations and "
        "levels) and a summary in words. For the team that runs Locus in the place "
        "(administrators, coordinators)."
    ),
)
def rules_get(request, place_slug: str, rule_id: int = Path(..., ge=1, le=DB_ID_MAX)):
    _membership(request)
    return _one_rule_out(request.place, _rule_or_404(request.place, rule_id))


@router.patch(
    RULE,
    response={200: RuleOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Change a routing rule",
    description="Only the fields given change; `conditions` and `destinations` are replaced "
    "whole. Audited with the names of the fields that changed.",
)
def rules_update(
    request, place_slug: str, payload: RulePatchIn, rule_id: int = Path(..., ge=1, le=DB_ID_MAX)
):
    _membership(request)
    place = request.place
    rule = _rule_or_404(place, rule_id)
    data = payload.model_dump(exclude_unset=True)
    for name in ("name", "is_active", "is_fallback", "stop", "conditions", "destinations"):
        if name in data and data[name] is None:
            raise ValidationFailed(
                _("Please correct the errors below."),
                fields={name: [_("Leave the field out to keep it as it is.")]},
            )
    rule = rule_services.routing_rule_write(
        place=place, actor=request.user, rule=rule, **_changes(place, data)
    )
    return _one_rule_out(place, rule)


@router.delete(
    RULE,
    response={200: DeletedOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Delete a routing rule",
    description="Reports it already routed keep their explanation. Audited.",
)
def rules_delete(request, place_slug: str, rule_id: int = Path(..., ge=1, le=DB_ID_MAX)):
    _membership(request)
    rule = _rule_or_404(request.place, rule_id)
    rule_id = rule.pk
    services.routing_rule_delete(place=request.place, actor=request.user, rule=rule)
    return {"id": rule_id, "deleted": True}


@router.post(
    "/places/{slug:place_slug}/routing/preview",
    response={200: PreviewOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Try the routing rules on a sample report",
    description="Which organisations would receive the sample report, at which level and why "
    "(and which would not, and why). With a `draft` (a rule as edited, with the `id` of the "
    "rule it replaces, or none for a new rule), `result` uses the draft, `current` the saved "
    "rules, and `changes` says what the draft changes. Nothing is saved.",
)
def routing_preview(request, place_slug: str, payload: PreviewIn):
    _membership(request)
    place, language = request.place, get_language()
    draft = None
    if payload.draft is not None:
        data = payload.draft.model_dump()
        rule = None
        if data["id"] is not None:
            rule = selectors.access_routing_rule(place, data["id"])
            if rule is None:
                raise ValidationFailed(
                    _("Please correct the errors below."),
                    fields={"draft.id": [_("No such rule in this place.")]},
                )
        try:
            draft = rule_services.routing_rule_draft(
                place=place, rule=rule, **_changes(place, data, prefix="draft.")
            )
        except ValidationFailed as exc:
            if any(name.startswith("draft.") for name in exc.fields):
                raise
            raise _prefixed(exc, "draft.") from None
    sample = _sample(place, payload.sample)
    try:
        preview = rule_services.routing_preview_compare(place=place, sample=sample, draft=draft)
    except ValidationFailed as exc:
        fields = {
            _SAMPLE_FIELDS.get(name, f"sample.{name}"): msgs for name, msgs in exc.fields.items()
        }
        raise ValidationFailed(exc.message, code=exc.code, fields=fields) from None
    organisations = list(organisation_list(place=place))
    names = rule_selectors.area_names(place)

    def describe(result, specs):
        return rule_selectors.describe_result(
            result,
            place=place,
            language=language,
            specs=specs,
            organisations=organisations,
            names=names,
        )

    current = describe(preview.current, preview.current_specs)
    if preview.draft is None:
        return {"result": _result_out(current), "current": None, "changes": []}
    draft_view = describe(preview.draft, preview.draft_specs)
    return {
        "result": _result_out(draft_view),
        "current": _result_out(current),
        "changes": rule_selectors.compare_results(current, draft_view, language=language),
    }
