"""The alerts page, the subscription form, closing alarms, the dashboard panel and the API."""

import re
from datetime import date

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from locus.accounts.services import token_create
from locus.alerts import services
from locus.alerts.models import Alarm, AlertSubscription
from locus.core.choices import AuditAction
from locus.core.dates import short_date
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.models import AuditEvent
from locus.core.testing.markup import unreadable_svg_numbers
from locus.core.testing.world import partner_member

API = "/api/v1/places/alpha"


def make_alarms(place_world, in_place, count, *, week=date(2026, 3, 2)):
    from datetime import timedelta

    with in_place(place_world.place):
        return [
            Alarm.objects.create(
                place=place_world.place,
                week=week - timedelta(weeks=i),
                series_key=f"area:{place_world.areas[i % 2].pk}|bias:antisemitism",
                area=place_world.areas[i % 2],
                axis="bias",
                category="antisemitism",
                method="ears",
                observed=30 + i,
                expected=5.5,
                upper_bound=14,
                p_value=0.00001,
                q_value=0.001,
                score=2.8,
                reports=40,
                series_judged=120,
            )
            for i in range(count)
        ]


def url(name, place_world, **kwargs):
    return reverse(name, kwargs={"place_slug": place_world.place.slug, **kwargs})


def test_the_page_lists_alarms_with_their_context(world, client, in_place):
    make_alarms(world.a, in_place, 2)
    client.force_login(world.a.users["analyst"])
    response = client.get(url("alerts:index", world.a))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Antisemitism" in text and "Alphaville North" in text
    assert "EARS" in text and "5.5" in text and "0.001" in text
    # An analyst sees alarms but has no subscription form (no SUBSCRIBE_ALERTS) …
    assert "Save subscription" not in text
    # … and may close alarms (MANAGE_INSIGHTS).
    assert "Close" in text


def test_a_tiny_q_value_reads_below_a_bound_not_as_zero(world, client, in_place):
    """A q-value is never 0: rounded to three places it read "0.000" beside "< 0.0001"."""
    [alarm] = make_alarms(world.a, in_place, 1)
    with in_place(world.a.place):
        Alarm.objects.filter(pk=alarm.pk).update(q_value=0.00004)
    client.force_login(world.a.users["analyst"])
    for page in (url("alerts:index", world.a), url("alerts:detail", world.a, alarm_id=alarm.pk)):
        text = client.get(page).content.decode()
        assert "&lt; 0.001" in text and "0.000<" not in text


def test_the_page_query_count_does_not_grow_with_alarms(
    world, client, in_place, django_assert_max_num_queries
):
    client.force_login(world.a.users["coordinator"])
    make_alarms(world.a, in_place, 2)
    with django_assert_max_num_queries(16) as few:
        client.get(url("alerts:index", world.a))
    make_alarms(world.a, in_place, 40, week=date(2025, 3, 3))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url("alerts:index", world.a)).status_code == 200


def test_filtering_by_status_and_area(world, client, in_place):
    alarms = make_alarms(world.a, in_place, 4)
    with in_place(world.a.place):
        services.alarm_close(place=world.a.place, alarm=alarms[0], actor=None)
    client.force_login(world.a.users["analyst"])
    response = client.get(url("alerts:index", world.a), {"status": "open"})
    assert f'id="alarm-{alarms[0].pk}"' not in response.content.decode()
    assert f'id="alarm-{alarms[1].pk}"' in response.content.decode()
    response = client.get(url("alerts:index", world.a), {"area": world.a.areas[1].pk})
    assert f'id="alarm-{alarms[1].pk}"' in response.content.decode()
    assert f'id="alarm-{alarms[2].pk}"' not in response.content.decode()
    # Another place's area is not a choice: the filter is ignored, never a 500, and the status
    # chosen beside it still applies (an area since removed, in a bookmarked link).
    response = client.get(
        url("alerts:index", world.a), {"status": "open", "area": world.b.areas[0].pk}
    )
    assert response.status_code == 200
    assert f'id="alarm-{alarms[0].pk}"' not in response.content.decode()
    assert f'id="alarm-{alarms[1].pk}"' in response.content.decode()


def test_the_pages_of_alarms_keep_the_filters(world, client, in_place, monkeypatch):
    from locus.alerts import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    make_alarms(world.a, in_place, 5)
    client.force_login(world.a.users["analyst"])
    html = client.get(url("alerts:index", world.a), {"status": "open"}).content.decode()
    assert "Page 1 of 3" in html
    assert 'href="?status=open&amp;page=2" rel="next">Older →' in html
    html = client.get(url("alerts:index", world.a), {"status": "open", "page": 2}).content
    assert 'href="?status=open&amp;page=1" rel="prev">← Newer' in html.decode()


def test_a_caseworker_subscribes_their_organisation(world, client, in_place):
    client.force_login(world.a.users["caseworker"])
    page = client.get(url("alerts:index", world.a)).content.decode()
    assert "Save subscription" in page and "does not receive alerts yet" in page
    response = client.post(
        url("alerts:subscription", world.a),
        {
            "areas": [world.a.areas[0].pk],
            "bias": ["antisemitism", "anti_muslim"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    with in_place(world.a.place):
        subscription = AlertSubscription.objects.get(organisation=world.a.organisation)
        assert subscription.bias == ["antisemitism", "anti_muslim"]
        assert list(subscription.areas.all()) == [world.a.areas[0]]
        assert subscription.incident_types == [] and subscription.is_active
    event = AuditEvent.objects.get(action=AuditAction.ALERT_SUBSCRIPTION_CHANGED)
    assert event.actor == world.a.users["caseworker"] and event.data["change"] == "created"

    response = client.post(url("alerts:subscription", world.a), {"action": "delete"})
    assert response.status_code == 302
    with in_place(world.a.place):
        assert not AlertSubscription.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.ALERT_SUBSCRIPTION_CHANGED).count() == 2


def test_a_bad_subscription_is_refused_next_to_its_field(world, client, in_place):
    client.force_login(world.a.users["coordinator"])
    response = client.post(
        url("alerts:subscription", world.a),
        {"areas": [world.b.areas[0].pk], "bias": ["antisemitism", "no_such_bias"]},
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "areas" in form.errors and "bias" in form.errors
    # What the person ticked is kept.
    assert re.search(r'value="antisemitism"[^>]*checked', response.content.decode())
    with in_place(world.a.place):
        assert not AlertSubscription.objects.exists()


# --- Partners: notices without figures ---------------------------------------------------------


def _recent_alarms(place_world, in_place, count, *, skip=0):
    """Alarms of the last judged weeks (the subscription page shows the last 52), the newest
    `skip` weeks before the last one."""
    from datetime import timedelta

    from django.utils import timezone

    from locus.alerts.selectors import last_complete_week

    newest = last_complete_week(timezone.localdate()) - timedelta(weeks=skip)
    return make_alarms(place_world, in_place, count, week=newest)


def _row(html, alarm):
    match = re.search(rf'<tr id="alarm-{alarm.pk}">(.*?)</tr>', html, re.S)
    return match.group(1) if match else None


def test_a_partner_subscribes_and_is_told_the_week_area_and_category_only(world, client, in_place):
    """A partner organisation's caseworker may not read the alarms (their counts are the place
    team's: a partner receives only part of some reports) but subscribes its organisation and
    reads the rises its subscription covers on the subscription page, which the staff
    navigation links to."""
    north_alarm, south_alarm = _recent_alarms(world.a, in_place, 2)
    member = partner_member(world.a, "caseworker")
    client.force_login(member.user)
    page_url = url("alerts:subscription", world.a)
    assert client.get(url("alerts:index", world.a)).status_code == 403
    html = client.get(page_url).content.decode()
    assert "does not receive alerts yet" in html and 'id="alarm-' not in html
    assert f'href="{page_url}"' in html  # the navigation's "Alerts"
    assert f'href="{url("alerts:index", world.a)}"' not in html

    response = client.post(
        page_url, {"areas": [world.a.areas[0].pk], "bias": ["antisemitism"], "is_active": "on"}
    )
    assert response.status_code == 302 and response["Location"] == page_url
    with in_place(world.a.place):
        subscription = AlertSubscription.objects.get(organisation=member.organisation)
        assert list(subscription.areas.all()) == [world.a.areas[0]]
    html = client.get(page_url).content.decode()
    row = _row(html, north_alarm)
    assert row is not None and _row(html, south_alarm) is None  # another area
    assert short_date(north_alarm.week) in row
    assert "Antisemitism" in row and "Alphaville North" in row
    # No figure and no link to the alarm's page, anywhere on the page.
    for figure in ("Observed", "Expected", "EARS", "5.5", "0.001", "q-value"):
        assert figure not in html
    assert url("alerts:detail", world.a, alarm_id=north_alarm.pk) not in html
    assert reverse("insights_data:open_data", args=[world.a.place.slug]) in html

    response = client.post(page_url, {"action": "delete"})
    assert response.status_code == 302 and response["Location"] == page_url
    with in_place(world.a.place):
        assert not AlertSubscription.objects.filter(organisation=member.organisation).exists()


def test_a_partners_bad_subscription_is_refused_on_its_page(world, client, in_place):
    member = partner_member(world.a, "coordinator")
    client.force_login(member.user)
    response = client.post(
        url("alerts:subscription", world.a),
        {"areas": [world.b.areas[0].pk], "bias": ["antisemitism", "no_such_bias"]},
    )
    assert response.status_code == 422
    assert response.templates[0].name == "alerts/subscription.html"
    form = response.context["form"]
    assert "areas" in form.errors and "bias" in form.errors
    assert re.search(r'value="antisemitism"[^>]*checked', response.content.decode())


def test_the_team_reads_its_notices_with_links_to_the_alarms(world, client, in_place):
    (alarm,) = _recent_alarms(world.a, in_place, 1)
    with in_place(world.a.place):
        AlertSubscription.objects.create(place=world.a.place, organisation=world.a.organisation)
    client.force_login(world.a.users["caseworker"])
    html = client.get(url("alerts:subscription", world.a)).content.decode()
    assert url("alerts:detail", world.a, alarm_id=alarm.pk) in _row(html, alarm)
    # Saving from the alerts page still returns there.
    response = client.post(url("alerts:subscription", world.a), {"is_active": "on"})
    assert response["Location"] == url("alerts:index", world.a)


def test_a_paused_subscription_lists_no_notice(world, client, in_place):
    _recent_alarms(world.a, in_place, 1)
    with in_place(world.a.place):
        AlertSubscription.objects.create(
            place=world.a.place, organisation=world.a.organisation, is_active=False
        )
    client.force_login(world.a.users["coordinator"])
    html = client.get(url("alerts:subscription", world.a)).content.decode()
    assert 'id="alarm-' not in html and "no active subscription" in html


def test_the_subscription_page_query_count_does_not_grow_with_alarms(
    world, client, in_place, django_assert_max_num_queries
):
    member = partner_member(world.a, "caseworker")
    with in_place(world.a.place):
        AlertSubscription.objects.create(place=world.a.place, organisation=member.organisation)
    client.force_login(member.user)
    _recent_alarms(world.a, in_place, 2)
    with django_assert_max_num_queries(16) as few:
        client.get(url("alerts:subscription", world.a))
    _recent_alarms(world.a, in_place, 40, skip=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("alerts:subscription", world.a))
    assert response.status_code == 200 and response.content.decode().count('id="alarm-') == 42


def test_a_partners_token_keeps_the_subscription_but_not_the_alarms(world, client, in_place):
    member = partner_member(world.a, "caseworker")
    _token, secret = token_create(membership=member, name="test")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/alerts", headers=headers).status_code == 403
    response = client.put(
        f"{API}/alert-subscription",
        {"bias": ["antisemitism"]},
        content_type="application/json",
        headers=headers,
    )
    assert (
        response.status_code == 200 and response.json()["organisation_id"] == member.organisation_id
    )


def test_the_service_checks_role_areas_and_codes(world, in_place):
    a = world.a
    with in_place(a.place):
        with pytest.raises(PermissionDenied):
            services.subscription_set(
                place=a.place, membership=a.memberships["analyst"], actor=None
            )
        with pytest.raises(ValidationFailed) as caught:
            services.subscription_set(
                place=a.place,
                membership=a.memberships["admin"],
                actor=None,
                area_ids=[world.b.areas[0].pk],
            )
        assert "areas" in caught.value.fields
        with pytest.raises(ValidationFailed) as caught:
            services.subscription_set(
                place=a.place,
                membership=a.memberships["admin"],
                actor=None,
                incident_types=["antisemitism"],  # a bias, not an incident type
            )
        assert "incident_types" in caught.value.fields
        subscription = services.subscription_set(
            place=a.place,
            membership=a.memberships["admin"],
            actor=None,
            incident_types=["threat", "threat"],
        )
        assert subscription.incident_types == ["threat"]


def test_closing_an_alarm(world, client, in_place):
    (alarm,) = make_alarms(world.a, in_place, 1)
    client.force_login(world.a.users["coordinator"])
    response = client.post(url("alerts:close", world.a, alarm_id=alarm.pk))
    assert response.status_code == 302
    with in_place(world.a.place):
        alarm.refresh_from_db()
    assert alarm.status == "closed" and alarm.closed_by == world.a.users["coordinator"]


def test_the_dashboard_panel_lists_open_alarms(world, rf, in_place):
    alarms = make_alarms(world.a, in_place, 7)
    with in_place(world.a.place):
        services.alarm_close(place=world.a.place, alarm=alarms[0], actor=None)
        html = Template("{% load alerts %}{% alerts_panel place %}").render(
            Context({"place": world.a.place})
        )
    assert f"/alerts/{alarms[0].pk}/" not in html and f"/alerts/{alarms[1].pk}/" in html
    assert html.count("<li>") == 5
    assert "/alpha/insights/alerts/" in html
    with in_place(world.b.place):
        empty = Template("{% load alerts %}{% alerts_panel place %}").render(
            Context({"place": world.b.place})
        )
    assert "No open alarm." in empty


# --- API --------------------------------------------------------------------------------------


def bearer(place_world, role):
    _token, secret = token_create(membership=place_world.memberships[role], name="test")
    return {"Authorization": f"Bearer {secret}"}


def test_api_lists_and_gets_alarms(world, client, in_place):
    alarms = make_alarms(world.a, in_place, 3)
    headers = bearer(world.a, "caseworker")
    response = client.get(f"{API}/alerts", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["results"][0]["id"] == alarms[0].pk
    assert body["results"][0]["category_label"] == "Antisemitism"
    response = client.get(
        f"{API}/alerts", {"area": world.a.areas[1].pk, "status": "open"}, headers=headers
    )
    assert [r["id"] for r in response.json()["results"]] == [alarms[1].pk]
    response = client.get(f"{API}/alerts", {"area": world.b.areas[0].pk}, headers=headers)
    assert response.status_code == 422 and "area" in response.json()["fields"]
    response = client.get(f"{API}/alerts", {"page": 9}, headers=headers)
    assert response.status_code == 422 and "page" in response.json()["fields"]
    response = client.get(f"{API}/alerts", {"status": "nonsense"}, headers=headers)
    assert response.status_code == 422 and "status" in response.json()["fields"]
    assert client.get(f"{API}/alerts/{alarms[2].pk}", headers=headers).json()["observed"] == 32


def test_api_subscription_round_trip(world, client, in_place):
    headers = bearer(world.a, "caseworker")
    response = client.get(f"{API}/alert-subscription", headers=headers)
    assert response.status_code == 200 and response.json()["subscribed"] is False
    response = client.put(
        f"{API}/alert-subscription",
        {"areas": [world.a.areas[1].pk], "bias": ["disability"]},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["subscribed"] and body["bias"] == ["disability"]
    assert body["areas"] == [{"id": world.a.areas[1].pk, "name": world.a.areas[1].name}]
    response = client.put(
        f"{API}/alert-subscription",
        {"bias": ["nope"]},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 422 and list(response.json()["fields"]) == ["bias"]
    response = client.put(
        f"{API}/alert-subscription",
        {"areas": ["x"]},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 422 and "areas.0" in response.json()["fields"]
    assert client.delete(f"{API}/alert-subscription", headers=headers).json()["subscribed"] is False


def test_api_list_query_count_does_not_grow(world, client, in_place, django_assert_max_num_queries):
    headers = bearer(world.a, "analyst")
    make_alarms(world.a, in_place, 2)
    with django_assert_max_num_queries(20) as few:
        client.get(f"{API}/alerts", headers=headers)
    make_alarms(world.a, in_place, 30, week=date(2025, 1, 6))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"{API}/alerts", headers=headers).status_code == 200


def test_the_alarm_page_shows_its_series(world, client, in_place):
    from locus.alerts.tests.helpers import in_week, save

    (alarm,) = make_alarms(world.a, in_place, 1)
    north = world.a.areas[0]
    save(world.a.place, in_week(world.a.place, alarm.week, 31, area=north, seed=1))
    save(world.a.place, in_week(world.a.place, alarm.week, 9, area=world.a.areas[1], seed=2))
    client.force_login(world.a.users["caseworker"])
    response = client.get(url("alerts:detail", world.a, alarm_id=alarm.pk))
    assert response.status_code == 200
    points = response.context["points"]
    assert len(points) == 35 and points[26] == (alarm.week, 31, 31)
    assert sum(count for _week, count, _reports in points) == 31  # the north area only
    text = response.content.decode()
    assert (
        text.count("<rect") == 35
        and 'role="img"' in text
        and '<caption id="series-caption">' in text
    )
    assert "Close this alarm" not in text  # a caseworker cannot close
    assert not unreadable_svg_numbers(text)
    for language in ("fr", "de", "sv"):  # decimal commas stay out of the chart's geometry
        client.cookies["django_language"] = language
        text = client.get(url("alerts:detail", world.a, alarm_id=alarm.pk)).content.decode()
        assert text.count("<rect") == 35 and not unreadable_svg_numbers(text), language
        with translation.override(language):  # weeks named the language's way ("2 mars 2026")
            assert short_date(alarm.week) in text, language
    client.cookies["django_language"] = "en"
    other = url("alerts:detail", world.a, alarm_id=make_alarms(world.b, in_place, 1)[0].pk)
    assert client.get(other).status_code == 404


def test_api_alarm_series(world, client, in_place):
    from locus.alerts.tests.helpers import in_week, save

    (alarm,) = make_alarms(world.a, in_place, 1)
    save(world.a.place, in_week(world.a.place, alarm.week, 7, area=world.a.areas[0], seed=1))
    response = client.get(f"{API}/alerts/{alarm.pk}/series", headers=bearer(world.a, "analyst"))
    assert response.status_code == 200
    body = response.json()
    assert body["alarm"]["id"] == alarm.pk and len(body["weeks"]) == 35
    assert body["weeks"][26] == {"week": alarm.week.isoformat(), "incidents": 7, "reports": 7}
