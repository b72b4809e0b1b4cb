"""Reads for routing. Every function takes the place (or the report, which carries it)
explicitly; the scoped manager is only the safety net."""

from django.db.models import Count, Q

from .choices import CaseStatus, ShareLevel
from .models import Case, CaseEvent, CaseNote, RoutingDecision, RoutingRule


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


def _filtered(place, membership, filters, *, with_status=True):
    filters = filters or {}
    cases = _cases_visible_to(place, membership, all_organisations=filters.get("scope") == "all")
    if with_status and filters.get("status"):
        cases = cases.filter(status=filters["status"])
    if filters.get("mine"):
        cases = cases.filter(assigned_to_id=membership.user_id)
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
    return cases


def case_list(place, membership, filters=None):
    """The inbox: cases the membership may see, newest first, filtered by `filters` (keys, all
    optional: status, mine, incident_type, area, scope="all" for the place team), with what a
    row shows loaded in the same query (and the report's personal fields left unloaded)."""
    return (
        _filtered(place, membership, filters)
        .select_related("report", "report__area", "organisation", "assigned_to", "decision")
        .defer(*REPORT_PERSONAL_FIELDS)
        .order_by("-created_at", "-id")
    )


def case_stats(place, membership, filters=None) -> dict[str, int]:
    """Cases per status under the same filters but the status (for the inbox tabs), and
    "all". One query."""
    counts = {
        row["status"]: row["n"]
        for row in _filtered(place, membership, filters, with_status=False)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
    }
    result = {str(status): counts.get(status, 0) for status in CaseStatus.values}
    result["all"] = sum(counts.values())
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
