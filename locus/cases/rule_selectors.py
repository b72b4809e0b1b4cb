"""Reads for the routing-rule editor: a place's rules in plain words (taxonomy labels in the
viewer's language, area and organisation names), their change history from the audit log, and
a preview's result described for a person. Nothing here writes.

Every function takes the place explicitly; lists resolve names in a fixed number of queries,
whatever the number of rules.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.directory.choices import OrganisationType
from locus.directory.selectors import organisation_list
from locus.places.selectors import area_list
from locus.reporting.taxonomy import UnknownCode, taxonomy

from .choices import CONDITION_KEYS, TAXONOMY_CONDITION_KEYS, ShareLevel, ShareReason
from .models import RoutingRule
from .routing import decision_sentence, directory_for, record_only_sentence
from .selectors import routing_rule_list

RULE_TARGET = RoutingRule._meta.label_lower


def consent_labels():
    """The consent conditions in words, for staff (built per call: gettext runs in the language
    active then)."""
    return {
        "police_anonymised": _("Shared with the police, anonymised"),
        "police_with_contact": _("Sent to the police with contact details"),
        "support_contact": _("A support organisation may contact them"),
    }


def condition_label(key, language):
    """What a condition key is about, in words."""
    if key in TAXONOMY_CONDITION_KEYS:
        return taxonomy().axis_label(key, language)
    return {
        "area": _("Area"),
        "online": _("Online"),
        "language": _("Language of the report"),
        "consent": _("The reporter agreed to"),
    }.get(key, key)


def _code_label(axis, code, language):
    vocabulary = taxonomy()
    try:
        value = vocabulary.get(axis, code)
    except UnknownCode:
        return str(code)  # a retired code keeps matching nothing; show it as it is
    label = value.label(language)
    if axis == "bias" and vocabulary.children(axis, code):
        return _("%(label)s (and its more specific answers)") % {"label": label}
    return label


def describe_conditions(conditions, *, language, area_names) -> list[tuple[str, list[str]]]:
    """A rule's conditions (or a decision's matched conditions) as (what, [values]) in words,
    in the order of CONDITION_KEYS. `area_names` maps area ids to names."""
    if not isinstance(conditions, dict):
        return []
    rows = []
    languages = dict(settings.LANGUAGES)
    consents = consent_labels()
    for key in CONDITION_KEYS:
        values = conditions.get(key)
        if values is None or values == []:
            continue
        if key == "online":
            shown = [_("Only online") if values else _("Only offline")]
        elif not isinstance(values, (list, tuple)):
            shown = [str(values)]
        elif key in TAXONOMY_CONDITION_KEYS:
            shown = [_code_label(key, code, language) for code in values]
        elif key == "area":
            shown = [area_names.get(v, str(v)) for v in values]
        elif key == "language":
            shown = [str(languages.get(v, v)) for v in values]
        else:  # consent
            shown = [str(consents.get(v, v)) for v in values]
        rows.append((condition_label(key, language), shown))
    return rows


def area_names(place) -> dict[int, str]:
    return dict(area_list(place=place).values_list("pk", "name"))


def organisation_type_label(organisation):
    try:
        return OrganisationType(organisation.type).label
    except ValueError:
        return organisation.type


@dataclass
class Destination:
    organisation: object
    type_label: str
    listed: bool  # still actively listed in the place (else it receives nothing)


@dataclass
class RuleView:
    """One rule as the editor shows it."""

    rule: RoutingRule
    number: int  # its place in the evaluation order, from 1
    conditions: list = field(default_factory=list)
    destinations: list = field(default_factory=list)

    @property
    def summary(self) -> list[str]:
        """The rule in sentences (for the API)."""
        lines = []
        if self.rule.is_fallback:
            lines.append(_("Used only when no other rule matched a report."))
        elif not self.conditions:
            lines.append(_("Every report."))
        for label, values in self.conditions:
            lines.append(
                _("%(condition)s: %(values)s") % {"condition": label, "values": ", ".join(values)}
            )
        names = ", ".join(d.organisation.name for d in self.destinations) or _("nobody")
        lines.append(_("Send to: %(organisations)s") % {"organisations": names})
        if self.rule.stop:
            lines.append(_("When this rule matches, later rules are not looked at."))
        if not self.rule.is_active:
            lines.append(_("Disabled: not used for routing."))
        return lines


def routing_rule_views(place, *, language, rules=None) -> list[RuleView]:
    """The place's rules in evaluation order (or `rules`), described. Three queries: the rules
    with their destinations, the area names, the listings."""
    rules = list(routing_rule_list(place) if rules is None else rules)
    uses_areas = any(isinstance(r.conditions, dict) and r.conditions.get("area") for r in rules)
    names = area_names(place) if uses_areas else {}
    listed = directory_for(place.pk).listed
    with translation.override(language):
        return [
            RuleView(
                rule=rule,
                number=number,
                conditions=describe_conditions(
                    rule.conditions, language=language, area_names=names
                ),
                destinations=[
                    Destination(
                        organisation=organisation,
                        type_label=organisation_type_label(organisation),
                        listed=organisation.pk in listed,
                    )
                    for organisation in sorted(rule.destinations.all(), key=lambda o: o.name)
                ],
            )
            for number, rule in enumerate(rules, start=1)
        ]


def fallback_rules(views) -> list[RuleView]:
    """The active fallback rules among described rules."""
    return [view for view in views if view.rule.is_fallback and view.rule.is_active]


# Change history --------------------------------------------------------------------------------


def routing_rule_history(place, rule_id=None, *, limit=50):
    """The audit events of one rule (or of every rule of the place), newest first."""
    events = AuditEvent.objects.filter(
        place=place, action=AuditAction.ROUTING_RULE_CHANGED, target_type=RULE_TARGET
    )
    if rule_id is not None:
        events = events.filter(target_id=str(rule_id))
    return events.select_related("actor").order_by("-at", "-id")[:limit]


def history_rule_names(events, names):
    """The rule each history event is about, by id: `names` (the rules as they are), and a
    deleted rule by the name its deletion recorded — newer than its other events, so among
    the same newest events — else by its id."""
    deleted = {
        event.target_id: (event.data or {}).get("name")
        for event in events
        if (event.data or {}).get("deleted")
    }
    labels = {}
    for event in events:
        rule_id = event.target_id
        if rule_id in names:
            labels[rule_id] = names[rule_id]
        elif deleted.get(rule_id):
            labels[rule_id] = _("Rule “%(name)s” (deleted)") % {"name": deleted[rule_id]}
        else:
            labels[rule_id] = _("Rule %(id)s (deleted)") % {"id": rule_id}
    return labels


def _field_label(name):
    try:
        return str(RoutingRule._meta.get_field(name).verbose_name)
    except Exception:  # a field removed since the event was written
        return name


def describe_change(event) -> str:
    """One audit event of a rule in words: created, deleted, or which fields changed."""
    data = event.data or {}
    if data.get("deleted"):
        return _("Deleted")
    fields = ", ".join(_field_label(name) for name in data.get("fields", []))
    if data.get("created"):
        return _("Created")
    return _("Changed: %(fields)s") % {"fields": fields} if fields else _("Changed")


# Preview results ------------------------------------------------------------------------------


@dataclass
class DestinationView:
    organisation: object
    type_label: str
    sent: bool
    level: str
    level_label: str
    with_contact: bool
    reason: str
    reason_label: str
    sentence: str  # what the reporter's receipt would say
    rule: dict  # {"id", "name"}
    fallback: bool
    matched: list  # [(what, [values])]
    matched_raw: dict
    also_matched: list  # [{"id", "name"}]


@dataclass
class ResultView:
    destinations: list
    matched_rules: list  # [{"id", "name"}]
    not_named: list  # organisations of the place no matching rule names
    record_only: str | None

    def by_organisation(self):
        return {d.organisation.pk: d for d in self.destinations}


def _label(choices, code):
    try:
        return str(choices(code).label)
    except ValueError:
        return code or ""


def describe_result(result, *, place, language, specs, organisations=None, names=None):
    """A RoutingResult (from a preview) in words: per destination the level, the reason, the
    sentence the reporter would read and the rule with the conditions that matched.
    `specs` are the RuleSpecs the preview ran on (to name matched rules)."""
    names = area_names(place) if names is None else names
    organisations = list(organisation_list(place=place)) if organisations is None else organisations
    by_id = {spec.id: spec for spec in specs if spec.id is not None}
    by_name = {spec.name: spec for spec in specs}
    with translation.override(language):
        rows = []
        for decision in result.destinations:
            explanation = decision.explanation
            share = decision.share
            rows.append(
                DestinationView(
                    organisation=decision.organisation,
                    type_label=organisation_type_label(decision.organisation),
                    sent=decision.sent,
                    level=share.level or "",
                    level_label=_label(ShareLevel, share.level) if share.level else "",
                    with_contact=share.with_contact,
                    reason=share.reason,
                    reason_label=_label(ShareReason, share.reason),
                    sentence=decision_sentence(decision, language),
                    rule=dict(explanation.get("rule") or {}),
                    fallback=bool(explanation.get("fallback")),
                    matched=describe_conditions(
                        explanation.get("matched") or {}, language=language, area_names=names
                    ),
                    matched_raw=dict(explanation.get("matched") or {}),
                    also_matched=[item["rule"] for item in explanation.get("also_matched", [])],
                )
            )
        named = {d.organisation.pk for d in result.destinations}
        matched_rules = []
        for ref in result.matched_rules:
            spec = by_id.get(ref) or by_name.get(ref)
            matched_rules.append(
                {"id": getattr(spec, "id", None), "name": getattr(spec, "name", str(ref))}
            )
        return ResultView(
            destinations=rows,
            matched_rules=matched_rules,
            not_named=[o for o in organisations if o.pk not in named],
            record_only=record_only_sentence(result.destinations, language),
        )


def _what(view):
    """What an organisation receives, in words (the level, and whether contact details go)."""
    if view.with_contact:
        return _("%(level)s, with contact details") % {"level": view.level_label}
    return view.level_label


def compare_results(current: ResultView, draft: ResultView, *, language) -> list[str]:
    """What an edit changes for one sample report: one sentence per organisation whose outcome
    differs (an empty list when nothing changes)."""
    before, after = current.by_organisation(), draft.by_organisation()
    organisations = {pk: view.organisation for pk, view in (before | after).items()}
    lines = []
    with translation.override(language):
        for pk, organisation in sorted(organisations.items(), key=lambda item: item[1].name):
            old, new = before.get(pk), after.get(pk)
            old_sent, new_sent = bool(old and old.sent), bool(new and new.sent)
            values = {"organisation": organisation.name}
            if new_sent and not old_sent:
                lines.append(
                    _("%(organisation)s would now receive it: %(level)s.")
                    % {**values, "level": _what(new)}
                )
            elif old_sent and not new_sent:
                lines.append(_("%(organisation)s would no longer receive it.") % values)
            elif old_sent and _what(old) != _what(new):
                lines.append(
                    _("%(organisation)s would receive %(level)s instead of %(before)s.")
                    % {**values, "level": _what(new), "before": _what(old)}
                )
            elif old_sent and old.rule.get("name") != new.rule.get("name"):
                lines.append(
                    _("%(organisation)s would still receive it, through the rule %(rule)s.")
                    % {**values, "rule": new.rule.get("name", "")}
                )
    return lines
