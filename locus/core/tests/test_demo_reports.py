"""The demo's reports and cases (locus.core.demo_reports): deterministic, created once, routed
exactly as report_route would route them and never beyond the consent, with a visible surge,
mass-reported posts that group, and cases in every state."""

import io
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from locus.cases.choices import CaseEventKind, CaseStatus, ShareReason
from locus.cases.models import Case, CaseEvent, CaseMessage, CaseNote, RoutingDecision, RoutingRun
from locus.cases.policies import share_for
from locus.cases.routing import directory_for
from locus.cases.services import report_route
from locus.core.choices import AuditAction
from locus.core.demo_reports import (
    LIVE_REPORTS,
    MASS_URLS,
    demo_reports_create,
    trigger_date,
    url_variant,
    weekly_counts,
)
from locus.core.management.commands.demo import demo_organisations
from locus.core.models import AuditEvent
from locus.core.tenancy import place_scope
from locus.outbox.choices import MessageKind, MessageStatus
from locus.outbox.models import DeliveryAttempt, OutboxMessage
from locus.outbox.services import webhook_endpoint_create
from locus.places.models import Place
from locus.reporting.choices import ReportStatus
from locus.reporting.management.commands.reconcile_outbox import reconcile
from locus.reporting.models import ConsentChange, Report
from locus.reporting.services import content_key

NOW = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
SCALE = 0.12


def demo_setup():
    """The demo world without its reports: places, areas, organisations, rules, accounts."""
    call_command("demo", "--scale", "0", stdout=io.StringIO())
    return Place.objects.get(slug="london")


def generate(place, *, scale=SCALE, now=NOW):
    with place_scope(place):
        return demo_reports_create(
            place=place, organisations=demo_organisations(place.slug), now=now, scale=scale
        )


@pytest.fixture
def london(db):
    place = demo_setup()
    generate(place)
    return place


def snapshot(place):
    """What the demo wrote, without database ids or ciphertext."""
    with place_scope(place):
        reports = {
            r.pk: r.reference for r in Report.objects.filter(place=place).only("pk", "reference")
        }
        return {
            "reports": sorted(
                (
                    r.reference,
                    r.incident_type,
                    tuple(r.bias),
                    r.setting,
                    r.platform,
                    r.content_url,
                    r.area_id,
                    r.occurred_on,
                    r.submitted_at,
                    r.status,
                    r.account,
                    r.location_text,
                    str(r.contact),
                    r.consent_level,
                    r.consent_support_contact,
                )
                for r in Report.objects.filter(place=place)
            ),
            "decisions": sorted(
                (reports[d.report_id], d.organisation.name, d.sent, d.level, d.reason)
                for d in RoutingDecision.objects.filter(place=place).select_related("organisation")
            ),
            "cases": sorted(
                (
                    reports[c.report_id],
                    c.organisation.name,
                    c.status,
                    c.outcome,
                    c.verification,
                    c.ideology,
                    c.acknowledged_at,
                    c.closed_at,
                    c.assigned_to_id,
                    c.merged_into_id is not None,
                    c.handed_on_from_id is not None,
                )
                for c in Case.objects.filter(place=place).select_related("organisation")
            ),
            "events": Counter(CaseEvent.objects.filter(place=place).values_list("kind", flat=True)),
            "notes": sorted(CaseNote.objects.filter(place=place).values_list("body", flat=True)),
            "messages": sorted(
                CaseMessage.objects.filter(place=place).values_list("body", "at", "direction")
            ),
        }


def table_counts():
    from django.apps import apps

    counts = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            cursor.execute(f"SELECT COUNT(*) FROM {model._meta.db_table}")  # noqa: S608
            counts[model._meta.label] = cursor.fetchone()[0]
    return counts


class Rollback(Exception):
    pass


@pytest.mark.django_db
def test_the_same_moment_and_scale_give_the_same_demo():
    place = demo_setup()
    snapshots = []
    for _run in range(2):
        try:
            with transaction.atomic():
                generate(place, scale=0.04)
                snapshots.append(snapshot(place))
                raise Rollback
        except Rollback:
            pass
    assert snapshots[0]["reports"]
    assert snapshots[0] == snapshots[1]


@pytest.mark.django_db
def test_running_the_demo_twice_creates_nothing_new():
    out = io.StringIO()
    call_command("demo", "--scale", "0.04", stdout=out)
    assert "demo reports from" in out.getvalue()
    assert "surge after the trigger event of" in out.getvalue()
    before, audited = table_counts(), AuditEvent.objects.count()
    again = io.StringIO()
    call_command("demo", "--scale", "0.04", stdout=again)
    assert "none added" in again.getvalue()
    place = Place.objects.get(slug="london")
    summary = generate(place)  # another moment and scale: still the same demo set
    assert not summary.created
    # Only the boundary and indicator re-imports audit themselves again (an import is audited
    # even when it changes nothing).
    after = table_counts()
    assert {label for label in after if after[label] != before[label]} <= {"core.AuditEvent"}
    assert set(AuditEvent.objects.order_by("pk")[audited:].values_list("action", flat=True)) <= {
        AuditAction.AREAS_IMPORTED,
        AuditAction.INDICATORS_IMPORTED,
    }


def test_every_report_is_routed_once_and_every_sent_decision_has_one_case(london):
    place = london
    with place_scope(place):
        reports = list(Report.objects.filter(place=place))
        runs = Counter(RoutingRun.objects.filter(place=place).values_list("report_id", flat=True))
        assert len(reports) > 500
        assert all(runs[r.pk] == 1 for r in reports) and sum(runs.values()) == len(reports)
        decisions = list(RoutingDecision.objects.filter(place=place))
        cases = list(Case.objects.filter(place=place))
        by_decision = Counter(c.decision_id for c in cases)
        for decision in decisions:
            assert by_decision[decision.pk] == (1 if decision.sent else 0)
        assert len(cases) == sum(d.sent for d in decisions)
        for run in RoutingRun.objects.filter(place=place).select_related("report"):
            routed = [d for d in decisions if d.report_id == run.report_id]
            assert run.sent_count == sum(
                d.sent and d.reason != ShareReason.HANDED_ON for d in routed
            )

        # Report statuses as the case services leave them.
        cases_of = {}
        for case in cases:
            cases_of.setdefault(case.report_id, []).append(case)
        for report in reports:
            own = cases_of.get(report.pk, [])
            if not own:
                assert report.status == ReportStatus.RECEIVED
            elif all(c.status == CaseStatus.CLOSED for c in own):
                assert report.status == ReportStatus.CLOSED
                assert report.closed_at == max(c.closed_at for c in own)
            else:
                assert report.status == ReportStatus.WITH_ORGANISATIONS

        # The real path routes a report once: doing it again changes nothing.
        report = reports[0]
        count = RoutingDecision.objects.filter(place=place).count()
        report_route(report=report)
        assert RoutingDecision.objects.filter(place=place).count() == count
        assert ConsentChange.objects.filter(place=place).count() == len(reports)


def test_reports_carry_the_taxonomy_version_of_their_day(london):
    """NOW is the day before 2026.2 was published: every demo report was written in 2026.1."""
    with place_scope(london):
        reports = Report.objects.filter(place=london)
        assert set(reports.values_list("taxonomy_version", flat=True)) == {"2026.1"}
        cases = Case.objects.filter(place=london)
        assert set(cases.values_list("taxonomy_version", flat=True)) == {"", "2026.1"}


def test_no_decision_goes_beyond_the_consent(london):
    place = london
    with place_scope(place):
        directory = directory_for(place.pk)
        decisions = RoutingDecision.objects.filter(place=place).select_related(
            "report", "organisation"
        )
        handed_on = 0
        for decision in decisions:
            share = share_for(
                decision.report,
                decision.organisation,
                place_team=decision.organisation_id in directory.place_teams,
                listed=decision.organisation_id in directory.listed,
            )
            if decision.sent:
                assert share.allowed, (decision.report.reference, decision.organisation.name)
                assert decision.level == share.level
                assert decision.with_contact == share.with_contact
            else:
                assert not share.allowed
                assert decision.level == "" and not decision.with_contact
            if decision.reason == ShareReason.HANDED_ON:
                handed_on += 1
            else:
                assert decision.reason == share.reason
        assert handed_on > 0
        # Nothing about the reporter reaches a platform or a referral unit.
        content_only = decisions.filter(organisation__type__in=["company", "national_body"])
        assert not content_only.filter(sent=True).exclude(level="content_only").exists()


def test_historical_rows_are_what_report_route_would_write(db):
    """Bulk-written history against the real path: the same reports routed by report_route
    leave the same run, decisions, cases, first events and webhook messages."""
    place = demo_setup()
    organisations = demo_organisations("london")
    with place_scope(place):
        endpoint, _secret = webhook_endpoint_create(
            place=place, organisation=organisations["platform"], url="https://hooks.example.org/x"
        )
        # Registered long ago, so every historical decision had it.
        type(endpoint).objects.filter(pk=endpoint.pk).update(created_at=NOW - timedelta(days=1500))
    generate(place, scale=0.05)
    with place_scope(place):
        originals = list(
            Report.objects.filter(place=place, routing_run__isnull=False)
            .exclude(routing_decisions__reason=ShareReason.HANDED_ON)
            .order_by("submitted_at")
            .distinct()
        )[:-LIVE_REPORTS]
        sample = random.Random(7).sample(originals, 40)  # noqa: S311
        assert any(r.content_url for r in sample)
        for index, original in enumerate(sample):
            clone = Report.objects.get(pk=original.pk)
            clone.pk, clone.reference = None, f"CLONE-{index:03d}"
            clone.status, clone.closed_at = ReportStatus.RECEIVED, None
            clone.save()
            report_route(report=clone)
            assert rows_of(original) == rows_of(clone), original.reference
            assert (original.status != ReportStatus.RECEIVED) == (
                Report.objects.get(pk=clone.pk).status != ReportStatus.RECEIVED
            )


def rows_of(report):
    """What routing left for a report, with its own ids replaced by placeholders."""
    run = RoutingRun.objects.get(report=report)
    decisions = list(
        RoutingDecision.objects.filter(report=report).exclude(reason=ShareReason.HANDED_ON)
    )
    ids = {d.pk: f"decision:{d.organisation_id}" for d in decisions}
    cases = {c.decision_id: c for c in Case.objects.filter(report=report)}
    rows = {
        "run": (run.matched_rules, run.sent_count),
        "decisions": sorted(
            (
                d.organisation_id,
                d.rule_id,
                d.sent,
                d.level,
                d.with_contact,
                d.reason,
                str(d.explanation),
            )
            for d in decisions
        ),
        "cases": [],
        "webhooks": [],
    }
    for decision in decisions:
        case = cases.get(decision.pk)
        if case is None:
            continue
        first = CaseEvent.objects.filter(case=case).order_by("at", "pk").first()
        assert first.at == case.created_at == decision.created_at
        rows["cases"].append(
            (decision.organisation_id, first.kind, {**first.data, "decision": ids[decision.pk]})
        )
        for message in OutboxMessage.objects.filter(
            kind=MessageKind.WEBHOOK, source_type="cases.routingdecision", source_id=decision.pk
        ):
            payload = message.payload
            assert payload["report"] == report.reference and payload["case"] == case.pk
            assert payload["link"].endswith(f"/{case.pk}/")
            rows["webhooks"].append(
                (
                    message.endpoint_id,
                    message.event_type,
                    sorted(payload),
                    payload["incident_type"],
                    payload["level"],
                )
            )
    rows["cases"].sort(key=str)
    rows["webhooks"].sort()
    return rows


def test_outbox_history_is_delivered_and_reconciles(db):
    place = demo_setup()
    organisations = demo_organisations("london")
    with place_scope(place):
        for key in ("platform", "police"):
            endpoint, _secret = webhook_endpoint_create(
                place=place, organisation=organisations[key], url="https://hooks.example.org/x"
            )
            type(endpoint).objects.filter(pk=endpoint.pk).update(
                created_at=NOW - timedelta(days=1500)
            )
    generate(place, scale=0.05)
    with place_scope(place):
        result = reconcile(place=place, now=NOW)
        assert not result.failed, (result.missing[:3], result.unexpected[:3])
        sent = RoutingDecision.objects.filter(
            place=place,
            sent=True,
            organisation__in=[organisations["platform"], organisations["police"]],
        ).count()
        assert result.messages == sent > 20
        # History was delivered (one attempt each); the live path's messages wait for the
        # worker.
        live = set(
            Report.objects.filter(place=place)
            .order_by("-submitted_at")
            .values_list("reference", flat=True)[:LIVE_REPORTS]
        )
        attempts = Counter(
            DeliveryAttempt.objects.filter(place=place).values_list("message_id", flat=True)
        )
        for message in OutboxMessage.objects.filter(place=place):
            if message.status == MessageStatus.PENDING and (
                message.payload.get("report") in live or message.kind == "email"
            ):  # the live path's webhooks, and its e-mails to inboxes (link only)
                assert attempts[message.pk] == 0
            else:
                assert message.status == MessageStatus.DELIVERED and attempts[message.pk] == 1
                assert message.delivered_at > message.created_at
    out = io.StringIO()
    call_command("reconcile_outbox", "--place", "london", stdout=out)
    assert "london: ok" in out.getvalue()


def test_the_surge_shows_in_the_weekly_counts(db):
    place = demo_setup()
    generate(place, scale=0.3)
    trigger = trigger_date(NOW.date())
    assert trigger.weekday() == 5 and NOW.date() - trigger > timedelta(weeks=30)
    with place_scope(place):

        def rise(bias, weeks):
            counts = weekly_counts(place, bias, start=trigger)
            before = sum(counts.get(-w, 0) for w in range(1, 53)) / 52
            return sum(counts.get(w, 0) for w in weeks) / len(weeks) / before

        assert rise("antisemitism", [0]) > 5
        assert rise("antisemitism", [0, 1, 2, 3]) > 3
        assert rise("anti_muslim", [1, 2]) > 2
        assert rise("antisemitism", [10, 11, 12, 13]) < 1.6  # back to normal
        for other in ("disability", "sexual_orientation", "racism_xenophobia"):
            assert rise(other, [0, 1, 2, 3]) < 1.6, other


def test_mass_reported_posts_share_one_content_key_across_their_variants(london):
    place = london
    with place_scope(place):
        for mass in MASS_URLS["london"]:
            key = content_key(mass.url)
            urls = list(
                Report.objects.filter(place=place, content_key=key).values_list(
                    "content_url", flat=True
                )
            )
            assert len(urls) >= 4, mass.url
            assert len(set(urls)) > 1, mass.url  # written in several ways
            assert {content_key(url) for url in urls} == {key}
        groups = Counter(
            Report.objects.filter(place=place)
            .exclude(content_key="")
            .values_list("content_key", flat=True)
        )
        assert groups.most_common(1)[0][0] == content_key(MASS_URLS["london"][0].url)
        # The content desk merged duplicates of one post into an open case of the same post.
        merged = Case.objects.filter(place=place, merged_into__isnull=False).select_related(
            "merged_into", "report", "merged_into__report"
        )
        assert merged.exists()
        for case in merged:
            assert case.verification == "duplicate"
            assert case.organisation_id == case.merged_into.organisation_id
            assert case.report.content_key == case.merged_into.report.content_key
            if case.merged_into.status == CaseStatus.CLOSED:
                assert case.status == CaseStatus.CLOSED
                assert case.closed_at == case.merged_into.closed_at


def test_url_variants_fold_into_the_post_they_copy():
    rng = random.Random(3)  # noqa: S311
    for mass in MASS_URLS["london"] + MASS_URLS["malmo"]:
        variants = {url_variant(rng, mass.url) for _ in range(60)}
        assert len(variants) > 5
        assert {content_key(url) for url in variants} == {content_key(mass.url)}


def test_cases_in_every_state_with_consistent_timelines(london):
    place = london
    now = NOW
    with place_scope(place):
        cases = list(Case.objects.filter(place=place).select_related("report", "decision"))
        statuses = Counter(c.status for c in cases)
        assert set(statuses) == set(CaseStatus.values), statuses
        assert statuses[CaseStatus.CLOSED] > statuses[CaseStatus.NEW]
        outcomes = Counter(c.outcome for c in cases if c.outcome)
        assert len(outcomes) >= 5
        verifications = Counter(c.verification for c in cases)
        assert {"verified", "unverified", "duplicate", "not_hate_related"} <= set(verifications)
        assert any(c.ideology for c in cases)
        assert any(c.assigned_to_id for c in cases)
        assert CaseNote.objects.filter(place=place).exists()
        assert CaseMessage.objects.filter(place=place, direction="from_reporter").exists()
        assert CaseMessage.objects.filter(place=place, direction="to_reporter").exists()

        events = {}
        for event in CaseEvent.objects.filter(place=place).order_by("at", "pk"):
            events.setdefault(event.case_id, []).append(event)
        for case in cases:
            timeline = events[case.pk]
            first = timeline[0]
            expected = (
                CaseEventKind.HAND_ON_RECEIVED if case.handed_on_from_id else CaseEventKind.CREATED
            )
            assert first.kind == expected and first.at == case.created_at
            assert case.created_at >= case.report.submitted_at
            assert case.decision.created_at == case.created_at
            assert all(e.at <= now + timedelta(minutes=1) for e in timeline)
            assert case.updated_at == timeline[-1].at
            if case.acknowledged_at:
                assert case.acknowledged_at >= case.created_at
            if case.status == CaseStatus.CLOSED:
                closing = [e for e in timeline if e.kind == CaseEventKind.CLOSED]
                assert closing and closing[-1].at == case.closed_at
                assert closing[-1].data["outcome"] == case.outcome
            if case.status == CaseStatus.HANDED_ON:
                assert case.handed_on_to.exists()
            if case.handed_on_from_id:
                assert case.decision.reason == ShareReason.HANDED_ON
                assert case.handed_on_from.status in (CaseStatus.HANDED_ON, CaseStatus.CLOSED)


def test_personal_data_is_stored_encrypted_and_reads_back(london):
    place = london
    with place_scope(place):
        report = (
            Report.objects.filter(place=place)
            .exclude(contact__isnull=True)
            .exclude(location_text="")
            .first()
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT account, contact, location_text FROM reporting_report WHERE id = %s",
                [report.pk],
            )
            raw = cursor.fetchone()
        assert all(value.startswith("gAAAAA") for value in raw)
        assert report.account not in raw and len(report.account) > 20
        assert set(report.contact) <= {"name", "email", "phone"} and report.contact
        assert "@example.org" in report.contact.get("email", "@example.org")
        note = CaseNote.objects.filter(place=place).first()
        assert note.body and " " in note.body


def test_malmo_gets_a_lighter_few_months(db):
    demo_setup()
    place = Place.objects.get(slug="malmo")
    summary = generate(place, scale=1)
    with place_scope(place):
        reports = Report.objects.filter(place=place)
        first = reports.order_by("submitted_at").first().submitted_at
        assert 150 < reports.count() < 600
        assert NOW - first < timedelta(days=125)
        assert Counter(reports.values_list("language", flat=True)).most_common(1)[0][0] == "sv"
    assert summary.trigger is None and summary.cases["closed"] > 0
