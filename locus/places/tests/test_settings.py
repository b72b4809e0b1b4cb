from django.urls import reverse

from locus.core.models import AuditEvent
from locus.core.tenancy import place_scope
from locus.core.testing.factories import MembershipFactory, OrganisationFactory
from locus.core.testing.world import enable_totp
from locus.directory.services import organisation_list_in_place

VALID = {
    "name": "Alphaville City",
    "default_language": "fr",
    "timezone": "Europe/Paris",
    "emergency_number": "17",
    "suppression_threshold": "5",
    "publication_delay_days": "14",
    "report_retention_days": "2000",
    "evidence_retention_days": "700",
}


def test_city_admin_changes_settings_and_it_is_audited(world, client):
    client.force_login(world.a.users["admin"])
    response = client.post(reverse("places:settings", args=["alpha"]), VALID)
    assert response.status_code == 302
    world.a.place.refresh_from_db()
    assert (world.a.place.name, world.a.place.default_language, world.a.place.timezone) == (
        "Alphaville City",
        "fr",
        "Europe/Paris",
    )
    assert world.a.place.suppression_threshold == 5
    assert world.a.place.emergency_number == "17"
    event = AuditEvent.objects.get(action="place_settings_changed")
    assert "suppression_threshold" in event.data["fields"]
    world.b.place.refresh_from_db()
    assert world.b.place.name == "Betastad"


def test_bad_settings_show_errors_and_keep_input(world, client):
    client.force_login(world.a.users["admin"])
    bad = VALID | {
        "timezone": "Mars/Olympus",
        "suppression_threshold": "0",
        "report_retention_days": "10",
        "evidence_retention_days": "9000",
        "default_language": "xx",
        "emergency_number": "call the police",
    }
    response = client.post(reverse("places:settings", args=["alpha"]), bad)
    assert response.status_code == 422
    form = response.context["form"]
    assert {
        "timezone",
        "suppression_threshold",
        "report_retention_days",
        "default_language",
        "emergency_number",
    } <= set(form.errors)
    assert b"Alphaville City" in response.content
    assert b'value="call the police"' in response.content
    assert b"Enter the number people call, in digits" in response.content
    world.a.place.refresh_from_db()
    assert world.a.place.name == "Alphaville"


def test_evidence_cannot_outlive_reports(world, client):
    client.force_login(world.a.users["admin"])
    response = client.post(
        reverse("places:settings", args=["alpha"]), VALID | {"evidence_retention_days": "3000"}
    )
    assert response.status_code == 422
    assert "evidence_retention_days" in response.context["form"].errors


def test_a_retention_beyond_a_hundred_years_is_refused(world, client):
    """Past about 740,000 days "now - retention" is before year 1: the retention job would fail
    for the place. A mistyped number is refused next to its field instead."""
    client.force_login(world.a.users["admin"])
    huge = {"report_retention_days": "1000000", "evidence_retention_days": "999999"}
    response = client.post(reverse("places:settings", args=["alpha"]), VALID | huge)
    assert response.status_code == 422
    assert {"report_retention_days", "evidence_retention_days"} <= set(
        response.context["form"].errors
    )
    assert b'value="1000000"' in response.content
    world.a.place.refresh_from_db()
    assert world.a.place.report_retention_days != 1000000
    ok = {"report_retention_days": "36500", "evidence_retention_days": "36500"}
    response = client.post(reverse("places:settings", args=["alpha"]), VALID | ok)
    assert response.status_code == 302


def test_admins_of_other_organisations_cannot_manage_the_place(world, client):
    """Place-wide settings and areas belong to the city's own team, not to every partner."""
    partner = OrganisationFactory(name="Partner charity")
    with place_scope(world.a.place):
        organisation_list_in_place(organisation=partner, place=world.a.place)
    membership = MembershipFactory(organisation=partner, role="admin")
    enable_totp(membership.user)
    client.force_login(membership.user)
    assert client.get(reverse("places:settings", args=["alpha"])).status_code == 403
    assert client.get(reverse("places:areas", args=["alpha"])).status_code == 403
    # …but they still administer their own organisation.
    assert client.get(reverse("accounts:members", args=["alpha"])).status_code == 200
    home = client.get(reverse("places:staff_home", args=["alpha"]))
    assert "place.manage" not in home.context["membership_capabilities"]
