"""A new place's staff home says what its team has still to set up (docs/getting-started.md),
each step to the person who may do it, and says nothing once it is done."""

import pytest
from django.urls import reverse

from locus.accounts.choices import Role
from locus.cases.services import routing_rule_save
from locus.core.tenancy import place_scope
from locus.core.testing.factories import (
    AreaFactory,
    MembershipFactory,
    OrganisationFactory,
    PlaceFactory,
    UserFactory,
    square,
)
from locus.core.testing.world import enable_totp
from locus.directory.choices import OrganisationType
from locus.directory.services import organisation_list_in_place

STEPS = {
    "areas": "places:areas",
    "members": "accounts:members",
    "partners": "directory:organisation_new",
    "routing": "cases:rules",
}


@pytest.fixture
def lyon(db):
    place = PlaceFactory(slug="lyon", name="Lyon", country="FR")
    team = OrganisationFactory(name="Ville de Lyon", type=OrganisationType.LOCAL_AUTHORITY)
    with place_scope(place):
        organisation_list_in_place(organisation=team, place=place, manages_place=True)
    admin = UserFactory(email="admin@lyon.example")
    enable_totp(admin)
    MembershipFactory(user=admin, organisation=team, role=Role.ADMIN)
    return place, team, admin


def _panel(client, user):
    client.force_login(user)
    html = client.get(reverse("places:staff_home", args=["lyon"])).content.decode()
    if 'id="setup-heading"' not in html:
        return set()
    panel = html.split('id="setup-heading"', 1)[1].split("</section>", 1)[0]
    return {step for step, name in STEPS.items() if reverse(name, args=["lyon"]) in panel}


def test_a_new_place_lists_every_step_and_none_once_done(client, lyon):
    """Importing areas, inviting a colleague, listing a partner and writing a rule each take
    their step away."""
    place, team, admin = lyon
    assert _panel(client, admin) == {"areas", "members", "partners", "routing"}
    with place_scope(place):
        AreaFactory(place=place, name="1er arrondissement", geometry=square(4.83, 45.76))
    invited = client.post(
        reverse("accounts:members", args=["lyon"]),
        {"email": "coord@lyon.example", "role": "coordinator"},
    )
    assert invited.status_code == 200
    assert _panel(client, admin) == {"partners", "routing"}  # an invitation is on its way
    partner = OrganisationFactory(name="Aide aux victimes", type=OrganisationType.VICTIM_SUPPORT)
    with place_scope(place):
        organisation_list_in_place(organisation=partner, place=place)
        routing_rule_save(place=place, actor=admin, name="Tout", destinations=[partner])
    assert _panel(client, admin) == set()


def test_each_person_sees_only_the_steps_they_may_take(client, lyon):
    place, team, _admin = lyon
    coordinator = UserFactory()
    enable_totp(coordinator)
    MembershipFactory(user=coordinator, organisation=team, role=Role.COORDINATOR)
    assert _panel(client, coordinator) == {"partners", "routing"}
    analyst = UserFactory()
    MembershipFactory(user=analyst, organisation=team, role=Role.ANALYST)
    assert _panel(client, analyst) == set()
    # A partner's administrator runs its own organisation, not the place.
    partner = OrganisationFactory(name="Partner", type=OrganisationType.CSO)
    with place_scope(place):
        organisation_list_in_place(organisation=partner, place=place)
    partner_admin = UserFactory()
    enable_totp(partner_admin)
    MembershipFactory(user=partner_admin, organisation=partner, role=Role.ADMIN)
    assert _panel(client, partner_admin) == {"members"}
