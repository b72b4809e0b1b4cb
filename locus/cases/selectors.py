"""Reads for routing. Every function takes the place (or the report, which carries it)
explicitly; the scoped manager is only the safety net."""

import difflib
import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    DateTimeField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .choices import CaseStatus, MessageDirection, ShareLevel
from .models import Case, CaseEvent, CaseMessage, CaseNote, RoutingDecision, RoutingRule


def routing_rule_list(place, *, active_only=False):
    """The place's rules in evaluation order, with their destinations."""
    rules = RoutingRule.objects.filter(place=place)
    if active_only:
        rules = rules.filter(is_active=True)
    return rules.prefetch_related("destinations").order_by("position", "id")


def access_routing_rule(place, rule_id):
    """The place's rule with this id, or None (the same for missing and another place's)."""
    return routing_rule_list(place).filter(pk=rule_id).first()


def routing_rule_warnings(place) -> list[str]:
    """Problems worth showing above the rule list: 'no_fallback' (a report no rule matches
    reaches nobody but the place's own team) and 'several_fallbacks'."""
    fallbacks = RoutingRule.objects.filter(place=place, is_active=True, is_fallback=True).count()
    if fallbacks == 0:
        return ["no_fallback"]
    if fallbacks > 1:
        return ["several_fallbacks"]
    return []


def routing_decisions_for(report):
    """Where the report went (or did not go, and why), in the order it was routed."""
    return (
        RoutingDecision.objects.filter(place_id=report.place_id, report=report)
        .select_related("organisation", "rule")
        .order_by("created_at", "id")
    )


# --------------------------------------------------------------------------------------------
# Cases

# The report's personal fields are never needed in a list: not loaded, so never decrypted.
REPORT_PERSONAL_FIELDS = (
    "report__account",
    "report__location_text",
    "report__contact",
    "report__police_reference",
)


def _cases_visible_to(place, membership, *, all_organisations=False):
    """The cases the membership may see: its organisation's; with `all_organisations`, every
    case of the place for the team that runs Locus there (read-only), else the same."""
    cases = Case.objects.filter(place=place)
    if not (all_organisations and getattr(membership, "manages_place", False)):
        cases = cases.filter(organisation_id=membership.organisation_id)
    return cases


def _filtered(place, membership, filters, *, with_status=True, now=None):
    """The visible cases under the inbox filters. Merged duplicates never show: they are
    handled through the case they were merged into (docs/cases.md)."""
    filters = filters or {}
    all_organisations = filters.get("scope") == "all"
    cases = _cases_visible_to(place, membership, all_organisations=all_organisations)
    cases = cases.filter(merged_into__isnull=True)
    if with_status and filters.get("status"):
        cases = cases.filter(status=filters["status"])
    if filters.get("mine"):
        cases = cases.filter(assigned_to_id=membership.user_id)
    assigned = filters.get("assigned")
    if assigned == "me":
        cases = cases.filter(assigned_to_id=membership.user_id)
    elif assigned == "none":
        cases = cases.filter(assigned_to__isnull=True)
    elif assigned not in (None, ""):
        cases = cases.filter(assigned_to_id=getattr(assigned, "pk", assigned))
    if filters.get("incident_type"):
        code = filters["incident_type"]
        cases = cases.filter(
            Q(verified_incident_type=code)
            | Q(verified_incident_type="", report__incident_type=code)
        )
    if filters.get("area"):
        area_id = getattr(filters["area"], "pk", filters["area"])
        cases = cases.filter(report__area_id=area_id)
        if not getattr(membership, "manages_place", False):
            # Content-only cases do not show where it happened: filtering must not tell either.
            cases = cases.exclude(decision__level=ShareLevel.CONTENT_ONLY)
    if filters.get("group"):
        cases = cases.filter(report__content_key=filters["group"])
    if filters.get("overdue"):
        organisations = None if all_organisations else [membership.organisation_id]
        cases = cases.filter(
            overdue_condition(case_targets(place, organisations), now=now or timezone.now())
        )
    return cases


def case_list(place, membership, filters=None, *, grouped=False, with_version=False, now=None):
    """The inbox: cases the membership may see, filtered by `filters` (keys, all optional:
    status, mine, assigned ("me", "none" or a user), incident_type, area, group (a report
    content key), overdue, scope="all" for the place team), with what a row shows loaded in
    the same query (and the report's personal fields left unloaded). In the order
    `filters["order"]` names (CASE_ORDERS): newest first unless "oldest" or "due" (open cases
    by when their next step is due under their organisation's targets, soonest — most
    overdue — first; then open cases without a target, oldest first; closed cases last).

    Every row carries `group_size` (the cases of its organisation under the filters whose
    reports name the same online content; 1 without one) and `unread` (messages from
    reporters nobody has read yet, on the case and the duplicates merged into it). With
    `grouped`, a group is one row — its newest case — whose `unread` counts the whole group.
    With `with_version`, every row carries its `version` too (see case_version), so an API
    client can assign or classify from the list under If-Match without reading each case.
    """
    cases = _filtered(place, membership, filters, now=now)
    same_group = cases.filter(
        organisation_id=OuterRef("organisation_id"),
        report__content_key=OuterRef("report__content_key"),
    ).exclude(report__content_key="")
    # At least 1: a case without online content (no group) counts itself.
    cases = cases.annotate(group_size=Greatest(_count(same_group), Value(1)))
    unread = Q(case_id=OuterRef("pk")) | Q(case__merged_into_id=OuterRef("pk"))
    if grouped:
        head = same_group.order_by("-created_at", "-id").values("pk")[:1]
        cases = cases.filter(Q(report__content_key="") | Q(pk=Subquery(head)))
        unread |= Q(
            case__organisation_id=OuterRef("organisation_id"),
            case__report__content_key=OuterRef("report__content_key"),
            case__merged_into__isnull=True,
        ) & ~Q(case__report__content_key="")
    messages = CaseMessage.objects.filter(
        unread, direction=MessageDirection.FROM_REPORTER, read_at__isnull=True
    )
    cases = (
        cases.annotate(unread=Coalesce(_count(messages), Value(0)))
        .select_related("report", "report__area", "organisation", "assigned_to", "decision")
        .defer(*REPORT_PERSONAL_FIELDS)
    )
    if with_version:
        latest = CaseEvent.objects.filter(place_id=place.pk, case_id=OuterRef("pk"))
        cases = cases.annotate(
            version=Coalesce(Subquery(latest.order_by("-id").values("id")[:1]), Value(0))
        )
    order = (filters or {}).get("order") or ""
    if order == "oldest":
        return cases.order_by("created_at", "id")
    if order == "due":
        organisations = (
            None if (filters or {}).get("scope") == "all" else [membership.organisation_id]
        )
        return cases.annotate(
            due_at=_due_expression(case_targets(place, organisations)),
            closed_last=SqlCase(When(status=CaseStatus.CLOSED, then=Value(1)), default=Value(0)),
        ).order_by("closed_last", F("due_at").asc(nulls_last=True), "created_at", "id")
    return cases.order_by("-created_at", "-id")


def _due_expression(targets):
    """When an open case's next step is due under its organisation's targets (the same rule as
    Targets.is_overdue): acknowledging, while it is not acknowledged and that target comes
    first; else closing. NULL for closed cases and organisations without a target."""
    whens = [When(status=CaseStatus.CLOSED, then=Value(None, output_field=DateTimeField()))]
    for organisation_id, target in targets.items():
        steps = [t for t in (target.acknowledge, target.close) if t is not None]
        if target.acknowledge is not None and target.acknowledge == min(steps):
            whens.append(
                When(
                    organisation_id=organisation_id,
                    acknowledged_at__isnull=True,
                    then=F("created_at") + target.acknowledge,
                )
            )
        if target.close is not None:
            whens.append(When(organisation_id=organisation_id, then=F("created_at") + target.close))
    return SqlCase(*whens, default=Value(None), output_field=DateTimeField())


def _count(queryset):
    """COUNT(*) of a correlated queryset, as a subquery (no GROUP BY, one row)."""
    return Subquery(
        queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")[:1],
        output_field=IntegerField(),
    )


def case_stats(place, membership, filters=None, *, now=None) -> dict[str, int]:
    """Counts under the same filters but the status: cases per status (the inbox tabs), "all",
    "overdue" (open cases past their organisation's targets) and "unread" (messages from
    reporters not read yet on the membership's own cases, merged duplicates included).
    Three queries."""
    filtered = _filtered(place, membership, filters, with_status=False, now=now)
    counts = {
        row["status"]: row["n"]
        for row in filtered.order_by().values("status").annotate(n=Count("id"))
    }
    result = {str(status): counts.get(status, 0) for status in CaseStatus.values}
    result["all"] = sum(counts.values())
    organisations = None if (filters or {}).get("scope") == "all" else [membership.organisation_id]
    overdue = overdue_condition(case_targets(place, organisations), now=now or timezone.now())
    result["overdue"] = filtered.filter(overdue).count()
    own = filtered.filter(organisation_id=membership.organisation_id)
    result["unread"] = (
        CaseMessage.objects.filter(
            place=place, direction=MessageDirection.FROM_REPORTER, read_at__isnull=True
        )
        .filter(Q(case__in=own) | Q(case__merged_into__in=own))
        .count()
    )
    return result


def access_case(place, membership, case_id):
    """The case with this id if the membership may see it, else None (the same for missing,
    another place's and another organisation's)."""
    return (
        _cases_visible_to(place, membership, all_organisations=True)
        .filter(pk=case_id)
        .select_related(
            "report", "report__area", "organisation", "assigned_to", "decision", "decision__rule"
        )
        .first()
    )


def case_timeline(case):
    """The case's events in order, with their actors."""
    return CaseEvent.objects.filter(place_id=case.place_id, case=case).select_related("actor")


def case_version(case) -> str:
    """The case's version: its latest timeline event. Every step (and the reporter's
    messages, additions and consent changes) adds one, so a client holding an older version
    has not seen the case as it is (the API's ETag and If-Match)."""
    latest = (
        CaseEvent.objects.filter(place_id=case.place_id, case=case)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return str(latest or 0)


def case_notes(case):
    """The case's internal notes, oldest first."""
    return CaseNote.objects.filter(place_id=case.place_id, case=case).select_related("author")


def case_assignees(case):
    """The people a case may be assigned to: active members of its organisation whose role
    handles cases."""
    from locus.accounts.models import Membership
    from locus.accounts.policies import ROLE_CAPABILITIES, Capability

    roles = [r for r, caps in ROLE_CAPABILITIES.items() if Capability.VIEW_PERSONAL_DATA in caps]
    return (
        Membership.objects.filter(
            organisation_id=case.organisation_id,
            is_active=True,
            user__is_active=True,
            role__in=roles,
        )
        .select_related("user")
        .order_by("user__name", "user__email")
    )


def case_evidence(case):
    """The report's evidence files (callers check the viewer's visibility first)."""
    from locus.reporting.models import Evidence

    return Evidence.objects.filter(place_id=case.place_id, report_id=case.report_id)


def case_unread_count(case) -> int:
    """Messages from the reporter(s) of a case and of the duplicates merged into it that
    nobody has read yet."""
    return CaseMessage.objects.filter(
        Q(case=case) | Q(case__merged_into=case),
        place_id=case.place_id,
        direction=MessageDirection.FROM_REPORTER,
        read_at__isnull=True,
    ).count()


def case_messages(case):
    """The thread between the case's organisation and the reporter, oldest first."""
    return CaseMessage.objects.filter(place_id=case.place_id, case=case).select_related("author")


# --------------------------------------------------------------------------------------------
# Hand-on, groups of the same online content, merged duplicates


def hand_on_candidates(place, case):
    """Organisations actively listed in the place that do not have a case of this report yet
    (so not the case's own): where the report could be handed on to. Whether the reporter's
    consent allows each one is decided by the service (policies.share_for)."""
    from locus.directory.selectors import organisation_list

    having = Case.objects.filter(place=place, report_id=case.report_id).values("organisation_id")
    return organisation_list(place=place).exclude(pk__in=having)


def case_handed_on_to(case):
    """The cases opened at other organisations by handing this one on, oldest first."""
    return (
        Case.objects.filter(place_id=case.place_id, handed_on_from=case)
        .select_related("organisation")
        .only("id", "status", "created_at", "organisation__name", "organisation_id")
        .order_by("created_at", "id")
    )


def case_group(case):
    """The group of a case: every case of its organisation whose report names the same online
    content (`Report.content_key`), the case itself and merged duplicates included, oldest
    first. Empty when the report names no online content."""
    key = case.report.content_key
    if not key:
        return Case.objects.none()
    return (
        Case.objects.filter(
            place_id=case.place_id, organisation_id=case.organisation_id, report__content_key=key
        )
        .select_related("report")
        .defer(*REPORT_PERSONAL_FIELDS)
        .order_by("created_at", "id")
    )


def case_merged_cases(case):
    """The duplicates merged into this case, oldest first."""
    return (
        Case.objects.filter(place_id=case.place_id, merged_into=case)
        .select_related("report")
        .defer(*REPORT_PERSONAL_FIELDS)
        .order_by("created_at", "id")
    )


def access_own_case_by_reference(place, membership, reference):
    """The case of the membership's own organisation for the report with this reference, or
    None (the same for missing, another place's and another organisation's)."""
    reference = (reference or "").strip().upper()
    if not reference:
        return None
    return (
        Case.objects.filter(
            place=place,
            organisation_id=membership.organisation_id,
            report__reference=reference,
        )
        .select_related("report")
        .defer(*REPORT_PERSONAL_FIELDS)
        .first()
    )


def case_origin(case):
    """The case this one was handed on from (another organisation's), with that organisation,
    or None."""
    if not case.handed_on_from_id:
        return None
    return (
        Case.objects.filter(place_id=case.place_id, pk=case.handed_on_from_id)
        .select_related("organisation", "report")
        .only("id", "status", "organisation__name", "organisation_id", "report__reference")
        .first()
    )


def case_references(place, case_ids) -> dict[int, str]:
    """Case id → its report's reference, for cases of the place (to name cases in words)."""
    ids = [i for i in case_ids if isinstance(i, int)]
    if not ids:
        return {}
    return dict(Case.objects.filter(place=place, pk__in=ids).values_list("pk", "report__reference"))


def access_own_case(place, membership, case_id):
    """A case of the membership's own organisation with this id, or None (the same for
    missing, another place's and another organisation's): what a merge may name."""
    if case_id in (None, ""):
        return None
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        return None
    return (
        Case.objects.filter(place=place, organisation_id=membership.organisation_id, pk=case_id)
        .select_related("report")
        .first()
    )


# Possible duplicates: near-identical accounts of reports the same organisation received close
# in time. The candidate set is bounded (the reports nearest in time on either side, within the
# window), so the cost does not grow with the inbox.
DUPLICATE_WINDOW = timedelta(days=14)
DUPLICATE_CANDIDATES = 25  # on each side of the report in time
DUPLICATE_THRESHOLD = 0.8  # difflib ratio of the normalised accounts
DUPLICATE_TEXT_MAX = 2000  # characters compared


@dataclass(frozen=True)
class DuplicateSuggestion:
    case: Case
    similarity: float  # 0..1

    @property
    def percent(self):
        return round(self.similarity * 100)


def _normalised(text):
    return " ".join((text or "").lower().split())[:DUPLICATE_TEXT_MAX]


def _similarity(left, right):
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    # The cheap upper bounds first: most candidates stop here.
    if matcher.real_quick_ratio() < DUPLICATE_THRESHOLD:
        return 0.0
    if matcher.quick_ratio() < DUPLICATE_THRESHOLD:
        return 0.0
    return matcher.ratio()


def case_duplicate_suggestions(case, *, limit=5) -> list[DuplicateSuggestion]:
    """Open cases of the same organisation in the same place whose report was sent within
    DUPLICATE_WINDOW of this one and whose account (decrypted) is near-identical. Only between
    cases whose organisation sees the account (never content-only ones: their group is the
    online address), never the case itself, merged ones or cases of the same online content
    (already one group). Suggestions only: nothing is merged without a person."""
    report = case.report
    account = _normalised(report.account)
    if not account or case.decision.level == ShareLevel.CONTENT_ONLY:
        return []
    at = report.submitted_at
    candidates = (
        Case.objects.filter(
            place_id=case.place_id,
            organisation_id=case.organisation_id,
            merged_into__isnull=True,
            report__anonymised_at__isnull=True,
            report__submitted_at__gte=at - DUPLICATE_WINDOW,
            report__submitted_at__lte=at + DUPLICATE_WINDOW,
        )
        .exclude(pk=case.pk)
        .exclude(status=CaseStatus.CLOSED)
        .exclude(decision__level=ShareLevel.CONTENT_ONLY)
        .select_related("report")
        .only(
            "id",
            "status",
            "created_at",
            "organisation_id",
            "report__reference",
            "report__account",
            "report__submitted_at",
            "report__content_key",
        )
    )
    if report.content_key:
        candidates = candidates.exclude(report__content_key=report.content_key)
    nearest = [
        *candidates.filter(report__submitted_at__lte=at).order_by("-report__submitted_at", "-id")[
            :DUPLICATE_CANDIDATES
        ],
        *candidates.filter(report__submitted_at__gt=at).order_by("report__submitted_at", "id")[
            :DUPLICATE_CANDIDATES
        ],
    ]
    suggestions = []
    for candidate in nearest:
        score = _similarity(account, _normalised(candidate.report.account))
        if score >= DUPLICATE_THRESHOLD:
            suggestions.append(DuplicateSuggestion(case=candidate, similarity=score))
    suggestions.sort(key=lambda s: (-s.similarity, s.case.pk))
    return suggestions[:limit]


# --------------------------------------------------------------------------------------------
# Handling targets, overdue cases and handling times


@dataclass(frozen=True)
class Targets:
    """An organisation's handling targets in a place (None: no target)."""

    acknowledge_hours: int | None = None
    close_days: int | None = None

    @property
    def acknowledge(self):
        return None if self.acknowledge_hours is None else timedelta(hours=self.acknowledge_hours)

    @property
    def close(self):
        return None if self.close_days is None else timedelta(days=self.close_days)

    def is_overdue(self, case, now) -> bool:
        """An open (not merged) case past a target: not acknowledged within the acknowledge
        target, or not closed within the close target. The same rule as overdue_condition."""
        if case.is_closed or case.merged_into_id:
            return False
        age = now - case.created_at
        if self.acknowledge is not None and case.acknowledged_at is None and age > self.acknowledge:
            return True
        return self.close is not None and age > self.close


def case_targets(place, organisations=None) -> dict[int, Targets]:
    """The targets of organisations (ids) listed in the place; None: of every one. One
    query."""
    from locus.directory.models import OrganisationListing

    listings = OrganisationListing.objects.filter(place=place, is_active=True)
    if organisations is not None:
        listings = listings.filter(organisation_id__in=list(organisations))
    return {
        organisation_id: Targets(acknowledge_hours=hours, close_days=days)
        for organisation_id, hours, days in listings.values_list(
            "organisation_id", "acknowledge_target_hours", "close_target_days"
        )
    }


def organisation_targets(place, organisation) -> Targets:
    organisation_id = getattr(organisation, "pk", organisation)
    return case_targets(place, [organisation_id]).get(organisation_id, Targets())


def overdue_condition(targets, *, now) -> Q:
    """The Q of open, not merged cases past their organisation's targets (`targets`: organisation
    id → Targets, from case_targets)."""
    condition = Q(pk__in=[])
    for organisation_id, target in targets.items():
        late = Q(pk__in=[])
        if target.acknowledge is not None:
            late |= Q(acknowledged_at__isnull=True, created_at__lt=now - target.acknowledge)
        if target.close is not None:
            late |= Q(created_at__lt=now - target.close)
        condition |= Q(organisation_id=organisation_id) & late
    return condition & ~Q(status=CaseStatus.CLOSED) & Q(merged_into__isnull=True)


@dataclass(frozen=True)
class Timing:
    """One handling step of one case against its target: `taken` once done (else None),
    `elapsed` so far otherwise, `due` (None without a target) and whether it is, or was, late."""

    taken: timedelta | None
    elapsed: timedelta
    target: timedelta | None
    due: object
    late: bool


def case_timing(case, targets, *, now=None) -> dict[str, Timing]:
    """Time to acknowledge and time to close of one case against its organisation's targets.
    Closing a case that was never acknowledged counts as acknowledging it."""
    now = now or timezone.now()
    acknowledged = case.acknowledged_at or case.closed_at
    result = {}
    for step, done, target in (
        ("acknowledge", acknowledged, targets.acknowledge),
        ("close", case.closed_at, targets.close),
    ):
        taken = (done - case.created_at) if done else None
        elapsed = taken if taken is not None else now - case.created_at
        result[step] = Timing(
            taken=taken,
            elapsed=elapsed,
            target=target,
            due=case.created_at + target if target is not None else None,
            late=target is not None and elapsed > target,
        )
    return result


@dataclass(frozen=True)
class HandlingStats:
    """An organisation's handling figures for the cases it received in [since, until).

    `*_within` is the share of judged cases done within the target: a case is judged once the
    step is done, or once the target has passed without it (open cases still within the
    target are not judged yet). None without a target or without a judged case."""

    since: object
    until: object
    targets: Targets
    cases: int
    acknowledged: int
    median_acknowledge: timedelta | None
    acknowledge_judged: int
    acknowledge_within: float | None
    closed: int
    median_close: timedelta | None
    close_judged: int
    close_within: float | None
    open_overdue: int


def _median(values):
    return statistics.median_low(values) if values else None


def _share(durations, open_ages, target):
    """(judged, share within target) for a step: done ones, plus open ones past the target."""
    if target is None:
        return 0, None
    judged = len(durations) + sum(1 for age in open_ages if age > target)
    if not judged:
        return 0, None
    return judged, sum(1 for d in durations if d <= target) / judged


def case_handling_stats(place, organisation, *, since, until, now=None) -> HandlingStats:
    """Median time to acknowledge and to close, and the share within the targets, of the cases
    the organisation received in the period (merged duplicates left out). One query for the
    targets, one for the cases' times (no personal data)."""
    now = now or timezone.now()
    targets = organisation_targets(place, organisation)
    rows = list(
        Case.objects.filter(
            place=place,
            organisation_id=getattr(organisation, "pk", organisation),
            merged_into__isnull=True,
            created_at__gte=since,
            created_at__lt=until,
        ).values_list("created_at", "acknowledged_at", "closed_at", "status")
    )
    to_acknowledge, unacknowledged, to_close, unclosed = [], [], [], []
    open_overdue = 0
    for created, acknowledged, closed, status in rows:
        done = acknowledged or closed
        if done:
            to_acknowledge.append(done - created)
        else:
            unacknowledged.append(now - created)
        if status == CaseStatus.CLOSED and closed:
            to_close.append(closed - created)
        else:
            unclosed.append(now - created)
            age = now - created
            if (targets.acknowledge is not None and not done and age > targets.acknowledge) or (
                targets.close is not None and age > targets.close
            ):
                open_overdue += 1
    acknowledge_judged, acknowledge_within = _share(
        to_acknowledge, unacknowledged, targets.acknowledge
    )
    close_judged, close_within = _share(to_close, unclosed, targets.close)
    return HandlingStats(
        since=since,
        until=until,
        targets=targets,
        cases=len(rows),
        acknowledged=len(to_acknowledge),
        median_acknowledge=_median(to_acknowledge),
        acknowledge_judged=acknowledge_judged,
        acknowledge_within=acknowledge_within,
        closed=len(to_close),
        median_close=_median(to_close),
        close_judged=close_judged,
        close_within=close_within,
        open_overdue=open_overdue,
    )
