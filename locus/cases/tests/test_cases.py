"""Cases: opened by routing (one per sent decision), the workflow steps and their rules, who may
act, assignment, notes, classification, audit and the timeline."""

import pytest
from django.db import IntegrityError, connection, transaction

from locus.cases import policies
from locus.cases.choices import CaseEventKind, CaseStatus, Verification
from locus.cases.models import Case, CaseEvent, CaseNote
from locus.cases.selectors import access_case, case_list, case_stats
from locus.cases.services import (
    case_acknowledge,
    case_add_note,
    case_assign,
    case_classify,
    case_close,
    case_reopen,
    case_start,
    report_route,
)
from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.models import AuditEvent
from locus.core.testing.factories import MembershipFactory, UserFactory
from locus.reporting.choices import ReportStatus

from .factories import ONLINE, REPORT, cases_of, route_to, submit


@pytest.fixture
def member(in_place):
    """`member(organisation, role)` → an active membership of a new person (as the staff
    funnel gives it: with `manages_place` annotated)."""

    def make(organisation, role="caseworker", manages_place=False):
        membership = MembershipFactory(user=UserFactory(), organisation=organisation, role=role)
        membership.manages_place = manages_place
        return membership

    return make


@pytest.fixture
def team(world):
    membership = world.a.memberships["caseworker"]
    membership.manages_place = True
    return membership


@pytest.fixture
def routed(world, partners):
    """Place A routes every report to every partner; a threat with police (anonymised) and
    support consent is sent to the team, the police and the charity, not the platforms."""
    route_to(world.a.place, partners.in_a())
    report = submit(world.a.place)
    return report, cases_of(report)


def test_routing_opens_one_case_per_sent_decision_and_none_for_the_others(
    world, partners, in_place, routed
):
    report, cases = routed
    assert set(cases) == {partners.team, partners.police, partners.charity}
    with in_place(world.a.place):
        decisions = {d.organisation: d for d in report.routing_decisions.all()}
        for organisation, case in cases.items():
            assert case.decision == decisions[organisation] and case.decision.sent
            assert case.status == CaseStatus.NEW and case.report == report
            assert case.place == world.a.place
            event = CaseEvent.objects.get(case=case)
            assert event.kind == CaseEventKind.CREATED and event.actor is None
            assert event.data == {
                "decision": case.decision.pk,
                "level": case.decision.level,
                "rule": case.decision.rule_id,
            }
        assert not decisions[partners.platform].sent
        # Routing again changes nothing.
        report_route(report=report)
        assert Case.objects.filter(report=report).count() == 3


def test_no_case_without_a_sent_decision(world, partners, in_place):
    route_to(world.a.place, [partners.platform, partners.charity])
    report = submit(world.a.place, REPORT | {"consent_support_contact": False})
    assert cases_of(report) == {}


def test_a_rolled_back_submission_leaves_no_case(world, partners, in_place):
    route_to(world.a.place, partners.in_a())
    with in_place(world.a.place), pytest.raises(RuntimeError), transaction.atomic():
        submit(world.a.place)
        raise RuntimeError
    with in_place(world.a.place):
        assert not Case.objects.exists()


def test_workflow_moves_and_records_each_step(world, in_place, routed, team):
    report, cases = routed
    case = cases[world.a.organisation]
    with in_place(world.a.place):
        case = case_acknowledge(case=case, membership=team)
        assert case.status == CaseStatus.ACKNOWLEDGED and case.acknowledged_at
        case = case_start(case=case, membership=team)
        assert case.status == CaseStatus.IN_PROGRESS
        case = case_close(case=case, membership=team, outcome="supported")
        assert case.status == CaseStatus.CLOSED and case.outcome == "supported"
        assert case.closed_at is not None
        case = case_reopen(case=case, membership=team)
        assert case.status == CaseStatus.IN_PROGRESS
        assert case.outcome == "" and case.closed_at is None
        kinds = list(
            CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("kind", flat=True)
        )
        audits = AuditEvent.objects.filter(
            action=AuditAction.CASE_UPDATED, target_id=str(case.pk)
        ).order_by("id")
    assert kinds == ["created", "acknowledged", "started", "closed", "reopened"]
    assert [a.data["step"] for a in audits] == ["acknowledge", "start", "close", "reopen"]
    assert all(a.actor == team.user and a.place == world.a.place for a in audits)
    assert audits[2].data == {
        "case": case.pk,
        "step": "close",
        "from": "in_progress",
        "to": "closed",
        "outcome": "supported",
    }


def test_start_acknowledges_a_new_case(world, in_place, routed, team):
    _report, cases = routed
    with in_place(world.a.place):
        case = case_start(case=cases[world.a.organisation], membership=team)
    assert case.status == CaseStatus.IN_PROGRESS and case.acknowledged_at is not None


@pytest.mark.parametrize(
    ("steps", "step", "message"),
    [
        (["acknowledge"], "acknowledge", "Only a new case can be acknowledged."),
        (["start"], "start", "Only a new or acknowledged case can be started."),
        (["start"], "acknowledge", "Only a new case can be acknowledged."),
        ([], "reopen", "Only a closed case can be reopened."),
        (["close"], "close", "This case is already closed."),
        (["close"], "start", "Only a new or acknowledged case can be started."),
    ],
)
def test_invalid_moves_are_refused_clearly(world, in_place, routed, team, steps, step, message):
    _report, cases = routed
    call = {
        "acknowledge": lambda c: case_acknowledge(case=c, membership=team),
        "start": lambda c: case_start(case=c, membership=team),
        "reopen": lambda c: case_reopen(case=c, membership=team),
        "close": lambda c: case_close(case=c, membership=team, outcome="other"),
    }
    with in_place(world.a.place):
        case = cases[world.a.organisation]
        for done in steps:
            case = call[done](case)
        before = case.status
        with pytest.raises(ValidationFailed) as caught:
            call[step](case)
        case.refresh_from_db()
    assert caught.value.message == message and caught.value.code == "invalid_transition"
    assert case.status == before


def test_close_needs_a_known_outcome(world, in_place, routed, team):
    _report, cases = routed
    with in_place(world.a.place), pytest.raises(ValidationFailed) as caught:
        case_close(case=cases[world.a.organisation], membership=team, outcome="solved")
    assert "outcome" in caught.value.fields


def test_report_is_closed_when_its_last_case_closes_and_reopens_with_it(
    world, partners, in_place, routed, member
):
    report, cases = routed
    with in_place(world.a.place):
        for organisation, case in cases.items():
            report.refresh_from_db()
            assert report.status == ReportStatus.WITH_ORGANISATIONS
            case_close(case=case, membership=member(organisation), outcome="no_further_action")
        report.refresh_from_db()
        assert report.status == ReportStatus.CLOSED and report.closed_at is not None
        case_reopen(case=cases[partners.police], membership=member(partners.police))
        report.refresh_from_db()
        assert report.status == ReportStatus.WITH_ORGANISATIONS and report.closed_at is None


def test_database_refuses_a_closed_case_without_outcome(world, in_place, routed):
    _report, cases = routed
    case = cases[world.a.organisation]
    with in_place(world.a.place), pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)


def test_only_the_receiving_organisation_acts(world, partners, in_place, routed, member, team):
    _report, cases = routed
    police = member(partners.police)
    with in_place(world.a.place):
        with pytest.raises(PermissionDenied):
            case_acknowledge(case=cases[world.a.organisation], membership=police)
        # The place team sees the police's case but does not work on it.
        assert access_case(world.a.place, team, cases[partners.police].pk) is not None
        with pytest.raises(PermissionDenied):
            case_start(case=cases[partners.police], membership=team)
        # A role that does not handle cases cannot act on its own organisation's case.
        with pytest.raises(PermissionDenied):
            case_start(case=cases[partners.police], membership=member(partners.police, "analyst"))


def test_access_case_is_the_same_none_for_missing_other_org_and_other_place(
    world, partners, in_place, routed, member
):
    _report, cases = routed
    police = member(partners.police)
    with in_place(world.a.place):
        assert access_case(world.a.place, police, cases[partners.police].pk) is not None
        assert access_case(world.a.place, police, cases[partners.charity].pk) is None
        assert access_case(world.a.place, police, 999_999) is None
    b_case = _b_case(world, in_place)
    with in_place(world.b.place):
        b_team = world.b.memberships["caseworker"]
        b_team.manages_place = True
        assert access_case(world.b.place, b_team, b_case.pk) is not None
        assert access_case(world.b.place, b_team, cases[partners.police].pk) is None
    with in_place(world.a.place):
        team = world.a.memberships["admin"]
        team.manages_place = True
        assert access_case(world.a.place, team, b_case.pk) is None


def _b_case(world, in_place):
    route_to(world.b.place, [world.b.organisation])
    report = submit(world.b.place)
    return cases_of(report)[world.b.organisation]


def test_assign_only_to_case_handlers_of_the_organisation(
    world, partners, in_place, routed, team, member
):
    _report, cases = routed
    case = cases[world.a.organisation]
    with in_place(world.a.place):
        coordinator = world.a.users["coordinator"]
        case = case_assign(case=case, membership=team, assignee=coordinator)
        assert case.assigned_to == coordinator
        for wrong in (
            world.a.users["analyst"],
            member(partners.police).user,
            world.b.users["admin"],
        ):
            with pytest.raises(ValidationFailed) as caught:
                case_assign(case=case, membership=team, assignee=wrong)
            assert "assignee" in caught.value.fields
        ended = member(world.a.organisation)
        ended.is_active = False
        ended.save()
        with pytest.raises(ValidationFailed):
            case_assign(case=case, membership=team, assignee=ended.user)
        case = case_assign(case=case, membership=team, assignee=None)
        assert case.assigned_to is None
        kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
        assert kinds == ["created", "assigned", "unassigned"]
        case = case_close(case=case, membership=team, outcome="other")
        with pytest.raises(ValidationFailed):
            case_assign(case=case, membership=team, assignee=coordinator)


def test_notes_are_encrypted_and_kept_out_of_timeline_and_audit(world, in_place, routed, team):
    _report, cases = routed
    case = cases[world.a.organisation]
    with in_place(world.a.place):
        with pytest.raises(ValidationFailed) as caught:
            case_add_note(case=case, membership=team, body="   ")
        assert "body" in caught.value.fields
        note = case_add_note(case=case, membership=team, body="Rang Ana back; she is safe.")
        assert CaseNote.objects.get(pk=note.pk).body == "Rang Ana back; she is safe."
        event = CaseEvent.objects.get(case=case, kind=CaseEventKind.NOTE_ADDED)
        audit = AuditEvent.objects.get(action=AuditAction.CASE_UPDATED, target_id=str(case.pk))
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM cases_casenote WHERE id = %s", [note.pk])
        (raw,) = cursor.fetchone()
    assert "Ana" not in raw
    assert event.data == {"note": note.pk} and "Ana" not in str(audit.data)


def test_classify_validates_codes_and_records_the_version(world, in_place, routed, team):
    from locus.reporting.taxonomy import CURRENT_VERSION, taxonomy

    _report, cases = routed
    case = cases[world.a.organisation]
    with in_place(world.a.place):
        with pytest.raises(ValidationFailed) as caught:
            case_classify(
                case=case,
                membership=team,
                verification="maybe",
                incident_type="nope",
                bias=["antisemitism", "nope"],
                ideology="threat",
            )
        assert set(caught.value.fields) == {"verification", "incident_type", "bias", "ideology"}
        case = case_classify(
            case=case,
            membership=team,
            verification=Verification.VERIFIED,
            incident_type="assault",
            bias=["anti_roma_sinti", "anti_roma_sinti"],
            ideology="far_right",
        )
        case.refresh_from_db()
    assert taxonomy().is_staff_only("ideology")
    assert case.verification == "verified" and case.verified_incident_type == "assault"
    assert case.verified_bias == ["anti_roma_sinti"] and case.ideology == "far_right"
    assert case.taxonomy_version == taxonomy(None).version == taxonomy(CURRENT_VERSION).version
    assert case.incident_type == "assault"


def test_inbox_selectors_filter_and_count(world, partners, in_place, member):
    route_to(world.a.place, partners.in_a())
    north, south = world.a.areas
    threat = submit(world.a.place, area=north)
    online = submit(world.a.place, ONLINE, area=south)
    team = world.a.memberships["coordinator"]
    team.manages_place = False  # own organisation's cases only
    with in_place(world.a.place):
        case_start(case=cases_of(threat)[partners.team], membership=team)
        case_assign(case=cases_of(online)[partners.team], membership=team, assignee=team.user)
        place = world.a.place

        def refs(filters):
            return {c.report.reference for c in case_list(place, team, filters)}

        assert refs({}) == {threat.reference, online.reference}
        assert refs({"status": "in_progress"}) == {threat.reference}
        assert refs({"mine": True}) == {online.reference}
        assert refs({"incident_type": "online_content"}) == {online.reference}
        assert refs({"area": north}) == {threat.reference}
        stats = case_stats(place, team, {"area": north, "status": "new"})
        assert stats["all"] == 1 and stats["in_progress"] == 1 and stats["new"] == 0

        # The platform sees its content-only case, but cannot find it by area.
        platform = member(partners.platform)
        assert refs_of(case_list(place, platform, {})) == {online.reference}
        assert refs_of(case_list(place, platform, {"area": south})) == set()
        assert not policies.case_list_shows_area(platform, cases_of(online)[partners.platform])

        # The place team may widen the list to every organisation.
        team.manages_place = True
        every = case_list(place, team, {"scope": "all"})
        assert {c.organisation for c in every} == {
            partners.team,
            partners.police,
            partners.charity,
            partners.platform,
            partners.ctiru,
        }
        police = member(partners.police)
        assert {c.organisation for c in case_list(place, police, {"scope": "all"})} == {
            partners.police
        }


def refs_of(cases):
    return {c.report.reference for c in cases}
