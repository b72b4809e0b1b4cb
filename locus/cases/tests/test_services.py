"""Routing stored and announced: decisions, outbox rows, status, audit, idempotency, the same
transaction as the report, tenancy, rule editing and previews."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from locus.cases.models import RoutingDecision, RoutingRule, RoutingRun
from locus.cases.selectors import (
    access_routing_rule,
    routing_decisions_for,
    routing_rule_list,
    routing_rule_warnings,
)
from locus.cases.services import (
    report_route,
    routing_preview,
    routing_rule_delete,
    routing_rule_save,
)
from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.models import AuditEvent
from locus.outbox.models import OutboxMessage
from locus.reporting.models import Report
from locus.reporting.services import report_submit

THREAT = {
    "incident_type": "threat",
    "reporter_role": "victim",
    "bias": ["anti_roma_sinti"],
    "setting": "street",
    "account": "A neighbour said he would burn our house down.",
    "consent_police_anonymised": True,
    "contact": {"email": "resident@example.org", "phone": "+44 7700 900123"},
}
ONLINE = {
    "incident_type": "online_content",
    "reporter_role": "found_online",
    "bias": ["antisemitism"],
    "setting": "online",
    "platform": "x_twitter",
    "content_url": "https://x.com/someone/status/1",
}


def _everyone(partners, world, rule_in, **fields):
    return rule_in(
        world.a,
        name="Everyone",
        destinations=partners.in_a(),
        **fields,
    )


def _submit(world, in_place, data, side=None):
    side = side or world.a
    with in_place(side.place):
        return report_submit(place=side.place, data=data).report


def _messages(place, in_place):
    with in_place(place):
        return list(OutboxMessage.objects.filter(source_type="cases.routingdecision"))


def test_submit_routes_and_queues_one_message_per_sent_destination(
    world, in_place, partners, rule_in
):
    _everyone(partners, world, rule_in)
    report = _submit(world, in_place, THREAT)
    with in_place(world.a.place):
        decisions = {d.organisation: d for d in routing_decisions_for(report)}
        report.refresh_from_db()
        run = RoutingRun.objects.get(report=report)
    assert set(decisions) == set(partners.in_a())
    sent = {o for o, d in decisions.items() if d.sent}
    assert sent == {partners.team, partners.police}
    assert (decisions[partners.police].level, decisions[partners.police].with_contact) == (
        "anonymised",
        False,
    )
    assert decisions[partners.team].level == "full"
    assert not decisions[partners.team].with_contact  # no support consent
    assert decisions[partners.charity].reason == "no_support_consent"
    assert decisions[partners.platform].reason == "not_online_content"
    assert decisions[partners.charity].level == "" and not decisions[partners.charity].sent
    assert report.status == "with_organisations"
    assert run.sent_count == 2

    messages = _messages(world.a.place, in_place)
    assert sorted(m.source_id for m in messages) == sorted(
        str(d.pk) for d in decisions.values() if d.sent
    )
    assert {m.endpoint.organisation_id for m in messages} == {o.pk for o in sent}
    for message in messages:
        assert message.event_type == "report.routed"
        assert set(message.payload) == {"report", "case", "incident_type", "level", "link"}
        assert message.payload["report"] == report.reference
        assert message.payload["link"] == f"/alpha/staff/cases/{message.payload['case']}/"
        text = json.dumps(message.payload)
        for personal in ("resident@example.org", "7700", "burn", "neighbour"):
            assert personal not in text

    event = AuditEvent.objects.get(action=AuditAction.REPORT_ROUTED, target_id=str(report.pk))
    assert sorted(event.data["sent"]) == sorted(o.pk for o in sent)
    assert "resident" not in json.dumps(event.data)


def test_content_goes_to_the_platform_and_the_referral_unit_only_for_online_content(
    world, in_place, partners, rule_in
):
    _everyone(partners, world, rule_in)
    report = _submit(world, in_place, ONLINE)
    with in_place(world.a.place):
        decisions = {d.organisation: d for d in routing_decisions_for(report)}
    assert decisions[partners.platform].level == "content_only"
    assert decisions[partners.ctiru].level == "content_only"
    assert not decisions[partners.police].sent  # no police consent
    assert len(_messages(world.a.place, in_place)) == 3  # team, platform, unit


def test_routing_twice_does_nothing(world, in_place, partners, rule_in):
    _everyone(partners, world, rule_in)
    report = _submit(world, in_place, THREAT)
    with in_place(world.a.place):
        first = list(routing_decisions_for(report))
        again = report_route(report=report)
        assert [d.pk for d in again] == [d.pk for d in first]
        assert RoutingDecision.objects.filter(report=report).count() == len(first)
        assert RoutingRun.objects.filter(report=report).count() == 1
    assert len(_messages(world.a.place, in_place)) == 2
    assert AuditEvent.objects.filter(action=AuditAction.REPORT_ROUTED).count() == 1


def test_a_report_no_rule_matched_is_routed_once_and_stays_received(
    world, in_place, partners, rule_in
):
    report = _submit(world, in_place, THREAT)
    _everyone(partners, world, rule_in)  # a rule added afterwards does not re-route it
    with in_place(world.a.place):
        assert report_route(report=report) == []
        report.refresh_from_db()
        assert RoutingRun.objects.get(report=report).sent_count == 0
    assert report.status == "received"
    assert _messages(world.a.place, in_place) == []


def test_a_rolled_back_submission_leaves_no_decision_and_no_message(
    world, in_place, partners, rule_in
):
    _everyone(partners, world, rule_in)
    with in_place(world.a.place):
        with pytest.raises(RuntimeError), transaction.atomic():
            report_submit(place=world.a.place, data=THREAT)
            assert RoutingDecision.objects.exists()  # routed inside the transaction
            raise RuntimeError("the response could not be sent")
        assert not Report.objects.exists()
        assert not RoutingDecision.objects.exists()
        assert not RoutingRun.objects.exists()
        assert not OutboxMessage.objects.exists()


def test_a_routing_failure_keeps_the_report_and_routing_rolls_back_whole(
    world, in_place, partners, rule_in, monkeypatch
):
    """Routing runs after the report is stored: if it fails, the report stays (nothing the
    reporter sent is lost), no partial routing is left, and the sweep routes it later."""
    from datetime import timedelta

    from django.utils import timezone

    from locus.cases.services import ROUTING_GRACE, reports_route_pending

    _everyone(partners, world, rule_in)

    def broken(**kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("locus.cases.services.outbox_enqueue_event", broken)
    with in_place(world.a.place):
        submitted = report_submit(place=world.a.place, data=THREAT)
        assert Report.objects.filter(pk=submitted.report.pk).exists()
        assert not RoutingDecision.objects.exists()
        assert not RoutingRun.objects.exists()
    monkeypatch.undo()
    later = timezone.now() + ROUTING_GRACE + timedelta(seconds=1)
    with in_place(world.a.place):
        assert reports_route_pending(place=world.a.place, now=later) == 1
        assert RoutingDecision.objects.filter(report=submitted.report, sent=True).exists()


def test_rules_of_place_b_never_apply_to_place_a(world, in_place, partners, rule_in):
    rule_in(world.b, name="Beta police", destinations=[partners.police_b])
    report = _submit(world, in_place, THREAT)
    with in_place(world.a.place):
        assert list(routing_decisions_for(report)) == []
    with in_place(world.b.place):
        assert not RoutingDecision.objects.exists()
        assert [r.name for r in routing_rule_list(world.b.place)] == ["Beta police"]
    with in_place(world.a.place):
        assert list(routing_rule_list(world.a.place)) == []


def test_a_rule_refuses_organisations_and_areas_of_another_place(
    world, in_place, partners, rule_in
):
    with pytest.raises(ValidationFailed) as error:
        rule_in(world.a, name="Wrong", destinations=[partners.police_b])
    assert "destinations" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        rule_in(world.a, name="Wrong", conditions={"area": [world.b.areas[0].pk]})
    assert "conditions" in error.value.fields
    rule = rule_in(world.a, name="North", conditions={"area": [world.a.areas[0].pk]})
    assert rule.conditions == {"area": [world.a.areas[0].pk]}


@pytest.mark.parametrize(
    "conditions",
    [
        {"incident_type": ["martian_landing"]},
        {"bias": ["racism_xenophobia", "left_handed"]},
        {"setting": ["moon"]},
        {"platform": ["myspace"]},
        {"language": ["tlh"]},
        {"consent": ["everything"]},
        {"online": "yes"},
        {"colour": ["red"]},
        {"bias": "antisemitism"},
        {"area": ["north"]},
    ],
)
def test_clean_refuses_unknown_codes(world, in_place, conditions):
    with in_place(world.a.place):
        rule = RoutingRule(place=world.a.place, name="Odd", conditions=conditions)
        with pytest.raises(ValidationError) as error:
            rule.full_clean()
    assert "conditions" in error.value.message_dict


def test_a_fallback_rule_has_no_conditions(world, in_place, rule_in):
    with pytest.raises(ValidationFailed):
        rule_in(world.a, name="Fallback", is_fallback=True, conditions={"bias": ["gender"]})
    rule_in(world.a, name="Fallback", is_fallback=True, conditions={"bias": []})


def test_rule_changes_are_audited_with_the_changed_fields(world, in_place, partners, rule_in):
    admin = world.a.users["admin"]
    rule = rule_in(world.a, actor=admin, name="Threats", conditions={"incident_type": ["threat"]})
    assert rule.created_by == admin and rule.position == 10
    with in_place(world.a.place):
        routing_rule_save(
            place=world.a.place,
            actor=admin,
            rule=rule,
            name="Threats",
            stop=True,
            destinations=[partners.police],
        )
        routing_rule_save(place=world.a.place, actor=admin, rule=rule, name="Threats")  # no-op
        events = list(
            AuditEvent.objects.filter(action=AuditAction.ROUTING_RULE_CHANGED).order_by("id")
        )
        assert [e.data["fields"] for e in events][1] == ["destinations", "stop"]
        assert len(events) == 2 and events[0].data["created"] is True
        assert events[0].actor == admin and events[0].place == world.a.place

        report = report_submit(place=world.a.place, data=THREAT).report
        rule_id = rule.pk
        routing_rule_delete(place=world.a.place, actor=admin, rule=rule)
        (decision,) = routing_decisions_for(report)
        assert decision.rule is None and decision.explanation["rule"]["name"] == "Threats"
    deleted = AuditEvent.objects.filter(action=AuditAction.ROUTING_RULE_CHANGED).first()
    assert deleted.data == {"rule": rule_id, "deleted": True, "fields": [], "name": "Threats"}


def test_a_rule_of_another_place_cannot_be_changed_or_deleted(world, in_place, rule_in):
    rule = rule_in(world.b, name="Beta")
    with in_place(world.a.place):
        with pytest.raises(ValidationFailed):
            routing_rule_save(place=world.a.place, actor=None, rule=rule, name="Mine")
        with pytest.raises(ValidationFailed):
            routing_rule_delete(place=world.a.place, actor=None, rule=rule)
        assert access_routing_rule(world.a.place, rule.pk) is None


def test_preview_saves_nothing_and_checks_the_sample(world, in_place, partners, rule_in):
    from locus.cases.routing import RuleSpec

    _everyone(partners, world, rule_in)
    with in_place(world.a.place):
        result = routing_preview(
            place=world.a.place,
            sample={
                "incident_type": "threat",
                "area": world.a.areas[0].pk,
                "consent_support_contact": True,
                "contact": {"email": "x@example.org"},
            },
        )
        assert {d.organisation for d in result.sent} == {partners.team, partners.charity}
        assert not Report.objects.exists() and not RoutingDecision.objects.exists()
        draft = RuleSpec(id=None, name="Draft", destinations=(partners.police,))
        result = routing_preview(
            place=world.a.place,
            sample={"incident_type": "threat", "consent_police_with_contact": True},
            rules=[draft],
        )
        assert [(d.organisation, d.share.level) for d in result.sent] == [(partners.police, "full")]
        for bad in (
            {"incident_type": "nope"},
            {"incident_type": "threat", "area": world.b.areas[0].pk},
            {"incident_type": "threat", "bias": ["martians"]},
        ):
            with pytest.raises(ValidationFailed):
                routing_preview(place=world.a.place, sample=bad)


def test_selectors(world, in_place, partners, rule_in, django_assert_num_queries):
    with in_place(world.a.place):
        assert routing_rule_warnings(world.a.place) == ["no_fallback"]
    rule_in(world.a, name="Fallback", is_fallback=True, destinations=[partners.team])
    _everyone(partners, world, rule_in)
    report = _submit(world, in_place, THREAT)
    with in_place(world.a.place):
        assert routing_rule_warnings(world.a.place) == []
        with django_assert_num_queries(1):
            names = [d.organisation.name for d in routing_decisions_for(report)]
        assert len(names) == 5
        assert [r.name for r in routing_rule_list(world.a.place)] == ["Fallback", "Everyone"]
