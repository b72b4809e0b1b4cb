"""A city's showcase (`/<place>/library/`): the published library records of the organisations
listed in that place, newest first. Public, like the library itself."""

from django.core.paginator import Paginator
from django.shortcuts import render

from .choices import RecordStatus
from .models import Record

PAGE_SIZE = 30


def showcase_records(place):
    """Published records contributed by organisations with an active listing in `place`."""
    from locus.directory.models import OrganisationListing

    organisations = OrganisationListing.objects.filter(place=place, is_active=True).values(
        "organisation_id"
    )
    return (
        Record.objects.filter(status=RecordStatus.PUBLISHED, organisation_id__in=organisations)
        .select_related("organisation")
        .order_by("-published_at", "-pk")
    )


def showcase(request, place_slug):
    place = request.place
    page = Paginator(showcase_records(place), PAGE_SIZE).get_page(request.GET.get("page"))
    organisations = sorted(
        {record.organisation for record in page.object_list}, key=lambda org: org.name
    )
    context = {"page": page, "organisations": organisations, "place": place}
    return render(request, "library/showcase.html", context)
