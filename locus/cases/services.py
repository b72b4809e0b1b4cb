"""Writes for routing: route a report (once, in the caller's transaction), edit a place's
routing rules, and preview rules on a sample report without saving anything."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.services import audit_record
from locus.outbox.services import outbox_enqueue_event
from locus.places.models import Area
from locus.reporting.choices import ReportStatus
from locus.reporting.models import Report
from locus.reporting.taxonomy import taxonomy

from .choices import ROUTED_EVENT
from .models import RoutingDecision, RoutingRule, RoutingRun, validate_destinations
from .routing import RoutingResult, RuleSpec, evaluate
from .selectors import routing_decisions_for, routing_rule_list

UNSET = object()
RULE_FIELDS = ("name", "position", "is_active", "is_fallback", "conditions", "stop")


def _as_validation_failed(exc):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return ValidationFailed(_("Please correct the errors below."), fields=fields)


def staff_report_path(*, place, report):
    """Where staff open the report in Locus (access checked and audited there). Links only:
    messages that leave Locus carry no personal data."""
    return f"/{place.slug}/staff/reports/{report.reference}/"


def _routed_payload(*, place, report, decision):
    return {
        "report": report.reference,
        "incident_type": report.incident_type,
        "level": decision.level,
        "link": staff_report_path(place=place, report=report),
    }


@transaction.atomic
def report_route(*, report) -> list[RoutingDecision]:
    """Route a report through its place's active rules, once.

    Stores one RoutingDecision per destination (sent or not, with the reason); queues a
    `report.routed` event (no personal data) for each organisation that was sent it, in this
    transaction; marks the report as with the organisations when anything was sent. Routing an
    already routed report changes nothing and returns its decisions.
    """
    place = report.place
    # Serialise concurrent routings of one report (PostgreSQL); RoutingRun.report is unique.
    Report.objects.select_for_update().filter(place=place, pk=report.pk).exists()
    if RoutingRun.objects.filter(place=place, report=report).exists():
        return list(routing_decisions_for(report))

    result = evaluate(report, routing_rule_list(place, active_only=True))
    now = timezone.now()
    RoutingRun.objects.create(
        place=place,
        report=report,
        routed_at=now,
        matched_rules=result.matched_rules,
        sent_count=len(result.sent),
    )
    decisions = []
    for item in result.destinations:
        decision = RoutingDecision.objects.create(
            place=place,
            report=report,
            organisation=item.organisation,
            rule=item.rule if isinstance(item.rule, RoutingRule) else None,
            sent=item.sent,
            level=(item.share.level or "") if item.sent else "",
            with_contact=item.share.with_contact if item.sent else False,
            reason=item.share.reason,
            explanation=item.explanation,
            created_at=now,
        )
        decisions.append(decision)
        if decision.sent:
            outbox_enqueue_event(
                place=place,
                organisation=item.organisation,
                event_type=ROUTED_EVENT,
                payload=_routed_payload(place=place, report=report, decision=decision),
                source=decision,
            )
    if result.sent and report.status == ReportStatus.RECEIVED:
        report.status = ReportStatus.WITH_ORGANISATIONS
        report.save(update_fields=["status"])
    audit_record(
        action=AuditAction.REPORT_ROUTED,
        place=place,
        target=report,
        data={
            "rules": result.matched_rules,
            "sent": [d.organisation_id for d in decisions if d.sent],
            "not_sent": [d.organisation_id for d in decisions if not d.sent],
        },
    )
    return decisions


def _normalise_conditions(conditions):
    """Drop empty conditions (an empty list or null means "any"), keep `online: false`."""
    if not isinstance(conditions, dict):
        return conditions
    return {
        key: value
        for key, value in conditions.items()
        if not (value is None or value == [] or value == "")
    }


@transaction.atomic
def routing_rule_save(
    *,
    place,
    actor,
    rule=None,
    name=UNSET,
    position=UNSET,
    is_active=UNSET,
    is_fallback=UNSET,
    conditions=UNSET,
    destinations=UNSET,
    stop=UNSET,
) -> RoutingRule:
    """Create a rule (rule=None) or change the given fields of one. Validates the conditions
    against the current taxonomy and the place's areas, and that every destination is actively
    listed in the place. Audited with the rule id and the names of the changed fields."""
    creating = rule is None
    if creating:
        rule = RoutingRule(place=place, created_by=actor if _is_user(actor) else None)
        if position is UNSET:
            last = routing_rule_list(place).order_by("-position").first()
            position = (last.position + 10) if last else 10
    elif rule.place_id != place.pk:
        raise ValidationFailed(_("The rule belongs to another place."))

    values = {
        "name": name,
        "position": position,
        "is_active": is_active,
        "is_fallback": is_fallback,
        "conditions": _normalise_conditions(conditions) if conditions is not UNSET else UNSET,
        "stop": stop,
    }
    changed = []
    for field_name, value in values.items():
        if value is UNSET:
            continue
        if creating or getattr(rule, field_name) != value:
            setattr(rule, field_name, value)
            changed.append(field_name)

    if destinations is not UNSET:
        destinations = list(destinations)
        before = set() if creating else set(rule.destinations.values_list("pk", flat=True))
        if creating or before != {o.pk for o in destinations}:
            changed.append("destinations")

    try:
        rule.full_clean(exclude=["created_by"])
        if destinations is not UNSET:
            validate_destinations(place=place, organisations=destinations)
    except ValidationError as exc:
        raise _as_validation_failed(exc) from exc

    if not changed and not creating:
        return rule
    rule.save()
    if destinations is not UNSET:
        rule.destinations.set(destinations)
    audit_record(
        action=AuditAction.ROUTING_RULE_CHANGED,
        actor=actor,
        place=place,
        target=rule,
        data={"rule": rule.pk, "created": creating, "fields": sorted(changed)},
    )
    return rule


def _is_user(actor):
    return actor is not None and getattr(actor, "is_authenticated", False)


@transaction.atomic
def routing_rule_delete(*, place, actor, rule) -> None:
    """Delete a rule. Decisions it made keep their explanation (which names the rule)."""
    if rule.place_id != place.pk:
        raise ValidationFailed(_("The rule belongs to another place."))
    rule_id = rule.pk
    audit_record(
        action=AuditAction.ROUTING_RULE_CHANGED,
        actor=actor,
        place=place,
        target=rule,
        data={"rule": rule_id, "deleted": True, "fields": []},
    )
    rule.delete()


SAMPLE_KEYS = frozenset(
    {
        "incident_type",
        "bias",
        "setting",
        "platform",
        "content_url",
        "area",
        "language",
        "consent_police_anonymised",
        "consent_police_with_contact",
        "consent_support_contact",
        "contact",
    }
)


def routing_preview(*, place, sample: dict, rules=None) -> RoutingResult:
    """Try routing on a sample report (a dict of SAMPLE_KEYS) without saving anything.

    `rules` (RuleSpecs or rules) replaces the place's active rules, e.g. to try a rule that is
    still being edited. Unknown codes and another place's areas are refused like on the form.
    """
    vocabulary = taxonomy()
    errors = {}
    for key in sorted(set(sample) - SAMPLE_KEYS):
        errors[key] = [_("Unknown field.")]
    if not vocabulary.has("incident_type", sample.get("incident_type") or ""):
        errors["incident_type"] = [_("Choose what happened.")]
    for code in sample.get("bias") or []:
        if not vocabulary.has("bias", code):
            errors.setdefault("bias", []).append(_("Unknown choice: %(code)s") % {"code": code})
    for axis in ("setting", "platform"):
        code = sample.get(axis) or ""
        if code and not vocabulary.has(axis, code):
            errors[axis] = [_("Unknown choice: %(code)s") % {"code": code}]
    area = sample.get("area")
    if area is not None and not isinstance(area, Area):
        area = Area.objects.filter(place=place, pk=area).first() if str(area).isdigit() else None
        if area is None:
            errors["area"] = [_("Unknown area.")]
    elif area is not None and area.place_id != place.pk:
        errors["area"] = [_("Unknown area.")]
    if errors:
        raise ValidationFailed(_("Some answers are not valid."), fields=errors)

    with_contact = bool(sample.get("consent_police_with_contact"))
    report = Report(
        place=place,
        reference="PREVIEW",
        taxonomy_version=vocabulary.version,
        language=sample.get("language") or place.default_language,
        incident_type=sample["incident_type"],
        bias=sorted(set(sample.get("bias") or [])),
        setting=sample.get("setting") or "",
        platform=sample.get("platform") or "",
        content_url=sample.get("content_url") or "",
        area=area,
        consent_police_anonymised=bool(sample.get("consent_police_anonymised")) or with_contact,
        consent_police_with_contact=with_contact,
        consent_support_contact=bool(sample.get("consent_support_contact")),
        contact=sample.get("contact") or None,
    )
    if rules is None:
        rules = routing_rule_list(place, active_only=True)
    return evaluate(report, [RuleSpec.of(rule) for rule in rules])
