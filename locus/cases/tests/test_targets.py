"""Handling targets: set by an organisation's administrators, overdue cases in the inbox, the
case's times against them and the organisation's handling figures."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from locus.cases.models import Case
from locus.cases.selectors import (
    Targets,
    case_handling_stats,
    case_list,
    case_stats,
    case_timing,
    organisation_targets,
)
from locus.cases.services import case_acknowledge, case_close, case_merge, case_targets_set
from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.models import AuditEvent
from locus.core.tenancy import place_scope

from .factories import cases_of, route_to, submit


@pytest.fixture
def team(world):
    route_to(world.a.place, [world.a.organisation], name="Team")
    return world.a.memberships["caseworker"]


def targets(world, hours=None, days=None):
    return case_targets_set(
        place=world.a.place,
        membership=world.a.memberships["admin"],
        acknowledge_target_hours=hours,
        close_target_days=days,
    )


def received(report, *, hours=0, days=0):
    """The report's team case, as if it had arrived that long ago."""
    case = next(iter(cases_of(report).values()))
    with place_scope(report.place):
        Case.objects.filter(pk=case.pk).update(
            created_at=timezone.now() - timedelta(hours=hours, days=days)
        )
        case.refresh_from_db()
    return case


def test_only_an_administrator_sets_targets_and_it_is_audited(world, in_place):
    with in_place(world.a.place):
        listing = targets(world, hours=24, days=30)
        assert (listing.acknowledge_target_hours, listing.close_target_days) == (24, 30)
        assert organisation_targets(world.a.place, world.a.organisation) == Targets(24, 30)
        event = AuditEvent.objects.get(action=AuditAction.CASE_TARGETS_CHANGED)
        assert event.actor == world.a.users["admin"] and event.place == world.a.place
        assert event.data["before"] == {
            "acknowledge_target_hours": None,
            "close_target_days": None,
        }
        assert event.data["after"] == {"acknowledge_target_hours": 24, "close_target_days": 30}
        targets(world, hours=24, days=30)  # nothing changed: nothing audited
        assert AuditEvent.objects.filter(action=AuditAction.CASE_TARGETS_CHANGED).count() == 1
        with pytest.raises(PermissionDenied):
            case_targets_set(
                place=world.a.place,
                membership=world.a.memberships["coordinator"],
                acknowledge_target_hours=1,
                close_target_days=None,
            )
        with pytest.raises(ValidationFailed) as refused:
            targets(world, hours=0, days=100_000)
        assert set(refused.value.fields) == {"acknowledge_target_hours", "close_target_days"}
    # Targets are per place: Betastad's listing of its own council is untouched.
    assert organisation_targets(world.b.place, world.b.organisation) == Targets()


def test_targets_page(world, client):
    url = reverse("cases:targets", kwargs={"place_slug": "alpha"})
    client.force_login(world.a.users["admin"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"acknowledge_target_hours": "48", "close_target_days": ""})
    assert response.status_code == 302
    assert organisation_targets(world.a.place, world.a.organisation) == Targets(48, None)
    response = client.post(url, {"acknowledge_target_hours": "-3", "close_target_days": "abc"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_acknowledge_target_hours_error"' in html
    assert 'id="id_close_target_days_error"' in html
    assert 'value="-3"' in html and 'value="abc"' in html  # what was typed is kept
    assert organisation_targets(world.a.place, world.a.organisation) == Targets(48, None)


def test_overdue_cases_are_flagged_counted_and_filtered(world, team, client, in_place):
    late_ack = received(submit(world.a.place), hours=30)
    acknowledged_late = received(submit(world.a.place), hours=30)
    late_close = received(submit(world.a.place), days=12)
    fresh = received(submit(world.a.place), hours=1)
    closed_late = received(submit(world.a.place), days=40)
    with in_place(world.a.place):
        assert case_stats(world.a.place, team)["overdue"] == 0  # no targets yet
        targets(world, hours=24, days=10)
        case_acknowledge(case=acknowledged_late, membership=team)
        case_acknowledge(case=late_close, membership=team)
        case_close(case=closed_late, membership=team, outcome="other")
        overdue = {c.pk for c in case_list(world.a.place, team, {"overdue": True})}
        assert overdue == {late_ack.pk, late_close.pk}
        assert case_stats(world.a.place, team)["overdue"] == 2
        assert fresh.pk not in overdue

    client.force_login(world.a.users["caseworker"])
    url = reverse("cases:inbox", kwargs={"place_slug": "alpha"})
    html = client.get(url).content.decode()
    assert "2 overdue cases" in html and html.count(">Overdue</span>") == 2
    html = client.get(url, {"overdue": "on"}).content.decode()
    with in_place(world.a.place):
        references = {c.pk: c.report.reference for c in Case.objects.all()}
    assert references[late_ack.pk] in html and references[late_close.pk] in html
    assert references[fresh.pk] not in html


def test_a_merged_case_is_never_overdue(world, team, in_place):
    primary = received(submit(world.a.place), hours=1)
    duplicate = received(submit(world.a.place), hours=30)
    with in_place(world.a.place):
        targets(world, hours=24)
        case_merge(case=duplicate, membership=team, into=primary)
        assert case_stats(world.a.place, team)["overdue"] == 0


def test_the_case_page_shows_its_times_against_the_targets(world, team, client, in_place):
    case = received(submit(world.a.place), hours=30)
    with in_place(world.a.place):
        targets(world, hours=24, days=10)
    client.force_login(world.a.users["caseworker"])
    url = reverse("cases:detail", kwargs={"place_slug": "alpha", "case_id": case.pk})
    html = client.get(url).content.decode()
    section = html.split('id="timing-heading"')[1].split("</section>")[0]
    assert "Time to acknowledge" in section and "not yet (1" in section
    assert "target 1" in section and "Overdue" in section
    assert "Time to close" in section and "due by" in section
    client.post(url, {"action": "acknowledge"})
    section = client.get(url).content.decode().split('id="timing-heading"')[1]
    assert "Over the target" in section.split("</section>")[0]


def test_case_timing(world, team, in_place):
    case = received(submit(world.a.place), hours=5)
    now = timezone.now()
    timing = case_timing(case, Targets(acknowledge_hours=2, close_days=1), now=now)
    assert timing["acknowledge"].taken is None and timing["acknowledge"].late
    assert timing["close"].due == case.created_at + timedelta(days=1)
    assert not timing["close"].late
    with in_place(world.a.place):
        closed = case_close(case=case, membership=team, outcome="other")
    timing = case_timing(closed, Targets())
    # Closing without acknowledging counts as acknowledging; no target: never late.
    assert timing["acknowledge"].taken == timing["close"].taken
    assert timing["close"].target is None and not timing["close"].late


def test_handling_figures(world, team, in_place):
    quick = received(submit(world.a.place), hours=10)
    slow = received(submit(world.a.place), days=5)
    waiting = received(submit(world.a.place), days=3)  # open, past the acknowledge target
    recent = received(submit(world.a.place), hours=1)  # open, within both targets
    received(submit(world.a.place), days=200)  # outside the period
    now = timezone.now()
    with in_place(world.a.place):
        targets(world, hours=24, days=4)
        Case.objects.filter(pk=quick.pk).update(
            acknowledged_at=quick.created_at + timedelta(hours=2),
            status="closed",
            outcome="supported",
            closed_at=quick.created_at + timedelta(hours=8),
        )
        Case.objects.filter(pk=slow.pk).update(
            acknowledged_at=slow.created_at + timedelta(hours=48),
            status="closed",
            outcome="other",
            closed_at=slow.created_at + timedelta(days=4, hours=12),
        )
        stats = case_handling_stats(
            world.a.place, world.a.organisation, since=now - timedelta(days=90), until=now, now=now
        )
    assert stats.cases == 4 and stats.acknowledged == 2 and stats.closed == 2
    assert stats.median_acknowledge == timedelta(hours=2)  # the lower median of 2 h and 48 h
    assert stats.median_close == timedelta(hours=8)
    # Acknowledge: quick (2 h) within, slow (48 h) not, waiting (3 days, none) not; recent is
    # not judged yet.
    assert stats.acknowledge_judged == 3 and stats.acknowledge_within == pytest.approx(1 / 3)
    # Close within 4 days: quick yes, slow no; waiting and recent are within it still.
    assert stats.close_judged == 2 and stats.close_within == pytest.approx(0.5)
    assert stats.open_overdue == 1
    assert waiting.pk != recent.pk


def test_handling_figures_without_targets_or_cases(world, in_place):
    now = timezone.now()
    with in_place(world.a.place):
        stats = case_handling_stats(
            world.a.place, world.a.organisation, since=now - timedelta(days=30), until=now
        )
    assert stats.cases == 0 and stats.median_acknowledge is None
    assert stats.acknowledge_within is None and stats.close_within is None


def test_the_inbox_shows_the_figures_for_a_period(world, team, client, in_place):
    case = received(submit(world.a.place), days=50)
    with in_place(world.a.place):
        targets(world, hours=24)
        case_acknowledge(case=case, membership=team)
    client.force_login(world.a.users["caseworker"])
    url = reverse("cases:inbox", kwargs={"place_slug": "alpha"})
    html = client.get(url).content.decode()
    section = html.split('id="handling-heading"')[1]
    assert "1 case received in this period" in section and "0% of 1" in section
    assert "Set your organisation" not in section  # caseworkers do not set targets
    html = client.get(url, {"period": "30"}).content.decode()
    assert "0 cases received in this period" in html.split('id="handling-heading"')[1]
    assert client.get(url, {"period": "7"}).status_code == 200  # falls back to 90 days
    client.force_login(world.a.users["admin"])
    assert "Set your organisation" in client.get(url).content.decode()


def test_a_partner_keeps_its_own_handling_figures_on_the_inbox(world, client, in_place):
    """The exact insights are the place team's (docs/insights.md, "Who sees exact figures");
    a partner's caseworker still reads its own organisation's handling figures, from its own
    cases only."""
    from locus.core.testing.world import partner_member

    member = partner_member(world.a, "caseworker")
    route_to(world.a.place, [world.a.organisation], name="Team")
    submit(world.a.place)
    route_to(world.a.place, [member.organisation], name="Partner")
    submit(world.a.place)  # to both
    inbox = reverse("cases:inbox", kwargs={"place_slug": "alpha"})
    client.force_login(member.user)
    assert client.get(reverse("insights:service", args=["alpha"])).status_code == 403
    html = client.get(inbox).content.decode()
    assert "1 case received in this period" in html.split('id="handling-heading"')[1]
    client.force_login(world.a.users["caseworker"])
    html = client.get(inbox).content.decode()
    assert "2 cases received in this period" in html.split('id="handling-heading"')[1]


def test_the_inbox_sorts_what_is_due_first(world, team, client, in_place):
    """ "Due soonest first": the most overdue on top, by when each case's next step is due under
    the targets (acknowledging while not acknowledged, else closing); closed cases last. Newest
    first stays the default; oldest first is there too. The page and the API agree."""
    unacknowledged = received(submit(world.a.place), hours=30)  # acknowledge due 6 hours ago
    acknowledged = received(submit(world.a.place), days=3)  # close due in 7 days
    fresh = received(submit(world.a.place), hours=1)  # acknowledge due in 23 hours
    old_but_closed = received(submit(world.a.place), days=40)
    with in_place(world.a.place):
        targets(world, hours=24, days=10)
        case_acknowledge(case=acknowledged, membership=team)
        case_close(case=old_but_closed, membership=team, outcome="other")

        def order(value):
            return [c.pk for c in case_list(world.a.place, team, {"order": value})]

        due = [unacknowledged.pk, fresh.pk, acknowledged.pk, old_but_closed.pk]
        assert order("due") == due
        assert order("") == [fresh.pk, unacknowledged.pk, acknowledged.pk, old_but_closed.pk]
        assert order("oldest") == [old_but_closed.pk, acknowledged.pk, unacknowledged.pk, fresh.pk]
        references = [Case.objects.get(pk=pk).report.reference for pk in due]
        # Without targets, open cases oldest first, still before the closed one.
        targets(world)
        assert order("due") == [acknowledged.pk, unacknowledged.pk, fresh.pk, old_but_closed.pk]
        targets(world, hours=24, days=10)

    client.force_login(world.a.users["caseworker"])
    url = reverse("cases:inbox", kwargs={"place_slug": "alpha"})
    html = client.get(url, {"order": "due"}).content.decode()
    assert [html.index(f">{reference}</a>") for reference in references] == sorted(
        html.index(f">{reference}</a>") for reference in references
    )
    assert '<option value="due" selected>' in html
    response = client.get("/api/v1/places/alpha/cases", {"order": "due"})
    assert [item["id"] for item in response.json()["results"]] == due
    response = client.get("/api/v1/places/alpha/cases", {"order": "soonest"})
    assert response.status_code == 422 and "order" in str(response.json())
