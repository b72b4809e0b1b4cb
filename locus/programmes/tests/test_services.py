from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.models import AuditEvent
from locus.core.testing.factories import OrganisationFactory
from locus.programmes import services
from locus.programmes.choices import ResultSource, SurveyPhase
from locus.programmes.models import Result, SurveyResponse

from .factories import indicator, period, programme

pytestmark = pytest.mark.django_db


def _data(**extra):
    return {
        "title": "P",
        "start_date": date(2026, 1, 1),
        "end_date": date(2026, 6, 30),
        "intervention": "education",
        **extra,
    }


def test_programme_create_audits_and_keeps_areas(world, active):
    p = programme(world.a)
    assert list(p.areas.all()) == world.a.areas[:1]
    assert AuditEvent.objects.filter(
        action=AuditAction.PROGRAMME_CHANGED, target_id=str(p.pk)
    ).exists()


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"end_date": date(2025, 1, 1)}, "end_date"),
        ({"intervention": "juggling"}, "intervention"),
        ({"target_groups": ["aliens"]}, "target_groups"),
        ({"currency": "XXX"}, "currency"),
        ({"budget": "-4"}, "budget"),
        ({"title": "  "}, "title"),
        ({"iati_org_ref": "not an id"}, "iati_org_ref"),
        ({"iati_org_ref": "GB-COH-12/34"}, "iati_org_ref"),  # no "/" in an IATI identifier
        ({"iati_org_ref": "GB-CHC-1?2"}, "iati_org_ref"),
        ({"iati_org_ref": "GB-CHC-1\t2"}, "iati_org_ref"),
    ],
)
def test_programme_create_names_the_bad_field(world, active, extra, field):
    with pytest.raises(ValidationFailed) as exc:
        services.programme_create(
            place=world.a.place, organisation=world.a.organisation, actor=None, data=_data(**extra)
        )
    assert field in exc.value.fields


def test_area_of_another_place_is_a_validation_error(world, active):
    with pytest.raises(ValidationFailed) as exc:
        services.programme_create(
            place=world.a.place,
            organisation=world.a.organisation,
            actor=None,
            data=_data(areas=[world.b.areas[0]]),
        )
    assert "areas" in exc.value.fields


def test_an_organisation_not_listed_here_cannot_have_a_programme(world, active):
    with pytest.raises(ValidationFailed) as exc:
        services.programme_create(
            place=world.a.place, organisation=OrganisationFactory(), actor=None, data=_data()
        )
    assert "organisation" in exc.value.fields


def test_indicator_from_the_bank_takes_its_wording(world, active):
    p = programme(world.a)
    i = services.indicator_save(
        programme=p, actor=None, data={"bank_code": "cls_different_backgrounds", "target": "70"}
    )
    assert i.level == "outcome" and i.measure == "percent"
    assert "different backgrounds" in i.title


def test_percentage_indicator_is_bounded(world, active):
    p = programme(world.a)
    with pytest.raises(ValidationFailed) as exc:
        indicator(p, target="140")
    assert "target" in exc.value.fields


def test_periods_must_not_overlap_or_leave_the_programme(world, active):
    p = programme(world.a)
    period(p)
    with pytest.raises(ValidationFailed):
        period(p, start=date(2026, 3, 1), end=date(2026, 4, 30))
    with pytest.raises(ValidationFailed):
        period(p, start=date(2027, 1, 1), end=date(2027, 3, 31))


def test_results_report_saves_breakdowns_and_audits(world, active):
    p = programme(world.a)
    i = indicator(p, measure="number", level="output", by_gender=True, by_area=True)
    q = period(p)
    area = str(world.a.areas[0].pk)
    services.results_report(
        period=q,
        actor=world.a.users["editor"],
        values={
            i.pk: {"value": "12", "disaggregation": {"gender": {"female": "7"}, "area": {area: 12}}}
        },
        narrative="Fine",
        submit=True,
    )
    result = Result.objects.get(indicator=i, period=q)
    assert result.value == 12 and result.disaggregation == {
        "gender": {"female": 7.0},
        "area": {area: 12.0},
    }
    q.refresh_from_db()
    assert q.submitted_at is not None and q.narrative == "Fine"
    assert AuditEvent.objects.filter(action=AuditAction.RESULTS_REPORTED).exists()
    # A blank value clears the entered result.
    services.results_report(period=q, actor=None, values={i.pk: {"value": None}})
    assert not Result.objects.filter(indicator=i, period=q).exists()


def test_results_refuse_an_area_of_another_place_and_unknown_groups(world, active):
    p = programme(world.a)
    i = indicator(p, measure="number", level="output", by_gender=True, by_area=True)
    q = period(p)
    for breakdown in ({"area": {str(world.b.areas[0].pk): 3}}, {"gender": {"robot": 1}}):
        with pytest.raises(ValidationFailed) as exc:
            services.results_report(
                period=q, actor=None, values={i.pk: {"value": "3", "disaggregation": breakdown}}
            )
        assert f"indicator_{i.pk}_breakdown" in exc.value.fields


def test_evidence_is_checked_by_content(world, active):
    p = programme(world.a)
    q = period(p)
    evidence = services.evidence_add(
        period=q, actor=None, uploaded=SimpleUploadedFile("a.txt", b"12 people came", "text/plain")
    )
    assert evidence.mime == "text/plain" and evidence.file.read() == b"12 people came"
    with pytest.raises(ValidationFailed):
        services.evidence_add(
            period=q,
            actor=None,
            uploaded=SimpleUploadedFile(
                "a.pdf", b"<html><script>x</script></html>", "application/pdf"
            ),
        )


def _noting(depth, step, function):
    """`function`, noting how many transactions are open when it runs."""
    from django.db import connection

    def wrapper(*args, **kwargs):
        depth.append((step, len(connection.atomic_blocks)))
        return function(*args, **kwargs)

    return wrapper


def _stored_files():
    from pathlib import Path

    from locus.programmes.models import EvidenceFile

    root = Path(EvidenceFile._meta.get_field("file").storage.location)
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_evidence_is_checked_and_written_outside_any_transaction(world, active, monkeypatch):
    """Re-encoding a photo and encrypting it takes a fifth of a second or more: on SQLite a
    transaction holds the writers' queue, which every report submission waits for, so only
    the cap and the row are written in one."""
    from django.db import connection

    from locus.core import storage
    from locus.programmes.models import EvidenceFile

    q = period(programme(world.a))
    depth = []
    monkeypatch.setattr(
        services, "inspect_upload", _noting(depth, "check", services.inspect_upload)
    )
    monkeypatch.setattr(storage, "encrypt_bytes", _noting(depth, "write", storage.encrypt_bytes))
    monkeypatch.setattr(EvidenceFile, "save", _noting(depth, "row", EvidenceFile.save))
    outside = len(connection.atomic_blocks)  # the test's own transaction

    services.evidence_add(
        period=q, actor=None, uploaded=SimpleUploadedFile("a.txt", b"12 came", "text/plain")
    )

    assert depth == [("check", outside), ("write", outside), ("row", outside + 1)]


def test_an_evidence_file_whose_row_fails_leaves_no_file(world, active, monkeypatch):
    from django.db import OperationalError

    from locus.programmes.models import EvidenceFile

    q = period(programme(world.a))
    before = _stored_files()

    def locked(self, *args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(EvidenceFile, "save", locked)
    with pytest.raises(OperationalError):
        services.evidence_add(
            period=q, actor=None, uploaded=SimpleUploadedFile("a.txt", b"12 came", "text/plain")
        )
    assert _stored_files() == before


def test_the_cap_is_checked_again_with_the_row_and_a_refused_file_is_deleted(
    world, active, monkeypatch
):
    """Another file may be added while this one is being checked: the cap is checked again in
    the transaction that inserts the row, and the file refused then is not kept."""
    from locus.programmes.models import EvidenceFile

    q = period(programme(world.a))
    monkeypatch.setattr(services, "MAX_FILES_PER_PERIOD", 1)
    check = services.inspect_upload

    def meanwhile(uploaded):
        EvidenceFile.objects.create(
            place=q.place, period=q, file="place-x/other.txt", mime="text/plain", size=1, sha256=""
        )
        return check(uploaded)

    monkeypatch.setattr(services, "inspect_upload", meanwhile)
    before = _stored_files()
    with pytest.raises(ValidationFailed) as refused:
        services.evidence_add(
            period=q, actor=None, uploaded=SimpleUploadedFile("a.txt", b"12 came", "text/plain")
        )
    assert "files" in refused.value.fields
    assert _stored_files() == before
    assert EvidenceFile.objects.filter(period=q).count() == 1


def _answers(survey, value, gender="female"):
    answers = {}
    for q in survey.questions.all():
        if q.dimension == "gender":
            answers[str(q.pk)] = gender
        elif q.kind == "likert":
            answers[str(q.pk)] = str(value)
    return answers


def test_survey_computes_the_indicator_with_small_number_protection(world, active):
    p = programme(world.a)
    outcome = indicator(p)
    q = period(p)
    survey = services.survey_create(indicator=outcome, period=q, actor=None, title="After")
    for _n in range(4):
        services.survey_submit(survey=survey, answers=_answers(survey, 5))
    with pytest.raises(ValidationFailed):
        services.survey_compute(survey=survey, actor=None)  # 4 < 5 answers
    for _n in range(4):
        services.survey_submit(survey=survey, answers=_answers(survey, 2, gender="male"))
    services.survey_submit(survey=survey, answers=_answers(survey, 4, gender="other"))
    result = services.survey_compute(survey=survey, actor=None)
    # 5 of 9 agree (4 fives and one four).
    assert result.value == Decimal("55.56")
    assert result.source == ResultSource.SURVEY and result.respondents == 9
    # "other" (1 answer) is hidden, and so is the next smallest group (male, 4): nothing shown
    # for gender but female (4 answers is also below 5) — so no gender breakdown at all.
    assert "gender" not in result.disaggregation
    # A survey's value is not overwritten by the results form.
    services.results_report(period=q, actor=None, values={outcome.pk: {"value": "10"}})
    result.refresh_from_db()
    assert result.value == Decimal("55.56")


def test_survey_answers_are_validated_and_anonymous(world, active):
    p = programme(world.a)
    survey = services.survey_create(indicator=indicator(p), period=period(p), actor=None, title="S")
    likert = survey.questions.get(kind="likert")
    with pytest.raises(ValidationFailed):
        services.survey_submit(survey=survey, answers={str(likert.pk): "9"})
    with pytest.raises(ValidationFailed):
        services.survey_submit(survey=survey, answers={})
    response = services.survey_submit(survey=survey, answers={str(likert.pk): "4", "name": "Alice"})
    assert response.answers == {str(likert.pk): 4}
    survey.is_open = False
    survey.save()
    with pytest.raises(ValidationFailed):
        services.survey_submit(survey=survey, answers={str(likert.pk): "4"})
    assert SurveyResponse.objects.count() == 1


def test_surveys_measure_outcomes_only(world, active):
    p = programme(world.a)
    output = indicator(p, level="output", measure="number")
    with pytest.raises(ValidationFailed) as exc:
        services.survey_create(indicator=output, period=period(p), actor=None, title="S")
    assert "indicator" in exc.value.fields


def test_before_and_after_surveys(world, active):
    p = programme(world.a)
    outcome = indicator(p)
    q = period(p)
    pre = services.survey_create(
        indicator=outcome, period=q, actor=None, title="Before", phase=SurveyPhase.PRE
    )
    post = services.survey_create(indicator=outcome, period=q, actor=None, title="After")
    for n in range(6):
        services.survey_submit(survey=pre, answers=_answers(pre, 5 if n < 2 else 2))
        services.survey_submit(survey=post, answers=_answers(post, 5 if n < 4 else 2))
    result = services.survey_compute(survey=post, actor=None)
    assert result.value == Decimal("66.67")
    assert "33.33" in result.comment
    with pytest.raises(ValidationFailed):
        services.survey_compute(survey=pre, actor=None)


def test_reminders_are_sent_once_through_the_outbox(world, active):
    from locus.directory.models import OrganisationListing
    from locus.outbox.models import OutboxMessage

    OrganisationListing.objects.filter(
        place=world.a.place, organisation=world.a.organisation
    ).update(inbox_email="team@alpha.example")
    p = programme(world.a)
    q = period(p)  # ended 2026-03-31, due 2026-04-14
    assert (
        services.reminders_send(
            place=world.a.place, base_url="https://locus.example", today=date(2026, 4, 10)
        )
        == 1
    )
    message = OutboxMessage.objects.get()
    assert message.email_to == "team@alpha.example"
    assert (
        f"https://locus.example/alpha/programmes/{p.pk}/periods/{q.pk}/" in message.payload["body"]
    )
    assert services.reminders_send(place=world.a.place, base_url="", today=date(2026, 4, 11)) == 0


def test_reminders_skip_reported_and_future_periods(world, active):
    from locus.directory.models import OrganisationListing

    OrganisationListing.objects.filter(place=world.a.place).update(inbox_email="t@alpha.example")
    p = programme(world.a)
    q = period(p)
    assert services.reminders_send(place=world.a.place, base_url="", today=date(2026, 2, 1)) == 0
    services.results_report(period=q, actor=None, values={}, submit=True)
    assert services.reminders_send(place=world.a.place, base_url="", today=date(2026, 4, 10)) == 0


def test_publish_evaluation_creates_a_library_record_for_review(world, data):
    from locus.core.tenancy import place_scope
    from locus.library.choices import RecordStatus, ResourceType

    p = data["programme"]
    p.outcome_bank = None
    with place_scope(world.a.place):
        record = services.programme_publish_evaluation(
            programme=p, actor=world.a.users["editor"], language="en"
        )
        p.refresh_from_db()
        assert p.library_record_id == record.pk
        assert record.type == ResourceType.EVALUATION
        assert record.status == RecordStatus.IN_REVIEW
        assert record.organisation_id == world.a.organisation.pk
        assert "Young people rarely meet" in record.summary  # the theory of change
        assert "Share who agree" in record.summary  # the results
        assert record.interventions == ["community_engagement"]
        with pytest.raises(ValidationFailed):
            services.programme_publish_evaluation(programme=p, actor=None)


def test_demo_programme(world):
    """The demo loader builds a full programme in a London-like place, once."""
    from locus.core.tenancy import place_scope
    from locus.core.testing.factories import AreaFactory, PlaceFactory, square
    from locus.directory.services import organisation_list_in_place
    from locus.programmes.demo import DEMO_ORGANISATION, programmes_load_demo

    london = PlaceFactory(slug="london", name="London")
    organisation = OrganisationFactory(name=DEMO_ORGANISATION)
    with place_scope(london):
        organisation_list_in_place(organisation=organisation, place=london)
        AreaFactory(place=london, name="Hackney", geometry=square(-0.06, 51.54))
        AreaFactory(place=london, name="Tower Hamlets", geometry=square(-0.03, 51.51))
    p = programmes_load_demo()
    assert programmes_load_demo().pk == p.pk
    with place_scope(london):
        assert p.periods.count() == 3
        survey_result = Result.objects.get(source=ResultSource.SURVEY)
        assert survey_result.respondents == 34 and survey_result.value is not None
        assert "gender" in survey_result.disaggregation


def test_next_period_follows_the_most_frequent_indicator(world, active):
    from locus.programmes.selectors import next_period

    p = programme(world.a)
    assert next_period(p, []) == {"start": date(2026, 1, 1), "end": date(2026, 3, 31)}
    monthly = indicator(p, frequency="monthly")
    period(p)  # January to March
    assert next_period(p, [monthly]) == {"start": date(2026, 4, 1), "end": date(2026, 4, 30)}
    period(p, start=date(2026, 4, 1), end=date(2026, 12, 31))
    assert next_period(p, [monthly]) == {}


def test_the_evaluation_summary_writes_labels_and_figures_as_the_report_does(world, data):
    """The library record is what others read: each part of the theory of change labelled as its
    language writes a label ("Le problème : …", not "le problème: …") and figures as on the report
    page ("1 200", "55", not "1200.00", "55.00")."""
    from django.utils import translation

    from locus.core.tenancy import place_scope
    from locus.programmes.models import Indicator
    from locus.programmes.reports import results_summary

    p = data["programme"]
    with place_scope(world.a.place):
        Indicator.objects.filter(pk=data["output"].pk).update(target=Decimal("1200"))
        english = results_summary(p, language="en")
        with translation.override("fr"):
            french = results_summary(p, language="fr")
    assert "The problem: Young people rarely meet" in english
    assert "People taking part — baseline 0, target 1,200, latest 40" in english
    assert ".00" not in english
    assert "Le problème\u00a0: Young people rarely meet" in french
    assert "cible 1\u202f200, dernière valeur 40" in french
    assert "55" in french and ".00" not in french
