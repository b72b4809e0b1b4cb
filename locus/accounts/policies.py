"""May this actor do this? Pure predicates over roles; views and services call them."""

from enum import StrEnum

from django.conf import settings

from .choices import Role


class Capability(StrEnum):
    STAFF_HOME = "staff.home"
    VIEW_PERSONAL_DATA = "personal_data.view"
    MANAGE_AREAS = "areas.manage"
    MANAGE_PLACE = "place.manage"
    MANAGE_MEMBERS = "members.manage"
    VIEW_JOBS = "jobs.view"
    USE_API = "api.use"
    MANAGE_ROUTING = "routing.manage"
    MANAGE_INTEGRATIONS = "integrations.manage"
    # Exact aggregate figures of the place (no personal data): the dashboard, the service
    # figures, the alarms, the jurisdiction exports, indicators beside rates. Place-wide.
    VIEW_INSIGHTS = "insights.view"
    # Annotations, indicator imports and other place-wide insight settings.
    MANAGE_INSIGHTS = "insights.manage"
    # Subscribe one's own organisation to spike alerts.
    SUBSCRIBE_ALERTS = "alerts.subscribe"
    # Edit one's own organisation's directory entry and services.
    MANAGE_OWN_DIRECTORY = "directory.manage_own"
    # The whole place's directory: coverage, overlaps and gaps, imports and exports.
    MANAGE_DIRECTORY = "directory.manage"
    # Run one's own organisation's programmes and report their results.
    MANAGE_PROGRAMMES = "programmes.manage"
    # The place's portfolio of programmes.
    VIEW_PORTFOLIO = "programmes.portfolio"


ROLE_CAPABILITIES = {
    Role.ADMIN: set(Capability),
    Role.COORDINATOR: {
        Capability.STAFF_HOME,
        Capability.VIEW_PERSONAL_DATA,
        Capability.VIEW_JOBS,
        Capability.USE_API,
        Capability.MANAGE_ROUTING,
        Capability.VIEW_INSIGHTS,
        Capability.MANAGE_INSIGHTS,
        Capability.SUBSCRIBE_ALERTS,
        Capability.MANAGE_OWN_DIRECTORY,
        Capability.MANAGE_DIRECTORY,
        Capability.MANAGE_PROGRAMMES,
        Capability.VIEW_PORTFOLIO,
    },
    Role.CASEWORKER: {
        Capability.STAFF_HOME,
        Capability.VIEW_PERSONAL_DATA,
        Capability.USE_API,
        Capability.VIEW_INSIGHTS,
        Capability.SUBSCRIBE_ALERTS,
    },
    Role.ANALYST: {
        Capability.STAFF_HOME,
        Capability.VIEW_JOBS,
        Capability.USE_API,
        Capability.VIEW_INSIGHTS,
        Capability.MANAGE_INSIGHTS,
        Capability.VIEW_PORTFOLIO,
    },
    Role.EDITOR: {
        Capability.STAFF_HOME,
        Capability.USE_API,
        Capability.MANAGE_OWN_DIRECTORY,
        Capability.MANAGE_PROGRAMMES,
    },
    Role.MEMBER: {Capability.STAFF_HOME},
}

# Roles that can see personal data must use two-factor authentication.
MFA_REQUIRED_ROLES = {
    role for role, caps in ROLE_CAPABILITIES.items() if Capability.VIEW_PERSONAL_DATA in caps
}


# Capabilities over the whole place: only for the organisation that runs Locus there.
# VIEW_INSIGHTS among them: exact counts that a filter can narrow to one report would tell a
# partner, which receives only part of some reports by the reporter's consent (a platform's
# desk gets the public online content, not the area or the bias), what the consent withheld.
# Partners keep the public, protected figures (the open data) and their own cases.
PLACE_WIDE_CAPABILITIES = {
    # Jobs are the imports of the place's team (areas, indicators, the directory): a partner
    # starts none, and their logs and starters are the team's.
    Capability.VIEW_JOBS,
    Capability.VIEW_INSIGHTS,
    Capability.MANAGE_AREAS,
    Capability.MANAGE_PLACE,
    Capability.MANAGE_ROUTING,
    Capability.MANAGE_INSIGHTS,
    Capability.MANAGE_DIRECTORY,
    Capability.VIEW_PORTFOLIO,
}


def role_can(role, capability):
    return capability in ROLE_CAPABILITIES.get(role, set())


def membership_can(membership, capability):
    """The role allows it and, for place-wide capabilities, the membership's organisation runs
    Locus in the place (`manages_place`, annotated by the membership selectors)."""
    if capability in PLACE_WIDE_CAPABILITIES and not getattr(membership, "manages_place", False):
        return False
    return role_can(membership.role, capability)


def membership_reads_public_insights_only(membership):
    """A role that reads insights, in a partner organisation: it is offered the place's public,
    protected figures (the open data) where the place's team is offered the exact ones."""
    return role_can(membership.role, Capability.VIEW_INSIGHTS) and not membership_can(
        membership, Capability.VIEW_INSIGHTS
    )


def membership_capabilities(membership):
    return {str(c) for c in Capability if membership_can(membership, c)}


def role_requires_mfa(role):
    return role in MFA_REQUIRED_ROLES


def mfa_waived(user):
    """Demo accounts skip MFA, only while the installation runs in demo mode."""
    return bool(settings.LOCUS_DEMO_MODE and getattr(user, "is_demo", False))


def user_needs_mfa_setup(user, role, *, mfa_enabled=None):
    """The role must use two-factor authentication and the user has none set up (the staff
    pages send them to set it up; the API refuses their tokens). `mfa_enabled` when the caller
    already knows it (the token lookup annotates it), to save a query."""
    if not role_requires_mfa(role) or mfa_waived(user):
        return False
    if mfa_enabled is None:
        from allauth.mfa.utils import is_mfa_enabled

        mfa_enabled = is_mfa_enabled(user)
    return not mfa_enabled


def can_manage_membership(actor_membership, target_membership):
    """Admins manage their own organisation's members, never another organisation's."""
    return (
        role_can(actor_membership.role, Capability.MANAGE_MEMBERS)
        and actor_membership.organisation_id == target_membership.organisation_id
    )
