"""Directory test data: organisations listed in a place, their services and partnerships."""

from locus.core.tenancy import place_scope
from locus.core.testing.factories import MembershipFactory, OrganisationFactory, UserFactory
from locus.core.testing.world import enable_totp

from ..services import organisation_list_in_place, partnership_write, service_write


def listed_organisation(place, name="Charity", type="cso"):
    organisation = OrganisationFactory(name=name, type=type)
    with place_scope(place):
        organisation_list_in_place(organisation=organisation, place=place)
    return organisation


def make_service(place, organisation, *, areas=(), whole_place=False, **fields):
    values = {
        "name": "Support service",
        "service_type": "victim_support",
        "target_groups": ["everyone"],
        "languages": ["en"],
    } | fields
    with place_scope(place):
        return service_write(
            place=place,
            actor=None,
            organisation=organisation,
            areas=list(areas),
            whole_place=whole_place,
            **values,
        )


def make_partnership(place, source, target, kind="referral"):
    with place_scope(place):
        return partnership_write(place=place, actor=None, source=source, target=target, kind=kind)


def member_of(organisation, role, email):
    user = UserFactory(email=email)
    enable_totp(user)
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user


def world_service(place_world):
    """A service of the place world's own organisation (for batteries)."""
    return make_service(place_world.place, place_world.organisation, areas=[place_world.areas[0]])
