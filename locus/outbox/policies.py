"""Who may do what with webhook endpoints. Pure predicates; services and views call them.

Decision (docs/webhooks.md): an organisation's administrators manage its own endpoints in a
place. The administrators of the team that runs Locus in the place (`manages_place`) may also
*see* every organisation's endpoints there and their delivery logs, read-only: they run the
service and are the first to be asked why a partner receives nothing. They cannot change,
rotate or retry another organisation's endpoint.
"""

from locus.accounts.policies import Capability, membership_can


def endpoint_can_manage(membership, endpoint) -> bool:
    return (
        membership_can(membership, Capability.MANAGE_INTEGRATIONS)
        and endpoint.organisation_id == membership.organisation_id
    )


def endpoint_can_view(membership, endpoint) -> bool:
    if endpoint_can_manage(membership, endpoint):
        return True
    return sees_every_endpoint(membership)


def sees_every_endpoint(membership) -> bool:
    """An administrator of the team that runs Locus in the place."""
    return bool(getattr(membership, "manages_place", False)) and membership_can(
        membership, Capability.MANAGE_INTEGRATIONS
    )
