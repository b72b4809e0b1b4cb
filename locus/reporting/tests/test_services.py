import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from locus.core.errors import ValidationFailed
from locus.reporting import references
from locus.reporting.models import ConsentChange, Evidence, Report
from locus.reporting.selectors import report_for_followup
from locus.reporting.services import (
    content_key,
    evidence_stage,
    evidence_staged,
    report_change_consent,
    report_submit,
)

BASE = {
    "incident_type": "abusive_behaviour",
    "reporter_role": "victim",
    "bias": ["antisemitism"],
    "account": "Two men shouted abuse at me at the bus stop on Sunday evening.",
    "setting": "public_transport",
}


def _jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_submit_creates_a_report_with_reference_and_one_time_code(world, in_place):
    with in_place(world.a.place):
        submitted = report_submit(place=world.a.place, data=BASE | {"area": world.a.areas[0]})
    report = submitted.report
    assert len(report.reference) == 9 and report.reference[4] == "-"
    assert len(references.normalise(submitted.followup_code)) == 20
    assert submitted.followup_code not in report.followup_code_hash
    assert report.taxonomy_version
    assert report.consent_level == "record_only"
    with in_place(world.a.place):
        assert ConsentChange.objects.filter(report=report).count() == 1


def test_the_account_is_encrypted_at_rest(world, in_place):
    with in_place(world.a.place):
        report = report_submit(place=world.a.place, data=BASE).report
    with connection.cursor() as cursor:
        cursor.execute("SELECT account FROM reporting_report WHERE id = %s", [report.pk])
        stored = cursor.fetchone()[0]
    assert "bus stop" not in stored
    with in_place(world.a.place):
        assert "bus stop" in Report.objects.get(pk=report.pk).account


def test_follow_up_needs_the_right_code_and_place(world, in_place):
    with in_place(world.a.place):
        submitted = report_submit(place=world.a.place, data=BASE)
        ref, code = submitted.report.reference, submitted.followup_code
        assert report_for_followup(place=world.a.place, reference=ref, code=code) is not None
        # forgiving about case, spaces, dashes and look-alike letters
        sloppy = code.lower().replace("-", " ")
        assert report_for_followup(place=world.a.place, reference=ref.lower(), code=sloppy)
        assert report_for_followup(place=world.a.place, reference=ref, code="WRONG") is None
        assert report_for_followup(place=world.a.place, reference="ZZZZ-ZZZZ", code=code) is None
    with in_place(world.b.place):
        assert report_for_followup(place=world.b.place, reference=ref, code=code) is None


def test_unknown_codes_and_foreign_areas_are_refused(world, in_place):
    with in_place(world.a.place), pytest.raises(ValidationFailed) as error:
        report_submit(place=world.a.place, data=BASE | {"bias": ["martians"], "setting": "moon"})
    assert set(error.value.fields) == {"bias", "setting"}
    with in_place(world.a.place), pytest.raises(ValidationFailed) as error:
        report_submit(place=world.a.place, data=BASE | {"area": world.b.areas[0]})
    assert "area" in error.value.fields


def test_police_with_contact_needs_contact_details_and_implies_anonymised(world, in_place):
    with in_place(world.a.place), pytest.raises(ValidationFailed):
        report_submit(place=world.a.place, data=BASE | {"consent_police_with_contact": True})
    with in_place(world.a.place):
        report = report_submit(
            place=world.a.place,
            data=BASE
            | {
                "consent_police_with_contact": True,
                "contact": {"email": "me@example.org"},
            },
        ).report
    assert report.consent_police_anonymised and report.consent_level == "police_with_contact"


def test_staged_evidence_is_cleaned_encrypted_and_attached(world, in_place, settings):
    with in_place(world.a.place):
        evidence = evidence_stage(place=world.a.place, uploaded=_jpeg(), staged_token="tok")
        assert evidence.report is None
        on_disk = Path(evidence.file.path).read_bytes()
        assert not on_disk.startswith(b"\xff\xd8")  # encrypted, not a JPEG
        with evidence.file.open() as handle:
            assert handle.read().startswith(b"\xff\xd8")
        report = report_submit(place=world.a.place, data=BASE, staged_token="tok").report
        assert list(report.evidence.all()) == [evidence]
        assert not evidence_staged(place=world.a.place, staged_token="tok").exists()


def test_hostile_upload_is_refused_with_a_message(world, in_place):
    svg = SimpleUploadedFile("x.jpg", b"<svg onload=alert(1)></svg>", content_type="image/jpeg")
    with in_place(world.a.place), pytest.raises(ValidationFailed) as error:
        evidence_stage(place=world.a.place, uploaded=svg, staged_token="tok")
    assert "files" in error.value.fields
    with in_place(world.a.place):
        assert not Evidence.objects.exists()


def test_consent_changes_are_kept(world, in_place):
    with in_place(world.a.place):
        report = report_submit(place=world.a.place, data=BASE).report
        report_change_consent(
            report=report, police_anonymised=True, police_with_contact=False, support_contact=True
        )
        assert ConsentChange.objects.filter(report=report).count() == 2
        with pytest.raises(ValidationFailed):
            report_change_consent(
                report=report,
                police_anonymised=True,
                police_with_contact=True,
                support_contact=False,
            )


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/post/1/",
        "http://EXAMPLE.com/post/1",
        "https://m.example.com/post/1?utm_source=x#comments",
    ],
)
def test_content_key_groups_ways_of_writing_one_address(url):
    assert content_key(url) == content_key("https://example.com/post/1")


@given(st.text(max_size=40))
def test_normalised_references_use_only_the_alphabet(text):
    assert set(references.normalise(text)) <= set(references.ALPHABET)


def test_new_codes_are_unambiguous():
    for _ in range(50):
        code = references.new_followup_code()
        assert not set(code.replace("-", "")) & set("ILOU")
        assert references.normalise(code) == code.replace("-", "")
