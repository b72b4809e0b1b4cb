"""Deleting an indicator (only without results or survey answers) and an evidence file (the
stored bytes too), each audited, through a confirmation page and a POST."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.models import AuditEvent
from locus.core.tenancy import place_scope
from locus.programmes import services
from locus.programmes.models import EvidenceFile, Indicator, Survey

from .factories import indicator, period, programme
from .test_views import _cso_editor

pytestmark = pytest.mark.django_db


def _file(q, content=b"Attendance: 12 people"):
    return services.evidence_add(
        period=q, actor=None, uploaded=SimpleUploadedFile("sheet.txt", content, "text/plain")
    )


def _answer(survey):
    answers = {}
    for question in survey.questions.all():
        answers[str(question.pk)] = "female" if question.dimension == "gender" else "4"
        if question.dimension == "age":
            answers[str(question.pk)] = question.options[0]
    services.survey_submit(survey=survey, answers=answers)


def test_indicator_with_results_is_refused(world, active, data):
    with pytest.raises(ValidationFailed) as refused:
        services.indicator_delete(indicator=data["outcome"], actor=None)
    assert refused.value.code == "has_results" and "indicator" in refused.value.fields
    assert Indicator.objects.filter(pk=data["outcome"].pk).exists()
    assert not AuditEvent.objects.filter(data__change="indicator_deleted").exists()


def test_indicator_with_survey_answers_but_no_result_is_refused(world, active):
    p = programme(world.a)
    i = indicator(p)
    survey = services.survey_create(indicator=i, period=period(p), actor=None, title="After")
    _answer(survey)
    with pytest.raises(ValidationFailed):
        services.indicator_delete(indicator=i, actor=None)
    assert Indicator.objects.filter(pk=i.pk).exists()


def test_indicator_without_results_is_deleted_with_its_empty_surveys_and_audited(world, active):
    p = programme(world.a)
    keep = indicator(p, title="Kept")
    gone = indicator(p, title="Dropped measure", bank_code="cls_trust_neighbours")
    services.survey_create(indicator=gone, period=period(p), actor=None, title="After")
    actor = world.a.users["editor"]
    gone_pk, title = gone.pk, gone.title
    services.indicator_delete(indicator=gone, actor=actor)
    assert list(Indicator.objects.filter(programme=p)) == [keep]
    assert not Survey.objects.filter(indicator_id=gone_pk).exists()
    event = AuditEvent.objects.get(data__change="indicator_deleted")
    assert event.action == AuditAction.PROGRAMME_CHANGED and event.actor == actor
    assert event.data["indicator"] == gone_pk and event.data["surveys_deleted"] == 1
    assert event.data["title"] == title and event.data["bank_code"] == "cls_trust_neighbours"


def test_evidence_delete_removes_the_stored_file_and_audits(
    world, active, django_capture_on_commit_callbacks
):
    p = programme(world.a)
    q = period(p)
    evidence = _file(q)
    name, storage, pk = evidence.file.name, evidence.file.storage, evidence.pk
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_delete(evidence=evidence, actor=world.a.users["editor"])
    assert not EvidenceFile.objects.filter(pk=pk).exists()
    assert not storage.exists(name)
    event = AuditEvent.objects.filter(action=AuditAction.RESULTS_REPORTED).latest("id")
    assert event.data["file_deleted"] == pk and "name" not in event.data
    assert "sheet" not in str(event.data)  # a file's name may name a person
    assert event.data["sha256"] == evidence.sha256 and event.data["programme"] == p.pk


def test_rolled_back_evidence_delete_keeps_the_file(world, active):
    from django.db import transaction

    evidence = _file(period(programme(world.a)))
    name, storage, pk = evidence.file.name, evidence.file.storage, evidence.pk

    class Stop(Exception):
        pass

    with pytest.raises(Stop), transaction.atomic():
        services.evidence_delete(evidence=evidence, actor=None)
        raise Stop
    assert EvidenceFile.objects.filter(pk=pk).exists() and storage.exists(name)


# --- pages ---------------------------------------------------------------------------------


def test_indicator_delete_page_confirms_then_deletes(world, client):
    p = programme(world.a)
    i = indicator(p, title="A measure to drop")
    client.force_login(world.a.users["editor"])
    detail = client.get(f"/alpha/programmes/{p.pk}/").content.decode()
    url = f"/alpha/programmes/{p.pk}/indicators/{i.pk}/delete/"
    assert url in detail
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "A measure to drop" in body and 'method="post"' in body
    with place_scope(world.a.place):
        assert Indicator.objects.filter(pk=i.pk).exists()  # GET deletes nothing
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == f"/alpha/programmes/{p.pk}/"
    with place_scope(world.a.place):
        assert not Indicator.objects.filter(pk=i.pk).exists()
    assert client.post(url).status_code == 404


def test_indicator_delete_page_refuses_when_results_exist(world, client, data):
    p, i = data["programme"], data["outcome"]
    client.force_login(world.a.users["editor"])
    url = f"/alpha/programmes/{p.pk}/indicators/{i.pk}/delete/"
    assert url not in client.get(f"/alpha/programmes/{p.pk}/").content.decode()
    page = client.get(url).content.decode()
    assert "cannot be deleted" in page and "Delete the indicator</button>" not in page
    response = client.post(url)
    assert response.status_code == 409
    assert "cannot be deleted" in response.content.decode()
    with place_scope(world.a.place):
        assert Indicator.objects.filter(pk=i.pk).exists()


def test_evidence_delete_page_confirms_then_deletes(
    world, client, data, django_capture_on_commit_callbacks
):
    p, q = data["programme"], data["period"]
    with place_scope(world.a.place):
        evidence = _file(q)
    name, storage = evidence.file.name, evidence.file.storage
    client.force_login(world.a.users["editor"])
    results = f"/alpha/programmes/{p.pk}/periods/{q.pk}/"
    url = f"{results}files/{evidence.pk}/delete/"
    assert url in client.get(results).content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "sheet.txt" in page.content.decode()
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and response["Location"] == results
    with place_scope(world.a.place):
        assert not EvidenceFile.objects.filter(pk=evidence.pk).exists()
    assert not storage.exists(name)
    assert client.post(url).status_code == 404


def test_another_organisation_cannot_delete(world, client, data):
    """Same place, another organisation's editor: neither page finds the objects."""
    p, q = data["programme"], data["period"]
    with place_scope(world.a.place):
        evidence = _file(q)
        bare = indicator(p, title="No results yet")
    user, _charity = _cso_editor(world.a)
    client.force_login(user)
    for url in (
        f"/alpha/programmes/{p.pk}/indicators/{bare.pk}/delete/",
        f"/alpha/programmes/{p.pk}/periods/{q.pk}/files/{evidence.pk}/delete/",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    with place_scope(world.a.place):
        assert Indicator.objects.filter(pk=bare.pk).exists()
        assert EvidenceFile.objects.filter(pk=evidence.pk).exists()


def _column(pk):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT original_name FROM programmes_evidencefile WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_an_evidence_files_name_is_encrypted_at_rest(world, active):
    """An attendance sheet's name can name people: it is kept encrypted, like the file."""
    evidence = services.evidence_add(
        period=period(programme(world.a)),
        actor=None,
        uploaded=SimpleUploadedFile("attendance Amira K.txt", b"Amira K", "text/plain"),
    )
    stored = _column(evidence.pk)
    assert "Amira" not in stored and stored.startswith("gAAAAA")
    assert EvidenceFile.objects.get(pk=evidence.pk).original_name == "attendance Amira K.txt"


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_names_stored_before_and_its_reverse_decrypts_them(world):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    q = period(programme(world.a))
    with place_scope(world.a.place):
        after_upgrade = _file(q)
    before = [("programmes", "0001_programmes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    assert _column(after_upgrade.pk) == "sheet.txt"  # the reverse decrypted it
    executor.loader.build_graph()
    old_model = executor.loader.project_state(before).apps.get_model("programmes", "EvidenceFile")
    old = old_model._base_manager.create(
        place_id=world.a.place.pk,
        period_id=q.pk,
        file=f"place-{world.a.place.pk}/old.txt",
        original_name="attendance Åsa Lind.txt",
        mime="text/plain",
        size=8,
        sha256="0" * 64,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("programmes"))

    assert "Åsa" not in _column(old.pk) and "sheet" not in _column(after_upgrade.pk)
    with place_scope(world.a.place):
        names = dict(EvidenceFile.objects.values_list("pk", "original_name"))
    assert names == {old.pk: "attendance Åsa Lind.txt", after_upgrade.pk: "sheet.txt"}
    # Run again (or over rows the new code wrote), it leaves tokens as they are.
    tokens = {pk: _column(pk) for pk in names}
    migration = import_module("locus.programmes.migrations.0003_evidence_name_encrypt_existing")
    migration.encrypt_names(apps, SimpleNamespace(connection=connection))
    assert {pk: _column(pk) for pk in names} == tokens
    after_upgrade.file.storage.delete(after_upgrade.file.name)
