"""The routing engine: which organisations receive a report, and how much of it. Pure and
deterministic: it reads the rules and the report it is given (and, unless told, which
organisations are listed in the place) and writes nothing. `services.report_route` stores the
result; `services.routing_preview` shows it for a sample report.

Semantics (docs/routing.md):

- active rules are looked at in position order (then id);
- a rule matches when every condition it gives matches (AND); the values of one condition
  are alternatives (OR); an empty condition is ignored; a condition the engine does not
  understand never matches (fail closed);
- a bias sub-value matches a rule naming its parent (anti_roma_sinti matches racism_xenophobia);
- a matching rule with `stop` ends the look-up;
- fallback rules apply only when no other rule matched;
- an organisation named by several matching rules appears once: the first rule wins and the
  later ones are listed in its explanation;
- every destination then goes through `policies.share_for`; one the reporter's consent does not
  allow stays in the result, not sent, with the reason, so the receipt can say so.

The engine never raises on odd data (unknown codes, malformed conditions): an odd condition
simply does not match.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _

from .choices import CONDITION_KEYS, ShareReason
from .policies import Share, share_for


@dataclass(frozen=True)
class RuleSpec:
    """What the engine needs of a rule. Built from a saved RoutingRule (`RuleSpec.of`) or
    directly, for previews and tests."""

    id: int | None
    name: str
    position: int = 0
    conditions: Mapping = field(default_factory=dict)
    destinations: tuple = ()
    stop: bool = False
    is_fallback: bool = False
    is_active: bool = True

    @classmethod
    def of(cls, rule) -> RuleSpec:
        if isinstance(rule, RuleSpec):
            return rule
        return cls(
            id=rule.pk,
            name=rule.name,
            position=rule.position,
            conditions=rule.conditions,
            destinations=tuple(rule.destinations.all()),
            stop=rule.stop,
            is_fallback=rule.is_fallback,
            is_active=rule.is_active,
        )

    def ref(self):
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class Directory:
    """The organisations actively listed in a place, and those that run Locus there."""

    listed: frozenset = frozenset()
    place_teams: frozenset = frozenset()


def directory_for(place_id) -> Directory:
    from locus.directory.models import OrganisationListing

    rows = OrganisationListing.objects.filter(place_id=place_id, is_active=True).values_list(
        "organisation_id", "manages_place"
    )
    rows = list(rows)
    return Directory(
        listed=frozenset(org for org, _team in rows),
        place_teams=frozenset(org for org, team in rows if team),
    )


@dataclass(frozen=True)
class Decision:
    """One destination: the organisation, the rule that first named it, what it may receive,
    and the structured explanation (no personal data)."""

    organisation: object
    rule: object  # the RoutingRule (or RuleSpec) given to `evaluate`
    share: Share
    explanation: dict

    @property
    def sent(self) -> bool:
        return self.share.allowed

    @property
    def rule_id(self):
        return getattr(self.rule, "pk", getattr(self.rule, "id", None))


@dataclass(frozen=True)
class RoutingResult:
    destinations: list[Decision]
    matched_rules: list = field(default_factory=list)  # ids (or names) in order

    @property
    def sent(self) -> list[Decision]:
        return [d for d in self.destinations if d.sent]

    @property
    def not_sent(self) -> list[Decision]:
        return [d for d in self.destinations if not d.sent]


# Facts about a report --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    incident_type: frozenset
    bias: frozenset  # the report's codes and their parents
    setting: frozenset
    platform: frozenset
    area: frozenset
    online: bool
    language: frozenset
    consent: frozenset


def _vocabulary(report):
    from locus.reporting.taxonomy import UnknownVersion, taxonomy

    try:
        return taxonomy(getattr(report, "taxonomy_version", "") or None)
    except UnknownVersion:
        return taxonomy()


def _codes(*values):
    return frozenset(v for v in values if isinstance(v, str) and v)


def _value(vocabulary, axis, code):
    """The taxonomy value, or None for an unknown (or malformed) code."""
    if isinstance(code, str) and vocabulary.has(axis, code):
        return vocabulary.get(axis, code)
    return None


def facts_of(report) -> _Facts:
    """What the conditions are compared with. Unknown codes are kept as they are (they match
    only a rule naming them) and are neither online nor anyone's sub-value."""
    vocabulary = _vocabulary(report)
    bias = set()
    raw_bias = report.bias if isinstance(report.bias, (list, tuple, set, frozenset)) else []
    for code in raw_bias:
        value = _value(vocabulary, "bias", code)
        if isinstance(code, str):
            bias.add(code)
        while value is not None and value.parent:  # a sub-value counts as its parent
            bias.add(value.parent)
            value = _value(vocabulary, "bias", value.parent)
    kind = _value(vocabulary, "incident_type", report.incident_type)
    setting = _value(vocabulary, "setting", report.setting)
    online = bool((kind and kind.online) or (setting and setting.online))
    language = str(report.language or "").replace("_", "-").lower()
    consent = set()
    if report.consent_police_with_contact:
        consent |= {"police_with_contact", "police_anonymised"}
    if report.consent_police_anonymised:
        consent.add("police_anonymised")
    if report.consent_support_contact:
        consent.add("support_contact")
    return _Facts(
        incident_type=_codes(report.incident_type),
        bias=frozenset(bias),
        setting=_codes(report.setting),
        platform=_codes(report.platform),
        area=frozenset({report.area_id}) if report.area_id is not None else frozenset(),
        online=online,
        language=_codes(language, language.split("-")[0]),
        consent=frozenset(consent),
    )


def _as_set(values):
    """A condition's values as a set, or None when malformed (a malformed condition never
    matches)."""
    if not isinstance(values, (list, tuple)):
        return None
    items = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return None
        items.add(value)
    return items


def match(conditions, facts: _Facts) -> dict | None:
    """The conditions that matched ({key: matched values}) when all do, else None."""
    if not isinstance(conditions, Mapping):
        return None
    matched = {}
    for key, values in conditions.items():
        if key not in CONDITION_KEYS:
            return None
        if key == "online":
            if values is None:
                continue
            if not isinstance(values, bool) or values != facts.online:
                return None
            matched["online"] = values
            continue
        if values is None or values == []:
            continue
        wanted = _as_set(values)
        if wanted is None:
            return None
        hits = wanted & getattr(facts, key)
        if not hits:
            return None
        matched[key] = sorted(hits, key=str)
    return matched


# The engine ------------------------------------------------------------------------------------


def _order(spec: RuleSpec):
    return (spec.position, spec.id if spec.id is not None else math.inf, spec.name)


def _destinations(spec):
    return sorted(
        (o for o in spec.destinations if getattr(o, "pk", None) is not None),
        key=lambda o: (str(o.name), o.pk),
    )


def evaluate(report, rules: Iterable, *, directory: Directory | None = None) -> RoutingResult:
    """Route `report` (saved or not) through `rules` (RoutingRule rows or RuleSpecs; inactive
    ones are skipped). `directory` defaults to the listings of the report's place."""
    if directory is None:
        directory = directory_for(report.place_id)
    facts = facts_of(report)
    pairs = sorted(
        ((rule, RuleSpec.of(rule)) for rule in rules),
        key=lambda pair: _order(pair[1]),
    )
    pairs = [(rule, spec) for rule, spec in pairs if spec.is_active]

    hits = []  # (rule, spec, matched conditions)
    for rule, spec in pairs:
        if spec.is_fallback:
            continue
        matched = match(spec.conditions, facts)
        if matched is None:
            continue
        hits.append((rule, spec, matched))
        if spec.stop:
            break
    if not hits:
        for rule, spec in pairs:
            if spec.is_fallback:
                hits.append((rule, spec, {}))
                if spec.stop:
                    break

    chosen: dict = {}  # organisation id -> [organisation, rule, spec, matched, also]
    for rule, spec, matched in hits:
        for organisation in _destinations(spec):
            entry = chosen.get(organisation.pk)
            if entry is None:
                chosen[organisation.pk] = [organisation, rule, spec, matched, []]
            else:
                entry[4].append({"rule": spec.ref(), "matched": matched})

    decisions = []
    for organisation, rule, spec, matched, also in chosen.values():
        share = share_for(
            report,
            organisation,
            place_team=organisation.pk in directory.place_teams,
            listed=organisation.pk in directory.listed,
        )
        explanation = {
            "rule": spec.ref(),
            "fallback": spec.is_fallback,
            "matched": matched,
            "also_matched": also,
            "sent": share.allowed,
            "share": share.as_dict(),
        }
        decisions.append(
            Decision(organisation=organisation, rule=rule, share=share, explanation=explanation)
        )
    return RoutingResult(
        destinations=decisions,
        matched_rules=[spec.id if spec.id is not None else spec.name for _r, spec, _m in hits],
    )


# Sentences for the reporter --------------------------------------------------------------------


def _sentences():
    """Built on each call, so gettext runs in the language active at that moment."""
    return {
        (ShareReason.PLACE_TEAM, True): _(
            "%(organisation)s, who run this service, received your report with your contact "
            "details, because you agreed that a support organisation may contact you."
        ),
        (ShareReason.PLACE_TEAM, False): _(
            "%(organisation)s, who run this service, received your report without your "
            "contact details."
        ),
        (ShareReason.POLICE_WITH_CONTACT, True): _(
            "We sent your report to %(organisation)s with your contact details, as you agreed."
        ),
        (ShareReason.POLICE_WITH_CONTACT, False): _(
            "We sent your report to %(organisation)s, as you agreed."
        ),
        (ShareReason.POLICE_ANONYMISED, False): _(
            "We sent your report to %(organisation)s without your name or contact details, as "
            "you agreed."
        ),
        (ShareReason.SUPPORT_CONTACT, True): _(
            "We sent your report to %(organisation)s with your contact details, because you "
            "agreed that a support organisation may contact you."
        ),
        (ShareReason.SUPPORT_CONTACT, False): _(
            "We sent your report to %(organisation)s, because you agreed to share it with "
            "support organisations."
        ),
        (ShareReason.PUBLIC_CONTENT, False): _(
            "We sent the address of the online content to %(organisation)s, with nothing about you."
        ),
        (ShareReason.NO_POLICE_CONSENT, False): _(
            "We did not send your report to %(organisation)s because you chose not to share it "
            "with the police."
        ),
        (ShareReason.NO_SUPPORT_CONSENT, False): _(
            "We did not send your report to %(organisation)s because you chose not to be "
            "contacted by support organisations."
        ),
        (ShareReason.NOT_ONLINE_CONTENT, False): _(
            "We did not send your report to %(organisation)s because they only receive reports "
            "of public online content."
        ),
        (ShareReason.NO_CONTENT_URL, False): _(
            "We did not send your report to %(organisation)s because it does not give the "
            "address of the online content."
        ),
        (ShareReason.NOT_LISTED, False): _(
            "We did not send your report to %(organisation)s because they no longer work with "
            "this service here."
        ),
        (ShareReason.UNKNOWN_TYPE, False): _("We did not send your report to %(organisation)s."),
        (ShareReason.HANDED_ON, True): _(
            "%(organisation)s received your report with your contact details: the organisation "
            "that first received it handed it on, as far as your consent allows."
        ),
        (ShareReason.HANDED_ON, False): _(
            "%(organisation)s received your report without your contact details: the "
            "organisation that first received it handed it on, as far as your consent allows."
        ),
    }


def sentence(*, reason, with_contact, organisation_name, language) -> str:
    """One plain sentence for the reporter, in their language, about one destination."""
    with translation.override(language):
        table = _sentences()
        text = table.get((reason, bool(with_contact))) or table.get((reason, False))
        if text is None:
            text = table[(ShareReason.UNKNOWN_TYPE, False)]
        return text % {"organisation": organisation_name}


def decision_sentence(decision, language) -> str:
    """The sentence for a Decision (from `evaluate`) or a stored RoutingDecision."""
    share = getattr(decision, "share", None)
    if share is not None:
        reason, with_contact = share.reason, share.with_contact
    else:
        reason, with_contact = decision.reason, decision.with_contact
    return sentence(
        reason=reason,
        with_contact=with_contact,
        organisation_name=decision.organisation.name,
        language=language,
    )


def record_only_sentence(decisions, language) -> str | None:
    """When nobody but the place's own team received the report, the sentence that says so
    ("record only"); None otherwise."""
    others = [
        d
        for d in decisions
        if d.sent and (getattr(d, "share", None) or d).reason != ShareReason.PLACE_TEAM
    ]
    if others:
        return None
    with translation.override(language):
        return _(
            "Your report is recorded and counted in the statistics. Only the team that runs "
            "this service can see it."
        )


def explain(decisions, language) -> list[str]:
    """The receipt's sentences: one per destination, then the "record only" one if it applies."""
    lines = [decision_sentence(d, language) for d in decisions]
    summary = record_only_sentence(decisions, language)
    if summary:
        lines.append(summary)
    return lines
