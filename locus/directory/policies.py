"""May this membership change this directory record? Pure predicates."""

from locus.accounts.policies import Capability, membership_can


def can_manage_directory(membership):
    """The whole place's directory (the team that runs Locus here)."""
    return membership is not None and membership_can(membership, Capability.MANAGE_DIRECTORY)


def can_edit_organisation(membership, organisation_id):
    """One's own organisation's entry (MANAGE_OWN_DIRECTORY), or any organisation of the place
    (MANAGE_DIRECTORY)."""
    if membership is None:
        return False
    if can_manage_directory(membership):
        return True
    return (
        membership_can(membership, Capability.MANAGE_OWN_DIRECTORY)
        and membership.organisation_id == organisation_id
    )
