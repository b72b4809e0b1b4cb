"""Platform admin: an organisation is added together with the places it works in."""

import pytest

from locus.core.testing.factories import PlaceFactory
from locus.directory.models import Organisation, OrganisationListing


def _form(place, **listing):
    return {
        "name": "Ville de Lyon",
        "type": "local_authority",
        "website": "",
        "description": "",
        "email": "",
        "phone": "",
        "listings-TOTAL_FORMS": "1",
        "listings-INITIAL_FORMS": "0",
        "listings-MIN_NUM_FORMS": "0",
        "listings-MAX_NUM_FORMS": "1000",
        "listings-0-place": str(place.pk),
        "listings-0-is_active": "on",
        **{f"listings-0-{key}": value for key, value in listing.items()},
    }


def test_a_new_organisation_is_saved_with_its_listing(platform_admin, db):
    place = PlaceFactory(slug="lyon", name="Lyon")
    response = platform_admin.post(
        "/admin/directory/organisation/add/",
        _form(place, manages_place="on", inbox_email="signalements@lyon.example"),
    )
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    listing = OrganisationListing.objects.get(organisation__name="Ville de Lyon")
    assert (listing.place, listing.manages_place, listing.inbox_email) == (
        place,
        True,
        "signalements@lyon.example",
    )


def test_a_listing_still_needs_an_organisation(db):
    from django.core.exceptions import ValidationError

    listing = OrganisationListing(place=PlaceFactory(slug="lyon", name="Lyon"))
    with pytest.raises(ValidationError) as error:
        listing.clean()
    assert "organisation" in error.value.message_dict
    assert not Organisation.objects.exists()


def test_a_listing_added_here_starts_checked_today(platform_admin, db):
    """The place's own team, added by the platform administrator, is not stale on day one."""
    from django.utils import timezone

    html = platform_admin.get("/admin/directory/organisation/add/").content.decode()
    today = timezone.localdate().isoformat()
    field = html[html.index('name="listings-__prefix__-last_checked_on"') :][:200]
    assert f'value="{today}"' in field
