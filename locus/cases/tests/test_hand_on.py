"""Hand-on: a case's report goes on to another organisation of the place only within the
reporter's consent, with a decision, a case there, events, audit and the outbox messages in one
transaction; a refusal says why and creates nothing."""

import pytest
from django.urls import reverse

from locus.cases.choices import CaseEventKind, CaseStatus, ShareReason
from locus.cases.models import Case, CaseEvent, RoutingDecision
from locus.cases.services import case_close, case_hand_on
from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.models import AuditEvent
from locus.core.testing.factories import MembershipFactory, UserFactory
from locus.core.testing.world import enable_totp
from locus.directory.models import OrganisationListing
from locus.outbox.models import OutboxMessage
from locus.reporting.models import Report

from .factories import REPORT, cases_of, route_to, submit

SECRETS = ("resident@example.org", "Ana Resident", "+447700900123", "burn our house", "Station")


@pytest.fixture
def team_only(world, partners):
    """Place A's rules send every report to its own team only."""
    route_to(world.a.place, [partners.team], name="Team only")
    return partners


@pytest.fixture
def caseworker(world):
    return world.a.memberships["caseworker"]


def worker_of(organisation):
    user = UserFactory()
    enable_totp(user)
    return MembershipFactory(user=user, organisation=organisation, role="caseworker")


def messages_about(decision):
    return list(
        OutboxMessage.objects.filter(
            source_type="cases.routingdecision", source_id=str(decision.pk)
        ).order_by("kind")
    )


def test_hand_on_opens_a_case_within_the_consent(world, team_only, caseworker, in_place):
    OrganisationListing.objects.filter(place=world.a.place, organisation=team_only.police).update(
        inbox_email="desk@police.example"
    )
    report = submit(world.a.place)
    team_case = cases_of(report)[team_only.team]
    with in_place(world.a.place):
        returned = case_hand_on(
            case=team_case, membership=caseworker, organisation=team_only.police
        )
        assert returned.status == CaseStatus.HANDED_ON and returned.acknowledged_at is not None
        team_case.refresh_from_db()
        assert team_case.status == CaseStatus.HANDED_ON and not team_case.is_closed

        decision = RoutingDecision.objects.get(report=report, organisation=team_only.police)
        # The police may have it anonymised only: the reporter did not consent to more.
        assert decision.sent and decision.reason == ShareReason.HANDED_ON
        assert decision.level == "anonymised" and decision.with_contact is False
        assert decision.explanation["handed_on"] == {
            "case": team_case.pk,
            "organisation": team_only.team.pk,
        }
        received = Case.objects.get(report=report, organisation=team_only.police)
        assert received.decision == decision and received.handed_on_from == team_case
        assert received.status == CaseStatus.NEW

        sent = CaseEvent.objects.get(case=team_case, kind=CaseEventKind.HANDED_ON)
        assert sent.actor == caseworker.user
        assert sent.data["organisation"] == team_only.police.pk
        assert sent.data["case"] == received.pk
        got = CaseEvent.objects.get(case=received, kind=CaseEventKind.HAND_ON_RECEIVED)
        assert got.data["from_case"] == team_case.pk and got.actor is None

        audit = AuditEvent.objects.get(action=AuditAction.CASE_HANDED_ON)
        assert audit.actor == caseworker.user and audit.target_id == str(team_case.pk)
        assert audit.data["received_case"] == received.pk

        webhook, email = _by_kind(decision)
        assert webhook.event_type == "report.routed"
        assert webhook.endpoint.organisation == team_only.police
        assert webhook.payload["case"] == received.pk
        assert webhook.payload["link"] == f"/alpha/staff/cases/{received.pk}/"
        assert email.email_to == "desk@police.example"
        assert f"/alpha/staff/cases/{received.pk}/" in email.payload["body"]
        for message in (webhook, email):
            text = str(message.payload)
            for secret in SECRETS:
                assert secret not in text


def _by_kind(decision):
    by_kind = {message.kind: message for message in messages_about(decision)}
    assert set(by_kind) == {"webhook", "email"}
    return by_kind["webhook"], by_kind["email"]


def test_no_email_without_an_inbox_address(world, team_only, caseworker, in_place):
    report = submit(world.a.place)
    with in_place(world.a.place):
        case_hand_on(
            case=cases_of(report)[team_only.team],
            membership=caseworker,
            organisation=team_only.charity,
        )
        decision = RoutingDecision.objects.get(report=report, organisation=team_only.charity)
        assert [m.kind for m in messages_about(decision)] == ["webhook"]
        # The support charity gets the full report with contact: the reporter agreed.
        assert decision.level == "full" and decision.with_contact is True


def test_refused_by_consent_says_why_and_creates_nothing(world, team_only, caseworker, in_place):
    report = submit(
        world.a.place,
        REPORT | {"consent_police_anonymised": False, "consent_support_contact": False},
    )
    team_case = cases_of(report)[team_only.team]
    with in_place(world.a.place):
        before = (
            RoutingDecision.objects.count(),
            Case.objects.count(),
            OutboxMessage.objects.count(),
        )
        with pytest.raises(ValidationFailed) as refused:
            case_hand_on(case=team_case, membership=caseworker, organisation=team_only.police)
        assert refused.value.code == "consent_refused"
        assert "did not agree to share this report with the police" in refused.value.message
        assert "Nothing was sent" in refused.value.message
        assert refused.value.fields["organisation"]
        with pytest.raises(ValidationFailed) as refused:
            case_hand_on(case=team_case, membership=caseworker, organisation=team_only.platform)
        assert "only reports of public online content" in refused.value.message
        after = (
            RoutingDecision.objects.count(),
            Case.objects.count(),
            OutboxMessage.objects.count(),
        )
        assert after == before
        team_case.refresh_from_db()
        assert team_case.status == CaseStatus.NEW
        assert not AuditEvent.objects.filter(action=AuditAction.CASE_HANDED_ON).exists()


def test_an_unsent_decision_becomes_the_sent_one(world, partners, caseworker, in_place):
    route_to(world.a.place, [partners.team, partners.police])
    report = submit(world.a.place, REPORT | {"consent_police_anonymised": False})
    with in_place(world.a.place):
        unsent = RoutingDecision.objects.get(report=report, organisation=partners.police)
        assert not unsent.sent and unsent.reason == ShareReason.NO_POLICE_CONSENT
        # The reporter agrees later (the follow-up page does this through reporting).
        Report.objects.filter(pk=report.pk).update(consent_police_anonymised=True)
        case_hand_on(
            case=cases_of(report)[partners.team],
            membership=caseworker,
            organisation=partners.police,
        )
        decision = RoutingDecision.objects.get(report=report, organisation=partners.police)
        assert decision.pk == unsent.pk and decision.sent
        assert decision.reason == ShareReason.HANDED_ON and decision.level == "anonymised"
        assert decision.explanation["before"] == {"reason": "no_police_consent"}
        assert decision.rule_id == unsent.rule_id
        assert Case.objects.get(report=report, organisation=partners.police).decision == decision


def test_refusals_that_are_not_about_consent(world, partners, caseworker, in_place):
    route_to(world.a.place, [partners.team, partners.charity])
    report = submit(world.a.place)
    cases = cases_of(report)
    with in_place(world.a.place):
        for organisation, words in (
            (partners.team, "already with your organisation"),
            (partners.charity, "already has this report"),
            (partners.police_b, "does not work in this place"),
            (None, "Choose the organisation"),
        ):
            with pytest.raises(ValidationFailed) as refused:
                case_hand_on(
                    case=cases[partners.team], membership=caseworker, organisation=organisation
                )
            assert words in refused.value.message
        # Another organisation's case: only its own organisation works on it.
        with pytest.raises(PermissionDenied):
            case_hand_on(
                case=cases[partners.charity], membership=caseworker, organisation=partners.police
            )
        case_close(case=cases[partners.team], membership=caseworker, outcome="supported")
        with pytest.raises(ValidationFailed) as refused:
            case_hand_on(
                case=cases[partners.team], membership=caseworker, organisation=partners.police
            )
        assert refused.value.code == "invalid_transition"


def test_a_handed_on_case_can_be_handed_on_again_and_closed(world, team_only, caseworker, in_place):
    report = submit(world.a.place)
    case = cases_of(report)[team_only.team]
    with in_place(world.a.place):
        case_hand_on(case=case, membership=caseworker, organisation=team_only.police)
        case_hand_on(case=case, membership=caseworker, organisation=team_only.charity)
        assert Case.objects.filter(report=report, handed_on_from=case).count() == 2
        closed = case_close(case=case, membership=caseworker, outcome="referred_to_police")
        assert closed.status == CaseStatus.CLOSED


# --- the case page -------------------------------------------------------------------------


def detail_url(case):
    return reverse("cases:detail", kwargs={"place_slug": "alpha", "case_id": case.pk})


def test_hand_on_from_the_case_page(world, team_only, client, in_place):
    report = submit(world.a.place)
    case = cases_of(report)[team_only.team]
    client.force_login(world.a.users["caseworker"])
    html = client.get(detail_url(case)).content.decode()
    form = html.split('value="hand_on"')[1].split("</form>")[0]
    assert team_only.police.name in form and team_only.charity.name in form
    assert f'value="{team_only.team.pk}"' not in form  # not to itself
    response = client.post(
        detail_url(case), {"action": "hand_on", "organisation": team_only.police.pk}
    )
    assert response.status_code == 302
    with in_place(world.a.place):
        received = Case.objects.get(report=report, organisation=team_only.police)
    html = client.get(detail_url(case)).content.decode()
    assert "Handed on to" in html and team_only.police.name in html
    # The police see where it came from, and nothing about the reporter.
    client.force_login(worker_of(team_only.police).user)
    html = client.get(detail_url(received)).content.decode()
    assert f"Handed on to your organisation by {team_only.team.name}" in html
    assert "burn our house down" in html
    for secret in SECRETS[:3]:
        assert secret not in html


def test_a_refused_hand_on_shows_why_next_to_the_field(world, team_only, client, in_place):
    report = submit(world.a.place, REPORT | {"consent_support_contact": False})
    case = cases_of(report)[team_only.team]
    client.force_login(world.a.users["caseworker"])
    response = client.post(
        detail_url(case), {"action": "hand_on", "organisation": team_only.charity.pk}
    )
    assert response.status_code == 422
    html = response.content.decode()
    form = html.split('value="hand_on"')[1].split("</form>")[0]
    assert "did not agree to be contacted by support organisations" in form
    assert 'id="id_organisation_error"' in form
    assert f'<option value="{team_only.charity.pk}" selected>' in form
    with in_place(world.a.place):
        assert not Case.objects.filter(organisation=team_only.charity).exists()
    response = client.post(detail_url(case), {"action": "hand_on", "organisation": ""})
    assert response.status_code == 422 and b"errorlist" in response.content
