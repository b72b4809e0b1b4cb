"""The shared two-place test world: two cities with the same roles and data shapes, so every
test can prove that one place never sees the other's data."""

from dataclasses import dataclass, field

from allauth.mfa.models import Authenticator

from locus.accounts.choices import Role
from locus.core.tenancy import place_scope
from locus.directory.choices import OrganisationType
from locus.directory.services import organisation_list_in_place

from .factories import (
    AreaFactory,
    MembershipFactory,
    NetworkFactory,
    OrganisationFactory,
    PlaceFactory,
    UserFactory,
    square,
)


@dataclass
class PlaceWorld:
    place: object
    organisation: object
    areas: list
    users: dict = field(default_factory=dict)  # role -> user
    memberships: dict = field(default_factory=dict)  # role -> membership


@dataclass
class World:
    a: PlaceWorld
    b: PlaceWorld

    def other(self, side):
        return self.b if side is self.a else self.a


def enable_totp(user):
    """Give the user an (unused) TOTP authenticator so MFA counts as set up."""
    Authenticator.objects.get_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "JBSWY3DPEHPK3PXP"}}
    )


def build_place_world(slug, name, country, lon, lat, *, mfa=True):
    network = NetworkFactory(
        slug=f"net-{country.lower()}", name=f"Network {country}", country=country
    )
    place = PlaceFactory(slug=slug, name=name, country=country, network=network)
    organisation = OrganisationFactory(
        name=f"{name} Council", type=OrganisationType.LOCAL_AUTHORITY
    )
    with place_scope(place):
        organisation_list_in_place(organisation=organisation, place=place, manages_place=True)
        areas = [
            AreaFactory(place=place, name=f"{name} North", geometry=square(lon, lat)),
            AreaFactory(place=place, name=f"{name} South", geometry=square(lon, lat - 0.02)),
        ]
    world = PlaceWorld(place=place, organisation=organisation, areas=areas)
    for role in Role:
        user = UserFactory(email=f"{role.value}@{slug}.test", name=f"{role.label} {name}")
        if mfa:
            enable_totp(user)
        world.users[role.value] = user
        world.memberships[role.value] = MembershipFactory(
            user=user, organisation=organisation, role=role
        )
    return world


def partner_member(place_world, role):
    """A member with `role` of a partner organisation listed in the place (receives routed
    cases, does not run Locus there: `manages_place` False), MFA set up. One partner
    organisation per place; a new person each call."""
    from locus.directory.models import Organisation

    organisation, _created = Organisation.objects.get_or_create(
        name=f"{place_world.place.name} Partner Charity",
        defaults={"type": OrganisationType.VICTIM_SUPPORT},
    )
    with place_scope(place_world.place):
        organisation_list_in_place(
            organisation=organisation, place=place_world.place, manages_place=False
        )
    user = UserFactory(name=f"{role} of the partner of {place_world.place.name}")
    enable_totp(user)
    return MembershipFactory(user=user, organisation=organisation, role=role)


def build_world():
    return World(
        a=build_place_world("alpha", "Alphaville", "GB", -0.1, 51.5),
        b=build_place_world("beta", "Betastad", "SE", 13.0, 55.6),
    )
