"""The public report journey at /<place>/report/, its receipt and the follow-up page, driven
through the Django test client the way a browser sends the pages: each POST carries the hidden
inputs of the page it came from plus the answers of the step shown."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from locus.reporting import forms
from locus.reporting.models import ConsentChange, Evidence, Report

ACCOUNT = "Two men shouted abuse at me at the bus stop on Sunday evening.\nOne of them spat."

WHAT = {"what-incident_type": "abusive_behaviour", "what-occurred_approx": "on"}
WHO = {"who-bias": ["anti_muslim", "not_sure"], "who-account": ACCOUNT}
YOU = {
    "you-reporter_role": "victim",
    "you-support_wanted": ["emotional", "legal"],
    "you-already_reported": ["police"],
    "you-police_reference": "CR-2026-1234",
}
SHARE = {
    "share-consent_police_anonymised": "on",
    "share-consent_support_contact": "on",
    "share-contact_email": "amal@example.test",
    "share-wants_email_updates": "on",
}


def report_url(place):
    return reverse("reporting:report", kwargs={"place_slug": place.slug})


def followup_url(place):
    return reverse("reporting:followup", kwargs={"place_slug": place.slug})


class HiddenInputs(HTMLParser):
    """The hidden inputs of the page's journey form, as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.pairs = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.pairs.append((attrs["name"], attrs.get("value") or ""))


def hidden(response):
    parser = HiddenInputs()
    parser.feed(response.content.decode())
    data = {}
    for name, value in parser.pairs:
        data.setdefault(name, []).append(value)
    return data


def post(client, place, page, answers=None, action="next", files=None):
    """Send `page` (a previous response) with `answers` for the step it shows."""
    data = hidden(page) | (answers or {}) | {"action": action}
    if files:
        data["who-files"] = files
    return client.post(report_url(place), data)


def text_file(name="notes.txt", content=b"What they wrote on the wall, copied by hand.\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def walk_to_check(client, place, area, *, files=None):
    page = client.get(report_url(place))
    assert page.status_code == 200
    page = post(client, place, page, WHAT)
    assert b"Step 2 of 6" in page.content, page.content.decode()[:2000]
    page = post(client, place, page, {"where-setting": "public_transport", "where-area": area.pk})
    assert b"Step 3 of 6" in page.content
    page = post(client, place, page, WHO, files=files)
    assert b"Step 4 of 6" in page.content, page.content.decode()
    page = post(client, place, page, YOU)
    assert b"Step 5 of 6" in page.content
    page = post(client, place, page, SHARE)
    assert page.status_code == 200
    assert b"Step 6 of 6" in page.content
    return page


def test_walk_every_step_and_send(client, world, in_place):
    place, area = world.a.place, world.a.areas[0]
    check = walk_to_check(client, place, area, files=[text_file()])
    content = check.content.decode()
    assert "Abuse or harassment" in content and "Anti-Muslim hatred" in content
    assert "notes.txt" in content and "CR-2026-1234" in content

    sent = post(client, place, check, action="send")

    assert sent.status_code == 303
    assert "/alpha/report/receipt/" in sent["Location"]
    with in_place(place):
        report = Report.objects.get()
        assert report.incident_type == "abusive_behaviour"
        assert report.occurred_approx and not report.ongoing and report.occurred_on is None
        assert report.area == area and report.setting == "public_transport"
        assert report.bias == ["anti_muslim", "not_sure"]
        assert report.account.replace("\r\n", "\n") == ACCOUNT
        assert report.reporter_role == "victim"
        assert report.support_wanted == ["emotional", "legal"]
        assert report.already_reported == ["police"]
        assert report.police_reference == "CR-2026-1234"
        assert report.consent_police_anonymised and report.consent_support_contact
        assert not report.consent_police_with_contact
        assert report.contact == {"email": "amal@example.test"}
        assert report.wants_email_updates
        assert report.language == "en"
        assert [e.original_name for e in report.evidence.all()] == ["notes.txt"]
        assert not Evidence.objects.filter(report=None).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT account FROM reporting_report WHERE id = %s", [report.pk])
        assert "bus stop" not in cursor.fetchone()[0]


def test_online_content_asks_for_the_address_and_guesses_the_platform(client, world, in_place):
    place = world.a.place
    start = client.get(report_url(place))
    page = post(client, place, start, {"what-incident_type": "online_content"})
    content = page.content.decode()
    assert 'name="where-content_url"' in content
    assert 'name="where-area"' not in content and 'name="where-setting"' not in content
    page = post(client, place, page, {"where-content_url": "https://www.tiktok.com/@x/video/1"})
    page = post(client, place, page, WHO)
    page = post(client, place, page, YOU | {"you-police_reference": "", "you-already_reported": []})
    page = post(client, place, page, {})
    assert "TikTok" in page.content.decode()
    assert "Recorded only" in page.content.decode()
    assert post(client, place, page, action="send").status_code == 303
    with in_place(place):
        report = Report.objects.get()
    assert (report.platform, report.setting, report.area) == ("tiktok", "online", None)
    assert report.consent_level == "record_only" and report.contact is None


@pytest.mark.parametrize(
    ("pasted", "address", "platform"),
    [
        (
            "Regarde cette vidéo ! #fyp https://vm.tiktok.com/ZMabc123/ ",
            "https://vm.tiktok.com/ZMabc123/",
            "tiktok",
        ),
        (
            "Seen on (https://x.com/someone/status/17).",
            "https://x.com/someone/status/17",
            "x_twitter",
        ),
        ("www.youtube.com/watch?v=abc", "https://www.youtube.com/watch?v=abc", "youtube"),
    ],
)
def test_an_address_pasted_from_a_share_button_is_taken_from_its_sentence(
    world, pasted, address, platform
):
    """A phone's "Share" button often copies a sentence with the address in it: the address
    is taken (and the platform guessed from it) instead of "Enter a valid URL"."""
    form = forms.WhereForm(
        {"where-content_url": pasted},
        place=world.a.place,
        language="en",
        online=True,
        prefix="where",
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["content_url"] == address
    assert form.cleaned_data["platform"] == platform


def test_an_address_that_is_not_one_says_what_to_paste(world):
    for value in ("no link here", "javascript:alert(1)", "https://a.example/1 https://b.example/2"):
        form = forms.WhereForm(
            {"where-content_url": value},
            place=world.a.place,
            language="en",
            online=True,
            prefix="where",
        )
        assert not form.is_valid()
        assert form.errors["content_url"] == [
            "Paste the address of the content, as in the address bar or from the “Share” "
            "button (it starts with https://), or leave it empty."
        ]


def test_an_error_on_step_3_keeps_the_account_the_choices_and_the_staged_file(client, world):
    place = world.a.place
    page = post(client, place, client.get(report_url(place)), WHAT)
    page = post(client, place, page, {"where-setting": "street"})
    typed = {"who-account": "A long account <with> “quotes” & lines.\nSecond line."}

    page = post(client, place, page, typed, files=[text_file("wall.txt")])

    assert page.status_code == 422
    content = page.content.decode()
    assert "Choose at least one answer" in content  # bias is missing: the error is shown
    assert "A long account &lt;with&gt; “quotes” &amp; lines.\nSecond line.</textarea>" in content
    assert "wall.txt" in content  # the file was staged and is listed
    assert b"Step 3 of 6" in page.content

    # The checkbox choices are kept too when another answer is wrong.
    page = post(client, place, page, {"who-bias": ["antisemitism"], "who-account": ""})
    assert page.status_code == 200 and b"Step 4 of 6" in page.content  # the file stands in
    back = post(client, place, page, action="back")
    assert 'value="antisemitism" id="id_who-bias_4" checked' in back.content.decode()
    assert "wall.txt" in back.content.decode()


def test_changing_language_mid_journey_keeps_every_answer_and_file(client, world, settings):
    """The header's language switcher joins the journey's form on these pages: changing
    language sends the answers too, and the same step comes back in the new language, rather
    than the set_language view starting the journey again, empty."""
    place = world.a.place
    page = post(client, place, client.get(report_url(place)), WHAT)
    page = post(client, place, page, {"where-setting": "street"})
    content = page.content.decode()
    assert re.search(r'<select name="language" id="language-select" form="journey-form">', content)
    assert 'form="journey-form" name="action" value="language"' in content
    assert 'id="journey-form"' in content

    page = post(
        client,
        place,
        page,
        {"who-account": ACCOUNT, "who-bias": ["anti_muslim"], "language": "fr"},
        action="language",
        files=[text_file("wall.txt")],
    )

    assert page.status_code == 200
    content = page.content.decode()
    assert '<html lang="fr"' in content
    assert "Étape 3 sur 6" in content
    assert ACCOUNT in content  # what was typed, kept
    assert 'value="anti_muslim" id="id_who-bias_5" checked' in content
    assert "wall.txt" in content  # the file chosen was kept too
    assert page.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    # The answers of the earlier steps are still carried: on to the end, in French.
    page = post(client, place, page, {"who-bias": ["anti_muslim"], "who-account": ACCOUNT})
    page = post(client, place, page, YOU)
    page = post(client, place, page, SHARE)
    assert page.status_code == 200 and "Étape 6 sur 6" in page.content.decode()

    # A file refused while changing language: named in the new language, which is kept.
    back = post(client, place, page, action="change-3")
    refused = post(
        client,
        place,
        back,
        {"who-bias": ["anti_muslim"], "language": "de"},
        action="language",
        files=[SimpleUploadedFile("run.exe", b"MZ" + b"\0" * 200)],
    )
    assert refused.status_code == 422 and "Schritt 3 von 6" in refused.content.decode()
    assert refused.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    # A language Locus does not have: the same step, as it was, and no cookie.
    page = post(client, place, page, {"language": "xx"}, action="language")
    assert page.status_code == 200 and "Étape 6 sur 6" in page.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in page.cookies


def test_a_refused_file_is_named_next_to_the_files_field_and_the_rest_is_kept(client, world):
    place = world.a.place
    page = post(client, place, client.get(report_url(place)), WHAT)
    page = post(client, place, page, {"where-setting": "street"})
    svg = SimpleUploadedFile("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")

    page = post(client, place, page, WHO, files=[svg, text_file("ok.txt")])

    assert page.status_code == 422
    content = page.content.decode()
    assert "logo.svg:" in content and "ok.txt" in content
    assert ACCOUNT.split("\n")[0] in content


def test_a_file_too_big_says_what_to_send_instead_and_the_rest_is_kept(client, world, settings):
    """Someone whose video is refused is told what would be accepted, not only the limit."""
    settings.LOCUS_MAX_EVIDENCE_FILE_BYTES = 1000
    place = world.a.place
    page = post(client, place, client.get(report_url(place)), WHAT)
    page = post(client, place, page, {"where-setting": "street"})
    big = text_file("recording.txt", b"words\n" * 400)

    page = post(client, place, page, WHO, files=[big, text_file("ok.txt")])

    assert page.status_code == 422
    content = page.content.decode()
    assert (
        "recording.txt: This file is larger than 1000\xa0bytes, the largest file we can accept: "
        "please send a smaller one, such as a screenshot or a shorter video."
    ) in content
    assert "ok.txt" in content and ACCOUNT.split("\n")[0] in content


def _stored_files():
    root = Evidence._meta.get_field("file").storage.location
    from pathlib import Path

    return sorted(p for p in Path(root).rglob("*") if p.is_file())


def test_a_file_is_checked_and_written_outside_any_transaction(client, world, monkeypatch):
    """Re-encoding a phone photo takes a fifth of a second or more, and encrypting and writing
    it more: on SQLite a transaction holds the writers' queue, which every submission waits
    for, so only the caps and the row are written in one."""
    from locus.core import storage
    from locus.reporting import services

    depth = []

    def noting(step, function):
        def wrapper(*args, **kwargs):
            depth.append((step, len(connection.atomic_blocks)))
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(services, "inspect_upload", noting("check", services.inspect_upload))
    monkeypatch.setattr(storage, "encrypt_bytes", noting("write", storage.encrypt_bytes))
    monkeypatch.setattr(Evidence, "save", noting("row", Evidence.save))
    place = world.a.place
    page = post(client, place, client.get(report_url(place)), WHAT)
    page = post(client, place, page, {"where-setting": "street"})
    outside = len(connection.atomic_blocks)  # the test's own transaction

    page = post(client, place, page, WHO, files=[text_file("wall.txt")])

    assert b"Step 4 of 6" in page.content
    assert depth == [("check", outside), ("write", outside), ("row", outside + 1)]


def test_a_file_whose_row_cannot_be_written_is_deleted_and_the_step_keeps_what_was_typed(
    client, world, in_place, monkeypatch
):
    from django.db import OperationalError

    def locked(self, *args, **kwargs):
        raise OperationalError("database is locked")

    place = world.a.place
    page = post(client, place, client.get(report_url(place)), WHAT)
    page = post(client, place, page, {"where-setting": "street"})
    before = _stored_files()
    monkeypatch.setattr(Evidence, "save", locked)

    page = post(client, place, page, WHO, files=[text_file("wall.txt")])

    assert page.status_code == 422
    content = page.content.decode()
    assert "wall.txt: Locus is very busy and could not keep this file just now." in content
    assert ACCOUNT.split("\n")[0] in content and b"Step 3 of 6" in page.content
    assert _stored_files() == before  # no file without its row
    monkeypatch.undo()
    page = post(client, place, page, WHO, files=[text_file("wall.txt")])
    assert b"Step 4 of 6" in page.content
    with in_place(place):
        assert Evidence.objects.get().original_name == "wall.txt"


def test_a_removal_that_is_not_committed_keeps_the_file(world, in_place):
    from django.db import transaction

    from locus.reporting import services

    place = world.a.place
    with in_place(place):
        evidence = services.evidence_stage(
            place=place, uploaded=text_file("a.txt"), staged_token="t" * 32
        )
        name = evidence.file.name
        with pytest.raises(RuntimeError), transaction.atomic():
            services.evidence_unstage(place=place, staged_token="t" * 32, evidence_id=evidence.pk)
            raise RuntimeError("the removal is rolled back")
        assert Evidence.objects.filter(pk=evidence.pk).exists()
        assert evidence.file.storage.exists(name)  # the row still names a file that is there


def _staged_named(name):
    return next(e for e in Evidence.objects.filter(report=None) if e.original_name == name)


def test_a_file_deleted_for_its_age_before_sending_is_asked_for_again(
    client, world, in_place, settings
):
    """A reporter who leaves the check page open past LOCUS_STAGED_EVIDENCE_HOURS comes back
    to a file the purge deleted meanwhile. Send used to send the report without it, and the
    reporter was never told; now nothing is sent, the files step says so and lists the files
    still kept, with everything typed kept, and the file chosen again goes with the report."""
    from locus.reporting.retention import purge_expired

    place, area = world.a.place, world.a.areas[0]
    check = walk_to_check(
        client, place, area, files=[text_file("wall.txt"), text_file("door.txt", b"door")]
    )
    with in_place(place):
        Evidence.objects.filter(pk=_staged_named("wall.txt").pk).update(
            received_at=timezone.now() - settings.LOCUS_STAGED_EVIDENCE_TTL - timedelta(hours=1)
        )
        assert purge_expired(place=place).staged_evidence_deleted == 1

    sent = post(client, place, check, action="send")

    assert sent.status_code == 422 and b"Step 3 of 6" in sent.content
    content = sent.content.decode()
    assert "A file you chose earlier was deleted because it was not sent in time" in content
    assert 'id="id_who-files_error"' in content
    assert "<title>Error: Step 3 of 6" in content and 'href="#id_who-files"' in content  # summary
    assert "door.txt" in content and "wall.txt" not in content
    assert ACCOUNT.split("\n")[0] in content
    with in_place(place):
        assert not Report.objects.exists()

    page = post(client, place, sent, WHO, files=[text_file("wall.txt")])
    assert b"Step 6 of 6" in page.content
    assert post(client, place, page, action="send").status_code == 303
    with in_place(place):
        report = Report.objects.get()
        names = sorted(e.original_name for e in Evidence.objects.filter(report=report))
    assert names == ["door.txt", "wall.txt"]


def test_a_send_finding_a_listed_file_gone_saves_nothing(world, in_place):
    """The file is purged between the page's listing and the report's transaction: the
    attaching UPDATE finds one row fewer, and the whole report is rolled back."""
    from locus.reporting import services

    place = world.a.place
    with in_place(place):
        kept, purged = (
            services.evidence_stage(place=place, uploaded=text_file(n), staged_token="t" * 32)
            for n in ("kept.txt", "purged.txt")
        )
        Evidence.objects.filter(pk=purged.pk).delete()
        data = {"incident_type": "abusive_behaviour", "reporter_role": "victim"}
        data |= {"account": ACCOUNT, "setting": "street", "bias": ["not_sure"]}

        with pytest.raises(services.StagedEvidenceExpired) as refused:
            services.report_submit(
                place=place, data=data, staged_token="t" * 32, staged_ids=[kept.pk, purged.pk]
            )

        assert refused.value.fields["files"] and refused.value.status == 422
        assert not Report.objects.exists()
        assert Evidence.objects.get().pk == kept.pk and Evidence.objects.get().report is None


def test_files_staged_before_sending_are_limited_per_client(client, world, in_place, settings):
    """Staged files are stored before any report exists: without a limit per client, anyone
    could fill the disk with uploads and never send. Past the limit a file is refused next to
    the files field, and the account, the choices and the files already staged are kept."""
    settings.LOCUS_RATE_LIMITS = {**settings.LOCUS_RATE_LIMITS, "evidence.stage": "2/h"}
    place = world.a.place
    page = post(client, place, client.get(report_url(place)), WHAT)
    page = post(client, place, page, {"where-setting": "street"})
    files = [text_file("one.txt"), text_file("two.txt"), text_file("three.txt")]

    page = post(client, place, page, WHO, files=files)

    assert page.status_code == 422
    content = page.content.decode()
    assert "three.txt: too many files were sent from your connection" in content
    assert "one.txt" in content and "two.txt" in content
    assert ACCOUNT.split("\n")[0] in content
    with in_place(place):
        assert sorted(Evidence.objects.values_list("original_name", flat=True)) == [
            "one.txt",
            "two.txt",
        ]
    # Another journey from the same client is refused too; the staged files can still be sent.
    page = post(client, place, page, WHO, files=[text_file("four.txt")])
    assert page.status_code == 422 and "four.txt: too many files" in page.content.decode()
    page = post(client, place, page, WHO)
    assert b"Step 4 of 6" in page.content


def test_a_staged_file_can_be_removed(client, world, in_place):
    place = world.a.place
    page = post(client, place, client.get(report_url(place)), WHAT)
    page = post(client, place, page, {"where-setting": "street"})
    page = post(client, place, page, {"who-account": "x"}, action="back")
    page = post(client, place, page, {"where-setting": "street"})
    page = post(client, place, page, {"who-account": "x"}, files=[text_file("a.txt")], action="x")
    with in_place(place):
        evidence = Evidence.objects.get()
    # A button value that is not an id ("²" passes str.isdigit() but not int()) removes
    # nothing; it used to answer 500. An unknown step to change goes to the check page.
    for action in ("remove-\u00b2", "remove-99999999999999999999999"):
        kept = post(client, place, page, {"who-account": "x"}, action=action)
        assert kept.status_code == 200 and "a.txt" in kept.content.decode(), action
    check = post(client, place, page, {"who-account": "x"}, action="change-\u00b2")
    assert check.status_code == 422  # the check page names the missing answers, as for "change-9"
    with in_place(place):
        assert Evidence.objects.count() == 1
    page = post(client, place, page, {"who-account": "x"}, action=f"remove-{evidence.pk}")
    assert page.status_code == 200 and "a.txt" not in page.content.decode()
    with in_place(place):
        assert not Evidence.objects.exists()


def title(page):
    return re.search(r"<title>(.*?)</title>", page.content.decode(), re.S)[1].strip()


def test_a_step_with_errors_says_so_first_in_its_title(client, world):
    """The title is what a screen reader reads first on the new page."""
    place = world.a.place
    first = client.get(report_url(place))
    assert title(first).startswith("Step 1 of 6: What happened")
    refused = post(client, place, first, {})
    assert refused.status_code == 422
    assert title(refused).startswith("Error: Step 1 of 6: What happened")
    assert title(post(client, place, refused, WHAT)).startswith("Step 2 of 6")


def test_a_date_in_the_future_is_refused(client, world):
    place = world.a.place
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    page = post(client, place, client.get(report_url(place)), WHAT | {"what-occurred_on": tomorrow})
    assert page.status_code == 422
    assert "The date cannot be in the future." in page.content.decode()
    assert f'value="{tomorrow}"' in page.content.decode()


@pytest.mark.parametrize("foreign", [True, False], ids=["other-place", "unknown"])
def test_an_area_of_the_other_place_or_an_unknown_area_is_refused(client, world, foreign):
    place = world.a.place
    area_id = world.b.areas[0].pk if foreign else 999_999
    page = post(client, place, client.get(report_url(place)), WHAT)
    page = post(client, place, page, {"where-setting": "street", "where-area": area_id})
    assert page.status_code == 422
    assert "Choose an area from the list." in page.content.decode()


def test_the_final_step_is_validated_again(client, world, in_place):
    """A page tampered with between steps (or a stale one) cannot send a foreign area."""
    place = world.a.place
    check = walk_to_check(client, place, world.a.areas[0])
    data = hidden(check) | {"action": "send", "where-area": [str(world.b.areas[0].pk)]}
    response = client.post(report_url(place), data)
    assert response.status_code == 422
    assert b"Step 2 of 6" in response.content
    with in_place(place):
        assert not Report.objects.exists()


def test_a_double_post_of_the_last_step_makes_one_report(client, world, in_place):
    place = world.a.place
    check = walk_to_check(client, place, world.a.areas[0])
    first = post(client, place, check, action="send")
    second = post(client, place, check, action="send")
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    with in_place(place):
        assert Report.objects.count() == 1


def test_a_check_page_shown_again_by_the_history_after_sending_does_not_send_twice(
    client, world, in_place
):
    """Without JavaScript, Back from the receipt shows "Confirm form resubmission": confirming
    sends the step that showed the check page again, and the check page comes back. Its Send
    carries the journey's key, not a new one, so it lands on the first report's receipt, also
    when an answer was changed meanwhile or the files now belong to the report."""
    place, area = world.a.place, world.a.areas[0]
    page = client.get(report_url(place))
    page = post(client, place, page, WHAT)
    page = post(client, place, page, {"where-setting": "public_transport", "where-area": area.pk})
    page = post(client, place, page, WHO, files=[text_file()])
    page = post(client, place, page, YOU)
    share_step = page  # the page whose Continue showed the check page
    sent = post(client, place, post(client, place, share_step, SHARE), action="send")
    assert sent.status_code == 303

    again = post(client, place, share_step, SHARE)  # Back, then "Confirm form resubmission"
    assert b"Step 6 of 6" in again.content
    resent = post(client, place, again, action="send")
    changed = post(client, place, again, {"you-reporter_role": "witness"}, action="send")

    assert resent.status_code == changed.status_code == 303
    assert resent["Location"] == changed["Location"] == sent["Location"]
    with in_place(place):
        assert Report.objects.count() == 1
        assert Report.objects.get().evidence.count() == 1
    receipt = client.get(sent["Location"]).content.decode()
    assert "This report had already been sent, so it was not sent again." in receipt


def test_a_new_pass_through_the_form_sends_a_new_report(client, world, in_place):
    """The key is the journey's: someone who starts the form again reports something new."""
    place = world.a.place
    first = post(client, place, walk_to_check(client, place, world.a.areas[0]), action="send")
    second = post(client, place, walk_to_check(client, place, world.a.areas[0]), action="send")
    assert first.status_code == second.status_code == 303
    assert first["Location"] != second["Location"]
    with in_place(place):
        assert Report.objects.count() == 2


def test_the_code_is_shown_on_the_first_receipt_only(client, world, in_place):
    place = world.a.place
    sent = post(client, place, walk_to_check(client, place, world.a.areas[0]), action="send")
    first = client.get(sent["Location"])
    with in_place(place):
        report = Report.objects.get()
    assert first.status_code == 200
    assert report.reference in first.content.decode()
    assert 'id="followup-code"' in first.content.decode()
    # Where to use them, to write down or print with them.
    assert 'id="followup-address">http://testserver/alpha/follow-up/<' in first.content.decode()
    # Why keep them private, plainly: they open the whole report, not only its status.
    assert "can open your report and read everything in it" in first.content.decode()
    second = client.get(sent["Location"])
    assert second.status_code == 200
    assert report.reference in second.content.decode()
    assert 'id="followup-code"' not in second.content.decode()
    assert "was shown once" in second.content.decode()


def test_the_receipt_lasts_the_browser_session_only(client, world, settings):
    """On a shared device the receipt (who received the report, and why) must not be there for
    the next person after the browser is closed: the session cookie has no expiry date."""
    place = world.a.place
    sent = post(client, place, walk_to_check(client, place, world.a.areas[0]), action="send")
    cookie = sent.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value and not cookie["expires"] and not cookie["max-age"]
    assert client.get(sent["Location"]).status_code == 200


def test_a_receipt_is_only_for_the_browser_that_sent_the_report(client, world):
    place = world.a.place
    sent = post(client, place, walk_to_check(client, place, world.a.areas[0]), action="send")
    client.cookies.clear()
    assert client.get(sent["Location"]).status_code == 404


def send_report(client, world):
    place = world.a.place
    sent = post(client, place, walk_to_check(client, place, world.a.areas[0]), action="send")
    code = client.get(sent["Location"]).context["code"]
    return sent["Location"].rstrip("/").rsplit("/", 1)[1], code


def test_follow_up_opens_with_the_right_pair_only(client, world, in_place):
    reference, code = send_report(client, world)
    client.cookies.clear()
    url = followup_url(world.a.place)
    for wrong in (
        {"reference": reference, "code": "ABCD-EFGH-JKMN-PQRS-TVWX"},
        {"reference": "ZZZZ-ZZZZ", "code": code},
    ):
        refused = client.post(url, wrong | {"action": "open"})
        assert refused.status_code == 422
        assert "We found no report with this reference and code." in refused.content.decode()
    other = client.post(
        followup_url(world.b.place), {"reference": reference, "code": code, "action": "open"}
    )
    assert other.status_code == 422

    opened = client.post(url, {"reference": reference.lower(), "code": code, "action": "open"})
    assert opened.status_code == 303
    page = client.get(url)
    content = page.content.decode()
    assert page.status_code == 200 and reference in content
    assert "notes.txt" not in content  # no files in this report
    assert "<details" in content and "bus stop" in content.split("<details", 1)[1]
    assert "bus stop" not in content.split("<details", 1)[0]
    # The other place's follow-up page does not show it.
    assert reference not in client.get(followup_url(world.b.place)).content.decode()

    closed = client.post(url, {"action": "close"})
    assert closed.status_code == 303
    assert reference not in client.get(url).content.decode()


def test_consent_can_be_changed_from_follow_up_and_is_logged(client, world, in_place):
    reference, code = send_report(client, world)
    url = followup_url(world.a.place)
    client.post(url, {"reference": reference, "code": code, "action": "open"})

    changed = client.post(url, {"action": "consent", "consent-police_anonymised": "on"})

    assert changed.status_code == 303
    with in_place(world.a.place):
        report = Report.objects.get()
        assert report.consent_police_anonymised and not report.consent_support_contact
        changes = list(ConsentChange.objects.filter(report=report))
    assert len(changes) == 2
    assert changes[-1].consent == {
        "police_anonymised": True,
        "police_with_contact": False,
        "support_contact": False,
    }
    assert "Your choices about sharing have been saved." in client.get(url).content.decode()


def test_follow_up_is_rate_limited(client, world, settings):
    settings.LOCUS_RATE_LIMITS = {"followup.open": "2/h"}
    url = followup_url(world.a.place)
    wrong = {"reference": "ZZZZ-ZZZZ", "code": "X", "action": "open"}
    assert [client.post(url, wrong).status_code for _ in range(3)] == [422, 422, 429]
    assert client.get(url).status_code == 200  # opening the page is not counted


def test_sending_is_rate_limited_but_the_steps_are_not(client, world, settings, in_place):
    settings.LOCUS_RATE_LIMITS = {"report.submit": "1/h"}
    place = world.a.place
    check = walk_to_check(client, place, world.a.areas[0])  # 5 POSTs, none counted
    assert post(client, place, check, action="send").status_code == 303
    again = walk_to_check(client, place, world.a.areas[0])
    refused = post(client, place, again, action="send")
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert "data-quick-exit" in refused.content.decode()  # a reporter's page: quick exit on top
    with in_place(place):
        assert Report.objects.count() == 1


def test_pages_have_quick_exit_no_store_and_noindex(client, world):
    place = world.a.place
    pages = [client.get(report_url(place))]
    pages.append(post(client, place, pages[0], WHAT))
    sent = post(client, place, walk_to_check(client, place, world.a.areas[0]), action="send")
    pages.append(client.get(sent["Location"]))
    pages.append(client.get(followup_url(place)))
    for page in pages:
        assert page.status_code == 200
        assert "no-store" in page["Cache-Control"]
        content = page.content.decode()
        assert 'class="quick-exit"' in content
        assert '<meta name="robots" content="noindex">' in content


@pytest.mark.parametrize(
    ("lang", "site"),
    [
        ("en", "https://www.bbc.co.uk/weather"),
        ("fr", "https://meteofrance.com/"),
        ("de", "https://www.dwd.de/"),
        ("sv", "https://www.smhi.se/"),
    ],
)
def test_quick_exit_opens_a_neutral_site_in_the_readers_language(client, world, lang, site):
    """An English weather page opening in a French, German or Swedish home would catch the eye."""
    client.cookies["django_language"] = lang
    content = client.get(report_url(world.a.place)).content.decode()
    assert f'<a href="{site}" class="quick-exit-button" data-quick-exit' in content


def test_the_progress_shows_the_current_step(client, world):
    page = client.get(report_url(world.a.place))
    content = page.content.decode()
    assert "Step 1 of 6" in content
    assert '<li aria-current="step">What happened</li>' in content


def test_the_journey_speaks_the_visitors_language(client, world):
    client.cookies["django_language"] = "fr"
    page = client.get(report_url(world.a.place))
    assert '<html lang="fr">' in page.content.decode()
    assert "Injures ou harcèlement" in page.content.decode()  # the taxonomy's French label


@pytest.mark.parametrize(
    ("language", "button"),
    [("en", "Change"), ("fr", "Modifier"), ("de", "Ändern"), ("sv", "Ändra")],
)
def test_the_check_step_offers_to_change_each_answer_in_the_visitors_language(
    client, world, language, button
):
    """ "Change" is a verb on this page (change your answers), not the noun of the dashboard's
    "Change" column (évolution, Veränderung, förändring)."""
    client.cookies["django_language"] = language
    place, area = world.a.place, world.a.areas[0]
    page = client.get(report_url(place))
    for answers in (
        WHAT,
        {"where-setting": "public_transport", "where-area": area.pk},
        WHO,
        YOU,
        SHARE,
    ):
        page = post(client, place, page, answers)
    assert page.status_code == 200
    content = page.content.decode()
    assert 'value="change-5"' in content
    assert content.count(f">{button}<span") == 5


def test_each_sharing_choice_is_on_its_own_line_on_the_check_page_and_the_follow_up(
    client, world, in_place
):
    """Joined with "; ", two choices ran together, with the wrong spacing in French."""
    place = world.a.place
    check = walk_to_check(client, place, world.a.areas[0])
    check = post(client, place, check, {"language": "fr"}, action="language")
    both = (
        "Transmettre mon signalement à la police sans mon nom ni mes coordonnées<br>"
        "Permettre à une organisation de soutien de me contacter"
    )
    assert both in check.content.decode()
    sent = post(client, place, check, action="send")
    reference = sent["Location"].rstrip("/").rsplit("/", 1)[1]
    code = client.get(sent["Location"]).context["code"]
    opened = client.post(followup_url(place), {"reference": reference, "code": code})
    assert both in client.get(opened["Location"]).content.decode()


def test_the_place_home_links_to_the_journey(client, world):
    content = client.get(f"/{world.a.place.slug}/").content.decode()
    assert report_url(world.a.place) in content and followup_url(world.a.place) in content


def test_the_receipt_says_who_received_the_report_and_why(client, world, in_place):
    from locus.cases.services import routing_rule_save
    from locus.core.testing.factories import OrganisationFactory
    from locus.directory.services import organisation_list_in_place

    place = world.a.place
    with in_place(place):
        support = OrganisationFactory(name="Hope Support", type="victim_support")
        police = OrganisationFactory(name="City Police", type="police")
        for organisation in (support, police):
            organisation_list_in_place(organisation=organisation, place=place)
        routing_rule_save(
            place=place,
            actor=world.a.users["coordinator"],
            name="Anti-Muslim hate",
            position=1,
            conditions={"bias": ["anti_muslim"]},
            destinations=[support, police],
        )
    sent = post(client, place, walk_to_check(client, place, world.a.areas[0]), action="send")
    receipt = client.get(sent["Location"]).content.decode()
    assert "Hope Support" in receipt and "City Police" in receipt
    assert "without your name or contact details" in receipt  # police: anonymised consent only


def test_guessing_one_reference_from_many_clients_is_throttled_too(
    client, world, in_place, settings
):
    settings.LOCUS_RATE_LIMITS = {**settings.LOCUS_RATE_LIMITS, "followup.reference": "3/h"}
    reference, code = send_report(client, world)
    client.cookies.clear()  # the guessers are other browsers (test_device_cookie.py: the sender)
    url = followup_url(world.a.place)
    wrong = {"reference": reference, "code": "WRONG-CODE", "action": "open"}
    statuses = [
        client.post(url, wrong, REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(3)
    ]
    assert statuses == [422, 422, 422]
    # A fourth client, even with the right code: the reference has had its attempts.
    right = {"reference": reference, "code": code, "action": "open"}
    refused = client.post(url, right, REMOTE_ADDR="198.51.100.99")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    # Another reference is not affected.
    other = {"reference": "ZZZZ-ZZZZ", "code": "X", "action": "open"}
    assert client.post(url, other, REMOTE_ADDR="198.51.100.98").status_code == 422


def test_the_place_s_emergency_number_is_on_the_first_step_and_the_receipt(client, world):
    """Someone in danger should call, not fill in a form: the first step and the receipt give
    the number people call where the place is (a place setting; 112 unless set)."""
    place = world.a.place
    place.emergency_number = "999"
    place.save(update_fields=["emergency_number"])
    first = client.get(report_url(place)).content.decode()
    assert "If you are in danger now, call 999." in first
    reference, _code = send_report(client, world)
    receipt = client.get(reverse("reporting:receipt", args=[place.slug, reference]))
    assert "If you are in danger now, call 999." in receipt.content.decode()


@override_settings(LOCUS_RATE_LIMITS={"report.submit": "1/h"})
def test_over_the_sending_limit_the_check_page_comes_back_with_everything(client, world, in_place):
    """A refused Send shows the check page again, every answer and file kept, saying when to
    try again (429, Retry-After): a page of its own left only a Back the browser must re-send."""
    place, area = world.a.place, world.a.areas[0]
    assert post(client, place, walk_to_check(client, place, area), action="send").status_code == 303
    check = walk_to_check(client, place, area, files=[text_file()])
    refused = post(client, place, check, action="send")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    content = refused.content.decode()
    assert "Not sent yet: too many reports were sent from your connection" in content
    assert "Try again in" in content and "Step 6 of 6" in content
    assert "notes.txt" in content and "CR-2026-1234" in content
    with in_place(place):
        assert Report.objects.count() == 1
