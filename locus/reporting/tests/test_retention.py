"""Retention (`purge_expired`) and the outbox proof (`reconcile_outbox`)."""

import datetime
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import TestCase
from django.utils import timezone
from PIL import Image

from locus.outbox.choices import MessageStatus
from locus.outbox.models import OutboxMessage
from locus.places.models import Place
from locus.reporting.models import Evidence, Report
from locus.reporting.retention import purge_expired
from locus.reporting.services import evidence_stage, report_submit
from locus.reporting.tasks import purge_expired_all

ACCOUNT = "Two men shouted abuse at me at the bus stop on Sunday evening."
DATA = {
    "incident_type": "abusive_behaviour",
    "reporter_role": "victim",
    "bias": ["antisemitism"],
    "account": ACCOUNT,
    "setting": "public_transport",
    "occurred_on": datetime.date(2020, 3, 17),
    "location_text": "Bus stop outside 12 Mill Lane",
    "police_reference": "CAD 4411/20",
    "content_url": "https://social.example/posts/123",
    "consent_support_contact": True,
    "contact": {"email": "sam@example.org"},
    "wants_email_updates": True,
}
REPORT_DAYS, EVIDENCE_DAYS = 100, 30


def _jpeg(name="photo.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def periods(world):
    Place.objects.filter(pk__in=[world.a.place.pk, world.b.place.pk]).update(
        report_retention_days=REPORT_DAYS, evidence_retention_days=EVIDENCE_DAYS
    )
    for side in (world.a, world.b):
        side.place.refresh_from_db()
    return world


def submit(side, *, files=1, closed_days_ago=None, staged="tok"):
    """A report of `side` with `files` evidence files, closed that many days ago (or open)."""
    with side_scope(side):
        for n in range(files):
            evidence_stage(place=side.place, uploaded=_jpeg(f"{n}.jpg"), staged_token=staged)
        report = report_submit(
            place=side.place, data=DATA | {"area": side.areas[0]}, staged_token=staged
        ).report
        if closed_days_ago is not None:
            Report.objects.filter(pk=report.pk).update(
                closed_at=timezone.now() - timedelta(days=closed_days_ago)
            )
        report.refresh_from_db()
    return report


def side_scope(side):
    from locus.core.tenancy import place_scope

    return place_scope(side.place)


def stored_names(side, report):
    with side_scope(side):
        return [e.file.name for e in Evidence.objects.filter(report=report)]


def storage_has(name):
    return Evidence._meta.get_field("file").storage.exists(name)


def committed():
    """Run what waits for the commit, as in production, where the purge runs outside any
    transaction: files are deleted once the deletion of their rows is committed."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def run(side, **kwargs):
    with side_scope(side), committed():
        return purge_expired(place=side.place, **kwargs)


def reload(side, report):
    with side_scope(side):
        return Report.objects.get(pk=report.pk)


# Anonymisation -------------------------------------------------------------------------------


def test_a_closed_report_past_retention_is_anonymised_and_its_files_deleted(periods):
    world = periods
    report = submit(world.a, files=2, closed_days_ago=REPORT_DAYS + 1)
    names = stored_names(world.a, report)
    assert len(names) == 2 and all(storage_has(name) for name in names)

    result = run(world.a)

    assert result.reports_anonymised == 1 and result.evidence_deleted_with_report == 2
    assert not any(storage_has(name) for name in names)
    with side_scope(world.a):
        assert not Evidence.objects.filter(report=report).exists()
    after = reload(world.a, report)
    assert after.anonymised_at is not None
    assert (after.account, after.location_text, after.police_reference) == ("", "", "")
    assert after.contact is None and not after.wants_email_updates
    assert after.followup_code_hash == ""
    # What statistics count is kept; the date keeps its month only.
    assert after.incident_type == report.incident_type and after.bias == report.bias
    assert after.area_id == report.area_id and after.setting == report.setting
    assert after.occurred_on == datetime.date(2020, 3, 1)
    assert after.submitted_at == report.submitted_at and after.closed_at == report.closed_at
    assert after.content_url == report.content_url and after.content_key == report.content_key
    assert after.reporter_role == report.reporter_role
    assert after.consent_support_contact == report.consent_support_contact


def test_open_reports_and_reports_within_retention_are_not_touched(periods):
    world = periods
    old_open = submit(world.a, files=1, staged="open")
    long_ago = timezone.now() - timedelta(days=10 * REPORT_DAYS)
    with side_scope(world.a):
        Report.objects.filter(pk=old_open.pk).update(submitted_at=long_ago)
        Evidence.objects.filter(report=old_open).update(received_at=long_ago)
    recent = submit(world.a, files=1, closed_days_ago=EVIDENCE_DAYS - 1, staged="recent")
    names = stored_names(world.a, old_open) + stored_names(world.a, recent)

    result = run(world.a)

    assert result.reports_anonymised == 0 and result.evidence_deleted_retention == 0
    for report in (old_open, recent):
        after = reload(world.a, report)
        assert after.anonymised_at is None and after.account == ACCOUNT
        assert after.contact == DATA["contact"] and after.occurred_on == DATA["occurred_on"]
    assert all(storage_has(name) for name in names)


def test_evidence_past_its_retention_is_deleted_while_the_report_is_kept(periods):
    world = periods
    report = submit(world.a, files=2, closed_days_ago=EVIDENCE_DAYS + 1)
    names = stored_names(world.a, report)

    result = run(world.a)

    assert result.evidence_deleted_retention == 2 and result.reports_anonymised == 0
    assert not any(storage_has(name) for name in names)
    after = reload(world.a, report)
    assert after.anonymised_at is None and after.account == ACCOUNT
    assert after.contact == DATA["contact"]


def test_abandoned_staged_files_are_deleted_after_the_ttl(periods, settings):
    world = periods
    with side_scope(world.a):
        old = evidence_stage(place=world.a.place, uploaded=_jpeg(), staged_token="old")
        fresh = evidence_stage(place=world.a.place, uploaded=_jpeg(), staged_token="fresh")
        Evidence.objects.filter(pk=old.pk).update(
            received_at=timezone.now() - settings.LOCUS_STAGED_EVIDENCE_TTL - timedelta(hours=1)
        )

    assert run(world.a).staged_evidence_deleted == 1

    assert not storage_has(old.file.name) and storage_has(fresh.file.name)
    with side_scope(world.a):
        assert list(Evidence.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_a_staged_file_attached_while_the_purge_runs_stays_with_its_report(periods, settings):
    """The purge lists the stale staged files, then deletes each. A late Send attaching one in
    between used to lose it: the purge deleted its file and then its row, by id, although it
    now belonged to a report. Now the purge's DELETE still requires the row to be staged, and
    the file goes only with its row."""
    from django.db.models.signals import post_init

    world = periods
    report = submit(world.a, files=0)
    with side_scope(world.a):
        late = evidence_stage(place=world.a.place, uploaded=_jpeg(), staged_token="late")
        Evidence.objects.filter(pk=late.pk).update(
            received_at=timezone.now() - settings.LOCUS_STAGED_EVIDENCE_TTL - timedelta(hours=1)
        )
    attached = []

    def late_send(sender, instance, **kwargs):
        """The Send's UPDATE, just after the purge read the row."""
        if instance.pk == late.pk and not attached:
            attached.append(
                Evidence.objects.filter(pk=late.pk, report=None).update(
                    report=report, staged_token=""
                )
            )

    post_init.connect(late_send, sender=Evidence)
    try:
        result = run(world.a)
    finally:
        post_init.disconnect(late_send, sender=Evidence)

    assert attached == [1]
    assert result.staged_evidence_deleted == 0
    with side_scope(world.a):
        assert Evidence.objects.get(pk=late.pk).report_id == report.pk
    assert storage_has(late.file.name)


def test_files_no_record_names_are_deleted_once_older_than_the_ttl(periods, settings):
    """A process killed between writing an evidence file and committing its row leaves a file
    nobody can reach: personal data retention would never delete. Old ones go; young ones
    (their row may be about to commit), named ones and other places' stay."""
    import os

    from django.core.files.base import ContentFile

    from locus.reporting.retention import evidence_file_fields

    world = periods
    storage = Evidence._meta.get_field("file").storage
    old = timezone.now() - settings.LOCUS_STAGED_EVIDENCE_TTL - timedelta(hours=1)

    def written(place, *, aged):
        name = storage.save(f"place-{place.pk}/orphan.txt", ContentFile(b"the account"))
        if aged:
            os.utime(storage.path(name), (old.timestamp(), old.timestamp()))
        return name

    orphan = written(world.a.place, aged=True)
    young = written(world.a.place, aged=False)
    elsewhere = written(world.b.place, aged=True)
    report = submit(world.a, files=1)  # open, its file named by its row
    (named,) = stored_names(world.a, report)
    os.utime(storage.path(named), (old.timestamp(), old.timestamp()))

    assert run(world.a, dry_run=True).orphan_files_deleted == 1
    assert storage.exists(orphan)
    assert run(world.a).orphan_files_deleted == 1

    assert not storage.exists(orphan)
    assert storage.exists(young) and storage.exists(named) and storage.exists(elsewhere)
    # Every model keeping files in that storage is consulted, not only reports' evidence.
    labels = {model._meta.label for model, _field in evidence_file_fields()}
    assert labels == {"reporting.Evidence", "programmes.EvidenceFile"}
    for name in (young, elsewhere, named):  # files outlive the test's rolled-back rows
        storage.delete(name)


def test_purging_twice_changes_nothing_the_second_time(periods):
    world = periods
    report = submit(world.a, files=1, closed_days_ago=REPORT_DAYS + 1, staged="r1")
    submit(world.a, files=1, closed_days_ago=EVIDENCE_DAYS + 1, staged="r2")
    first = run(world.a)
    anonymised = reload(world.a, report)

    second = run(world.a)

    assert first.reports_anonymised == 1 and first.evidence_deleted_retention == 1
    assert second.as_dict() == dict.fromkeys(second.as_dict(), 0)
    again = reload(world.a, report)
    assert again.anonymised_at == anonymised.anonymised_at
    assert again.occurred_on == datetime.date(2020, 3, 1)  # not pushed back a month again


def test_a_dry_run_counts_the_same_and_changes_nothing(periods, settings):
    world = periods
    report = submit(world.a, files=2, closed_days_ago=REPORT_DAYS + 1, staged="r1")
    kept = submit(world.a, files=1, closed_days_ago=EVIDENCE_DAYS + 1, staged="r2")
    with side_scope(world.a):
        staged = evidence_stage(place=world.a.place, uploaded=_jpeg(), staged_token="s")
        Evidence.objects.filter(pk=staged.pk).update(
            received_at=timezone.now() - settings.LOCUS_STAGED_EVIDENCE_TTL - timedelta(hours=1)
        )
        evidence_before = sorted(Evidence.objects.values_list("pk", "file"))
    names = [name for _pk, name in evidence_before]

    planned = run(world.a, dry_run=True)

    with side_scope(world.a):
        assert sorted(Evidence.objects.values_list("pk", "file")) == evidence_before
    assert all(storage_has(name) for name in names)
    for original in (report, kept):
        after = reload(world.a, original)
        assert after.anonymised_at is None and after.account == ACCOUNT
    assert planned.as_dict() == {
        "reports_anonymised": 1,
        "evidence_deleted_with_report": 2,
        "evidence_deleted_retention": 1,
        "staged_evidence_deleted": 1,
        "orphan_files_deleted": 0,
    }
    assert run(world.a).as_dict() == planned.as_dict()


def test_the_command_works_per_place_and_prints_counts_only(periods):
    world = periods
    a = submit(world.a, files=1, closed_days_ago=REPORT_DAYS + 1)
    b = submit(world.b, files=1, closed_days_ago=REPORT_DAYS + 1)
    out = io.StringIO()

    call_command("purge_expired", "--place", world.a.place.slug, stdout=out)

    text = out.getvalue()
    assert text.startswith(f"{world.a.place.slug}: 1 report(s) anonymised")
    assert world.b.place.slug not in text
    for secret in (ACCOUNT, a.reference, "Mill Lane", "sam@example.org"):
        assert secret not in text
    assert reload(world.a, a).anonymised_at is not None
    assert reload(world.b, b).anonymised_at is None  # the other place is untouched

    out = io.StringIO()
    call_command("purge_expired", "--dry-run", stdout=out)
    assert f"{world.a.place.slug}: [dry run] would have: 0 report(s)" in out.getvalue()
    assert f"{world.b.place.slug}: [dry run] would have: 1 report(s)" in out.getvalue()
    assert reload(world.b, b).anonymised_at is None

    with pytest.raises(CommandError):
        call_command("purge_expired", "--place", "nowhere")


def test_a_deactivated_place_is_purged_too(periods):
    """A place that stopped using Locus is deactivated (its pages close); the reports it holds
    must still be anonymised and their files deleted when their time is up, by the command
    (every place, or that one by its slug) and by the task."""
    world = periods
    before = submit(world.b, files=1, closed_days_ago=REPORT_DAYS + 1, staged="b1")
    names = stored_names(world.b, before)
    Place.objects.filter(pk=world.b.place.pk).update(is_active=False)
    world.b.place.refresh_from_db()

    out = io.StringIO()
    with committed():
        call_command("purge_expired", stdout=out)
    assert f"{world.b.place.slug}: 1 report(s) anonymised (1 file(s)" in out.getvalue()
    assert reload(world.b, before).anonymised_at is not None
    assert not any(storage_has(name) for name in names)

    by_slug = submit(world.b, files=0, closed_days_ago=REPORT_DAYS + 1, staged="b2")
    out = io.StringIO()
    call_command("purge_expired", "--place", world.b.place.slug, stdout=out)
    assert out.getvalue().startswith(f"{world.b.place.slug}: 1 report(s) anonymised")
    assert reload(world.b, by_slug).anonymised_at is not None

    by_task = submit(world.b, files=0, closed_days_ago=REPORT_DAYS + 1, staged="b3")
    results = purge_expired_all.call()
    assert results["places"][world.b.place.slug]["reports_anonymised"] == 1
    assert reload(world.b, by_task).anonymised_at is not None


def test_the_task_purges_every_place(periods):
    world = periods
    a = submit(world.a, files=1, closed_days_ago=REPORT_DAYS + 1)
    b = submit(world.b, files=1, closed_days_ago=REPORT_DAYS + 1)

    results = purge_expired_all.call()

    assert results["places"][world.a.place.slug]["reports_anonymised"] == 1
    assert results["places"][world.b.place.slug]["reports_anonymised"] == 1
    assert results["library"] == {"orphan_files_deleted": 0}
    assert reload(world.a, a).anonymised_at and reload(world.b, b).anonymised_at


# Outbox reconciliation -----------------------------------------------------------------------

HOOK = "https://hooks.example.org/locus"


@pytest.fixture
def routed(world, django_capture_on_commit_callbacks):
    """A report of place A routed to its council, which has one webhook endpoint; delivery is
    not run (the on-commit callbacks are captured, not executed)."""
    from locus.cases.services import routing_rule_save
    from locus.outbox.services import webhook_endpoint_create

    side = world.a
    with side_scope(side):
        endpoint, _secret = webhook_endpoint_create(
            place=side.place, organisation=side.organisation, url=HOOK
        )
        routing_rule_save(
            place=side.place,
            actor=side.users["coordinator"],
            name="Antisemitism",
            conditions={"bias": ["antisemitism"]},
            destinations=[side.organisation],
        )
        with django_capture_on_commit_callbacks(execute=False):
            report = report_submit(place=side.place, data=DATA).report
        message = OutboxMessage.objects.get()
    assert message.endpoint == endpoint and message.status == MessageStatus.PENDING
    return side, report, endpoint, message


def reconcile(side):
    out = io.StringIO()
    try:
        call_command("reconcile_outbox", "--place", side.place.slug, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


def test_reconcile_passes_on_a_cleanly_routed_report(routed):
    side, _report, _endpoint, _message = routed

    text, status = reconcile(side)

    assert status == 0
    assert f"{side.place.slug}: ok — 1 sent decision(s), 1 report.routed message(s)" in text
    assert "missing 0, duplicated 0, unexpected 0, stuck 0, dead 0" in text


def test_reconcile_fails_when_a_message_is_missing(routed):
    side, report, endpoint, message = routed
    with side_scope(side):
        OutboxMessage.objects.filter(pk=message.pk).delete()

    text, status = reconcile(side)

    assert status == 1
    assert "FAILED" in text
    assert (
        f"missing: decision {message.source_id} (report {report.pk}, organisation "
        f"{side.organisation.pk}) has no message to endpoint {endpoint.pk}" in text
    )


def test_reconcile_fails_when_a_message_is_duplicated(routed):
    side, _report, _endpoint, message = routed
    # The unique constraint forbids this; drop it (inside the test's transaction) to simulate
    # the guarantee breaking.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX outbox_one_webhook_per_source_endpoint_event")
    with side_scope(side):
        OutboxMessage.objects.create(
            kind=message.kind,
            endpoint=message.endpoint,
            event_type=message.event_type,
            payload=message.payload,
            source_type=message.source_type,
            source_id=message.source_id,
        )

    text, status = reconcile(side)

    assert status == 1
    assert (
        f"duplicate: 2 webhook messages {message.source_type}:{message.source_id} → "
        f"endpoint {message.endpoint_id} report.routed" in text
    )


def test_reconcile_lists_stuck_and_dead_messages_without_failing(routed, world):
    side, _report, _endpoint, message = routed
    with side_scope(side):
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=3)
    text, status = reconcile(side)
    assert status == 0 and f"stuck: {message.message_id}" in text and "attempts=3" in text

    with side_scope(side):
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=0, created_at=timezone.now() - timedelta(hours=2)
        )
    text, status = reconcile(side)
    assert status == 0 and f"stuck: {message.message_id}" in text and "age=2h" in text

    with side_scope(side):
        OutboxMessage.objects.filter(pk=message.pk).update(status=MessageStatus.DEAD)
    text, status = reconcile(side)
    assert status == 0 and f"dead: {message.message_id}" in text and "stuck 0, dead 1" in text
    assert ACCOUNT not in text and "payload" not in text


def test_an_endpoint_registered_after_routing_is_not_expected_to_have_old_reports(routed, world):
    from locus.outbox.services import webhook_endpoint_create

    side = routed[0]
    with side_scope(side):
        webhook_endpoint_create(place=side.place, organisation=side.organisation, url=HOOK + "/new")

    assert reconcile(side)[1] == 0


def test_reconcile_covers_every_place_and_fails_if_one_fails(routed, world):
    side, _report, _endpoint, message = routed
    with side_scope(side):
        OutboxMessage.objects.filter(pk=message.pk).delete()
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("reconcile_outbox", stdout=out)
    assert raised.value.returncode == 1
    assert f"{world.b.place.slug}: ok" in out.getvalue()
    assert f"{world.a.place.slug}: FAILED" in out.getvalue()


def test_case_notes_go_with_the_report(routed):
    from locus.cases.models import Case, CaseNote
    from locus.cases.services import case_add_note

    side, report, _endpoint, message = routed
    with side_scope(side):
        case = Case.objects.get(report=report)
        assert message.payload["link"].endswith(f"/staff/cases/{case.pk}/")
        case_add_note(
            case=case,
            membership=side.memberships["caseworker"],
            body="Spoke to her brother Ali at 12 Elm Street.",
        )
        closed = timezone.now() - timedelta(days=side.place.report_retention_days + 1)
        Case.objects.filter(pk=case.pk).update(
            status="closed", outcome="no_further_action", closed_at=closed
        )
        Report.objects.filter(pk=report.pk).update(status="closed", closed_at=closed)
    run(side)
    with side_scope(side):
        assert [n.body for n in CaseNote.objects.filter(case=case)] == [""]


def test_a_report_with_an_open_case_keeps_its_account_and_files_whatever_its_closure_says(
    periods,
):
    """A report marked closed long ago but with a case still open (a consent widened after
    the closure opened one, before that reopened the report) is still being worked on."""
    from locus.cases.models import Case
    from locus.cases.services import routing_rule_save

    world = periods
    side = world.a
    with side_scope(side):
        routing_rule_save(
            place=side.place,
            actor=side.users["coordinator"],
            name="Antisemitism",
            conditions={"bias": ["antisemitism"]},
            destinations=[side.organisation],
        )
    report = submit(side, files=1, closed_days_ago=REPORT_DAYS + 1)
    with side_scope(side):
        assert Case.objects.filter(report=report, status="new").count() == 1
    names = stored_names(side, report)

    assert run(side, dry_run=True).reports_anonymised == 0
    result = run(side)

    assert result.reports_anonymised == 0 and result.evidence_deleted_retention == 0
    after = reload(side, report)
    assert after.anonymised_at is None and after.account == ACCOUNT
    assert names and all(storage_has(name) for name in names)
