"""The follow-up pages as a browser uses them (no JavaScript): the threads with the organisations,
writing to one, adding information and files, the copy of the data and erasure on request."""

import json
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from locus.cases.choices import MessageDirection
from locus.cases.models import CaseMessage
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.core.ratelimit import wait_text
from locus.reporting.models import Evidence, Report

from .conftest import ACCOUNT, EMAIL, INBOX, POLICE_REFERENCE, text_file


def url(place, name="followup"):
    return reverse(f"reporting:{name}", kwargs={"place_slug": place.slug})


def open_report(client, followed):
    response = client.post(
        url(followed.place),
        {"reference": followed.report.reference, "code": followed.code, "action": "open"},
    )
    assert response.status_code == 303
    return client.get(url(followed.place))


def token(page, name="idempotency_token", index=0):
    """The n-th value of a hidden input of the page (the forms' fresh idempotency tokens)."""
    values = re.findall(rf'name="{name}" value="([^"]*)"', page.content.decode())
    return values[index]


def thread_token(page, case):
    """The idempotency token of the reply form of this case's thread."""
    content = page.content.decode()
    form = content.split(f'<section id="thread-{case.pk}"', 1)[1].split("</form>", 1)[0]
    return re.search(r'name="idempotency_token" value="([^"]*)"', form)[1]


def staff_message(case, body):
    return CaseMessage.objects.create(
        place_id=case.place_id, case=case, direction=MessageDirection.TO_REPORTER, body=body
    )


def audits(in_place, place, action):
    with in_place(place):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- the page ------------------------------------------------------------------------------


def test_the_page_shows_each_organisation_with_its_thread_and_marks_replies_read(
    client, followed, in_place
):
    support_case = followed.case_of(followed.support)
    with in_place(followed.place):
        staff_message(support_case, "Thank you. When did you first see the post?")

    page = open_report(client, followed)

    content = page.content.decode()
    assert page.status_code == 200
    for name in ("Hope Support", "Chirp Trust &amp; Safety", followed.team.name):
        assert f">{name}</h3>" in content
    assert "When did you first see the post?" in content
    assert "<strong>New message</strong>" in content
    assert f'id="thread-{support_case.pk}"' in content
    assert f'for="id_thread-{support_case.pk}-body"' in content
    # What you write is sent to the organisations that received the report itself.
    assert "What you write here is sent to:" in content
    added = content.split('id="add-heading"', 1)[1].split("</p>", 1)[0]
    assert "Hope Support" in added and "Chirp" not in added
    with in_place(followed.place):
        assert CaseMessage.objects.get().read_at is not None
    again = client.get(url(followed.place)).content.decode()
    assert (
        "When did you first see the post?" in again and "<strong>New message</strong>" not in again
    )

    # Each showing is audited, without personal data.
    events = audits(in_place, followed.place, AuditAction.REPORT_FOLLOWED_UP)
    assert len(events) == 2
    assert events[0].target_id == str(followed.report.pk) and events[0].actor is None
    assert events[0].data["reference"] == followed.report.reference
    for private in (ACCOUNT, EMAIL, followed.code):
        assert private not in json.dumps(events[0].data)


def test_a_message_is_sent_once_to_the_chosen_organisation(client, followed, in_place):
    support_case = followed.case_of(followed.support)
    page = open_report(client, followed)
    data = {
        "action": "message",
        "thread": support_case.pk,
        f"thread-{support_case.pk}-body": "I saw two more posts like it.",
        "idempotency_token": thread_token(page, support_case),
    }

    sent = client.post(url(followed.place), data)
    double = client.post(url(followed.place), data)

    assert sent.status_code == 303 and sent["Location"].endswith(f"#thread-{support_case.pk}")
    assert double.status_code == 303
    with in_place(followed.place):
        [message] = CaseMessage.objects.all()
    assert message.case_id == support_case.pk and message.direction == "from_reporter"
    shown = client.get(url(followed.place)).content.decode()
    assert "Your message has been sent to Hope Support." in shown
    assert "I saw two more posts like it." in shown


def test_a_message_is_kept_and_delivered_when_its_delivery_task_cannot_be_queued(
    client, followed, in_place, monkeypatch, django_capture_on_commit_callbacks, mailoutbox
):
    """The task that makes the first attempt is queued after the commit; when that fails (the
    queue's table locked, the database gone for a moment) the message is already saved: the
    reporter is told it was sent, and the sweep delivers it."""
    from django.db import OperationalError
    from django.utils import timezone

    from locus.outbox import tasks
    from locus.outbox.models import OutboxMessage
    from locus.outbox.services import outbox_deliver
    from locus.outbox.sweep import due_messages

    class Unavailable:
        def enqueue(self, **kwargs):
            raise OperationalError("database is locked")

    monkeypatch.setattr(tasks, "deliver_messages", Unavailable())
    support_case = followed.case_of(followed.support)
    page = open_report(client, followed)
    data = {
        "action": "message",
        "thread": support_case.pk,
        f"thread-{support_case.pk}-body": "I saw two more posts like it.",
        "idempotency_token": thread_token(page, support_case),
    }

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(url(followed.place), data)

    assert sent.status_code == 303
    with in_place(followed.place):
        assert CaseMessage.objects.get().body == "I saw two more posts like it."
        email = OutboxMessage.objects.get(event_type="report.message_received")
    assert email.status == "pending" and mailoutbox == []
    # The sweep finds it due (it is not run whole here: the fixture's webhook is not local).
    assert (email.place_id, email.pk) in due_messages(now=timezone.now(), limit=100)
    with in_place(followed.place):
        assert outbox_deliver(message=email).status == "delivered"
    assert [m.to for m in mailoutbox] == [[INBOX]]


def test_an_empty_message_is_refused_next_to_its_field(client, followed, in_place):
    support_case = followed.case_of(followed.support)
    open_report(client, followed)
    prefix = f"thread-{support_case.pk}-body"
    refused = client.post(
        url(followed.place), {"action": "message", "thread": support_case.pk, prefix: "  "}
    )
    assert refused.status_code == 422
    content = refused.content.decode()
    assert f'aria-describedby="id_{prefix}_helptext id_{prefix}_error"' in content
    assert "Write your message first." in content

    too_long = "x" * 5001
    refused = client.post(
        url(followed.place), {"action": "message", "thread": support_case.pk, prefix: too_long}
    )
    assert refused.status_code == 422
    assert too_long in refused.content.decode()  # what was typed is kept
    with in_place(followed.place):
        assert not CaseMessage.objects.exists()


def test_a_message_to_another_reports_case_or_a_content_only_one_is_refused(
    client, followed, in_place
):
    from .conftest import send_and_route

    other, _code = send_and_route(followed.place)
    with in_place(followed.place):
        foreign = other.cases.get(organisation=followed.support)
    platform = followed.case_of(followed.platform)
    page = open_report(client, followed).content.decode()
    # The platform received only the address of the content: no reply form for it.
    platform_thread = page.split(f'<section id="thread-{platform.pk}"', 1)[1].split("</section>")[0]
    assert "<form" not in platform_thread and "does not exchange messages" in platform_thread
    for case in (foreign, platform):
        refused = client.post(
            url(followed.place),
            {"action": "message", "thread": case.pk, f"thread-{case.pk}-body": "Hello"},
        )
        assert refused.status_code == 422
        assert "Choose one of the organisations handling your report." in refused.content.decode()
    with in_place(followed.place):
        assert not CaseMessage.objects.exists()


def _fails_once(monkeypatch, name):
    """Make `services.<name>` fail once as the database does when it is locked past its busy
    timeout or briefly unreachable."""
    from django.db import OperationalError

    from locus.reporting import services

    original, calls = getattr(services, name), []

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return original(**kwargs)

    monkeypatch.setattr(services, name, failing)


def test_a_message_the_database_cannot_take_is_kept_with_its_token(
    client, followed, in_place, monkeypatch
):
    support_case = followed.case_of(followed.support)
    page = open_report(client, followed)
    sent_token = thread_token(page, support_case)
    data = {
        "action": "message",
        "thread": support_case.pk,
        f"thread-{support_case.pk}-body": "They came back this morning.",
        "idempotency_token": sent_token,
    }
    _fails_once(monkeypatch, "report_message_send")

    busy = client.post(url(followed.place), data)

    assert busy.status_code == 503 and busy["Retry-After"] == "5"
    content = busy.content.decode()
    assert "Your message has not been sent yet" in content
    assert "<title>Error: " in content and 'id="error-summary"' in content
    assert "They came back this morning.</textarea>" in content
    assert thread_token(busy, support_case) == sent_token
    with in_place(followed.place):
        assert not CaseMessage.objects.exists()
    again = client.post(url(followed.place), data)
    assert again.status_code == 303
    assert client.post(url(followed.place), data).status_code == 303  # replayed, not resent
    with in_place(followed.place):
        assert CaseMessage.objects.get().body == "They came back this morning."


def test_an_addition_the_database_cannot_take_keeps_the_text_and_the_files(
    client, followed, in_place, monkeypatch
):
    page = open_report(client, followed)
    staged_token = token(page, "add-staged_token")
    add_token = token(page, index=-1)  # the addition form's is the last token on the page
    _fails_once(monkeypatch, "report_add_information")

    busy = client.post(
        url(followed.place),
        {
            "action": "add",
            "add-text": "A second photo of the wall.",
            "add-staged_token": staged_token,
            "add-files": [text_file("wall.txt")],
            "idempotency_token": add_token,
        },
    )

    assert busy.status_code == 503 and busy["Retry-After"] == "5"
    content = busy.content.decode()
    assert "What you added has not been saved yet" in content
    assert "A second photo of the wall.</textarea>" in content and "wall.txt" in content
    assert token(busy, "add-staged_token") == staged_token
    assert token(busy, index=-1) == add_token
    again = client.post(
        url(followed.place),
        {
            "action": "add",
            "add-text": "A second photo of the wall.",
            "add-staged_token": staged_token,
            "idempotency_token": add_token,
        },
    )
    assert again.status_code == 303
    with in_place(followed.place):
        names = {e.original_name for e in Evidence.objects.filter(report=followed.report)}
    assert names == {"photo.jpg", "wall.txt"}


def who_may_receive_it(page):
    content = page.content.decode()
    return content.split("Who may receive it</dt><dd>", 1)[1].split("</dd>", 1)[0]


def test_who_may_receive_it_names_what_the_reporter_allowed(client, followed, in_place):
    """A report shared with a support organisation only is not "recorded only"."""
    with in_place(followed.place):
        Report.objects.filter(pk=followed.report.pk).update(
            consent_police_anonymised=False,
            consent_police_with_contact=False,
            consent_support_contact=True,
        )
    shown = who_may_receive_it(open_report(client, followed))
    assert shown == "Let a support organisation contact me"

    with in_place(followed.place):
        Report.objects.filter(pk=followed.report.pk).update(
            consent_police_anonymised=True, consent_support_contact=False
        )
    shown = who_may_receive_it(client.get(url(followed.place)))
    assert shown == "Share my report with the police without my name or contact details"

    with in_place(followed.place):
        Report.objects.filter(pk=followed.report.pk).update(consent_police_anonymised=False)
    shown = who_may_receive_it(client.get(url(followed.place)))
    assert shown == "Recorded only: counted in the statistics, shared with nobody."


def test_the_close_buttons_are_described_by_the_help_below_them(client, followed):
    """A screen reader hears what "Close" does, as it hears "Close and forget this device"."""
    content = open_report(client, followed).content.decode()
    for action, help_id in (("close", "close-help"), ("forget", "forget-help")):
        button = re.search(rf'<button[^>]*value="{action}"[^>]*>', content)[0]
        assert f'aria-describedby="{help_id}"' in button
        assert f'id="{help_id}"' in content
    assert content.count('class="followup-close"') == 2


def test_asking_the_police_to_contact_a_report_without_contact_details_says_what_to_do(
    client, followed, in_place
):
    """The follow-up page cannot add contact details: the error next to the choice says so
    and names what the reporter can do instead, rather than "No contact details given"."""
    with in_place(followed.place):
        Report.objects.filter(pk=followed.report.pk).update(contact=None)
    open_report(client, followed)
    response = client.post(
        url(followed.place), {"action": "consent", "consent-police_with_contact": "on"}
    )
    assert response.status_code == 422
    content = response.content.decode()
    error = content.split('id="id_consent-police_with_contact_error"', 1)[1].split("</ul>")[0]
    assert "share it with the police without your name" in error
    assert "send a new report with your contact details" in error
    checkbox = re.search(r"<input[^>]*police_with_contact[^>]*>", content)[0]
    assert 'aria-describedby="id_consent-police_with_contact_error"' in checkbox
    with in_place(followed.place):
        assert not Report.objects.get(pk=followed.report.pk).consent_police_with_contact


def test_a_phone_keyboard_neither_corrects_nor_remembers_the_reference_and_code(client, world):
    content = client.get(url(world.a.place)).content.decode()
    for name in ("reference", "code"):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', content)[0]
        for attribute in (
            'autocomplete="off"',
            'spellcheck="false"',
            'autocorrect="off"',
            'autocapitalize="characters"',
        ):
            assert attribute in field, (name, attribute)


def page_title(page):
    return re.search(r"<title>(.*?)</title>", page.content.decode(), re.S)[1].strip()


def test_a_page_with_errors_says_so_first_in_its_title(client, followed):
    place = followed.place
    wrong = client.post(
        url(place), {"reference": followed.report.reference, "code": "X" * 20, "action": "open"}
    )
    assert wrong.status_code == 422
    assert page_title(wrong).startswith("Error: Follow up a report")
    shown = open_report(client, followed)
    assert page_title(shown).startswith(f"Report {followed.report.reference}")
    case = followed.case_of(followed.support)
    empty = client.post(
        url(place),
        {
            "action": "message",
            "thread": case.pk,
            f"thread-{case.pk}-body": "",
            "idempotency_token": thread_token(shown, case),
        },
    )
    assert empty.status_code == 422
    assert page_title(empty).startswith(f"Error: Report {followed.report.reference}")
    unticked = client.post(url(place, "followup_erase"), {})
    assert unticked.status_code == 422
    assert page_title(unticked).startswith("Error: Erase my personal data")


# --- adding information --------------------------------------------------------------------


def test_add_text_and_a_file(client, followed, in_place):
    page = open_report(client, followed)
    added = client.post(
        url(followed.place),
        {
            "action": "add",
            "add-text": "The same account posted it again tonight.",
            "add-staged_token": token(page, "add-staged_token"),
            "add-files": [text_file("tonight.txt")],
        },
    )
    assert added.status_code == 303, added.content.decode()[:3000]
    with in_place(followed.place):
        assert Evidence.objects.filter(report=followed.report).count() == 2
        to = {m.case.organisation for m in CaseMessage.objects.select_related("case")}
    assert to == {followed.team, followed.support}
    shown = client.get(url(followed.place)).content.decode()
    assert "What you added has been saved with your report." in shown
    assert "tonight.txt" in shown and "added to your report" in shown


def test_a_refused_file_keeps_the_text_and_the_accepted_files(client, followed, in_place):
    page = open_report(client, followed)
    staged_token = token(page, "add-staged_token")
    svg = SimpleUploadedFile("evil.svg", b"<svg><script>alert(1)</script></svg>", "image/svg+xml")
    refused = client.post(
        url(followed.place),
        {
            "action": "add",
            "add-text": "Here is what I remembered.",
            "add-staged_token": staged_token,
            "add-files": [text_file("good.txt"), svg],
        },
    )
    assert refused.status_code == 422
    content = refused.content.decode()
    assert "Here is what I remembered." in content
    assert "evil.svg:" in content and 'id="id_add-files_error"' in content
    assert "good.txt" in content and 'value="add-remove-' in content
    assert token(refused, "add-staged_token") == staged_token
    with in_place(followed.place):
        assert Evidence.objects.filter(report=followed.report).count() == 1  # nothing added yet
        assert not CaseMessage.objects.exists()

    sent = client.post(
        url(followed.place),
        {
            "action": "add",
            "add-text": "Here is what I remembered.",
            "add-staged_token": staged_token,
        },
    )
    assert sent.status_code == 303
    with in_place(followed.place):
        names = {e.original_name for e in Evidence.objects.filter(report=followed.report)}
    assert names == {"photo.jpg", "good.txt"}


def test_a_file_deleted_for_its_age_before_adding_is_asked_for_again(
    client, followed, in_place, settings
):
    """A file staged on the follow-up page and left past LOCUS_STAGED_EVIDENCE_HOURS is
    purged; adding then sends nothing (not the text alone), says why, and keeps the text."""
    from datetime import timedelta

    from django.utils import timezone

    from locus.reporting.retention import purge_expired

    page = open_report(client, followed)
    staged_token = token(page, "add-staged_token")
    staged = client.post(
        url(followed.place),
        {
            "action": "add",
            "add-staged_token": staged_token,
            "add-files": [text_file("first.txt"), SimpleUploadedFile("x.svg", b"<svg/>")],
        },
    )
    assert staged.status_code == 422 and "first.txt" in staged.content.decode()
    with in_place(followed.place):
        Evidence.objects.filter(staged_token=staged_token).update(
            received_at=timezone.now() - settings.LOCUS_STAGED_EVIDENCE_TTL - timedelta(hours=1)
        )
        assert purge_expired(place=followed.place).staged_evidence_deleted == 1

    added = client.post(
        url(followed.place),
        {
            "action": "add",
            "add-text": "Here is what I remembered.",
            "add-staged_token": staged_token,
            "add-staged_files": token(staged, "add-staged_files"),
            "add-files": [text_file("second.txt")],
        },
    )

    assert added.status_code == 422
    content = added.content.decode()
    assert "A file you chose earlier was deleted because it was not sent in time" in content
    assert "Here is what I remembered.</textarea>" in content
    assert "second.txt" in content and "first.txt" not in content
    with in_place(followed.place):
        assert not CaseMessage.objects.exists()
        assert Evidence.objects.filter(report=followed.report).count() == 1  # nothing added
    sent = client.post(
        url(followed.place),
        {
            "action": "add",
            "add-text": "Here is what I remembered.",
            "add-staged_token": staged_token,
            "add-staged_files": token(added, "add-staged_files"),
        },
    )
    assert sent.status_code == 303
    with in_place(followed.place):
        names = {e.original_name for e in Evidence.objects.filter(report=followed.report)}
    assert names == {"photo.jpg", "second.txt"}


def test_a_staged_file_can_be_removed_before_adding(client, followed, in_place):
    page = open_report(client, followed)
    staged_token = token(page, "add-staged_token")
    svg = SimpleUploadedFile("evil.svg", b"<svg></svg>", "image/svg+xml")
    client.post(
        url(followed.place),
        {
            "action": "add",
            "add-staged_token": staged_token,
            "add-files": [text_file("unwanted.txt"), svg],
        },
    )
    with in_place(followed.place):
        staged = Evidence.objects.get(staged_token=staged_token)
    odd = client.post(
        url(followed.place),
        {
            "action": "add-remove-\u00b2",
            "add-text": "Keep this text",
            "add-staged_token": staged_token,
        },
    )
    assert odd.status_code == 200 and "Keep this text" in odd.content.decode()
    removed = client.post(
        url(followed.place),
        {
            "action": f"add-remove-{staged.pk}",
            "add-text": "Keep this text",
            "add-staged_token": staged_token,
        },
    )
    assert removed.status_code == 200
    assert "Keep this text" in removed.content.decode()
    assert "unwanted.txt" not in removed.content.decode()
    with in_place(followed.place):
        assert not Evidence.objects.filter(staged_token=staged_token).exists()


def test_nothing_to_add_is_refused(client, followed):
    open_report(client, followed)
    refused = client.post(url(followed.place), {"action": "add", "add-text": ""})
    assert refused.status_code == 422
    assert "Write something or choose a file." in refused.content.decode()


# --- a copy of my data ---------------------------------------------------------------------


def test_the_copy_can_be_read_and_downloaded_and_each_is_audited(client, followed, in_place):
    open_report(client, followed)
    page = client.get(url(followed.place, "followup_copy"))
    content = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert ACCOUNT in content and POLICE_REFERENCE in content and EMAIL in content
    with in_place(followed.place):
        sha = Evidence.objects.get(report=followed.report).sha256
    assert sha in content and "<caption id=" in content and 'scope="col"' in content

    download = client.get(url(followed.place, "followup_copy_download"))
    assert download.status_code == 200 and "no-store" in download["Cache-Control"]
    assert download["Content-Type"].startswith("application/json")
    assert download["Content-Disposition"] == (
        f'attachment; filename="locus-report-{followed.report.reference}.json"'
    )
    copy = json.loads(download.content)
    assert copy["reference"] == followed.report.reference
    assert copy["report"]["account"] == ACCOUNT and copy["evidence"][0]["sha256"] == sha
    assert {o["organisation"] for o in copy["organisations"]} >= {"Hope Support"}

    events = audits(in_place, followed.place, AuditAction.REPORT_COPY_DOWNLOADED)
    assert [e.data["format"] for e in events] == ["html", "json"]
    assert all(ACCOUNT not in json.dumps(e.data) for e in events)


def test_the_copy_and_the_erasure_need_an_opened_report(client, followed, world):
    for name in ("followup_copy", "followup_copy_download", "followup_erase"):
        response = client.get(url(followed.place, name))
        assert response.status_code == 303 and response["Location"] == url(followed.place)
    open_report(client, followed)
    # Opened in place A, nothing of it through place B's pages.
    other = client.get(url(world.b.place, "followup_copy_download"))
    assert other.status_code == 303 and other["Location"] == url(world.b.place)


# --- erasure -------------------------------------------------------------------------------


def test_erasure_explains_asks_for_confirmation_then_leaves_only_the_fact(
    client, followed, in_place
):
    open_report(client, followed)
    confirm = client.get(url(followed.place, "followup_erase"))
    content = confirm.content.decode()
    assert confirm.status_code == 200
    assert "This cannot be undone." in content and "Hope Support" in content

    refused = client.post(url(followed.place, "followup_erase"), {})
    assert refused.status_code == 422
    assert "Tick this box to confirm that you want the erasure." in refused.content.decode()
    with in_place(followed.place):
        assert Report.objects.get(pk=followed.report.pk).anonymised_at is None

    done = client.post(url(followed.place, "followup_erase"), {"confirm": "on"})
    assert done.status_code == 303 and done["Location"] == url(followed.place)
    with in_place(followed.place):
        assert Report.objects.get(pk=followed.report.pk).account == ""
    assert len(audits(in_place, followed.place, AuditAction.REPORT_ERASED)) == 1

    page = client.get(url(followed.place))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Your personal data has been erased" in content
    for offered in ('value="message"', 'value="add"', 'value="consent"', "followup/copy", ACCOUNT):
        assert offered not in content
    assert "<title>Error: " not in content  # the page opened: nothing went wrong
    refused = client.post(url(followed.place), {"action": "consent"})
    assert refused.status_code == 410
    assert "<title>Error: Report " in refused.content.decode()  # the change was not made
    assert client.get(url(followed.place, "followup_erase")).status_code == 303

    # Opened again later with the code: it says the same.
    client.post(url(followed.place), {"action": "close"})
    again = open_report(client, followed)
    assert "Your personal data has been erased" in again.content.decode()


def test_erasure_is_throttled_per_report(client, followed, settings):
    """Over the limit, the erasure page again (the box as ticked, the quick exit on top) says
    that nothing was erased yet and when to try again."""
    settings.LOCUS_RATE_LIMITS = {"followup.erase": "2/h"}
    open_report(client, followed)
    assert client.post(url(followed.place, "followup_erase"), {}).status_code == 422  # 1
    assert client.post(url(followed.place, "followup_erase"), {}).status_code == 422  # 2
    limited = client.post(url(followed.place, "followup_erase"), {"confirm": "on"})
    assert limited.status_code == 429 and limited["Retry-After"]
    content = limited.content.decode()
    assert "Not erased yet" in content and "Try again in " in content
    assert re.search(r'<input type="checkbox" name="confirm"[^>]* checked', content)
    assert "data-quick-exit" in content and "<title>Error:" in content


def test_others_wrong_codes_from_the_same_address_do_not_hold_up_an_erasure(
    client, followed, settings
):
    """A harasser on the reporter's connection uses up the per-client budget for opening
    reports; the reporter, who opened theirs, can still erase it."""
    settings.LOCUS_RATE_LIMITS = {"followup.open": "2/h"}
    open_report(client, followed)  # 1
    harasser = Client()
    wrong = {"reference": followed.report.reference, "code": "WRONG-CODE", "action": "open"}
    harasser.post(url(followed.place), wrong)  # 2
    assert harasser.post(url(followed.place), wrong).status_code == 429
    erased = client.post(url(followed.place, "followup_erase"), {"confirm": "on"})
    assert erased.status_code == 303
    assert "Your personal data has been erased" in client.get(url(followed.place)).content.decode()


def test_after_erasure_the_case_page_says_why_the_account_is_gone(client, followed, in_place):
    open_report(client, followed)
    assert client.post(url(followed.place, "followup_erase"), {"confirm": "on"}).status_code == 303
    case = followed.case_of(followed.team)
    client.force_login(followed.side.users["caseworker"])
    page = client.get(f"/{followed.place.slug}/staff/cases/{case.pk}/")
    content = page.content.decode()
    assert page.status_code == 200
    assert "The reporter had their personal data erased" in content
    assert "consent to share is withdrawn" in content
    assert ACCOUNT not in content
    assert not case.is_closed


# --- a shared device -----------------------------------------------------------------------


def test_an_opened_report_lasts_the_browser_session_and_closes_after_a_pause(
    client, followed, settings
):
    """A reporter on a shared or family device: the session cookie ends with the browser (no
    expiry date), and a report left untouched for LOCUS_FOLLOWUP_IDLE_TIMEOUT is closed, with
    a notice — the next person at the device sees the form, not the report."""
    settings.LOCUS_FOLLOWUP_IDLE_TIMEOUT = 600
    response = client.post(
        url(followed.place),
        {"reference": followed.report.reference, "code": followed.code, "action": "open"},
    )
    assert response.status_code == 303
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value and not cookie["expires"] and not cookie["max-age"]
    page = client.get(url(followed.place))
    assert followed.report.reference in page.content.decode()
    assert 'name="code"' not in page.content.decode()

    key = f"reporting.followup_seen.{followed.place.pk}"
    session = client.session
    session[key] -= 601
    session.save()
    for name in ("followup_copy", "followup_copy_download", "followup_erase"):
        response = client.get(url(followed.place, name))
        assert response.status_code == 303 and response["Location"] == url(followed.place)
    page = client.get(url(followed.place))
    content = page.content.decode()
    assert page.status_code == 200 and 'name="code"' in content
    assert ACCOUNT not in content and "For your safety" in content
    # Forgotten for good: a message posted now reaches nobody.
    response = client.post(url(followed.place), {"action": "message", "thread": "1"})
    assert 'name="code"' in response.content.decode()
    assert key not in client.session and f"reporting.followup.{followed.place.pk}" not in (
        client.session
    )


def test_opening_a_report_gives_the_browser_a_new_session(client, followed, settings):
    """Session fixation: someone who planted a session cookie in the reporter's browser (or
    held the session before, on a shared device) must not be let into the report it opens."""
    session = client.session
    session["planted"] = True
    session.save()
    planted = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = planted
    open_report(client, followed)
    assert client.session.session_key != planted and client.session["planted"]
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = planted
    content = other.get(url(followed.place)).content.decode()
    assert ACCOUNT not in content and 'name="code"' in content


def test_a_report_in_use_stays_open(client, followed, settings):
    settings.LOCUS_FOLLOWUP_IDLE_TIMEOUT = 600
    open_report(client, followed)
    key = f"reporting.followup_seen.{followed.place.pk}"
    for _ in range(3):
        session = client.session
        session[key] -= 500  # each request within the timeout of the one before
        session.save()
        page = client.get(url(followed.place))
        assert 'name="code"' not in page.content.decode()


def page_form(content):
    """The follow-up page's one form (messages, addition, consent), as HTML."""
    return content.split('<form method="post" id="followup-form"', 1)[1].split("</form>", 1)[0]


def test_the_page_is_one_form_the_language_switcher_joins(client, followed):
    """Without JavaScript, a language change can only carry what the form it sends holds: the
    messages, the addition and the consent boxes are one form, which the header's language
    choice and button join; each button says what it sends."""
    support_case = followed.case_of(followed.support)
    content = open_report(client, followed).content.decode()
    assert '<select name="language" id="language-select" form="followup-form">' in content
    assert 'form="followup-form" name="action" value="language"' in content
    # Enter in a consent box still saves the choices (the form's first button).
    assert re.search(r'form="followup-form" name="action" value="consent" class="default', content)
    assert 'enctype="multipart/form-data"' in content.split('id="followup-form"', 1)[1][:200]
    form = page_form(content)
    for name in (
        f'name="thread-{support_case.pk}-body"',
        'name="add-text"',
        'name="add-files"',
        'name="consent-police_anonymised"',
        'name="consent-shown"',
    ):
        assert name in form, name
    assert f'value="message-{support_case.pk}" formaction="#thread-{support_case.pk}"' in form
    assert len(re.findall(r'name="idempotency_token"', content)) == 1
    assert "followup.js" not in content  # nothing to copy: the browser sends it all


def test_changing_language_keeps_the_report_open_and_everything_not_sent(
    client, followed, settings, in_place
):
    """The header's language switcher on the follow-up page sends the page's form (action
    "language"), without JavaScript too: the page comes back in the chosen language, the report
    still open, the message and the addition still written, the consent boxes as they were
    ticked (not saved) and a file chosen kept, nothing sent; before, without JavaScript all of
    it was lost, and with it the ticks."""
    support_case = followed.case_of(followed.support)
    with in_place(followed.place):
        report = Report.objects.get(pk=followed.report.pk)
        saved = (report.consent_police_anonymised, report.consent_support_contact)
    assert saved == (False, True)
    page = open_report(client, followed)

    body = f"thread-{support_case.pk}-body"
    staged = token(page, "add-staged_token")
    response = client.post(
        url(followed.place),
        {
            "action": "language",
            "language": "de",
            body: "Ich habe noch zwei Beiträge gesehen.",
            "add-text": "Es ging heute weiter.",
            "add-staged_token": staged,
            "add-staged_files": "",
            "add-files": text_file("zweiter-beitrag.txt"),
            "consent-shown": "1",
            "consent-police_anonymised": "on",  # ticked, support_contact unticked
            "idempotency_token": token(page),
        },
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="de"' in content
    assert followed.report.reference in content  # still open
    assert re.search(
        rf'<textarea name="{body}"[^>]*>\s*Ich habe noch zwei Beiträge gesehen.<', content
    )
    assert re.search(r'<textarea name="add-text"[^>]*>\s*Es ging heute weiter.<', content)
    assert f'name="add-staged_token" value="{staged}"' in content
    assert "zweiter-beitrag.txt" in content  # staged, listed to add
    assert re.search(
        r'<input type="checkbox" name="consent-police_anonymised"[^>]* checked', content
    )
    assert not re.search(
        r'<input type="checkbox" name="consent-support_contact"[^>]* checked', content
    )
    # Said to be not saved yet (in German), next to the button that saves them.
    assert 'id="consent-unsaved"' in content and 'aria-describedby="consent-unsaved"' in content
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    # Nothing was sent or saved.
    with in_place(followed.place):
        sent = CaseMessage.objects.filter(case=support_case, direction="from_reporter")
        assert not sent.exists()
        report.refresh_from_db()
        assert (report.consent_police_anonymised, report.consent_support_contact) == saved
        [file] = Evidence.objects.filter(report__isnull=True)
        assert file.original_name == "zweiter-beitrag.txt"

    # The file staged on the way is added with the text.
    added = client.post(
        url(followed.place),
        {
            "action": "add",
            "add-text": "Es ging heute weiter.",
            "add-staged_token": staged,
            "add-staged_files": str(file.pk),
            "idempotency_token": token(response),
        },
    )
    assert added.status_code == 303
    with in_place(followed.place):
        assert Evidence.objects.get(pk=file.pk).report_id == followed.report.pk


def test_a_refused_message_keeps_what_was_written_and_ticked_elsewhere(client, followed, in_place):
    """Shown again with an error, the page keeps the other boxes of its one form too."""
    support_case = followed.case_of(followed.support)
    team_case = followed.case_of(followed.team)
    page = open_report(client, followed)
    response = client.post(
        url(followed.place),
        {
            "action": f"message-{support_case.pk}",
            f"thread-{support_case.pk}-body": "",
            f"thread-{team_case.pk}-body": "A draft for the council.",
            "add-text": "A draft addition.",
            "add-staged_token": token(page, "add-staged_token"),
            "consent-shown": "1",
            "consent-police_anonymised": "on",
            "idempotency_token": token(page),
        },
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert "Write your message first." in content
    assert re.search(r">\s*A draft for the council.<", content)
    assert re.search(r">\s*A draft addition.<", content)
    assert re.search(
        r'<input type="checkbox" name="consent-police_anonymised"[^>]* checked', content
    )
    assert 'id="consent-unsaved"' in content
    # The boxes as saved are not "changed".
    same = client.post(
        url(followed.place),
        {
            "action": f"message-{support_case.pk}",
            "consent-shown": "1",
            "consent-support_contact": "on",
            "idempotency_token": token(page),
        },
    )
    assert same.status_code == 422 and 'id="consent-unsaved"' not in same.content.decode()


def test_a_message_is_sent_once_whatever_else_the_form_carried(client, followed, in_place):
    """The page's one form carries the other boxes too: a message sent again with its token
    after other boxes changed is still the same message (one message, no 'token reused')."""
    support_case = followed.case_of(followed.support)
    page = open_report(client, followed)
    data = {
        "action": f"message-{support_case.pk}",
        f"thread-{support_case.pk}-body": "Still there today.",
        "add-text": "",
        "idempotency_token": token(page),
    }
    first = client.post(url(followed.place), data)
    again = client.post(url(followed.place), {**data, "add-text": "typed meanwhile"})
    assert first.status_code == 303 and first["Location"].endswith(f"#thread-{support_case.pk}")
    # Not sent again, and what was typed meanwhile is kept (the page, not the redirect).
    assert again.status_code == 200
    assert re.search(r'<textarea name="add-text"[^>]*>\s*typed meanwhile<', again.content.decode())
    with in_place(followed.place):
        assert CaseMessage.objects.filter(direction="from_reporter").count() == 1


def test_files_chosen_before_a_language_change_count_on_the_write_limit(
    client, followed, settings, in_place
):
    """Files carried by a language change are stored like an addition's, so they count on the
    same limit (`followup.write`); past it each is named next to the files field, the text
    kept, and the page still changes language."""
    settings.LOCUS_RATE_LIMITS = {**settings.LOCUS_RATE_LIMITS, "followup.write": "1/h"}
    page = open_report(client, followed)
    staged = token(page, "add-staged_token")

    def change(language, name):
        return client.post(
            url(followed.place),
            {
                "action": "language",
                "language": language,
                "add-text": "Kept whatever happens.",
                "add-staged_token": staged,
                "add-files": text_file(name),
            },
        )

    assert change("sv", "first.txt").status_code == 200
    refused = change("fr", "second.txt")
    assert refused.status_code == 422
    content = refused.content.decode()
    assert '<html lang="fr"' in content
    assert "second.txt" in content.split('id="id_add-files_error"', 1)[1].split("</ul>", 1)[0]
    assert re.search(r'<textarea name="add-text"[^>]*>\s*Kept whatever happens.<', content)
    with in_place(followed.place):
        assert [e.original_name for e in Evidence.objects.filter(report__isnull=True)] == [
            "first.txt"
        ]


def test_changing_language_while_typing_the_reference_and_code_keeps_them(
    client, followed, settings
):
    """The form asking for the reference and code is joined by the language switcher too
    (before, the set_language view emptied it); Enter in its fields still opens the report."""
    content = client.get(url(followed.place)).content.decode()
    assert '<form method="post" id="followup-open"' in content
    assert '<select name="language" id="language-select" form="followup-open">' in content
    assert re.search(r'form="followup-open" name="action" value="open" class="default', content)

    reference, code = followed.report.reference, followed.code
    response = client.post(
        url(followed.place),
        {"action": "language", "language": "sv", "reference": reference, "code": code},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="sv"' in content
    assert f'name="reference" value="{reference}"' in content
    assert f'name="code" value="{code}"' in content
    assert "Öppna min anmälan" in content  # not opened: nothing was sent
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "sv"


# --- files chosen, then another button of the one form pressed -------------------------------


def staged_listing(content):
    """The "Files ready to add" list of the page, as HTML ('' when there is none)."""
    if 'id="staged-heading"' not in content:
        return ""
    return content.split('id="staged-heading"', 1)[1].split("</ul>", 1)[0]


def test_a_file_chosen_before_saving_consent_is_kept_and_can_be_added_or_removed(
    client, followed, in_place
):
    """Nothing a reporter submits may be lost: a file chosen for the addition, then "Save my
    choices" pressed (the page's one form sends the file too), is staged as the addition's own
    button would, and the page after the redirect lists it by name with its Remove button."""
    page = open_report(client, followed)
    staged = token(page, "add-staged_token")
    saved = client.post(
        url(followed.place),
        {
            "action": "consent",
            "add-text": "",
            "add-staged_token": staged,
            "add-staged_files": "",
            "add-files": text_file("chosen-first.txt"),
            "consent-shown": "1",
            "consent-police_anonymised": "on",
            "idempotency_token": token(page),
        },
    )
    assert saved.status_code == 303
    with in_place(followed.place):
        [file] = Evidence.objects.filter(report__isnull=True)
        assert file.original_name == "chosen-first.txt" and file.staged_token == staged
        assert Report.objects.get(pk=followed.report.pk).consent_police_anonymised

    shown = client.get(url(followed.place))
    content = shown.content.decode()
    assert "Your choices about sharing have been saved." in content
    listing = staged_listing(content)
    assert "chosen-first.txt" in listing and f'value="add-remove-{file.pk}"' in listing
    assert token(shown, "add-staged_token") == staged
    assert token(shown, "add-staged_files") == str(file.pk)

    added = client.post(
        url(followed.place),
        {
            "action": "add",
            "add-staged_token": staged,
            "add-staged_files": str(file.pk),
            "idempotency_token": token(shown),
        },
    )
    assert added.status_code == 303
    with in_place(followed.place):
        assert Evidence.objects.get(pk=file.pk).report_id == followed.report.pk


def test_a_file_chosen_before_sending_a_message_is_kept(client, followed, in_place):
    """The same for "Send message": the message is sent, and the file chosen meanwhile is
    staged and listed on the page after it, ready to add; a file chosen and then another's
    Remove pressed is kept too."""
    support_case = followed.case_of(followed.support)
    page = open_report(client, followed)
    staged = token(page, "add-staged_token")
    sent = client.post(
        url(followed.place),
        {
            "action": f"message-{support_case.pk}",
            f"thread-{support_case.pk}-body": "I have another screenshot.",
            "add-staged_token": staged,
            "add-files": text_file("screenshot-notes.txt"),
            "idempotency_token": token(page),
        },
    )
    assert sent.status_code == 303
    shown = client.get(url(followed.place))
    assert "screenshot-notes.txt" in staged_listing(shown.content.decode())
    with in_place(followed.place):
        assert CaseMessage.objects.filter(direction="from_reporter").count() == 1
        first = Evidence.objects.get(report__isnull=True)

    removed = client.post(
        url(followed.place),
        {
            "action": f"add-remove-{first.pk}",
            "add-staged_token": staged,
            "add-files": text_file("the-right-one.txt"),
            "idempotency_token": token(shown),
        },
    )
    assert removed.status_code == 200
    listing = staged_listing(removed.content.decode())
    assert "the-right-one.txt" in listing and "screenshot-notes.txt" not in listing
    with in_place(followed.place):
        names = [e.original_name for e in Evidence.objects.filter(report__isnull=True)]
    assert names == ["the-right-one.txt"]


def test_a_refused_file_chosen_before_saving_consent_stops_the_save_and_is_named(
    client, followed, in_place
):
    """A file that would be refused on adding is refused on the way too: the choices are not
    saved (the page says they are not saved yet), the refusal is next to the files field."""
    page = open_report(client, followed)
    svg = SimpleUploadedFile("evil.svg", b"<svg></svg>", "image/svg+xml")
    refused = client.post(
        url(followed.place),
        {
            "action": "consent",
            "add-text": "Kept text",
            "add-staged_token": token(page, "add-staged_token"),
            "add-files": svg,
            "consent-shown": "1",
            "consent-police_anonymised": "on",
            "consent-support_contact": "on",
            "idempotency_token": token(page),
        },
    )
    assert refused.status_code == 422
    content = refused.content.decode()
    assert "evil.svg:" in content.split('id="id_add-files_error"', 1)[1].split("</ul>", 1)[0]
    assert re.search(r'<textarea name="add-text"[^>]*>\s*Kept text<', content)
    assert 'id="consent-unsaved"' in content
    with in_place(followed.place):
        assert not Report.objects.get(pk=followed.report.pk).consent_police_anonymised
        assert not Evidence.objects.filter(report__isnull=True).exists()


def test_closing_the_report_forgets_the_staged_files_token(client, followed):
    """The token kept for the page after a redirect belongs to the report opened: closing it
    and opening it again starts a new addition."""
    page = open_report(client, followed)
    staged = token(page, "add-staged_token")
    client.post(
        url(followed.place),
        {
            "action": "consent",
            "add-staged_token": staged,
            "add-files": text_file("left.txt"),
            "consent-shown": "1",
            "consent-support_contact": "on",
        },
    )
    client.post(url(followed.place), {"action": "close"})
    again = open_report(client, followed)
    assert token(again, "add-staged_token") != staged
    assert "left.txt" not in staged_listing(again.content.decode())


def test_changing_language_on_the_erasure_page_keeps_the_tick_and_erases_nothing(
    client, followed, settings, in_place
):
    """The header's language switcher joins the erasure's form (before, the set_language view
    brought the page back with the confirmation unticked); Enter on the box still erases."""
    open_report(client, followed)
    erase_url = url(followed.place, "followup_erase")
    content = client.get(erase_url).content.decode()
    assert '<form method="post" id="followup-erase"' in content
    assert '<select name="language" id="language-select" form="followup-erase">' in content
    assert re.search(r'form="followup-erase" name="action" value="erase" class="default', content)

    changed = client.post(erase_url, {"action": "language", "language": "fr", "confirm": "on"})
    assert changed.status_code == 200
    content = changed.content.decode()
    assert '<html lang="fr"' in content
    assert re.search(r'<input type="checkbox" name="confirm"[^>]* checked', content)
    assert "Effacer mes données personnelles" in content
    assert 'class="errorlist"' not in content  # nothing was sent: no error either
    assert changed.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    unticked = client.post(erase_url, {"action": "language", "language": "de"})
    assert not re.search(r'name="confirm"[^>]* checked', unticked.content.decode())
    with in_place(followed.place):
        assert Report.objects.get(pk=followed.report.pk).anonymised_at is None

    erased = client.post(erase_url, {"action": "erase", "confirm": "on"})
    assert erased.status_code == 303
    with in_place(followed.place):
        assert Report.objects.get(pk=followed.report.pk).anonymised_at is not None


def test_over_the_write_limit_the_page_keeps_everything_and_says_when_to_try_again(
    client, followed, settings, in_place
):
    """Messages and additions are limited per client (`followup.write`); over it the follow-up
    page comes back (429, Retry-After) with the message, the addition and the ticks kept and
    the files named to choose again — before, a page of its own, from which going back showed
    the follow-up page empty: a long message was lost."""
    settings.LOCUS_RATE_LIMITS = {**settings.LOCUS_RATE_LIMITS, "followup.write": "1/h"}
    support_case = followed.case_of(followed.support)
    body = f"thread-{support_case.pk}-body"
    page = open_report(client, followed)
    first = client.post(
        url(followed.place),
        {"action": f"message-{support_case.pk}", body: "First.", "idempotency_token": token(page)},
    )
    assert first.status_code == 303
    page = client.get(url(followed.place))
    refused = client.post(
        url(followed.place),
        {
            "action": f"message-{support_case.pk}",
            body: "A long second message I must not lose.",
            "add-text": "And an addition.",
            "add-staged_token": token(page, "add-staged_token"),
            "add-files": text_file("later.txt"),
            "consent-shown": "1",
            "consent-police_anonymised": "on",
            "idempotency_token": token(page),
        },
    )
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    content = refused.content.decode()
    assert "<title>Error:" in content and "data-quick-exit" in content
    assert "Not sent yet: too many messages and additions" in content
    assert f"Try again in {wait_text(int(refused['Retry-After']))}." in content
    assert re.search(
        rf'<textarea name="{body}"[^>]*>\s*A long second message I must not lose.<', content
    )
    assert re.search(r'<textarea name="add-text"[^>]*>\s*And an addition.<', content)
    assert "later.txt" in content.split('id="id_add-files_error"', 1)[1].split("</ul>", 1)[0]
    assert re.search(r'name="consent-police_anonymised"[^>]* checked', content)
    with in_place(followed.place):
        assert CaseMessage.objects.filter(direction="from_reporter").count() == 1
        assert not Evidence.objects.filter(report__isnull=True).exists()


def test_over_the_opening_limit_the_form_keeps_the_reference_and_code(client, followed, settings):
    """Too many attempts from one connection: the form again (429, Retry-After) with what was
    typed, the quick exit on top, saying when to try again; before, a page of its own, from
    which going back showed the form empty (the code is long)."""
    settings.LOCUS_RATE_LIMITS = {**settings.LOCUS_RATE_LIMITS, "followup.open": "1/h"}
    wrong = {"reference": followed.report.reference, "code": "WRONG-CODE", "action": "open"}
    assert client.post(url(followed.place), wrong).status_code == 422
    typed = {**wrong, "code": followed.code}
    refused = client.post(url(followed.place), typed, HTTP_ACCEPT_LANGUAGE="de")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    content = refused.content.decode()
    assert "data-quick-exit" in content and '<html lang="de"' in content
    assert f'name="code" value="{followed.code}"' in content
    assert f'name="reference" value="{followed.report.reference}"' in content
    with translation.override("de"):
        wait = wait_text(int(refused["Retry-After"]))
    assert f"Bitte warten Sie {wait} und versuchen Sie es dann erneut." in content


def test_sending_one_part_keeps_what_is_written_in_the_others(client, followed, in_place):
    """The page is one form: sending a message, adding or saving the choices sends that part
    only, and what was written or ticked in the others and not sent is kept on the page that
    follows (before, the redirect brought the page back with every box empty: a long addition
    written before a short message was lost). With nothing else written, the redirect stays."""
    support_case = followed.case_of(followed.support)
    team_case = followed.case_of(followed.team)
    support_body, team_body = f"thread-{support_case.pk}-body", f"thread-{team_case.pk}-body"
    page = open_report(client, followed)
    sent = client.post(
        url(followed.place),
        {
            "action": f"message-{support_case.pk}",
            support_body: "A short message.",
            team_body: "A draft for the council.",
            "add-text": "A long addition I have not sent yet.",
            "add-staged_token": token(page, "add-staged_token"),
            "consent-shown": "1",
            "consent-support_contact": "on",  # as saved
            "idempotency_token": token(page),
        },
    )
    assert sent.status_code == 200
    content = sent.content.decode()
    assert "Your message has been sent to" in content
    assert re.search(rf'<textarea name="{support_body}"[^>]*>\s*</textarea>', content)
    assert re.search(rf'<textarea name="{team_body}"[^>]*>\s*A draft for the council.<', content)
    assert re.search(
        r'<textarea name="add-text"[^>]*>\s*A long addition I have not sent yet.<', content
    )
    assert token(sent) != token(page)  # a new token for what is sent next
    # A double click (or a reload) sends nothing more and keeps the drafts too.
    again = client.post(
        url(followed.place),
        {
            "action": f"message-{support_case.pk}",
            support_body: "A short message.",
            team_body: "A draft for the council.",
            "add-text": "A long addition I have not sent yet.",
            "idempotency_token": token(page),
        },
    )
    assert again.status_code == 200
    assert re.search(
        r'<textarea name="add-text"[^>]*>\s*A long addition I have not sent yet.<',
        again.content.decode(),
    )
    with in_place(followed.place):
        assert CaseMessage.objects.filter(direction="from_reporter").count() == 1

    saved = client.post(
        url(followed.place),
        {
            "action": "consent",
            team_body: "A draft for the council.",
            "add-text": "A long addition I have not sent yet.",
            "add-staged_token": token(sent, "add-staged_token"),
            "consent-shown": "1",
            "consent-police_anonymised": "on",
            "idempotency_token": token(sent),
        },
    )
    assert saved.status_code == 200
    content = saved.content.decode()
    assert "Your choices about sharing have been saved." in content
    assert re.search(rf'<textarea name="{team_body}"[^>]*>\s*A draft for the council.<', content)
    assert 'id="consent-unsaved"' not in content
    # The boxes as saved: police with contact details means the police too (the service ticks
    # it), which the page shows, not as "not saved yet".
    with_contact = client.post(
        url(followed.place),
        {
            "action": "consent",
            team_body: "A draft for the council.",
            "consent-shown": "1",
            "consent-police_with_contact": "on",
            "idempotency_token": token(saved),
        },
    )
    assert with_contact.status_code == 200
    content = with_contact.content.decode()
    assert re.search(r'name="consent-police_anonymised"[^>]* checked', content)
    assert 'id="consent-unsaved"' not in content

    added = client.post(
        url(followed.place),
        {
            "action": "add",
            team_body: "A draft for the council.",
            "add-text": "A long addition I have not sent yet.",
            "add-staged_token": token(saved, "add-staged_token"),
            "idempotency_token": token(saved),
        },
    )
    assert added.status_code == 200
    content = added.content.decode()
    assert "What you added has been saved with your report." in content
    assert re.search(r'<textarea name="add-text"[^>]*>\s*</textarea>', content)
    assert re.search(rf'<textarea name="{team_body}"[^>]*>\s*A draft for the council.<', content)

    # Nothing else written: the usual redirect.
    alone = client.post(
        url(followed.place),
        {"action": "add", "add-text": "Only this.", "idempotency_token": token(added)},
    )
    assert alone.status_code == 303


def test_erasure_also_removes_files_chosen_for_an_addition_and_not_added(
    client, followed, in_place
):
    """Files staged on the follow-up page (chosen, then another button pressed) belong to no
    report until added; an erasure removes them with the rest, not hours later by age."""
    page = open_report(client, followed)
    client.post(
        url(followed.place),
        {
            "action": "consent",
            "add-staged_token": token(page, "add-staged_token"),
            "add-files": text_file("not-added.txt"),
            "consent-shown": "1",
            "consent-support_contact": "on",
        },
    )
    with in_place(followed.place):
        assert Evidence.objects.filter(report__isnull=True).count() == 1
    erased = client.post(url(followed.place, "followup_erase"), {"confirm": "on"})
    assert erased.status_code == 303
    with in_place(followed.place):
        assert not Evidence.objects.filter(report__isnull=True).exists()
