"""Writes for routing: route a report (once, in the caller's transaction), edit a place's
routing rules, and preview rules on a sample report without saving anything."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.services import audit_record
from locus.outbox.services import outbox_enqueue_event
from locus.places.models import Area
from locus.reporting.choices import ReportStatus
from locus.reporting.models import Report
from locus.reporting.taxonomy import taxonomy

from . import policies
from .choices import (
    CASE_TRANSITIONS,
    ROUTED_EVENT,
    CaseEventKind,
    CaseOutcome,
    CaseStatus,
    Verification,
)
from .models import (
    Case,
    CaseEvent,
    CaseNote,
    RoutingDecision,
    RoutingRule,
    RoutingRun,
    validate_destinations,
)
from .routing import RoutingResult, RuleSpec, evaluate
from .selectors import case_assignees, routing_decisions_for, routing_rule_list

UNSET = object()
RULE_FIELDS = ("name", "position", "is_active", "is_fallback", "conditions", "stop")


def _as_validation_failed(exc):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return ValidationFailed(_("Please correct the errors below."), fields=fields)


def staff_case_path(*, place, case):
    """Where the receiving organisation opens its case in Locus (access checked and audited
    there). Links only: messages that leave Locus carry no personal data."""
    return reverse("cases:detail", kwargs={"place_slug": place.slug, "case_id": case.pk})


def _routed_payload(*, place, report, decision, case):
    return {
        "report": report.reference,
        "case": case.pk,
        "incident_type": report.incident_type,
        "level": decision.level,
        "link": staff_case_path(place=place, case=case),
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
    for case in cases_open_for(decisions=decisions, at=now):
        outbox_enqueue_event(
            place=place,
            organisation=case.decision.organisation,
            event_type=ROUTED_EVENT,
            payload=_routed_payload(place=place, report=report, decision=case.decision, case=case),
            source=case.decision,
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


# --------------------------------------------------------------------------------------------
# Cases: one per organisation that was sent a report, and the steps of working on it.
#
# Every step takes the membership acting (the person and the organisation they act for),
# checks policies.case_can_act, locks the case row so two people cannot move it at once,
# validates the move (CASE_TRANSITIONS), writes a timeline event (codes and ids only) and an
# audit event, and returns the case.

NOTE_MAX_LENGTH = 10_000

_TRANSITION_ERRORS = {
    "acknowledge": lambda: _("Only a new case can be acknowledged."),
    "start": lambda: _("Only a new or acknowledged case can be started."),
    "close": lambda: _("This case is already closed."),
    "reopen": lambda: _("Only a closed case can be reopened."),
}


def cases_open_for(*, decisions, at=None) -> list[Case]:
    """Open one case per sent decision (called by report_route, in its transaction)."""
    at = at or timezone.now()
    cases = []
    for decision in decisions:
        if not decision.sent:
            continue
        case = Case.objects.create(
            place_id=decision.place_id,
            report_id=decision.report_id,
            organisation_id=decision.organisation_id,
            decision=decision,
            created_at=at,
        )
        CaseEvent.objects.create(
            place_id=decision.place_id,
            case=case,
            kind=CaseEventKind.CREATED,
            data={"decision": decision.pk, "level": decision.level, "rule": decision.rule_id},
            at=at,
        )
        cases.append(case)
    return cases


def _locked(case, membership):
    """The case row, locked for this transaction, after checking the membership may act."""
    if not policies.case_can_act(membership, case):
        raise PermissionDenied(_("Only the organisation that received this case can work on it."))
    return Case.objects.select_for_update().get(place_id=case.place_id, pk=case.pk)


def _check_step(case, step):
    allowed_from, _to = CASE_TRANSITIONS[step]
    if case.status not in allowed_from:
        raise ValidationFailed(_TRANSITION_ERRORS[step](), code="invalid_transition")


def _check_open(case):
    if case.is_closed:
        raise ValidationFailed(
            _("This case is closed: reopen it first."), code="invalid_transition"
        )


def _record(case, membership, *, kind, step, data=None, at=None):
    data = data or {}
    CaseEvent.objects.create(
        place_id=case.place_id,
        case=case,
        actor=membership.user,
        kind=kind,
        data=data,
        at=at or timezone.now(),
    )
    audit_record(
        action=AuditAction.CASE_UPDATED,
        actor=membership.user,
        place=case.place,
        target=case,
        data={"case": case.pk, "step": step, **data},
    )


def _move(case, membership, step, *, kind, extra_fields=(), data=None):
    before = case.status
    case.status = CASE_TRANSITIONS[step][1]
    case.save(update_fields=["status", *extra_fields, "updated_at"])
    _record(
        case,
        membership,
        kind=kind,
        step=step,
        data={"from": before, "to": case.status, **(data or {})},
    )
    return case


@transaction.atomic
def case_acknowledge(*, case, membership) -> Case:
    """Say the organisation has seen a new case."""
    case = _locked(case, membership)
    _check_step(case, "acknowledge")
    case.acknowledged_at = timezone.now()
    return _move(
        case,
        membership,
        "acknowledge",
        kind=CaseEventKind.ACKNOWLEDGED,
        extra_fields=["acknowledged_at"],
    )


@transaction.atomic
def case_start(*, case, membership) -> Case:
    """Start working on a new or acknowledged case (acknowledging it if needed)."""
    case = _locked(case, membership)
    _check_step(case, "start")
    case.acknowledged_at = case.acknowledged_at or timezone.now()
    return _move(
        case, membership, "start", kind=CaseEventKind.STARTED, extra_fields=["acknowledged_at"]
    )


@transaction.atomic
def case_assign(*, case, membership, assignee) -> Case:
    """Give an open case to a person (a User), or to nobody (None). Only people with an active
    case-handling role in the case's organisation can be given a case."""
    case = _locked(case, membership)
    _check_open(case)
    if assignee is not None and not case_assignees(case).filter(user=assignee).exists():
        raise ValidationFailed(
            _("A case can only be given to someone of this organisation who handles cases."),
            fields={"assignee": [_("Choose a person of your organisation who handles cases.")]},
        )
    new_id = assignee.pk if assignee is not None else None
    if case.assigned_to_id == new_id:
        return case
    before = case.assigned_to_id
    case.assigned_to = assignee
    case.save(update_fields=["assigned_to", "updated_at"])
    _record(
        case,
        membership,
        kind=CaseEventKind.ASSIGNED if assignee is not None else CaseEventKind.UNASSIGNED,
        step="assign",
        data={"from": before, "to": new_id},
    )
    return case


@transaction.atomic
def case_add_note(*, case, membership, body) -> CaseNote:
    """Add an internal note (encrypted; the timeline and the audit log hold only its id)."""
    case = _locked(case, membership)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(
            _("Write the note first."), fields={"body": [_("This field is required.")]}
        )
    if len(body) > NOTE_MAX_LENGTH:
        raise ValidationFailed(
            _("The note is too long."),
            fields={
                "body": [_("Keep it under %(limit)s characters.") % {"limit": NOTE_MAX_LENGTH}]
            },
        )
    note = CaseNote.objects.create(
        place_id=case.place_id, case=case, author=membership.user, body=body
    )
    _record(case, membership, kind=CaseEventKind.NOTE_ADDED, step="note", data={"note": note.pk})
    return note


@transaction.atomic
def case_classify(
    *, case, membership, verification, incident_type="", bias=(), ideology=""
) -> Case:
    """Record what staff found: the verification, and the verified incident type, bias codes
    and ideology (a staff-only axis) in the current taxonomy. Empty means "as reported" for the
    incident type and bias, "not given" for the ideology."""
    case = _locked(case, membership)
    _check_open(case)
    vocabulary = taxonomy()
    errors = {}
    if verification not in Verification.values:
        errors["verification"] = [_("Choose a valid verification.")]
    if incident_type and not vocabulary.has("incident_type", incident_type):
        errors["incident_type"] = [_("Unknown choice: %(code)s") % {"code": incident_type}]
    bias = sorted(set(bias or []))
    for code in bias:
        if not vocabulary.has("bias", code):
            errors.setdefault("bias", []).append(_("Unknown choice: %(code)s") % {"code": code})
    if ideology and not vocabulary.has("ideology", ideology):
        errors["ideology"] = [_("Unknown choice: %(code)s") % {"code": ideology}]
    if errors:
        raise ValidationFailed(_("Some answers are not valid."), fields=errors)
    values = {
        "verification": verification,
        "verified_incident_type": incident_type or "",
        "verified_bias": bias,
        "ideology": ideology or "",
    }
    changed = sorted(name for name, value in values.items() if getattr(case, name) != value)
    if not changed:
        return case
    for name, value in values.items():
        setattr(case, name, value)
    case.taxonomy_version = vocabulary.version
    case.save(update_fields=[*values, "taxonomy_version", "updated_at"])
    _record(
        case,
        membership,
        kind=CaseEventKind.CLASSIFIED,
        step="classify",
        data={"fields": changed, **values},
    )
    return case


@transaction.atomic
def case_close(*, case, membership, outcome) -> Case:
    """Close an open case with an outcome. When it was the report's last open case, the
    reporter sees the report as closed."""
    case = _locked(case, membership)
    _check_step(case, "close")
    if outcome not in CaseOutcome.values:
        raise ValidationFailed(
            _("Choose how the case ended."), fields={"outcome": [_("Choose an outcome.")]}
        )
    now = timezone.now()
    case.outcome = outcome
    case.closed_at = now
    _move(
        case,
        membership,
        "close",
        kind=CaseEventKind.CLOSED,
        extra_fields=["outcome", "closed_at"],
        data={"outcome": outcome},
    )
    report = Report.objects.select_for_update().get(place_id=case.place_id, pk=case.report_id)
    still_open = (
        Case.objects.filter(place_id=case.place_id, report_id=report.pk)
        .exclude(status=CaseStatus.CLOSED)
        .exists()
    )
    if not still_open and report.status != ReportStatus.CLOSED:
        report.status = ReportStatus.CLOSED
        report.closed_at = now
        report.save(update_fields=["status", "closed_at"])
    return case


@transaction.atomic
def case_reopen(*, case, membership) -> Case:
    """Reopen a closed case (back to in progress); its report is with the organisations
    again."""
    case = _locked(case, membership)
    _check_step(case, "reopen")
    before_outcome = case.outcome
    case.outcome = ""
    case.closed_at = None
    _move(
        case,
        membership,
        "reopen",
        kind=CaseEventKind.REOPENED,
        extra_fields=["outcome", "closed_at"],
        data={"outcome": before_outcome},
    )
    report = Report.objects.select_for_update().get(place_id=case.place_id, pk=case.report_id)
    if report.status == ReportStatus.CLOSED:
        report.status = ReportStatus.WITH_ORGANISATIONS
        report.closed_at = None
        report.save(update_fields=["status", "closed_at"])
    return case


def case_record_view(*, case, membership, visibility) -> None:
    """Audit that a person opened a case and how much of the report they were shown."""
    audit_record(
        action=AuditAction.CASE_VIEWED,
        actor=membership.user,
        place=case.place,
        target=case,
        data={
            "case": case.pk,
            "report": case.report_id,
            "organisation": membership.organisation_id,
            "level": visibility.level,
            "with_contact": visibility.with_contact,
            "own": visibility.own,
        },
    )


def case_record_evidence_download(*, case, membership, evidence) -> None:
    """Audit that a person downloaded one evidence file of a case's report."""
    audit_record(
        action=AuditAction.EVIDENCE_DOWNLOADED,
        actor=membership.user,
        place=case.place,
        target=evidence,
        data={"case": case.pk, "report": case.report_id, "evidence": evidence.pk},
    )
