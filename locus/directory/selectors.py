from .models import Organisation, OrganisationListing


def organisation_list(*, place):
    """Organisations with an active listing in the place."""
    return Organisation.objects.filter(listings__place=place, listings__is_active=True).order_by(
        "name"
    )


def access_organisation(*, place, organisation_id):
    """The organisation listed in this place, or None (same for missing and not listed here)."""
    return organisation_list(place=place).filter(pk=organisation_id).first()


def listing_exists(*, place, organisation):
    return OrganisationListing.objects.filter(
        place=place, organisation=organisation, is_active=True
    ).exists()
