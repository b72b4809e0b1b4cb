"""Writes of the routing-rule editor, on top of `services.routing_rule_save` (which validates
and audits every change): errors named per condition, reordering, and previews of a rule as
edited, before it is saved (nothing is written for a preview).

The editor (rule_views.py) and the API (rules_api.py) call these; both show a person's mistakes
next to the field: `conditions.<key>` for one condition, `is_fallback`, `destinations`, `name`.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from locus.core.errors import ValidationFailed

from .models import RoutingRule, conditions_conflicts, conditions_errors, validate_destinations
from .routing import RoutingResult, RuleSpec
from .selectors import routing_rule_list
from .services import _normalise_conditions, routing_preview, routing_rule_save

POSITION_STEP = 10


def _condition_fields(exc: ValidationFailed, *, place, conditions, is_fallback):
    """The service's flat `conditions` messages, named per condition key where possible (so a
    form or an API client can put each next to its field); the rest stays on `is_fallback`
    (a fallback with conditions) or `conditions`."""
    flat = exc.fields.get("conditions")
    if not flat:
        return exc
    fields = {name: msgs for name, msgs in exc.fields.items() if name != "conditions"}
    placed = set()
    if isinstance(conditions, dict):
        for key, value in conditions.items():
            messages = [str(m) for m in conditions_errors({key: value}, place_id=place.pk)]
            if messages:
                fields[f"conditions.{key}"] = messages
                placed.update(messages)
        conflicts = [str(m) for m in conditions_conflicts(conditions)]
        if conflicts:  # "only online/offline" against the types or settings named
            fields.setdefault("conditions.online", []).extend(conflicts)
            placed.update(conflicts)
    rest = [message for message in flat if message not in placed]
    if rest:
        fields["is_fallback" if is_fallback and conditions else "conditions"] = rest
    return ValidationFailed(exc.message, code=exc.code, fields=fields)


def destination_errors(*, is_fallback, stop, destinations) -> dict:
    """`{"destinations": [message]}` for a rule that would send to nobody and so only do harm
    or nothing: a matching rule counts as matched even without destinations, so the fallback
    no longer applies to the reports it matches (a rule that also *stops* is a deliberate "keep
    these with the team", and is allowed); a fallback sending to nobody does nothing while
    hiding the "no fallback" warning."""
    if destinations:
        return {}
    if is_fallback:
        message = _(
            "Choose at least one organisation: a fallback rule that sends to nobody does nothing."
        )
    elif not stop:
        message = _(
            "Choose at least one organisation. A rule that sends to nobody still matches, so "
            "the fallback rule would no longer apply to these reports. To keep them with your "
            "team only, tick “Stop here”."
        )
    else:
        return {}
    return {"destinations": [message]}


def _with_fields(exc: ValidationFailed | None, fields: dict) -> ValidationFailed:
    """`exc` with `fields` added (or a new error naming only them)."""
    if exc is None:
        return ValidationFailed(_("Please correct the errors below."), fields=fields)
    merged = {name: list(msgs) for name, msgs in exc.fields.items()}
    for name, msgs in fields.items():
        merged.setdefault(name, []).extend(msgs)
    return ValidationFailed(exc.message, code=exc.code, fields=merged)


class _SendsToNobody(Exception):
    """Rolls back a save that `destination_errors` refuses."""


def routing_rule_write(*, place, actor, rule=None, **changes) -> RoutingRule:
    """Create (rule=None) or change a rule through `routing_rule_save` (validated, audited),
    with condition errors named per key (`conditions.bias`, …). A rule that would send to
    nobody is refused too (see `destination_errors`), checked whenever its destinations, stop
    or fallback are given, so an old rule can still be moved, enabled or disabled."""
    conditions = _normalise_conditions(changes.get("conditions", rule.conditions if rule else {}))
    is_fallback = changes.get("is_fallback", rule.is_fallback if rule else False)
    extra = {}
    if rule is None or {"destinations", "stop", "is_fallback"} & set(changes):
        extra = destination_errors(
            is_fallback=is_fallback,
            stop=changes.get("stop", rule.stop if rule else False),
            destinations=list(
                changes["destinations"]
                if "destinations" in changes
                else (rule.destinations.all() if rule else ())
            ),
        )
    try:
        with transaction.atomic():
            saved = routing_rule_save(place=place, actor=actor, rule=rule, **changes)
            if extra:  # valid otherwise: undo the save (and its audit event)
                raise _SendsToNobody
    except _SendsToNobody:
        raise _with_fields(None, extra) from None
    except ValidationFailed as exc:
        failed = _condition_fields(exc, place=place, conditions=conditions, is_fallback=is_fallback)
        raise _with_fields(failed, extra) from None
    return saved


def _next_position(place):
    last = routing_rule_list(place).order_by("-position").first()
    return (last.position + POSITION_STEP) if last else POSITION_STEP


def routing_rule_draft(
    *,
    place,
    rule=None,
    name,
    is_active=True,
    is_fallback=False,
    stop=False,
    conditions=None,
    destinations=(),
) -> RuleSpec:
    """A rule as edited, validated exactly as saving it would be, but not saved: for a
    preview. `rule` is the rule being edited (its id and position are kept); a new rule goes
    after the others, as saving it would put it."""
    conditions = _normalise_conditions(conditions or {})
    destinations = list(destinations)
    candidate = RoutingRule(
        place=place,
        name=name,
        position=rule.position if rule is not None else _next_position(place),
        is_active=is_active,
        is_fallback=is_fallback,
        conditions=conditions,
        stop=stop,
    )
    try:
        candidate.full_clean(exclude=["created_by"])
        validate_destinations(place=place, organisations=destinations)
    except ValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        failed = ValidationFailed(_("Please correct the errors below."), fields=fields)
        failed = _condition_fields(
            failed, place=place, conditions=conditions, is_fallback=is_fallback
        )
        extra = destination_errors(is_fallback=is_fallback, stop=stop, destinations=destinations)
        raise _with_fields(failed, extra) from None
    extra = destination_errors(is_fallback=is_fallback, stop=stop, destinations=destinations)
    if extra:
        raise _with_fields(None, extra)
    return RuleSpec(
        id=rule.pk if rule is not None else None,
        name=candidate.name,
        position=candidate.position,
        conditions=conditions,
        destinations=tuple(destinations),
        stop=stop,
        is_fallback=is_fallback,
        is_active=is_active,
    )


@dataclass
class Preview:
    """A sample report routed with the saved rules (`current`) and, when a draft was given,
    with the draft in place of the rule it edits (`draft`). `specs` name the rules of each."""

    current: RoutingResult
    current_specs: list
    draft: RoutingResult | None = None
    draft_specs: list | None = None


def routing_preview_compare(*, place, sample: dict, draft: RuleSpec | None = None) -> Preview:
    """Route a sample report (see `services.routing_preview`) with the place's saved rules and,
    if `draft` is given, with the rules as edited. Saves nothing. Raises ValidationFailed
    naming the sample's fields."""
    saved = [RuleSpec.of(rule) for rule in routing_rule_list(place)]
    current = routing_preview(place=place, sample=sample, rules=saved)
    preview = Preview(current=current, current_specs=saved)
    if draft is not None:
        edited = [spec for spec in saved if draft.id is None or spec.id != draft.id]
        edited.append(draft)
        preview.draft = routing_preview(place=place, sample=sample, rules=edited)
        preview.draft_specs = edited
    return preview


@transaction.atomic
def routing_rules_reorder(*, place, actor, order) -> list[RoutingRule]:
    """Put the place's rules in `order` (every rule id of the place, each once): positions
    become 10, 20, 30…; each rule whose position changes is saved (and audited) through
    `routing_rule_save`."""
    rules = list(routing_rule_list(place).select_for_update())
    by_id = {rule.pk: rule for rule in rules}
    order = list(order)
    if len(order) != len(set(order)) or set(order) != set(by_id):
        raise ValidationFailed(
            _("Give every rule of this place exactly once."),
            fields={"order": [_("List every rule of this place exactly once, in the new order.")]},
        )
    for index, rule_id in enumerate(order, start=1):
        rule = by_id[rule_id]
        if rule.position != index * POSITION_STEP:
            routing_rule_save(place=place, actor=actor, rule=rule, position=index * POSITION_STEP)
    return list(routing_rule_list(place))


@transaction.atomic
def routing_rule_move(*, place, actor, rule, offset) -> list[RoutingRule]:
    """Move a rule `offset` places in the evaluation order (-1: up, +1: down). At either end it
    stays where it is."""
    if rule.place_id != place.pk:
        raise ValidationFailed(_("The rule belongs to another place."))
    order = list(routing_rule_list(place).values_list("pk", flat=True))
    if rule.pk not in order:
        raise ValidationFailed(_("This rule no longer exists."))
    index = order.index(rule.pk)
    target = index + offset
    if target < 0 or target >= len(order):
        raise ValidationFailed(
            _("This rule is already first.") if offset < 0 else _("This rule is already last.")
        )
    order.insert(target, order.pop(index))
    return routing_rules_reorder(place=place, actor=actor, order=order)
