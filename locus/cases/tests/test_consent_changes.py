"""A reporter's consent change reaches where their report went (report_consent_applied)."""

import pytest
from django.db import connection

from locus.cases.choices import CaseEventKind, ShareLevel, ShareReason
from locus.cases.models import Case, CaseEvent, RoutingDecision
from locus.cases.tests.test_services import THREAT, _everyone, _submit
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.outbox.models import OutboxMessage
from locus.reporting.services import report_change_consent

NO_POLICE = THREAT | {"consent_police_anonymised": False}


def _decision(report, organisation):
    return RoutingDecision.objects.get(report=report, organisation=organisation)


def test_widening_consent_sends_the_report_to_the_police_it_was_kept_from(
    world, in_place, partners, rule_in
):
    _everyone(partners, world, rule_in)
    report = _submit(world, in_place, NO_POLICE)
    with in_place(world.a.place):
        before = _decision(report, partners.police)
        assert not before.sent and before.reason == ShareReason.NO_POLICE_CONSENT
        report_change_consent(
            report=report, police_anonymised=True, police_with_contact=False, support_contact=False
        )
        after = _decision(report, partners.police)
        assert after.sent and after.level == ShareLevel.ANONYMISED and not after.with_contact
        assert after.reason == ShareReason.POLICE_ANONYMISED
        case = Case.objects.get(report=report, organisation=partners.police)
        assert OutboxMessage.objects.filter(
            source_type="cases.routingdecision", source_id=str(after.pk)
        ).exists()
        assert AuditEvent.objects.filter(action=AuditAction.REPORT_REROUTED).count() == 1
        assert CaseEvent.objects.filter(case=case, kind=CaseEventKind.CREATED).exists()
        # Changing it again opens nothing twice.
        report_change_consent(
            report=report, police_anonymised=True, police_with_contact=False, support_contact=False
        )
        assert Case.objects.filter(report=report, organisation=partners.police).count() == 1


def test_withdrawing_contact_consent_hides_contact_details_from_then_on(
    world, in_place, partners, rule_in
):
    _everyone(partners, world, rule_in)
    report = _submit(world, in_place, THREAT | {"consent_police_with_contact": True})
    with in_place(world.a.place):
        assert _decision(report, partners.police).with_contact
        report_change_consent(
            report=report, police_anonymised=True, police_with_contact=False, support_contact=False
        )
        police = _decision(report, partners.police)
        assert police.sent and not police.with_contact  # the case stays; the contact does not
        case = Case.objects.get(report=report, organisation=partners.police)
        event = CaseEvent.objects.filter(case=case, kind=CaseEventKind.CONSENT_CHANGED).get()
        assert event.data == {"with_contact": False}


def test_a_consent_change_before_routing_leaves_routing_to_read_it(world, in_place, settings):
    from locus.cases.services import report_consent_applied
    from locus.reporting.services import report_submit

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    with in_place(world.a.place):
        report = report_submit(place=world.a.place, data=NO_POLICE).report
        assert report_consent_applied(report=report) == []
        assert not RoutingDecision.objects.filter(report=report).exists()


def test_widening_consent_after_every_case_closed_opens_the_report_again(
    world, in_place, partners, rule_in
):
    """A case opened by a widened consent is open work: the report is with the organisations
    again, not closed — else retention, counted from the old closure, would erase the account
    and files of a report the police have just received."""
    from datetime import timedelta

    from django.utils import timezone

    from locus.cases.choices import CaseStatus
    from locus.reporting.choices import ReportStatus
    from locus.reporting.models import Report

    _everyone(partners, world, rule_in)
    report = _submit(world, in_place, NO_POLICE)
    closed = timezone.now() - timedelta(days=400)
    with in_place(world.a.place):
        Case.objects.filter(report=report).update(
            status=CaseStatus.CLOSED, outcome="no_further_action", closed_at=closed
        )
        Report.objects.filter(pk=report.pk).update(status=ReportStatus.CLOSED, closed_at=closed)
        report.refresh_from_db()

        report_change_consent(
            report=report, police_anonymised=True, police_with_contact=False, support_contact=False
        )

        police = Case.objects.get(report=report, organisation=partners.police)
        assert police.status == CaseStatus.NEW
        report.refresh_from_db()
        assert report.status == ReportStatus.WITH_ORGANISATIONS
        assert report.closed_at is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_widenings_at_once_open_one_case_and_neither_fails(
    world, in_place, partners, rule_in, monkeypatch
):
    """A double click on "Save my choices" (the consent form has no token) on PostgreSQL: the
    second change waits for the first (its UPDATE of the report row) and then finds the police
    decision sent, so it opens no second case (which the unique case per decision would refuse
    with an IntegrityError, a 500)."""
    import threading

    from django.db import connections

    from locus.cases import services as case_services
    from locus.reporting.models import Report

    _everyone(partners, world, rule_in)
    report = _submit(world, in_place, NO_POLICE)
    inside, release = threading.Event(), threading.Event()
    original = case_services.case_notify_received

    def held_open(**kwargs):
        if not inside.is_set():
            inside.set()
            release.wait(30)  # the first change's transaction stays open meanwhile
        return original(**kwargs)

    monkeypatch.setattr(case_services, "case_notify_received", held_open)
    errors = []

    def widen():
        try:
            with in_place(world.a.place):
                report_change_consent(
                    report=Report.objects.get(pk=report.pk),
                    police_anonymised=True,
                    police_with_contact=False,
                    support_contact=False,
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=widen)
    first.start()
    assert inside.wait(30)
    second = threading.Thread(target=widen)
    second.start()
    try:
        with connection.cursor() as cursor:  # until the second change waits for the first
            for _ in range(3000):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
                threading.Event().wait(0.01)
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert errors == []
    with in_place(world.a.place):
        assert Case.objects.filter(report=report, organisation=partners.police).count() == 1
