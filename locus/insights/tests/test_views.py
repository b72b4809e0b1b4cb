"""The dashboard, the service page and annotations, as staff use them (pages and API)."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from locus.cases.choices import CaseOutcome, CaseStatus
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.core.testing import RATE_COUNT_QUERIES
from locus.core.testing.markup import unreadable_svg_numbers
from locus.insights.models import Annotation
from locus.insights.selectors import PROVISIONAL_DAYS

from .helpers import add_case, add_report

pytestmark = pytest.mark.django_db

# Session, user, place, membership (×2), listing and the layout's reads, the roll-up check
# (state + two MAX(id)), areas, the series, three breakdowns, annotations, the area filter, the
# open alarms.
DASHBOARD_QUERIES = 17


def _url(place, name="insights:dashboard", **kwargs):
    return reverse(name, kwargs={"place_slug": place.slug, **kwargs})


def _fill(world, in_place, count, *, today=None):
    """`count` hate reports over the last year in the first area, and one suspicious one."""
    today = today or timezone.localdate()
    place = world.a.place
    with in_place(place):
        for i in range(count):
            add_report(place, today - timedelta(days=(i * 7) % 360), area=world.a.areas[i % 2])
        add_report(place, today, incident_type="suspicious_activity", bias=("antisemitism",))


def test_dashboard_shows_counts_rates_map_and_tables(world, in_place, client_for):
    place = world.a.place
    with in_place(place):
        area = world.a.areas[0]
        area.population = 20_000
        area.save()
    _fill(world, in_place, 12)
    response = client_for(world.a.users["analyst"]).get(_url(place))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="img"' in html and "<svg" in html  # server-rendered charts
    assert 'id="insights-map-data"' in html  # the map's GeoJSON
    assert "<table" in html
    # 12 hate incidents in the last 12 months; the suspicious report stays out of them.
    data = response.context["data"]
    assert data.total.incidents == 12
    assert {f.code for f in data.by_type} >= {"abusive_behaviour", "suspicious_activity"}
    suspicious = next(f for f in data.by_type if f.code == "suspicious_activity")
    assert suspicious.counts_as_hate is False
    north = next(a for a in data.areas if a.id == world.a.areas[0].pk)
    assert north.rate == pytest.approx(1000 * north.incidents / 20_000, abs=0.001)
    # The most recent months are provisional and say so.
    assert data.provisional[-1] is True and data.provisional[0] is False
    assert "provisional" in html
    assert not unreadable_svg_numbers(html)


@pytest.mark.parametrize("language", ["fr", "de", "sv"])
def test_dashboard_charts_are_drawn_in_every_language(world, in_place, client_for, language):
    """Coordinates stay plain numbers where the language writes decimals with a comma."""
    _fill(world, in_place, 12)
    client = client_for(world.a.users["analyst"])
    client.cookies["django_language"] = language
    html = client.get(_url(world.a.place)).content.decode()
    assert html.count('class="bar') >= 12 and "<path" in html
    assert not unreadable_svg_numbers(html)
    html = client.get(_url(world.a.place, "insights:service")).content.decode()
    assert "<svg" in html and not unreadable_svg_numbers(html)


def test_filters_narrow_the_figures(world, in_place, client_for):
    place = world.a.place
    today = timezone.localdate()
    with in_place(place):
        add_report(place, today, area=world.a.areas[0], bias=("antisemitism",), setting="online")
        add_report(place, today, area=world.a.areas[1], bias=("disability",), setting="street")
    client = client_for(world.a.users["coordinator"])
    response = client.get(_url(place), {"bias": "antisemitism", "grain": "W"})
    assert response.context["data"].total.incidents == 1
    response = client.get(_url(place), {"area": world.a.areas[1].pk, "grain": "W"})
    assert response.context["data"].total.incidents == 1
    response = client.get(_url(place), {"setting": "street"})
    assert response.context["data"].total.incidents == 1
    response = client.get(_url(place), {"basis": "v"})
    assert response.context["data"].total.incidents == 0


def test_the_chosen_area_is_named_in_the_table_not_only_shaded(world, in_place, client_for):
    """WCAG 1.4.1: the area filtered on was told apart in the table by a pale background alone."""
    place = world.a.place
    north, south = world.a.areas
    client = client_for(world.a.users["coordinator"])
    html = client.get(_url(place), {"area": south.pk}).content.decode()
    row = f'<tr class="is-selected"><th scope="row">{south.name} <strong>(selected area)</strong>'
    assert row in html
    assert html.count("(selected area)") == 1
    assert "(selected area)" not in client.get(_url(place)).content.decode()


def test_bad_filters_are_shown_next_to_the_field(world, in_place, client_for):
    place = world.a.place
    client = client_for(world.a.users["analyst"])
    response = client.get(_url(place), {"start": "2026-05-01", "end": "2026-01-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_end_error"' in html
    assert 'value="2026-05-01"' in html  # what was typed is kept
    response = client.get(_url(place), {"area": world.b.areas[0].pk})  # another place's area
    assert 'id="id_area_error"' in response.content.decode()
    response = client.get(_url(place), {"grain": "W", "start": "2001-01-01", "end": "2026-01-01"})
    assert 'id="id_start_error"' in response.content.decode()


def test_comparisons(world, in_place, client_for):
    place = world.a.place
    with in_place(place):
        for _ in range(4):
            add_report(place, date(2025, 3, 10))
        for _ in range(2):
            add_report(place, date(2026, 2, 10))
        add_report(place, date(2026, 3, 10))
    response = client_for(world.a.users["analyst"]).get(
        _url(place), {"start": "2026-03-01", "end": "2026-03-31"}
    )
    total = response.context["data"].total
    assert (total.incidents, total.previous, total.last_year) == (1, 2, 4)
    assert total.change_previous == -50.0 and total.change_last_year == -75.0


def test_a_year_long_period_is_compared_once(world, in_place, client_for):
    """With twelve months (the default) the previous period is the year before: the page
    showed the same figures twice, as "Previous period" and "A year earlier", as if they
    were two findings. It shows them once and says why; other lengths show both."""
    place = world.a.place
    today = timezone.localdate()
    with in_place(place):
        add_report(place, today, bias=("antisemitism",))
        add_report(place, today - timedelta(days=400), bias=("antisemitism",))
    client = client_for(world.a.users["analyst"])
    response = client.get(_url(place))
    html = response.content.decode()
    filters = response.context["filters"]
    assert filters.previous == filters.last_year and filters.comparisons == ("last_year",)
    assert "Previous period" not in html and "A year earlier" in html
    assert 'id="one-comparison"' in html
    # Every table has one comparison: the bias breakdown's header and row line up.
    bias = html[html.index('id="bias-heading"') :]
    bias = bias[: bias.index("</table>")]
    assert bias.count('<th scope="col">') == 5
    row = bias[bias.index("<tbody>") : bias.index("</tr>", bias.index("<tbody>"))]
    assert row.count("<td>") == 4
    for query in ({"start": "2026-03-01", "end": "2026-03-31"}, {"grain": "W"}):
        response = client.get(_url(place), query)
        html = response.content.decode()
        assert response.context["filters"].comparisons == ("previous", "last_year")
        assert "Previous period" in html and "A year earlier" in html
        assert 'id="one-comparison"' not in html
    # 52 weeks are a year too.
    start = today - timedelta(weeks=51)
    response = client.get(_url(place), {"grain": "W", "start": start.isoformat()})
    assert response.context["filters"].length == 52
    assert "Previous period" not in response.content.decode()


@pytest.mark.parametrize("months", [1, 6, 11, 12, 13, 24])
def test_the_comparisons_are_the_distinct_ones(months):
    from locus.insights.selectors import DashboardFilters

    start = date(2024, 1, 1)
    end = date(2024 + (months // 12), 1 + months % 12, 1)
    filters = DashboardFilters(grain="M", start=start, end=end)
    assert filters.length == months
    expected = ("last_year",) if months == 12 else ("previous", "last_year")
    assert filters.comparisons == expected


def test_changes_are_written_in_the_readers_language(world, in_place, client_for):
    place = world.a.place
    with in_place(place):
        for _ in range(6):
            add_report(place, date(2026, 2, 10))
        for _ in range(7):
            add_report(place, date(2026, 3, 10))
    client = client_for(world.a.users["analyst"])
    query = {"start": "2026-03-01", "end": "2026-03-31"}
    html = client.get(_url(place), query).content.decode()
    assert "(+16.7 %)" in html  # 7 against 6
    client.cookies["django_language"] = "sv"
    html = client.get(_url(place), query).content.decode()
    assert "(+16,7 %)" in html and "16.7" not in html


def test_the_dashboard_query_budget_does_not_grow_with_data(
    world, in_place, client_for, django_assert_max_num_queries
):
    place = world.a.place
    client = client_for(world.a.users["analyst"])
    _fill(world, in_place, 3)
    client.get(_url(place))  # builds the roll-up
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        client.get(_url(place))
    _fill(world, in_place, 150)
    client.get(_url(place))  # refreshes the dirty periods
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(_url(place), {"grain": "W", "bias": "anti_black"})
    assert response.status_code == 200


def test_annotations_appear_on_every_chart(world, in_place, client_for):
    place = world.a.place
    today = timezone.localdate()
    with in_place(place):
        Annotation.objects.create(
            place=place,
            starts_on=today - timedelta(days=40),
            ends_on=today - timedelta(days=35),
            text="Trigger X",
        )
    html = client_for(world.a.users["analyst"]).get(_url(place)).content.decode()
    assert len(re.findall(r'class="band"', html)) == 2  # both charts
    assert html.count("Trigger X") >= 2
    html = (
        client_for(world.a.users["analyst"]).get(_url(place, "insights:service")).content.decode()
    )
    assert "Trigger X" in html


def test_annotation_add_edit_delete_is_audited(world, in_place, client_for):
    place = world.a.place
    client = client_for(world.a.users["coordinator"])
    response = client.post(
        _url(place, "insights:annotations"),
        {"starts_on": "2026-02-21", "ends_on": "2026-02-20", "text": "Attack abroad"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_ends_on_error"' in html and 'value="Attack abroad"' in html
    response = client.post(
        _url(place, "insights:annotations"),
        {"starts_on": "2026-02-21", "ends_on": "2026-02-27", "text": "Attack abroad"},
    )
    assert response.status_code == 302
    with in_place(place):
        annotation = Annotation.objects.get(place=place)
    assert annotation.created_by == world.a.users["coordinator"]
    response = client.post(
        _url(place, "insights:annotation_edit", annotation_id=annotation.pk),
        {"starts_on": "2026-02-21", "ends_on": "2026-02-21", "text": "Attack abroad (day)"},
    )
    assert response.status_code == 302
    response = client.post(_url(place, "insights:annotation_delete", annotation_id=annotation.pk))
    assert response.status_code == 302
    with in_place(place):
        assert not Annotation.objects.filter(place=place).exists()
    changes = list(
        AuditEvent.objects.filter(place=place, action=AuditAction.ANNOTATION_CHANGED)
        .order_by("id")
        .values_list("data__change", flat=True)
    )
    assert changes == ["created", "updated", "deleted"]


def test_a_caseworker_reads_but_cannot_annotate(world, client_for):
    client = client_for(world.a.users["caseworker"])
    assert client.get(_url(world.a.place)).status_code == 200
    assert client.get(_url(world.a.place, "insights:annotations")).status_code == 403


def test_service_figures(world, in_place, client_for, django_assert_max_num_queries):
    place, org = world.a.place, world.a.organisation
    today = timezone.localdate()
    now = timezone.now()
    with in_place(place):
        from locus.directory.models import OrganisationListing

        OrganisationListing.objects.filter(place=place, organisation=org).update(
            acknowledge_target_hours=24, close_target_days=10
        )
        for i in range(4):
            report = add_report(
                place,
                today - timedelta(days=30),
                area=world.a.areas[0],
                bias=("antisemitism",),
                consent_support_contact=i < 2,
                reporter_role="victim" if i < 3 else "witness",
            )
            created = now - timedelta(days=30)
            fields = {"created_at": created}
            if i < 3:  # acknowledged after 2 h; one closed (supported) after 5 days
                fields["acknowledged_at"] = created + timedelta(hours=2)
            if i == 0:
                fields.update(
                    status=CaseStatus.CLOSED,
                    closed_at=created + timedelta(days=5),
                    outcome=CaseOutcome.SUPPORTED,
                )
            add_case(report, org, **fields)
    client = client_for(world.a.users["analyst"])
    client.get(_url(place, "insights:service"))
    with django_assert_max_num_queries(14):
        response = client.get(_url(place, "insights:service"))
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.reports == 4
    assert figures.support_consent == 2 and figures.supported == 1
    (row,) = [o for o in figures.organisations if o.organisation_id == org.pk]
    assert row.cases == 4
    # Three acknowledged within 24 h, one never and long past the target.
    assert row.acknowledge_within == 0.75
    # One closed within 10 days; three open and past the 10 days.
    assert row.close_within == 0.25 and row.open_overdue == 3
    (community,) = figures.communities
    assert community.code == "antisemitism" and community.self_share == 0.75
    north = figures.areas[0]
    assert north.reports == 4 and north.share == 1.0


def test_service_period_errors(world, client_for):
    response = client_for(world.a.users["analyst"]).get(
        _url(world.a.place, "insights:service"), {"start": "2026-05-01", "end": "2026-01-01"}
    )
    assert response.status_code == 200
    assert 'id="id_end_error"' in response.content.decode()


def test_the_chosen_period_is_kept_between_the_dashboard_and_the_service_page(world, client_for):
    client = client_for(world.a.users["analyst"])
    period = {"start": "2026-01-01", "end": "2026-03-31"}
    service = _url(world.a.place, "insights:service")
    dashboard = _url(world.a.place)
    html = client.get(dashboard, period | {"area": "", "grain": "W"}).content.decode()
    assert f'href="{service}?start=2026-01-01&amp;end=2026-03-31"' in html
    html = client.get(service, period).content.decode()
    assert f'href="{dashboard}?start=2026-01-01&amp;end=2026-03-31"' in html
    # No period chosen, or an invalid one: plain links (each page's default).
    assert f'href="{service}"' in client.get(dashboard).content.decode()
    bad = client.get(service, {"start": "2026-05-01", "end": "2026-01-01"}).content.decode()
    assert f'href="{dashboard}"' in bad


# --- API -----------------------------------------------------------------------------------


def _api(place, what):
    return f"/api/v1/places/{place.slug}/insights/{what}"


def test_api_dashboard(world, in_place, client_for):
    _fill(world, in_place, 5)
    client = client_for(world.a.users["analyst"])
    body = client.get(_api(world.a.place, "dashboard"), {"grain": "W"}).json()
    assert body["grain"] == "W" and body["total"]["incidents"] == 5
    assert body["provisional_days"] == PROVISIONAL_DAYS
    assert len(body["areas"]) == 2 and body["periods"][-1]["provisional"] is True
    assert body["comparisons"] == ["previous", "last_year"]  # 26 weeks
    # Twelve months: the previous period is the year before, named once.
    body = client.get(_api(world.a.place, "dashboard")).json()
    assert body["comparisons"] == ["last_year"] and body["previous"] == body["last_year"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"bias": "nonsense"}, "bias"),
        ({"incident_type": "x"}, "incident_type"),
        ({"start": "2026-05-01", "end": "2026-01-01"}, "end"),
        ({"grain": "D"}, "grain"),
        ({"start": "not a date"}, "start"),
    ],
)
def test_api_dashboard_bad_filters_name_the_field(world, client_for, params, field):
    response = client_for(world.a.users["analyst"]).get(_api(world.a.place, "dashboard"), params)
    assert response.status_code == 422
    assert field in response.json()["fields"]


def test_api_dashboard_refuses_another_places_area(world, client_for):
    response = client_for(world.a.users["analyst"]).get(
        _api(world.a.place, "dashboard"), {"area": world.b.areas[0].pk}
    )
    assert response.status_code == 422 and "area" in response.json()["fields"]


def test_api_service_and_annotations(world, in_place, client_for):
    _fill(world, in_place, 3)
    client = client_for(world.a.users["coordinator"])
    body = client.get(_api(world.a.place, "service")).json()
    assert body["reports"] == 4
    assert client.get(_api(world.a.place, "annotations")).json() == []
    response = client.get(
        _api(world.a.place, "service"), {"start": "2026-05-01", "end": "2025-01-01"}
    )
    assert response.status_code == 422 and "end" in response.json()["fields"]


def test_the_api_query_budget_does_not_grow_with_data(
    world, in_place, client_for, django_assert_max_num_queries
):
    place = world.a.place
    client = client_for(world.a.users["analyst"])
    _fill(world, in_place, 3)
    client.get(_api(place, "dashboard"))
    with django_assert_max_num_queries(DASHBOARD_QUERIES + RATE_COUNT_QUERIES):
        client.get(_api(place, "dashboard"))
    _fill(world, in_place, 120)
    client.get(_api(place, "dashboard"))
    with django_assert_max_num_queries(DASHBOARD_QUERIES + RATE_COUNT_QUERIES):
        assert client.get(_api(place, "dashboard"), {"grain": "W"}).status_code == 200


def test_the_dashboard_lists_the_open_alarms(world, in_place, client_for):
    from locus.alerts.models import Alarm

    place = world.a.place
    with in_place(place):
        alarm = Alarm.objects.create(
            place=place,
            week=date(2026, 3, 2),
            series_key="place|bias:antisemitism",
            axis="bias",
            category="antisemitism",
            method="ears",
            observed=30,
            expected=5.0,
            upper_bound=14.0,
            p_value=0.0001,
            q_value=0.001,
            score=2.5,
        )
    html = client_for(world.a.users["analyst"]).get(_url(place)).content.decode()
    assert reverse("alerts:detail", args=[place.slug, alarm.pk]) in html
    assert "No open alarm." not in html
