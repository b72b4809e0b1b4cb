"""Watched jobs and their tasks: a job is run once even when its task and the sweep both try,
every kind of job has a task the sweep can start (`core.services.jobs_start_stalled`), and the
worker writes the log in the language of the person who started the job."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules

from locus.core.choices import JobStatus
from locus.core.models import Job
from locus.core.services import JOB_STALL, job_create, job_start, jobs_start_stalled
from locus.core.tasks import JOB_TASKS

pytestmark = pytest.mark.django_db

KINDS = ("areas.import", "indicators.import", "directory.hsds_import")


def test_every_import_has_a_task_the_sweep_can_start():
    autodiscover_modules("tasks")
    assert set(KINDS) <= set(JOB_TASKS)


@pytest.mark.parametrize("kind", KINDS)
def test_a_job_claimed_already_is_not_run_again(world, in_place, kind):
    """Its task and the sweep may both try: the second finds the job claimed and stops."""
    autodiscover_modules("tasks")
    place = world.a.place
    with in_place(place):
        job = job_create(place=place, kind=kind, title="Import", payload="not read")
        assert job_start(job=job) is True
        assert job_start(job=Job.objects.get(pk=job.pk)) is False

    JOB_TASKS[kind].call(place_id=place.pk, job_id=job.pk)

    with in_place(place):
        job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.log == [] and job.finished_at is None


def test_the_sweep_starts_only_jobs_queued_too_long_of_its_place(world, in_place):
    """A young job's task may be about to run; other places' jobs are swept in their own
    place; running and finished jobs are left alone."""
    a, b = world.a.place, world.b.place
    old = timezone.now() - JOB_STALL - timedelta(seconds=1)
    made = {}
    for place, name in ((a, "old"), (a, "young"), (a, "running"), (b, "other")):
        with in_place(place):
            job = job_create(
                place=place,
                kind="areas.import",
                title=name,
                params={"name_property": "name"},
                payload="{}",
            )
            if name != "young":
                Job.objects.filter(pk=job.pk).update(created_at=old)
            if name == "running":
                job_start(job=job)
            made[name] = job

    with in_place(a):
        assert jobs_start_stalled(place=a) == 1
        statuses = {
            name: Job.objects.get(pk=made[name].pk).status for name in made if name != "other"
        }
    assert statuses["old"] == JobStatus.FAILED  # "{}" is no feature collection: it ran
    assert statuses["young"] == JobStatus.QUEUED and statuses["running"] == JobStatus.RUNNING
    with in_place(b):
        assert Job.objects.get(pk=made["other"].pk).status == JobStatus.QUEUED


@pytest.mark.parametrize("kind", KINDS)
def test_the_worker_writes_the_log_in_the_language_of_who_started_the_job(world, in_place, kind):
    """The worker has no request (its language is the site's default): without the job's
    language a French-speaking person would read an English log."""
    autodiscover_modules("tasks")
    place = world.a.place
    with in_place(place), translation.override("fr"):
        job = job_create(place=place, kind=kind, title="Import", payload="x", params={})
    with translation.override("en"):  # the worker's
        JOB_TASKS[kind].call(place_id=place.pk, job_id=job.pk)
    with in_place(place):
        job.refresh_from_db()
    assert job.log[0]["message"] in {"Lecture du fichier.", "Lecture des données."}
    assert translation.get_language() == "en"
