"""Writes for routing: route a report (once, in the caller's transaction), edit a place's
routing rules, and preview rules on a sample report without saving anything."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, PreconditionFailed, ValidationFailed
from locus.core.ids import parse_id
from locus.core.services import audit_record
from locus.directory.models import OrganisationListing
from locus.outbox.services import (
    outbox_enqueue_email,
    outbox_enqueue_event,
    outbox_enqueue_reporter_email,
)
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
    MessageDirection,
    ShareLevel,
    ShareReason,
    Verification,
)
from .models import (
    Case,
    CaseEvent,
    CaseMessage,
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


def absolute_link(path, base_url=""):
    """`path` as an address for messages that leave Locus: under `base_url` (the address the
    request came in on, passed by views and the API) or else settings.LOCUS_BASE_URL; the path
    alone when neither is known."""
    base = (base_url or getattr(settings, "LOCUS_BASE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


_LOOK_UP = object()


def _inboxes(place):
    """{organisation id: inbox address} of the place's active listings that have one."""
    return dict(
        OrganisationListing.objects.filter(place=place, is_active=True)
        .exclude(inbox_email="")
        .values_list("organisation_id", "inbox_email")
    )


def case_notify_received(*, place, case, base_url="", handed_on=False, inbox=_LOOK_UP) -> None:
    """Tell the organisation a case reached it, in the caller's transaction: the
    `report.routed` webhook event with the routing payload, and — when its listing in the place
    has an inbox address — an e-mail carrying only a link to the case (no personal data: the
    organisation reads the report in Locus, where access is checked and audited). `inbox`:
    the address when the caller already read it (routing reads every listing's once)."""
    decision, report = case.decision, case.report
    outbox_enqueue_event(
        place=place,
        organisation=decision.organisation,
        event_type=ROUTED_EVENT,
        payload=_routed_payload(place=place, report=report, decision=decision, case=case),
        source=decision,
    )
    if inbox is _LOOK_UP:
        inbox = _inboxes(place).get(decision.organisation_id)
    if not inbox:
        return
    link = absolute_link(staff_case_path(place=place, case=case), base_url)
    with translation.override(place.default_language):
        if handed_on:
            subject = _("A report was handed on to your organisation")
        else:
            subject = _("A new report reached your organisation")
        body = _(
            "Open the case in Locus (you will be asked to sign in):\n%(link)s\n\n"
            "This e-mail carries no details of the report on purpose."
        ) % {"link": link}
    outbox_enqueue_email(
        place=place, to=inbox, subject=subject, body=body, source=decision, event_type=ROUTED_EVENT
    )


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
    # One INSERT for every decision (and below for the cases and their events): routing
    # holds the write transaction, which on SQLite every submission waits for.
    decisions = RoutingDecision.objects.bulk_create(
        [
            RoutingDecision(
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
            for item in result.destinations
        ]
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
    opened = cases_open_for(decisions=decisions, at=now)
    inboxes = _inboxes(place) if opened else {}
    for case in opened:
        case_notify_received(place=place, case=case, inbox=inboxes.get(case.organisation_id))
    return decisions


@transaction.atomic
def report_consent_applied(*, report) -> list[Case]:
    """Apply a reporter's changed consent to where their report went, in the caller's
    transaction. Organisations that routing named but consent kept out now receive the report
    if the new consent allows it (a case opens and they are told); whether contact details are
    shared follows the new consent both ways — organisations see the report through their
    decision, so a withdrawal takes effect on their next view. What an organisation already
    read cannot be taken back. Returns the cases opened."""
    place = report.place
    if not RoutingRun.objects.filter(place=place, report=report).exists():
        return []  # not routed yet: routing will read the new consent
    listed = set(
        OrganisationListing.objects.filter(place=place, is_active=True).values_list(
            "organisation_id", flat=True
        )
    )
    opened, changed = [], []
    for decision in routing_decisions_for(report).select_related("organisation"):
        share = policies.share_for(
            report, decision.organisation, listed=decision.organisation_id in listed
        )
        if decision.sent:
            with_contact = bool(share.allowed and share.with_contact)
            if decision.with_contact != with_contact:
                decision.with_contact = with_contact
                decision.save(update_fields=["with_contact"])
                changed.append(decision)
            continue
        if not share.allowed:
            continue
        decision.sent = True
        decision.level = share.level or ""
        decision.with_contact = share.with_contact
        decision.reason = share.reason
        decision.explanation = {**decision.explanation, "consent_widened": True}
        decision.save(update_fields=["sent", "level", "with_contact", "reason", "explanation"])
        opened += cases_open_for(decisions=[decision])
    for case in Case.objects.filter(place=place, report=report).select_related("decision"):
        CaseEvent.objects.create(
            place=place,
            case=case,
            kind=CaseEventKind.CONSENT_CHANGED,
            data={"with_contact": case.decision.with_contact},
        )
    for case in opened:
        case_notify_received(place=place, case=case)
    if opened and report.status != ReportStatus.WITH_ORGANISATIONS:
        # A report whose cases were all closed is open again: an organisation now works on
        # it (and retention, counted from its closure, must not strip it).
        report.status = ReportStatus.WITH_ORGANISATIONS
        report.closed_at = None
        report.save(update_fields=["status", "closed_at"])
    if opened or changed:
        audit_record(
            action=AuditAction.REPORT_REROUTED,
            place=place,
            target=report,
            data={
                "sent": [c.organisation_id for c in opened],
                "contact_changed": [d.organisation_id for d in changed],
            },
        )
    return opened


# How long a report may wait for its routing task before the sweep routes it itself.
ROUTING_GRACE = timedelta(minutes=2)


def reports_route_pending(*, place, older_than=ROUTING_GRACE, now=None) -> int:
    """Route the place's reports whose routing task never ran or failed — the safety net of
    the scheduled sweep, so no report stays unrouted. Returns how many it routed."""
    cutoff = (now or timezone.now()) - older_than
    pending = Report.objects.filter(
        place=place, routing_run__isnull=True, anonymised_at__isnull=True, submitted_at__lte=cutoff
    ).order_by("submitted_at", "pk")
    routed = 0
    for report in pending:
        report_route(report=report)
        routed += 1
    return routed


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
        # Its name (staff-only, never personal data): the history can still say which rule.
        data={"rule": rule_id, "deleted": True, "fields": [], "name": rule.name},
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
        area_id = parse_id(str(area))
        area = Area.objects.filter(place=place, pk=area_id).first() if area_id else None
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
    sent = [decision for decision in decisions if decision.sent]
    if not sent:
        return []
    cases = Case.objects.bulk_create(
        [
            Case(
                place_id=decision.place_id,
                # The decision's report (already loaded by routing) rides along: notifying the
                # organisation reads it, and would otherwise load it once per case.
                report=decision.report,
                organisation_id=decision.organisation_id,
                decision=decision,
                created_at=at,
            )
            for decision in sent
        ]
    )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                place_id=decision.place_id,
                case=case,
                kind=CaseEventKind.CREATED,
                data={"decision": decision.pk, "level": decision.level, "rule": decision.rule_id},
                at=at,
            )
            for case, decision in zip(cases, sent, strict=True)
        ]
    )
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


def _check_not_merged(case):
    """A merged duplicate is worked on through the case it was merged into."""
    if case.merged_into_id:
        raise ValidationFailed(
            _("This case was merged into another case: work on that one, or split it off first."),
            code="merged",
        )


def _latest_event(case, **filters):
    """The case's latest timeline event (matching `filters`), with who made it, or None."""
    return (
        CaseEvent.objects.filter(place_id=case.place_id, case=case, **filters)
        .select_related("actor")
        .order_by("-id")
        .first()
    )


def _who(event):
    return event.actor.get_full_name() if event and event.actor else _("Someone")


def _check_unchanged(case, seen, kinds, message):
    """Refuse to overwrite unseen what someone changed after `seen` (when the person's page was
    opened): two caseworkers assigning or classifying the same case from pages opened at the
    same time would otherwise have the later one silently undo the earlier. `message` names
    who changed it (`%(person)s`). None checks nothing (the API, a form without the time)."""
    if seen is None:
        return
    event = _latest_event(case, kind__in=kinds, at__gt=seen)
    if event is not None:
        raise ValidationFailed(message() % {"person": _who(event)}, code="changed_meanwhile")


def _check_version(case, versions):
    """Refuse a change from a client that has not seen the case as it is (the API's
    `If-Match`): `versions` are the case versions it accepts (`selectors.case_version`: the
    latest event's id), None checks nothing. The refusal names the latest change and who made
    it."""
    if versions is None:
        return
    event = _latest_event(case)
    current = str(event.pk if event else 0)
    if current in versions:
        return
    error = PreconditionFailed(
        _(
            "The case changed since you read it: %(person)s, %(at)s (%(change)s). Read it "
            "again, then send your change with its new version if you still want it."
        )
        % {
            "person": _who(event),
            "at": event.at.isoformat(timespec="seconds") if event else "",
            "change": event.get_kind_display() if event else "",
        },
        code="changed_meanwhile",
        fields={"version": [_("The case's version is now %(version)s.") % {"version": current}]},
    )
    error.version = current
    raise error


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
    _check_not_merged(case)
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
    _check_not_merged(case)
    _check_step(case, "start")
    case.acknowledged_at = case.acknowledged_at or timezone.now()
    return _move(
        case, membership, "start", kind=CaseEventKind.STARTED, extra_fields=["acknowledged_at"]
    )


@transaction.atomic
def case_assign(*, case, membership, assignee, seen=None, versions=None) -> Case:
    """Give an open case to a person (a User), or to nobody (None). Only people with an active
    case-handling role in the case's organisation can be given a case. `seen`: when the
    person's page was opened; an assignment changed since is not overwritten unseen.
    `versions`: the case versions the client has seen (`If-Match`), see `_check_version`."""
    case = _locked(case, membership)
    _check_version(case, versions)
    _check_not_merged(case)
    _check_open(case)
    _check_unchanged(
        case,
        seen,
        (CaseEventKind.ASSIGNED, CaseEventKind.UNASSIGNED),
        lambda: _(
            "%(person)s changed who this case is assigned to after you opened this page. "
            "Check the assignment at the top of the page, then save again if you still want "
            "your choice."
        ),
    )
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
    *,
    case,
    membership,
    verification,
    incident_type="",
    bias=(),
    ideology="",
    seen=None,
    versions=None,
) -> Case:
    """Record what staff found: the verification, and the verified incident type, bias codes
    and ideology (a staff-only axis) in the current taxonomy. Empty means "as reported" for the
    incident type and bias, "not given" for the ideology. `seen`: when the person's page was
    opened; a classification changed since is not overwritten unseen. `versions`: as for
    `case_assign`."""
    case = _locked(case, membership)
    _check_version(case, versions)
    _check_not_merged(case)
    _check_open(case)
    _check_unchanged(
        case,
        seen,
        (CaseEventKind.CLASSIFIED,),
        lambda: _(
            "%(person)s changed the classification after you opened this page. Check it "
            "under Classification, then save again if you still want your choice."
        ),
    )
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
    """Close an open case with an outcome; the duplicates merged into it close with it (so
    their reporters learn the outcome too). When it was a report's last open case, its
    reporter sees the report as closed."""
    case = _locked(case, membership)
    _check_not_merged(case)
    _check_step(case, "close")
    if outcome not in CaseOutcome.values:
        raise ValidationFailed(
            _("Choose how the case ended."), fields={"outcome": [_("Choose an outcome.")]}
        )
    now = timezone.now()
    _close_one(case, membership, outcome=outcome, now=now)
    merged = Case.objects.select_for_update().filter(place_id=case.place_id, merged_into=case)
    for duplicate in merged.exclude(status=CaseStatus.CLOSED).order_by("pk"):
        _close_one(duplicate, membership, outcome=outcome, now=now, data={"with": case.pk})
    return case


def _close_one(case, membership, *, outcome, now, data=None):
    case.outcome = outcome
    case.closed_at = now
    _move(
        case,
        membership,
        "close",
        kind=CaseEventKind.CLOSED,
        extra_fields=["outcome", "closed_at"],
        data={"outcome": outcome, **(data or {})},
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


@transaction.atomic
def case_reopen(*, case, membership) -> Case:
    """Reopen a closed case (back to in progress), and the duplicates merged into it that
    closed with it; their reports are with the organisations again."""
    case = _locked(case, membership)
    _check_not_merged(case)
    _check_step(case, "reopen")
    _reopen_one(case, membership)
    merged = Case.objects.select_for_update().filter(place_id=case.place_id, merged_into=case)
    for duplicate in merged.filter(status=CaseStatus.CLOSED).order_by("pk"):
        _reopen_one(duplicate, membership, data={"with": case.pk})
    return case


def _reopen_one(case, membership, data=None):
    before_outcome = case.outcome
    case.outcome = ""
    case.closed_at = None
    _move(
        case,
        membership,
        "reopen",
        kind=CaseEventKind.REOPENED,
        extra_fields=["outcome", "closed_at"],
        data={"outcome": before_outcome, **(data or {})},
    )
    report = Report.objects.select_for_update().get(place_id=case.place_id, pk=case.report_id)
    if report.status == ReportStatus.CLOSED:
        report.status = ReportStatus.WITH_ORGANISATIONS
        report.closed_at = None
        report.save(update_fields=["status", "closed_at"])


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


# --------------------------------------------------------------------------------------------
# Hand-on: another organisation of the place takes the report on, within the consent.

# Why the reporter's consent keeps a report from an organisation, in words for the caseworker.
_HAND_ON_REFUSALS = {
    ShareReason.NO_POLICE_CONSENT: lambda: _(
        "The reporter did not agree to share this report with the police."
    ),
    ShareReason.NO_SUPPORT_CONSENT: lambda: _(
        "The reporter did not agree to be contacted by support organisations."
    ),
    ShareReason.NOT_ONLINE_CONTENT: lambda: _(
        "This organisation receives only reports of public online content."
    ),
    ShareReason.NO_CONTENT_URL: lambda: _("The report gives no address of online content."),
    ShareReason.NOT_LISTED: lambda: _("This organisation does not work in this place."),
    ShareReason.UNKNOWN_TYPE: lambda: _("This kind of organisation cannot receive reports."),
}


def _refuse_hand_on(message, field_message=None, code="invalid"):
    raise ValidationFailed(message, code=code, fields={"organisation": [field_message or message]})


@transaction.atomic
def case_hand_on(*, case, membership, organisation, base_url="") -> Case:
    """Hand the report of an open case on to another organisation listed in the place, only as
    far as the reporter's consent allows (policies.share_for, as routing does): when the
    consent excludes it, refuse and say why, creating nothing.

    Creates a sent RoutingDecision (reason `handed_on`; an unsent one of the same organisation,
    from routing, becomes sent) and a case there (`handed_on_from` this one); this case moves
    to `handed_on` and stays open until closed. Events on both cases, an audit event, and the
    `report.routed` event and inbox e-mail for the receiving organisation, all in this
    transaction. Returns this case."""
    case = _locked(case, membership)
    _check_not_merged(case)
    _check_open(case)
    place = case.place
    if organisation is None:
        _refuse_hand_on(
            _("Choose the organisation to hand the report on to."), _("This field is required.")
        )
    if organisation.pk == case.organisation_id:
        _refuse_hand_on(_("This report is already with your organisation."))
    report = Report.objects.select_for_update().get(place_id=case.place_id, pk=case.report_id)
    if Case.objects.filter(place=place, report=report, organisation=organisation).exists():
        _refuse_hand_on(
            _("%(organisation)s already has this report.") % {"organisation": organisation.name}
        )
    listed = OrganisationListing.objects.filter(
        place=place, organisation=organisation, is_active=True
    ).exists()
    share = policies.share_for(report, organisation, listed=listed)
    if not share.allowed:
        why = _HAND_ON_REFUSALS.get(share.reason, _HAND_ON_REFUSALS[ShareReason.UNKNOWN_TYPE])()
        _refuse_hand_on(
            _("The report cannot be handed on to %(organisation)s. %(why)s Nothing was sent.")
            % {"organisation": organisation.name, "why": why},
            why,
            code="not_listed" if share.reason == ShareReason.NOT_LISTED else "consent_refused",
        )

    now = timezone.now()
    explanation = {
        "handed_on": {"case": case.pk, "organisation": case.organisation_id},
        "sent": True,
        "share": share.as_dict(),
    }
    decision = (
        RoutingDecision.objects.select_for_update()
        .filter(place=place, report=report, organisation=organisation)
        .first()
    )
    if decision is None:
        decision = RoutingDecision(
            place=place, report=report, organisation=organisation, created_at=now
        )
    else:
        # Routing named it but did not send it (the consent then, say): keep what it said.
        explanation = {**decision.explanation, **explanation, "before": {"reason": decision.reason}}
    decision.sent = True
    decision.level = share.level
    decision.with_contact = share.with_contact
    decision.reason = ShareReason.HANDED_ON
    decision.explanation = explanation
    decision.save()

    received = Case.objects.create(
        place=place,
        report=report,
        organisation=organisation,
        decision=decision,
        handed_on_from=case,
        created_at=now,
    )
    CaseEvent.objects.create(
        place=place,
        case=received,
        kind=CaseEventKind.HAND_ON_RECEIVED,
        data={
            "from_case": case.pk,
            "from_organisation": case.organisation_id,
            "decision": decision.pk,
            "level": decision.level,
        },
        at=now,
    )
    before = case.status
    case.status = CaseStatus.HANDED_ON
    case.acknowledged_at = case.acknowledged_at or now
    case.save(update_fields=["status", "acknowledged_at", "updated_at"])
    CaseEvent.objects.create(
        place=place,
        case=case,
        actor=membership.user,
        kind=CaseEventKind.HANDED_ON,
        data={
            "from": before,
            "to": case.status,
            "organisation": organisation.pk,
            "case": received.pk,
            "level": decision.level,
        },
        at=now,
    )
    audit_record(
        action=AuditAction.CASE_HANDED_ON,
        actor=membership.user,
        place=place,
        target=case,
        data={
            "case": case.pk,
            "report": report.pk,
            "organisation": organisation.pk,
            "received_case": received.pk,
            "decision": decision.pk,
            "level": decision.level,
            "with_contact": decision.with_contact,
        },
    )
    if report.status == ReportStatus.RECEIVED:
        report.status = ReportStatus.WITH_ORGANISATIONS
        report.save(update_fields=["status"])
    case_notify_received(place=place, case=received, base_url=base_url, handed_on=True)
    return case


# --------------------------------------------------------------------------------------------
# Merge and split: a duplicate is handled through another case of the same organisation.


@transaction.atomic
def case_merge(*, case, membership, into) -> Case:
    """Merge the duplicate `case` into `into`, an open case of the same organisation: the
    duplicate is marked `duplicate`, leaves the inbox and closes (and reopens) with `into`.
    Duplicates already merged into `case` move to `into` (one level only). Undone by
    case_split, which restores the verification. Returns `case`."""
    if into is None:
        raise ValidationFailed(
            _("Choose the case to merge this one into."),
            fields={"into": [_("Give the number of a case of your organisation.")]},
        )
    if into.pk == case.pk:
        raise ValidationFailed(
            _("A case cannot be merged into itself."),
            fields={"into": [_("Choose another case.")]},
        )
    if into.organisation_id != case.organisation_id or into.place_id != case.place_id:
        raise ValidationFailed(
            _("A case can only be merged into another case of your organisation."),
            fields={"into": [_("Give the number of a case of your organisation.")]},
        )
    # Lock both rows in id order, so two merges of the same pair cannot deadlock.
    locked = {}
    for pk in sorted((case.pk, into.pk)):
        target = case if pk == case.pk else into
        locked[pk] = _locked(target, membership)
    case, into = locked[case.pk], locked[into.pk]
    if case.merged_into_id:
        raise ValidationFailed(
            _("This case is already merged into another case: split it off first."),
            code="merged",
        )
    _check_open(case)
    if into.merged_into_id:
        raise ValidationFailed(
            _("That case is itself merged into another: merge into that one."),
            code="merged",
            fields={"into": [_("Choose the case it was merged into.")]},
        )
    if into.is_closed:
        raise ValidationFailed(
            _("That case is closed: reopen it first."),
            code="invalid_transition",
            fields={"into": [_("Choose an open case.")]},
        )

    now = timezone.now()
    moved = list(
        Case.objects.select_for_update()
        .filter(place_id=case.place_id, merged_into=case)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if moved:
        Case.objects.filter(place_id=case.place_id, pk__in=moved).update(
            merged_into=into, updated_at=now
        )
        CaseEvent.objects.bulk_create(
            CaseEvent(
                place_id=case.place_id,
                case_id=pk,
                actor=membership.user,
                kind=CaseEventKind.MERGED,
                data={"into": into.pk, "via": case.pk},
                at=now,
            )
            for pk in moved
        )
    before = case.verification
    case.merged_into = into
    case.verification = Verification.DUPLICATE
    case.save(update_fields=["merged_into", "verification", "updated_at"])
    for event_case, data in (
        (case, {"into": into.pk, "verification_before": before, "moved": moved}),
        (into, {"case": case.pk, "moved": moved}),
    ):
        CaseEvent.objects.create(
            place_id=case.place_id,
            case=event_case,
            actor=membership.user,
            kind=CaseEventKind.MERGED,
            data=data,
            at=now,
        )
    audit_record(
        action=AuditAction.CASE_MERGED,
        actor=membership.user,
        place=case.place,
        target=case,
        data={"case": case.pk, "into": into.pk, "moved": moved},
    )
    return case


@transaction.atomic
def case_split(*, case, membership) -> Case:
    """Undo a merge: the case is on its own again (back in the inbox), with the verification it
    had before it was merged. Returns the case."""
    case = _locked(case, membership)
    if not case.merged_into_id:
        raise ValidationFailed(_("This case is not merged into another case."), code="not_merged")
    primary_id = case.merged_into_id
    before = Verification.UNVERIFIED
    merges = CaseEvent.objects.filter(
        place_id=case.place_id, case=case, kind=CaseEventKind.MERGED
    ).order_by("-at", "-id")
    for event in merges:
        if "verification_before" in event.data:
            before = event.data["verification_before"]
            break
    now = timezone.now()
    case.merged_into = None
    if case.verification == Verification.DUPLICATE:
        case.verification = before
    case.save(update_fields=["merged_into", "verification", "updated_at"])
    for event_case_id, data in (
        (case.pk, {"from": primary_id, "verification": case.verification}),
        (primary_id, {"case": case.pk}),
    ):
        CaseEvent.objects.create(
            place_id=case.place_id,
            case_id=event_case_id,
            actor=membership.user,
            kind=CaseEventKind.SPLIT,
            data=data,
            at=now,
        )
    audit_record(
        action=AuditAction.CASE_SPLIT,
        actor=membership.user,
        place=case.place,
        target=case,
        data={"case": case.pk, "from": primary_id},
    )
    return case


# --------------------------------------------------------------------------------------------
# Messages with the reporter (the staff side; the reporter's side is in locus.reporting).

MESSAGE_MAX_LENGTH = 5_000
MESSAGE_EMAIL_EVENT = "case.message"


@transaction.atomic
def case_message_send(*, case, membership, body, base_url="") -> CaseMessage:
    """Write to the reporter of a case. The organisation learns nothing about who the reporter
    is from this: when the reporter asked for e-mail updates and gave an address, Locus (not
    the organisation) e-mails them that there is a new message — with a link to the follow-up
    page and none of the message. Not for content-only cases: that organisation received
    nothing about the reporter, so it has no channel to them either."""
    case = _locked(case, membership)
    decision = RoutingDecision.objects.get(place_id=case.place_id, pk=case.decision_id)
    if decision.level == ShareLevel.CONTENT_ONLY:
        raise ValidationFailed(
            _(
                "Your organisation received only the public online content of this report, "
                "so it cannot write to the reporter."
            ),
            code="not_allowed",
        )
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(
            _("Write the message first."), fields={"body": [_("This field is required.")]}
        )
    if len(body) > MESSAGE_MAX_LENGTH:
        raise ValidationFailed(
            _("The message is too long."),
            fields={
                "body": [_("Keep it under %(limit)s characters.") % {"limit": MESSAGE_MAX_LENGTH}]
            },
        )
    place = case.place
    message = CaseMessage.objects.create(
        place=place,
        case=case,
        direction=MessageDirection.TO_REPORTER,
        author=membership.user,
        body=body,
    )
    CaseEvent.objects.create(
        place=place,
        case=case,
        actor=membership.user,
        kind=CaseEventKind.MESSAGE_SENT,
        data={"message": message.pk},
        at=message.at,
    )
    audit_record(
        action=AuditAction.CASE_MESSAGE_SENT,
        actor=membership.user,
        place=place,
        target=case,
        data={"case": case.pk, "report": case.report_id, "message": message.pk},
    )
    report = Report.objects.get(place=place, pk=case.report_id)
    email = (report.contact or {}).get("email") if report.wants_email_updates else None
    if email and report.anonymised_at is None:
        link = absolute_link(
            reverse("reporting:followup", kwargs={"place_slug": place.slug}), base_url
        )
        with translation.override(report.language or place.default_language):
            subject = _("New message about your report %(reference)s") % {
                "reference": report.reference
            }
            text = _(
                "An organisation handling your report %(reference)s has written to you. "
                "To read the message, open the follow-up page with your reference and your "
                "follow-up code:\n%(link)s\n\n"
                "For your privacy this e-mail does not contain the message."
            ) % {"reference": report.reference, "link": link}
        outbox_enqueue_reporter_email(
            place=place,
            report=report,
            subject=subject,
            body=text,
            source=message,
            event_type=MESSAGE_EMAIL_EVENT,
        )
    return message


def case_messages_mark_read(*, case, membership, now=None) -> int:
    """Mark the reporter's unread messages of a case read, when someone of the case's own
    organisation who handles cases sees them (never the place team reading another
    organisation's case). Returns how many."""
    if not policies.case_can_act(membership, case):
        return 0
    return CaseMessage.objects.filter(
        place_id=case.place_id,
        case=case,
        direction=MessageDirection.FROM_REPORTER,
        read_at__isnull=True,
    ).update(read_at=now or timezone.now())


# --------------------------------------------------------------------------------------------
# Handling targets: set by an organisation's administrators, for the organisation in a place.

TARGET_HOURS_MAX = 24 * 365
TARGET_DAYS_MAX = 3650


def _target_errors(value, *, maximum, field):
    if value is None:
        return {}
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        return {field: [_("Give a whole number from 1 to %(max)s.") % {"max": maximum}]}
    return {}


@transaction.atomic
def case_targets_set(
    *, place, membership, acknowledge_target_hours, close_target_days
) -> OrganisationListing:
    """Set the membership's organisation's handling targets in the place (None: no target).
    Only its administrators may; audited with the values before and after."""
    if not policies.case_targets_can_set(membership):
        raise PermissionDenied(_("Only an administrator of the organisation can set its targets."))
    errors = {
        **_target_errors(
            acknowledge_target_hours, maximum=TARGET_HOURS_MAX, field="acknowledge_target_hours"
        ),
        **_target_errors(close_target_days, maximum=TARGET_DAYS_MAX, field="close_target_days"),
    }
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    listing = (
        OrganisationListing.objects.select_for_update()
        .filter(place=place, organisation_id=membership.organisation_id, is_active=True)
        .first()
    )
    if listing is None:
        raise PermissionDenied(_("Your organisation does not work in this place."))
    before = {
        "acknowledge_target_hours": listing.acknowledge_target_hours,
        "close_target_days": listing.close_target_days,
    }
    after = {
        "acknowledge_target_hours": acknowledge_target_hours,
        "close_target_days": close_target_days,
    }
    if before == after:
        return listing
    listing.acknowledge_target_hours = acknowledge_target_hours
    listing.close_target_days = close_target_days
    listing.save(update_fields=list(after))
    audit_record(
        action=AuditAction.CASE_TARGETS_CHANGED,
        actor=membership.user,
        place=place,
        target=listing,
        data={"organisation": membership.organisation_id, "before": before, "after": after},
    )
    return listing
