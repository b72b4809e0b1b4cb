"""The follow-up API beyond status and consent: threads, messages, additions (multipart), the
copy of the data and erasure — each by reference and code, rate limited like the follow-up."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from locus.cases.choices import MessageDirection
from locus.cases.models import CaseMessage
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.reporting.models import Evidence, Report

from .conftest import ACCOUNT, EMAIL, text_file

API = "/api/v1/places/{slug}/reports/follow-up{suffix}"


def call(client, followed, suffix="", *, slug=None, code=None, **body):
    payload = {"reference": followed.report.reference, "code": code or followed.code} | body
    return client.post(
        API.format(slug=slug or followed.place.slug, suffix=suffix),
        json.dumps(payload),
        content_type="application/json",
    )


def assert_error(response, status, code=None, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "code", "fields"} and body["message"]
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in body["fields"], body
    return body


def test_follow_up_lists_the_organisations_with_their_unread_count(client, followed, in_place):
    support_case = followed.case_of(followed.support)
    with in_place(followed.place):
        CaseMessage.objects.create(
            place=followed.place,
            case=support_case,
            direction=MessageDirection.TO_REPORTER,
            body="How are you?",
        )
    body = call(client, followed).json()
    by_name = {o["organisation"]: o for o in body["organisations"]}
    assert set(by_name) == {followed.team.name, "Hope Support", "Chirp Trust & Safety"}
    assert by_name["Hope Support"]["unread"] == 1 and by_name["Hope Support"]["status"] == "new"
    assert by_name["Hope Support"]["outcome"] is None and body["erased_at"] is None
    [event] = AuditEvent.objects.filter(action=AuditAction.REPORT_FOLLOWED_UP)
    assert event.data["channel"] == "api" and event.target_id == str(followed.report.pk)


def test_threads_give_the_messages_and_mark_the_replies_read(client, followed, in_place):
    support_case = followed.case_of(followed.support)
    with in_place(followed.place):
        CaseMessage.objects.create(
            place=followed.place,
            case=support_case,
            direction=MessageDirection.TO_REPORTER,
            body="How are you?",
        )
    first = call(client, followed, "/threads")
    assert first.status_code == 200
    threads = {t["organisation"]: t for t in first.json()["threads"]}
    [message] = threads["Hope Support"]["messages"]
    assert message["body"] == "How are you?" and message["read_at"] is None
    assert message["direction"] == "to_reporter" and not message["addition"]
    assert threads["Hope Support"]["reads_report"]
    assert not threads["Chirp Trust & Safety"]["reads_report"]
    second = call(client, followed, "/threads").json()
    again = {t["organisation"]: t for t in second["threads"]}["Hope Support"]["messages"][0]
    assert again["read_at"] is not None


def test_a_message_is_sent_once_per_idempotency_key(client, followed, in_place):
    support_case = followed.case_of(followed.support)
    body = {
        "reference": followed.report.reference,
        "code": followed.code,
        "case_id": support_case.pk,
        "text": "I saw another one.",
    }
    url = API.format(slug="alpha", suffix="/messages")

    def send():
        return client.post(
            url, json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
        )

    first, replay = send(), send()
    assert first.status_code == 201 and replay.status_code == 201
    assert first.json() == replay.json()
    assert first.json()["organisation"] == "Hope Support"
    assert first.json()["direction"] == "from_reporter"
    with in_place(followed.place):
        assert CaseMessage.objects.count() == 1


def test_a_message_is_checked(client, followed, world):
    support_case = followed.case_of(followed.support)
    assert_error(
        call(client, followed, "/messages", case_id=support_case.pk, text="   "),
        422,
        field="text",
    )
    assert_error(
        call(client, followed, "/messages", case_id=support_case.pk, text="x" * 5001),
        422,
        field="text",
    )
    assert_error(
        call(client, followed, "/messages", case_id=support_case.pk, text="bell \x07"),
        422,
        field="text",
    )
    platform_case = followed.case_of(followed.platform)
    assert_error(
        call(client, followed, "/messages", case_id=platform_case.pk, text="Hello"),
        422,
        "not_allowed",
        field="case_id",
    )
    assert_error(
        call(client, followed, "/messages", case_id=support_case.pk + 1000, text="Hello"),
        422,
        "validation_error",
        field="case_id",
    )
    # The right case through the other place's address, or with a wrong code: the same 404.
    assert_error(
        call(client, followed, "/messages", slug="beta", case_id=support_case.pk, text="Hi"),
        404,
    )
    assert_error(
        call(
            client,
            followed,
            "/messages",
            code="H2ZC-8RTB-W4KQ-N6PE-5YJD",
            case_id=support_case.pk,
            text="Hi",
        ),
        404,
    )


def _add(client, followed, *, text="", files=(), code=None):
    data = {"reference": followed.report.reference, "code": code or followed.code, "text": text}
    if files:
        data["files"] = list(files)
    return client.post(API.format(slug="alpha", suffix="/additions"), data)


def test_an_addition_with_text_and_files(client, followed, in_place):
    response = _add(client, followed, text="It was posted again.", files=[text_file("again.txt")])
    assert response.status_code == 201, response.content
    body = response.json()
    [evidence] = body["evidence"]
    assert evidence["name"] == "again.txt" and len(evidence["sha256"]) == 64
    assert set(body["sent_to"]) == {followed.team.name, "Hope Support"}
    with in_place(followed.place):
        assert Evidence.objects.filter(report=followed.report).count() == 2


def test_a_refused_file_adds_nothing(client, followed, in_place):
    svg = SimpleUploadedFile("x.svg", b"<svg><script>alert(1)</script></svg>", "image/svg+xml")
    response = _add(client, followed, text="Look", files=[text_file("ok.txt"), svg])
    body = assert_error(response, 422, field="files")
    assert any(message.startswith("x.svg:") for message in body["fields"]["files"])
    with in_place(followed.place):
        assert Evidence.objects.filter(report=followed.report).count() == 1
        assert not Evidence.objects.filter(report=None).exists()  # the good file went too
        assert not CaseMessage.objects.exists()
    assert_error(_add(client, followed), 422, field="text")


def test_the_copy_by_api_is_the_reporters_data_and_is_audited(client, followed):
    response = call(client, followed, "/copy")
    assert response.status_code == 200
    copy = response.json()
    assert copy["report"]["account"] == ACCOUNT
    assert copy["report"]["contact"]["email"] == EMAIL
    assert copy["evidence"][0]["name"] == "photo.jpg"
    assert copy["consent_history"][0]["support_contact"] is True
    [event] = AuditEvent.objects.filter(action=AuditAction.REPORT_COPY_DOWNLOADED)
    assert event.data == {
        "reference": followed.report.reference,
        "channel": "api",
        "format": "json",
    }


def test_erasure_needs_confirmation_then_only_the_follow_up_answers(client, followed, in_place):
    assert_error(call(client, followed, "/erasure", confirm=False), 422, field="confirm")
    erased = call(client, followed, "/erasure", confirm=True)
    assert erased.status_code == 200
    assert erased.json()["organisations_told"] == 3 and erased.json()["erased_at"]
    with in_place(followed.place):
        report = Report.objects.get(pk=followed.report.pk)
    assert report.account == "" and report.contact is None

    status = call(client, followed).json()
    assert status["erased_at"] and status["organisations"] == [] and status["routing"] == []
    support_case = followed.case_of(followed.support)
    for suffix, body in (
        ("/threads", {}),
        ("/messages", {"case_id": support_case.pk, "text": "Hi"}),
        ("/copy", {}),
        ("/erasure", {"confirm": True}),
        (
            "/consent",
            {"police_anonymised": True, "police_with_contact": False, "support_contact": False},
        ),
    ):
        assert_error(call(client, followed, suffix, **body), 410, "report_erased")
    assert_error(_add(client, followed, text="More"), 410, "report_erased")


@pytest.mark.parametrize("suffix", ["/threads", "/copy", "/erasure"])
def test_every_follow_up_operation_shares_the_rate_limit(client, followed, settings, suffix):
    settings.LOCUS_RATE_LIMITS = {"followup.open": "1/h"}
    assert call(client, followed).status_code == 200
    limited = call(client, followed, suffix, confirm=True)
    assert_error(limited, 429, "rate_limited")
    assert limited["Retry-After"]
