"""A new place's first administrator meets empty pages: each says what brings data there, not
only that there is none (docs/getting-started.md walks the same path)."""

from django.urls import reverse

from locus.core.testing.world import partner_member
from locus.places.models import Area


def test_an_inbox_nothing_reached_says_how_cases_come(world, client_for):
    slug = world.a.place.slug
    page = client_for(world.a.users["coordinator"]).get(reverse("cases:inbox", args=[slug]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "No report has reached your organisation yet." in text
    assert reverse("cases:rules", args=[slug]) in text  # the team may write the rules
    assert "No cases match." not in text


def test_a_partner_inbox_says_the_team_writes_the_rules(world, client_for):
    slug = world.a.place.slug
    membership = partner_member(world.a, "caseworker")
    page = client_for(membership.user).get(reverse("cases:inbox", args=[slug]))
    text = page.content.decode()
    assert "No report has reached your organisation yet." in text
    assert "The place's team writes the rules." in text
    assert reverse("cases:rules", args=[slug]) not in text


def test_a_filtered_empty_inbox_still_says_nothing_matches(world, client_for):
    slug = world.a.place.slug
    area = world.a.areas[0]
    url = reverse("cases:inbox", args=[slug]) + f"?area={area.pk}"
    text = client_for(world.a.users["coordinator"]).get(url).content.decode()
    assert "No cases match." in text
    assert "No report has reached" not in text


def test_an_empty_dashboard_points_to_the_report_form(world, client_for):
    slug = world.a.place.slug
    text = client_for(world.a.users["analyst"]).get(reverse("insights:dashboard", args=[slug]))
    text = text.content.decode()
    assert "No report counts here yet" in text
    assert f'href="{reverse("reporting:report", args=[slug])}"' in text


def test_empty_programmes_and_jobs_say_what_to_do(world, client_for):
    slug = world.a.place.slug
    client = client_for(world.a.users["admin"])
    programmes = client.get(reverse("programmes:list", args=[slug])).content.decode()
    assert "Start with New programme" in programmes
    jobs = client.get(reverse("places:jobs", args=[slug])).content.decode()
    assert "Imports (areas, context indicators, the directory) run here as jobs" in jobs


def test_alerts_before_the_first_check_say_when_it_runs(world, client_for):
    slug = world.a.place.slug
    text = client_for(world.a.users["coordinator"]).get(reverse("alerts:index", args=[slug]))
    assert "It runs every Monday" in text.content.decode()


def test_the_public_page_has_no_empty_areas_panel(world, client, in_place):
    place = world.a.place
    url = reverse("places:home", args=[place.slug])
    assert "<h2>Areas</h2>" in client.get(url).content.decode()
    with in_place(place):
        Area.objects.filter(place=place).delete()
    assert "<h2>Areas</h2>" not in client.get(url).content.decode()
