"""A new place fills its directory from the UI: its coordinators add the partner organisations
they work with (each then a routing destination), and every organisation's inbox address, where
"a report reached you" e-mails go, is set on its entry (docs/getting-started.md)."""

from django.urls import reverse

from locus.cases.services import _inboxes
from locus.core.models import AuditEvent
from locus.core.tenancy import place_scope
from locus.directory.models import Organisation, OrganisationListing
from locus.directory.selectors import organisation_list

from .factories import listed_organisation, member_of

NEW = {
    "name": "Aide aux victimes Lyon",
    "type": "victim_support",
    "description": "",
    "website": "",
    "email": "",
    "phone": "",
    "inbox_email": "signalements@aide.example",
}


def url(name, place_world, **kwargs):
    return reverse(f"directory:{name}", kwargs={"place_slug": place_world.place.slug, **kwargs})


def test_the_directory_offers_to_add_an_organisation_to_its_managers_only(world, client):
    a = world.a
    client.force_login(a.users["coordinator"])
    assert url("organisation_new", a) in client.get(url("index", a)).content.decode()
    client.force_login(a.users["editor"])
    assert url("organisation_new", a) not in client.get(url("index", a)).content.decode()


def test_a_coordinator_adds_a_partner_that_can_then_receive_reports(world, client):
    a = world.a
    client.force_login(a.users["coordinator"])
    response = client.post(url("organisation_new", a), NEW)
    organisation = Organisation.objects.get(name="Aide aux victimes Lyon")
    assert response.status_code == 302
    assert response["Location"] == url("organisation", a, organisation_id=organisation.pk)
    listing = OrganisationListing.objects.get(organisation=organisation)
    assert (listing.place, listing.is_active, listing.manages_place) == (a.place, True, False)
    assert listing.last_checked_on is not None
    with place_scope(a.place):
        assert organisation in organisation_list(place=a.place)  # a routing destination
        assert _inboxes(a.place)[organisation.pk] == "signalements@aide.example"
    event = AuditEvent.objects.get(action="directory_changed", target_id=str(organisation.pk))
    assert event.data["fields"] == ["created"] and event.place == a.place
    assert not OrganisationListing.objects.filter(organisation=organisation, place=world.b.place)


def test_errors_are_shown_next_to_their_fields_and_nothing_is_added(world, client):
    a = world.a
    listed_organisation(a.place, "Aide aux victimes Lyon")
    client.force_login(a.users["admin"])
    response = client.post(
        url("organisation_new", a), {**NEW, "name": "aide aux victimes lyon ", "type": ""}
    )
    assert response.status_code == 422
    assert "type" in response.context["form"].errors
    response = client.post(url("organisation_new", a), {**NEW, "name": "aide aux victimes lyon "})
    assert response.status_code == 422
    assert "already listed" in str(response.context["form"].errors["name"])
    response = client.post(
        url("organisation_new", a), {**NEW, "name": "Other", "inbox_email": "not an address"}
    )
    assert response.status_code == 422
    assert "inbox_email" in response.context["form"].errors
    assert 'value="Other"' in response.content.decode()
    assert Organisation.objects.filter(name__iexact="aide aux victimes lyon").count() == 1
    assert not Organisation.objects.filter(name="Other").exists()


def test_an_organisation_sets_its_own_inbox_on_its_entry(world, client):
    a = world.a
    charity = listed_organisation(a.place, "Partner Charity")
    editor = member_of(charity, "editor", "editor@charity.example")
    client.force_login(editor)
    page = client.get(url("organisation", a, organisation_id=charity.pk)).content.decode()
    assert 'name="inbox_email"' in page
    entry = {"name": "Partner Charity", "description": "", "website": "", "email": "", "phone": ""}
    response = client.post(
        url("organisation", a, organisation_id=charity.pk),
        {**entry, "inbox_email": "cases@charity.example"},
    )
    assert response.status_code == 302
    listing = OrganisationListing.objects.get(organisation=charity, place=a.place)
    assert listing.inbox_email == "cases@charity.example"
    assert AuditEvent.objects.filter(
        action="directory_changed", target_id=str(listing.pk), data__fields=["inbox_email"]
    ).exists()
    # Another organisation's member reads the entry without the inbox address.
    client.force_login(a.users["editor"])
    page = client.get(url("organisation", a, organisation_id=charity.pk)).content.decode()
    assert "cases@charity.example" not in page and 'name="inbox_email"' not in page
    # A bad address is refused next to the field; what was typed stays.
    client.force_login(editor)
    response = client.post(
        url("organisation", a, organisation_id=charity.pk), {**entry, "inbox_email": "nope"}
    )
    assert response.status_code == 422 and "inbox_email" in response.context["form"].errors
    listing.refresh_from_db()
    assert listing.inbox_email == "cases@charity.example"
