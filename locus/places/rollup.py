"""The national roll-up: figures across a network's places. One of the few modules allowed to
read tenant-owned tables across places (`unscoped`), and it returns only counts."""

from django.db.models import Count

from locus.directory.models import OrganisationListing

from .models import Area


def network_place_summaries(*, network):
    places = list(network.places.filter(is_active=True).order_by("name"))
    area_counts = dict(
        Area.objects.unscoped()
        .filter(place__in=places)
        .values_list("place")
        .annotate(n=Count("id"))
        .values_list("place", "n")
    )
    organisation_counts = dict(
        OrganisationListing.objects.filter(place__in=places, is_active=True)
        .values_list("place")
        .annotate(n=Count("id"))
        .values_list("place", "n")
    )
    return [
        {
            "place": place,
            "areas": area_counts.get(place.pk, 0),
            "organisations": organisation_counts.get(place.pk, 0),
        }
        for place in places
    ]
