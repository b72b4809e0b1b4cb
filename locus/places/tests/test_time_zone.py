"""A place's pages show its local times; stored values and the API stay in UTC."""

from datetime import UTC, datetime

from django.urls import reverse

from locus.accounts.services import token_create
from locus.core.models import Job
from locus.core.services import job_create
from locus.places.services import AREA_IMPORT_JOB


def _job_at(place, in_place, moment):
    with in_place(place):
        job = job_create(place=place, kind=AREA_IMPORT_JOB, title="Import areas from x.geojson")
        Job.objects.filter(pk=job.pk).update(created_at=moment)
    return job


def test_the_pages_of_a_place_speak_its_local_time(world, client_for, in_place):
    place = world.a.place
    place.timezone = "Europe/Stockholm"
    place.save(update_fields=["timezone"])
    job = _job_at(place, in_place, datetime(2026, 7, 1, 10, 5, tzinfo=UTC))
    client = client_for(world.a.users["admin"])
    html = client.get(reverse("places:jobs", args=[place.slug])).content.decode()
    assert "12:05" in html and "10:05" not in html  # summer: UTC+2

    membership = world.a.memberships["admin"]
    _token, secret = token_create(membership=membership, name="tz")
    body = client.get(
        f"/api/v1/places/{place.slug}/jobs/{job.pk}", headers={"Authorization": f"Bearer {secret}"}
    ).json()
    assert body["created_at"].startswith("2026-07-01T10:05:00")
    assert body["created_at"].endswith("Z")


def test_an_unknown_zone_name_falls_back_to_utc(world, client_for, in_place):
    place = world.a.place
    type(place).objects.filter(pk=place.pk).update(timezone="Nowhere/Atlantis")
    _job_at(place, in_place, datetime(2026, 7, 1, 10, 5, tzinfo=UTC))
    html = client_for(world.a.users["admin"]).get(reverse("places:jobs", args=[place.slug]))
    assert html.status_code == 200
    assert "10:05" in html.content.decode()
