"""The staff side of messages with the reporter: writing, the thread on the case page (read once
seen by the case's organisation), unread counts in the inbox, and the reporter's e-mail that
says only that there is a message."""

import pytest
from django.urls import reverse
from django.utils import timezone

from locus.cases.choices import CaseEventKind, MessageDirection
from locus.cases.models import CaseEvent, CaseMessage
from locus.cases.selectors import case_list, case_stats
from locus.cases.services import (
    MESSAGE_MAX_LENGTH,
    case_merge,
    case_message_send,
    case_messages_mark_read,
)
from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.models import AuditEvent
from locus.core.testing.factories import MembershipFactory, UserFactory
from locus.core.testing.world import enable_totp
from locus.outbox.models import OutboxMessage

from .factories import ONLINE, REPORT, cases_of, route_to, submit

BODY = "Thank you. Could you tell us roughly what time it happened?"


@pytest.fixture
def everyone(world, partners):
    route_to(world.a.place, partners.in_a())
    return partners


def worker_of(organisation):
    user = UserFactory()
    enable_totp(user)
    return MembershipFactory(user=user, organisation=organisation, role="caseworker")


def from_reporter(case, body="It was about 6 in the evening.", at=None):
    return CaseMessage.objects.create(
        place=case.place,
        case=case,
        direction=MessageDirection.FROM_REPORTER,
        body=body,
        at=at or timezone.now(),
    )


def detail_url(case):
    return reverse("cases:detail", kwargs={"place_slug": "alpha", "case_id": case.pk})


def test_sending_a_message_records_it_and_tells_the_reporter_by_email(world, everyone, in_place):
    report = submit(world.a.place, REPORT | {"wants_email_updates": True})
    case = cases_of(report)[everyone.police]
    officer = worker_of(everyone.police)
    with in_place(world.a.place):
        message = case_message_send(case=case, membership=officer, body=f"  {BODY}  ")
        assert message.direction == MessageDirection.TO_REPORTER and message.body == BODY
        assert message.author == officer.user and message.read_at is None
        event = CaseEvent.objects.get(case=case, kind=CaseEventKind.MESSAGE_SENT)
        assert event.data == {"message": message.pk}
        audit = AuditEvent.objects.get(action=AuditAction.CASE_MESSAGE_SENT)
        assert audit.actor == officer.user and audit.data["message"] == message.pk
        email = OutboxMessage.objects.get(source_type="cases.casemessage")
    # The reporter's address is not copied into the (unencrypted) outbox: a stand-in is.
    assert email.kind == "email" and email.email_to == f"report-{report.pk}@reporter.locus.invalid"
    assert "resident@example.org" not in str(email.payload)
    assert report.reference in email.payload["subject"]
    assert "/alpha/follow-up/" in email.payload["body"]
    assert BODY not in str(email.payload) and "roughly" not in str(email.payload)


def test_the_reporters_address_is_read_from_the_report_when_the_e_mail_is_sent(
    world, everyone, in_place, mailoutbox
):
    from locus.outbox.services import outbox_deliver
    from locus.reporting.models import Report

    report = submit(world.a.place, REPORT | {"wants_email_updates": True})
    case = cases_of(report)[everyone.police]
    with in_place(world.a.place):
        case_message_send(case=case, membership=worker_of(everyone.police), body=BODY)
        email = OutboxMessage.objects.get(source_type="cases.casemessage")
        mailoutbox.clear()
        assert outbox_deliver(message=email).status == "delivered"
        assert [m.to for m in mailoutbox] == [["resident@example.org"]]
        # Erased since: nothing is sent, and it is not retried.
        case_message_send(case=case, membership=worker_of(everyone.police), body="Again.")
        second = OutboxMessage.objects.filter(source_type="cases.casemessage").latest("pk")
        Report.objects.filter(pk=report.pk).update(anonymised_at=timezone.now(), contact=None)
        mailoutbox.clear()
        assert outbox_deliver(message=second).status == "failed"
        assert mailoutbox == []


def test_the_email_links_to_the_follow_up_page_under_the_sites_address(world, everyone, in_place):
    from locus.reporting.services import report_submit

    with in_place(world.a.place):
        report = report_submit(
            place=world.a.place,
            data=REPORT | {"wants_email_updates": True},
            language="fr",
        ).report
        case = cases_of(report)[everyone.charity]
        case_message_send(
            case=case,
            membership=worker_of(everyone.charity),
            body=BODY,
            base_url="https://locus.example.org",
        )
        email = OutboxMessage.objects.get(source_type="cases.casemessage")
    assert "https://locus.example.org/alpha/follow-up/" in email.payload["body"]


def test_no_email_unless_the_reporter_asked_for_it(world, everyone, in_place):
    report = submit(world.a.place)  # contact details, but no e-mail updates asked for
    with in_place(world.a.place):
        case_message_send(
            case=cases_of(report)[everyone.charity],
            membership=worker_of(everyone.charity),
            body=BODY,
        )
        assert CaseMessage.objects.count() == 1
        assert not OutboxMessage.objects.filter(kind="email").exists()


def test_refusals(world, everyone, in_place):
    report = submit(world.a.place, ONLINE)
    cases = cases_of(report)
    platform = worker_of(everyone.platform)
    team = world.a.memberships["caseworker"]
    with in_place(world.a.place):
        with pytest.raises(ValidationFailed) as refused:
            case_message_send(case=cases[everyone.platform], membership=platform, body=BODY)
        assert refused.value.code == "not_allowed"
        with pytest.raises(ValidationFailed) as refused:
            case_message_send(case=cases[everyone.team], membership=team, body="   ")
        assert refused.value.fields == {"body": ["This field is required."]}
        with pytest.raises(ValidationFailed) as refused:
            case_message_send(
                case=cases[everyone.team], membership=team, body="x" * (MESSAGE_MAX_LENGTH + 1)
            )
        assert "body" in refused.value.fields
        # The place team reads the charity's case, but does not write on its behalf.
        with pytest.raises(PermissionDenied):
            case_message_send(case=cases[everyone.charity], membership=team, body=BODY)
        assert not CaseMessage.objects.exists()


def test_the_thread_is_shown_and_read_by_the_cases_organisation_only(
    world, everyone, client, in_place
):
    report = submit(world.a.place)
    case = cases_of(report)[everyone.police]
    officer = worker_of(everyone.police)
    with in_place(world.a.place):
        case_message_send(case=case, membership=officer, body=BODY)
        answer = from_reporter(case)

    # The place team sees the police's case read-only: not the thread, and reads nothing.
    client.force_login(world.a.users["coordinator"])
    html = client.get(detail_url(case)).content.decode()
    assert "6 in the evening" not in html and BODY not in html
    answer.refresh_from_db()
    assert answer.read_at is None

    client.force_login(officer.user)
    html = client.get(detail_url(case)).content.decode()
    thread = html.split('id="messages-heading"')[1].split("</section>")[0]
    assert BODY in thread and "6 in the evening" in thread
    assert thread.index(BODY) < thread.index("6 in the evening")
    assert ">New</span>" in thread and "From the reporter" in thread
    # The police got the report anonymised: no identity in the thread either.
    assert "Ana Resident" not in html and "resident@example.org" not in html
    answer.refresh_from_db()
    assert answer.read_at is not None
    html = client.get(detail_url(case)).content.decode()
    assert ">New</span>" not in html.split('id="messages-heading"')[1]


def test_writing_from_the_case_page(world, everyone, client, in_place):
    report = submit(world.a.place)
    case = cases_of(report)[everyone.charity]
    client.force_login(worker_of(everyone.charity).user)
    response = client.post(detail_url(case), {"action": "message", "message-body": BODY})
    assert response.status_code == 302
    with in_place(world.a.place):
        assert CaseMessage.objects.get(case=case).body == BODY
    response = client.post(detail_url(case), {"action": "message", "message-body": ""})
    assert response.status_code == 422
    assert 'id="id_message-body_error"' in response.content.decode()


def test_content_only_cases_have_no_message_form(world, everyone, client):
    report = submit(world.a.place, ONLINE)
    case = cases_of(report)[everyone.platform]
    client.force_login(worker_of(everyone.platform).user)
    html = client.get(detail_url(case)).content.decode()
    assert 'value="message"' not in html and "cannot write to the reporter" in html


def test_the_inbox_counts_unread_messages(world, everyone, client, in_place):
    first, second, third = (submit(world.a.place) for _ in range(3))
    team = world.a.memberships["caseworker"]
    team.manages_place = True
    with in_place(world.a.place):
        one = cases_of(first)[everyone.team]
        two = cases_of(second)[everyone.team]
        three = cases_of(third)[everyone.team]
        from_reporter(one)
        from_reporter(one, "And another thing.")
        from_reporter(two)
        from_reporter(three)
        case_merge(case=three, membership=team, into=two)
        from_reporter(one, "Already read.")
        case_messages_mark_read(case=one, membership=team)  # marks every unread one of it
        from_reporter(one, "Arrived after.")
        unread = {c.pk: c.unread for c in case_list(world.a.place, team)}
        # two counts the message on the duplicate merged into it.
        assert unread == {one.pk: 1, two.pk: 2}
        assert case_stats(world.a.place, team)["unread"] == 3
        # Another organisation's cases are not counted for the team.
        from_reporter(cases_of(first)[everyone.police])
        assert case_stats(world.a.place, team, {"scope": "all"})["unread"] == 3

    client.force_login(world.a.users["caseworker"])
    html = client.get(reverse("cases:inbox", kwargs={"place_slug": "alpha"})).content.decode()
    assert "3 unread messages from reporters" in html
    assert "2 unread messages</span>" in html and "1 unread message</span>" in html
