"""The reporter's side of follow-up, at the service level: messages to the organisations,
additions after sending, the copy of the data and erasure on request."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from locus.cases.choices import CaseEventKind, MessageDirection
from locus.cases.models import CaseEvent, CaseMessage, CaseNote
from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.models import AuditEvent
from locus.outbox.choices import MessageKind
from locus.outbox.models import OutboxMessage
from locus.reporting import selectors, services
from locus.reporting.models import ConsentChange, Evidence, Report

from .conftest import ACCOUNT, EMAIL, INBOX, LOCATION, POLICE_REFERENCE, jpeg, text_file

SITE = "https://locus.example"


def staff_message(case, body="Thank you. Can you tell us when you saw it?"):
    """What the staff side writes (its own service is built elsewhere): a TO_REPORTER row."""
    return CaseMessage.objects.create(
        place_id=case.place_id, case=case, direction=MessageDirection.TO_REPORTER, body=body
    )


# --- messages ------------------------------------------------------------------------------


def test_a_message_reaches_one_organisation_with_an_event_and_a_link_only_email(followed, in_place):
    support_case = followed.case_of(followed.support)
    with in_place(followed.place):
        message = services.report_message_send(
            report=followed.report,
            case=support_case,
            body="  I saw two more posts like it today.  ",
            base_url=SITE,
        )
        assert message.direction == MessageDirection.FROM_REPORTER
        assert message.body == "I saw two more posts like it today."
        assert list(CaseMessage.objects.values_list("case_id", flat=True)) == [support_case.pk]
        event = CaseEvent.objects.get(kind=CaseEventKind.MESSAGE_RECEIVED)
        assert event.case_id == support_case.pk and event.data == {"message": message.pk}
        # (Routing has already told the inbox that a report arrived: another e-mail.)
        email = OutboxMessage.objects.exclude(event_type="report.routed").get(
            kind=MessageKind.EMAIL
        )
    assert email.email_to == INBOX and email.source_id == str(message.pk)
    body = email.payload["body"]
    assert f"{SITE}/alpha/staff/cases/{support_case.pk}/" in body
    for private in ("two more posts", ACCOUNT, EMAIL, "Noor"):
        assert private not in body and private not in email.payload["subject"]


def test_no_email_for_an_organisation_without_an_inbox_address(followed, in_place):
    with in_place(followed.place):
        services.report_message_send(
            report=followed.report, case=followed.case_of(followed.team), body="Hello"
        )
        emails = OutboxMessage.objects.filter(kind=MessageKind.EMAIL)
        assert not emails.exclude(event_type="report.routed").exists()


def test_a_message_must_say_something_and_not_too_much(followed, in_place):
    case = followed.case_of(followed.support)
    with in_place(followed.place):
        with pytest.raises(ValidationFailed) as empty:
            services.report_message_send(report=followed.report, case=case, body="   ")
        with pytest.raises(ValidationFailed) as long:
            services.report_message_send(
                report=followed.report, case=case, body="x" * (services.MESSAGE_MAX_LENGTH + 1)
            )
        assert not CaseMessage.objects.exists()
    assert "body" in empty.value.fields and "body" in long.value.fields


def test_a_message_goes_only_to_a_case_of_the_report_that_is_not_merged(followed, in_place, world):
    from .conftest import send_and_route

    other_report, _code = send_and_route(followed.place)
    with in_place(followed.place):
        other_case = other_report.cases.get(organisation=followed.support)
        with pytest.raises(ValidationFailed) as foreign:
            services.report_message_send(report=followed.report, case=other_case, body="Hi")
        mine = followed.case_of(followed.support)
        mine.merged_into = other_case
        mine.save(update_fields=["merged_into"])
        with pytest.raises(ValidationFailed):
            services.report_message_send(report=followed.report, case=mine, body="Hi")
        assert [t.organisation for t in selectors.report_threads(followed.report)] == [
            followed.team,
            followed.platform,
        ]
    assert "case" in foreign.value.fields


def test_no_messages_with_an_organisation_that_received_only_the_public_content(followed, in_place):
    with in_place(followed.place):
        with pytest.raises(ValidationFailed) as raised:
            services.report_message_send(
                report=followed.report, case=followed.case_of(followed.platform), body="Hi"
            )
        assert not CaseMessage.objects.exists()
    assert raised.value.code == "not_allowed" and "case" in raised.value.fields


def test_threads_show_each_organisation_and_reading_marks_staff_messages_read(followed, in_place):
    support_case = followed.case_of(followed.support)
    with in_place(followed.place):
        asked = staff_message(support_case)
        services.report_message_send(report=followed.report, case=support_case, body="Yesterday")
        threads = selectors.report_threads(followed.report)
        assert {t.organisation.name for t in threads} == {
            followed.team.name,
            followed.support.name,
            "Chirp Trust & Safety",
        }
        support = next(t for t in threads if t.organisation == followed.support)
        assert [m.body for m in support.messages] == [asked.body, "Yesterday"]
        assert support.unread == [asked]
        assert {t.organisation for t in threads if t.reads_report} == {
            followed.team,
            followed.support,
        }
        marked = services.report_messages_mark_read(
            report=followed.report, messages=support.messages
        )
        asked.refresh_from_db()
        assert marked == 1 and asked.read_at is not None
        # The reporter's own messages are never "read" by this.
        assert CaseMessage.objects.filter(read_at__isnull=True).count() == 1


# --- additions -----------------------------------------------------------------------------


def test_an_addition_attaches_files_and_tells_every_handling_case(followed, in_place):
    cases = followed.cases()
    with in_place(followed.place):
        before = Evidence.objects.filter(report=followed.report).count()
        services.report_evidence_stage(
            report=followed.report, uploaded=text_file(), staged_token="a" * 32
        )
        addition = services.report_add_information(
            report=followed.report,
            text="The account has posted the same picture again.",
            staged_token="a" * 32,
            base_url=SITE,
        )
        attached = list(Evidence.objects.filter(report=followed.report).order_by("id"))
        assert len(attached) == before + 1
        added = attached[-1]
        assert added.received_at > followed.report.submitted_at and len(added.sha256) == 64
        assert not Evidence.objects.filter(report=None).exists()
        # The text goes to the organisations that received the report itself, not the platform.
        messages = CaseMessage.objects.filter(direction=MessageDirection.FROM_REPORTER)
        assert {m.case.organisation for m in messages} == {followed.team, followed.support}
        events = CaseEvent.objects.filter(kind=CaseEventKind.INFO_ADDED)
        assert {e.case_id for e in events} == {c.pk for c in cases.values()}
        platform_event = events.get(case=cases[followed.platform.pk])
        assert platform_event.data == {"message": None, "evidence": [added.pk]}
        to_inbox = OutboxMessage.objects.filter(kind=MessageKind.EMAIL, email_to=INBOX)
        assert to_inbox.exclude(event_type="report.routed").count() == 1
        threads = selectors.report_threads(followed.report)
        support = next(t for t in threads if t.organisation == followed.support)
        assert [m.pk in support.additions for m in support.messages] == [True]
    assert {m.case.organisation for m in addition.messages} == {followed.team, followed.support}


def test_an_addition_needs_text_or_a_file(followed, in_place):
    with in_place(followed.place):
        with pytest.raises(ValidationFailed) as raised:
            services.report_add_information(report=followed.report, text="  ", staged_token="")
        assert not CaseEvent.objects.filter(kind=CaseEventKind.INFO_ADDED).exists()
    assert "text" in raised.value.fields


def test_the_per_report_caps_count_the_files_already_sent(followed, in_place, settings):
    with in_place(followed.place):
        existing = Evidence.objects.get(report=followed.report)
        settings.LOCUS_MAX_EVIDENCE_REPORT_BYTES = existing.size + 50
        with pytest.raises(ValidationFailed) as too_big:
            services.report_evidence_stage(
                report=followed.report, uploaded=text_file(content=b"x" * 80), staged_token="b" * 32
            )
        settings.LOCUS_MAX_EVIDENCE_REPORT_BYTES = 10**9
        for n in range(services.MAX_FILES_PER_REPORT - 1):
            services.report_evidence_stage(
                report=followed.report,
                uploaded=text_file(f"{n}.txt", f"note {n}\n".encode()),
                staged_token="b" * 32,
            )
        with pytest.raises(ValidationFailed) as too_many:
            services.report_evidence_stage(
                report=followed.report, uploaded=text_file("last.txt"), staged_token="b" * 32
            )
    assert "files" in too_big.value.fields and "files" in too_many.value.fields


def test_a_refused_file_is_named_and_nothing_is_stored(followed, in_place):
    svg = SimpleUploadedFile("x.svg", b"<svg><script>alert(1)</script></svg>", "image/svg+xml")
    with in_place(followed.place):
        with pytest.raises(ValidationFailed) as raised:
            services.report_evidence_stage(
                report=followed.report, uploaded=svg, staged_token="c" * 32
            )
        assert not Evidence.objects.filter(staged_token="c" * 32).exists()
    assert raised.value.fields["files"]


# --- the copy ------------------------------------------------------------------------------


def test_the_copy_holds_everything_about_the_report_and_nothing_staff_only(followed, in_place):
    support_case = followed.case_of(followed.support)
    with in_place(followed.place):
        CaseNote.objects.create(
            place=followed.place, case=support_case, body="Internal: checked the account."
        )
        staff_message(support_case, "We have reported the post.")
        services.report_change_consent(
            report=followed.report,
            police_anonymised=True,
            police_with_contact=False,
            support_contact=True,
        )
        copy = selectors.report_copy(followed.report, language="en")
    report = copy["report"]
    assert copy["reference"] == followed.report.reference
    assert report["account"] == ACCOUNT and report["location_text"] == LOCATION
    assert report["police_reference"] == POLICE_REFERENCE
    assert report["contact"] == {"name": "Noor", "email": EMAIL}
    assert report["incident_type"]["code"] == "online_content" and report["incident_type"]["label"]
    assert [b["code"] for b in report["bias"]] == ["antisemitism"]
    assert [c["support_contact"] for c in copy["consent_history"]] == [True, True]
    assert [c["police_anonymised"] for c in copy["consent_history"]] == [False, True]
    assert any("Hope Support" in line for line in copy["routing"])
    by_name = {o["organisation"]: o for o in copy["organisations"]}
    assert set(by_name) == {followed.team.name, "Hope Support", "Chirp Trust & Safety"}
    assert by_name["Hope Support"]["status"]["code"] == "new"
    assert [m["body"] for m in by_name["Hope Support"]["messages"]] == [
        "We have reported the post."
    ]
    [evidence] = copy["evidence"]
    assert evidence["name"] == "photo.jpg" and len(evidence["sha256"]) == 64
    assert "Internal: checked the account." not in repr(copy)


def test_the_copy_of_an_old_report_keeps_its_version_and_reads_in_todays_words(followed, in_place):
    """A report written in taxonomy 2026.1: its copy names that version, and its codes carry
    the current labels (2026.2's French), since codes keep their meaning."""
    with in_place(followed.place):
        Report.objects.filter(pk=followed.report.pk).update(
            taxonomy_version="2026.1", bias=["anti_black"], setting="home_neighbourhood"
        )
        followed.report.refresh_from_db()
        copy = selectors.report_copy(followed.report, language="fr")
    assert copy["taxonomy_version"] == "2026.1"
    assert copy["report"]["bias"] == [
        {"code": "anti_black", "label": "Racisme envers les personnes noires"}
    ]
    assert copy["report"]["setting"]["label"] == "Domicile ou voisinage"


# --- erasure -------------------------------------------------------------------------------


def test_erasure_strips_personal_data_keeps_statistics_and_tells_every_organisation(
    followed, in_place, django_capture_on_commit_callbacks
):
    support_case = followed.case_of(followed.support)
    with in_place(followed.place):
        staff_message(support_case, "Please call us on 0123.")
        services.report_message_send(
            report=followed.report, case=support_case, body="My name is Noor Haddad."
        )
        CaseNote.objects.create(place=followed.place, case=support_case, body="Noor, 4 Quay St")
        names = [e.file.name for e in Evidence.objects.filter(report=followed.report)]
        storage = Evidence._meta.get_field("file").storage
        assert names and all(storage.exists(name) for name in names)

        with django_capture_on_commit_callbacks(execute=True):
            erasure = services.report_erase(report=followed.report, base_url=SITE)

        report = Report.objects.get(pk=followed.report.pk)
        assert report.anonymised_at is not None and selectors.report_is_erased(report)
        assert (report.account, report.location_text, report.police_reference) == ("", "", "")
        assert report.contact is None
        assert not Evidence.objects.filter(report=report).exists()
        assert not any(storage.exists(name) for name in names)
        assert set(CaseMessage.objects.values_list("body", flat=True)) == {""}
        assert set(CaseNote.objects.values_list("body", flat=True)) == {""}
        # Statistics keep what they count.
        assert report.incident_type == "online_content" and report.bias == ["antisemitism"]
        assert report.content_url == followed.report.content_url
        # Consent is withdrawn, and the change kept.
        assert not (report.consent_support_contact or report.consent_police_anonymised)
        assert ConsentChange.objects.filter(report=report).count() == 2
        # The reporter can still open it to be told: the code still matches.
        assert (
            selectors.report_for_followup(
                place=followed.place, reference=report.reference, code=followed.code
            )
            == report
        )
        # Every case gets an event; none is closed; every organisation is told.
        cases = followed.cases()
        events = CaseEvent.objects.filter(kind=CaseEventKind.REPORT_ERASED)
        assert {e.case_id for e in events} == {c.pk for c in cases.values()}
        withdrawn = {"police_anonymised": False, "police_with_contact": False}
        assert all(
            e.data == {"consent": withdrawn | {"support_contact": False}, "files_deleted": 1}
            for e in events
        )
        assert not CaseEvent.objects.filter(kind=CaseEventKind.CONSENT_CHANGED).exists()
        assert all(not c.is_closed for c in cases.values())
        webhook = OutboxMessage.objects.get(kind=MessageKind.WEBHOOK, event_type="report.erased")
        assert webhook.payload == {
            "report": report.reference,
            "case": support_case.pk,
            "link": f"/alpha/staff/cases/{support_case.pk}/",
        }
        email = OutboxMessage.objects.get(kind=MessageKind.EMAIL, event_type="report.erased")
        assert email.email_to == INBOX and "Noor" not in email.payload["body"]
        audit = AuditEvent.objects.get(action=AuditAction.REPORT_ERASED)
    assert audit.target_id == str(report.pk)
    assert audit.data == {"cases": sorted(c.pk for c in cases.values()), "files_deleted": 1}
    assert erasure.files_deleted == 1


def test_an_erasure_that_fails_keeps_the_evidence_rows_and_their_files(
    followed, in_place, monkeypatch, django_capture_on_commit_callbacks
):
    """The files of an erasure go once it is committed. An erasure that fails after stripping
    the report (here its audit event) is rolled back whole: the report keeps its evidence rows
    and every file they name, instead of rows naming files already deleted (a caseworker's
    download would fail, and the next erasure would find them gone)."""
    with in_place(followed.place):
        names = [e.file.name for e in Evidence.objects.filter(report=followed.report)]
        storage = Evidence._meta.get_field("file").storage
        assert names and all(storage.exists(name) for name in names)

        def fail(**kwargs):
            raise RuntimeError("the audit log is unavailable")

        monkeypatch.setattr(services, "audit_record", fail)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
            services.report_erase(report=followed.report, base_url=SITE)

        report = Report.objects.get(pk=followed.report.pk)
        assert report.anonymised_at is None and report.account == ACCOUNT
        kept = [e.file.name for e in Evidence.objects.filter(report=report)]
        assert sorted(kept) == sorted(names)
        assert all(storage.exists(name) for name in names)


def test_after_erasure_nothing_more_can_be_done(followed, in_place):
    case = followed.case_of(followed.support)
    with in_place(followed.place):
        services.report_erase(report=followed.report)
        report = Report.objects.get(pk=followed.report.pk)
        for attempt in (
            lambda: services.report_message_send(report=report, case=case, body="Hello"),
            lambda: services.report_add_information(report=report, text="More"),
            lambda: services.report_evidence_stage(
                report=report, uploaded=jpeg(), staged_token="d" * 32
            ),
            lambda: services.report_change_consent(
                report=report,
                police_anonymised=True,
                police_with_contact=False,
                support_contact=False,
            ),
            lambda: services.report_erase(report=report),
        ):
            with pytest.raises(services.ReportErased):
                attempt()
        assert AuditEvent.objects.filter(action=AuditAction.REPORT_ERASED).count() == 1


def test_retention_also_empties_the_messages(followed, in_place):
    from datetime import timedelta

    from django.utils import timezone

    from locus.reporting.retention import purge_expired

    with in_place(followed.place):
        from locus.cases.models import Case

        staff_message(followed.case_of(followed.support), "Call us.")
        closed = timezone.now() - timedelta(days=followed.place.report_retention_days + 1)
        Case.objects.filter(report=followed.report).update(
            status="closed", outcome="no_further_action", closed_at=closed
        )
        Report.objects.filter(pk=followed.report.pk).update(status="closed", closed_at=closed)
        purge_expired(place=followed.place)
        assert set(CaseMessage.objects.values_list("body", flat=True)) == {""}
        # Anonymised by retention, the report can no longer be opened at all.
        assert (
            selectors.report_for_followup(
                place=followed.place, reference=followed.report.reference, code=followed.code
            )
            is None
        )
