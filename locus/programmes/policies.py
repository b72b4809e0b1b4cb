"""Who may do what with programmes. Pure predicates over a membership (with `manages_place`
annotated by the membership selectors) and a programme."""

from locus.accounts.policies import Capability, membership_can


def can_manage(membership, programme):
    """An organisation runs its own programmes: its people with MANAGE_PROGRAMMES."""
    return (
        membership is not None
        and membership_can(membership, Capability.MANAGE_PROGRAMMES)
        and programme.organisation_id == membership.organisation_id
    )


def can_view_portfolio(membership):
    return membership is not None and membership_can(membership, Capability.VIEW_PORTFOLIO)


def can_read(membership, programme):
    """Its own organisation, and the place team that looks after the portfolio (read only)."""
    return can_manage(membership, programme) or can_view_portfolio(membership)
