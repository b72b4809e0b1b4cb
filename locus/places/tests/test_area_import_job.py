"""The area-import job body: it always ends as succeeded or failed, never stuck in "running"."""

import logging

import pytest

from locus.core.choices import JobStatus
from locus.places import services
from locus.places.models import Area

from .geojson import boroughs, collection


def start_job(place, actor, raw, in_place, django_capture_on_commit_callbacks, **kwargs):
    with in_place(place), django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = services.areas_import_job_start(
            place=place,
            raw=raw,
            name_property="name",
            actor=actor,
            filename="wards.geojson",
            **kwargs,
        )
    assert len(callbacks) == 1
    job.refresh_from_db()
    return job


def area_names(place, in_place):
    with in_place(place):
        return set(Area.objects.values_list("name", flat=True))


def test_the_job_runs_on_commit_and_succeeds(world, in_place, django_capture_on_commit_callbacks):
    job = start_job(
        world.a.place,
        world.a.users["admin"],
        collection(*boroughs(2)),
        in_place,
        django_capture_on_commit_callbacks,
    )
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["created"] == 2
    assert {"Borough 0", "Borough 1"} <= area_names(world.a.place, in_place)


@pytest.mark.parametrize("where", ["areas_import", "parse_area_features"])
def test_an_unexpected_error_fails_the_job_with_a_clear_message(
    world, in_place, django_capture_on_commit_callbacks, monkeypatch, caplog, where
):
    def explode(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, where, lambda *args, **kwargs: explode())
    before = area_names(world.a.place, in_place)

    with caplog.at_level(logging.ERROR, logger="locus.places.services"):
        job = start_job(
            world.a.place,
            world.a.users["admin"],
            collection(*boroughs(2)),
            in_place,
            django_capture_on_commit_callbacks,
        )

    assert job.status == JobStatus.FAILED  # not stuck in "running"
    assert job.finished_at is not None
    assert job.payload == ""
    last = job.log[-1]
    assert last["level"] == "error"
    assert last["message"] == "An unexpected error stopped the import. Nothing was imported."
    assert job.result == {"message": last["message"], "code": "unexpected_error"}
    assert "database went away" not in str(job.log) + str(
        job.result
    )  # internals stay in the server log
    [record] = [r for r in caplog.records if r.name == "locus.places.services"]
    assert record.exc_info and record.exc_info[0] is RuntimeError
    assert str(job.pk) in record.getMessage()
    assert area_names(world.a.place, in_place) == before


def test_an_error_midway_through_the_import_rolls_every_area_back(
    world, in_place, django_capture_on_commit_callbacks, monkeypatch
):
    real_save = Area.save
    calls = {"n": 0}

    def failing_save(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Area, "save", failing_save)
    before = area_names(world.a.place, in_place)
    job = start_job(
        world.a.place,
        world.a.users["admin"],
        collection(*boroughs(5)),
        in_place,
        django_capture_on_commit_callbacks,
    )
    assert calls["n"] == 3
    assert job.status == JobStatus.FAILED
    assert area_names(world.a.place, in_place) == before  # all or nothing, even on a crash


@pytest.mark.parametrize(("language", "line"), [("fr", "Lecture du fichier."), ("en", None)])
def test_the_log_speaks_the_language_of_the_person_who_started_it(
    world, in_place, django_capture_on_commit_callbacks, language, line
):
    """The worker has no request (nor its language): the log was in English under a French
    title, on a French page."""
    from django.utils import translation

    place = world.a.place  # its default language is English
    with (
        translation.override(language),
        in_place(place),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        job = services.areas_import_job_start(
            place=place,
            raw=collection(*boroughs(2)),
            name_property="name",
            actor=world.a.users["admin"],
            filename="wards.geojson",
        )
    with translation.override("de"):  # whatever the worker's own language is
        for callback in callbacks:
            callback()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.log[0]["message"] == (line or "Reading the file.")
