from dataclasses import dataclass

import pytest

URL = "https://hooks.example.org/locus"


@dataclass
class Partners:
    team: object  # the city's own team (manages the place)
    police: object
    charity: object
    platform: object
    ctiru: object
    police_b: object  # listed in place B only

    def in_a(self):
        return [self.team, self.police, self.charity, self.platform, self.ctiru]


@pytest.fixture
def partners(world, in_place):
    """Organisations of every kind listed in place A, each with a webhook endpoint, and a
    police force listed in place B only."""
    from locus.core.testing.factories import OrganisationFactory
    from locus.directory.choices import OrganisationType as T
    from locus.directory.services import organisation_list_in_place
    from locus.outbox.services import webhook_endpoint_create

    def make(side, name, kind):
        organisation = OrganisationFactory(name=name, type=kind)
        with in_place(side.place):
            organisation_list_in_place(organisation=organisation, place=side.place)
            webhook_endpoint_create(place=side.place, organisation=organisation, url=URL)
        return organisation

    with in_place(world.a.place):
        webhook_endpoint_create(place=world.a.place, organisation=world.a.organisation, url=URL)
    return Partners(
        team=world.a.organisation,
        police=make(world.a, "Alpha Police", T.POLICE),
        charity=make(world.a, "Alpha Victim Support", T.VICTIM_SUPPORT),
        platform=make(world.a, "Chirp Trust & Safety", T.COMPANY),
        ctiru=make(world.a, "Internet Referral Unit", T.NATIONAL_BODY),
        police_b=make(world.b, "Beta Police", T.POLICE),
    )


@pytest.fixture
def rule_in(in_place):
    """`rule_in(side, actor=None, **fields)` → a saved rule through the service."""
    from locus.cases.services import routing_rule_save

    def create(side, actor=None, **fields):
        with in_place(side.place):
            return routing_rule_save(place=side.place, actor=actor, **fields)

    return create
