from django.db import transaction

from .models import Organisation, OrganisationListing


@transaction.atomic
def organisation_create(*, name, type, website="", description=""):
    organisation = Organisation(name=name, type=type, website=website, description=description)
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def organisation_list_in_place(*, organisation, place, manages_place=None):
    """List (or re-activate) an organisation in a place. `manages_place` marks the city's own
    team (None leaves it as it is)."""
    listing = OrganisationListing.objects.filter(place=place, organisation=organisation).first()
    if listing is None:
        listing = OrganisationListing(place=place, organisation=organisation)
    listing.is_active = True
    if manages_place is not None:
        listing.manages_place = manages_place
    listing.save()
    return listing
