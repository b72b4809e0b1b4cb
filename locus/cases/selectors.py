"""Reads for routing. Every function takes the place (or the report, which carries it)
explicitly; the scoped manager is only the safety net."""

from .models import RoutingDecision, RoutingRule


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
