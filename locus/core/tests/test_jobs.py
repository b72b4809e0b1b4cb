"""Watched jobs and their tasks: a job is run once even when its task and the sweep both try,
every kind of job has a task the sweep can start (`core.services.jobs_start_stalled`), a job
whose worker died is failed by the sweep (`jobs_fail_abandoned`), and the worker writes the log
in the language of the person who started the job."""

import io
import json
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules

from locus.core import pulse
from locus.core.choices import JobStatus
from locus.core.models import Job
from locus.core.selectors import access_job
from locus.core.services import (
    JOB_SILENCE,
    JOB_STALL,
    PULSE_EVERY,
    job_create,
    job_fail_abandoned,
    job_finish,
    job_log,
    job_progress,
    job_pulse,
    job_start,
    jobs_fail_abandoned,
    jobs_start_stalled,
)
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


# --- a job whose worker died ---


def running_job(place, in_place, *, silent_for, title="Import", language="en"):
    """A job that started, logged a line and then showed no sign of life for `silent_for`."""
    with in_place(place), translation.override(language):
        job = job_create(
            place=place, kind="areas.import", title=title, payload="{}", params={"a": 1}
        )
        assert job_start(job=job)
        job_log(job=job, message="Reading the file.")
        job_progress(job=job, progress=10)
        Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - silent_for)
        job.refresh_from_db()
    return job


def test_every_write_to_a_job_is_a_sign_of_life(world, in_place):
    place = world.a.place
    with in_place(place):
        job = job_create(place=place, kind="areas.import", title="t")
        marks = [job.updated_at]
        for write in (
            lambda: job_start(job=job),
            lambda: job_log(job=job, message="m"),
            lambda: job_progress(job=job, progress=50),
            lambda: job_finish(job=job, result={}),
        ):
            write()
            stored = Job.objects.get(pk=job.pk).updated_at
            assert stored == job.updated_at and stored > marks[-1]
            marks.append(stored)


def test_a_running_job_silent_past_the_limit_is_failed_with_a_message(world, in_place):
    place = world.a.place
    job = running_job(place, in_place, silent_for=JOB_SILENCE + timedelta(seconds=1))
    with in_place(place):
        assert jobs_fail_abandoned(place=place) == 1
        job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert job.progress == 10 and job.payload == ""
    assert job.result["code"] == "worker_stopped"
    message = job.result["message"]
    assert "worker running it was shut down or restarted" in message
    assert "import the file again" in message
    assert [line["message"] for line in job.log] == ["Reading the file.", message]
    assert job.log[-1]["level"] == "error"
    with in_place(place):  # once is enough
        assert jobs_fail_abandoned(place=place) == 0


def test_the_failure_is_written_in_the_language_of_who_started_the_job(world, in_place):
    """The sweep has no request: it writes in the job's language, else the place's."""
    place = world.a.place
    job = running_job(place, in_place, silent_for=JOB_SILENCE * 2, language="fr")
    assert job.language == "fr"
    with in_place(place):
        jobs_fail_abandoned(place=place)
        job.refresh_from_db()
    assert "importez à nouveau le fichier" in job.result["message"]
    assert job.log[-1]["message"] == job.result["message"]


def test_a_job_with_recent_activity_is_not_failed(world, in_place):
    """Started long ago, but it logged or reported progress within the limit: still alive."""
    place = world.a.place
    job = running_job(place, in_place, silent_for=JOB_SILENCE - timedelta(minutes=1))
    with in_place(place):
        Job.objects.filter(pk=job.pk).update(started_at=timezone.now() - 10 * JOB_SILENCE)
        assert jobs_fail_abandoned(place=place) == 0
        job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and len(job.log) == 1


def test_finished_and_queued_jobs_and_other_places_are_untouched(world, in_place):
    a, b = world.a.place, world.b.place
    long_ago = timezone.now() - 10 * JOB_SILENCE
    with in_place(a):
        done = job_create(place=a, kind="areas.import", title="done")
        job_start(job=done)
        job_finish(job=done, result={"created": 1})
        failed = job_create(place=a, kind="areas.import", title="failed")
        job_start(job=failed)
        job_finish(job=failed, result={"message": "bad"}, failed=True)
        queued = job_create(place=a, kind="areas.import", title="queued")  # jobs_start_stalled's
        Job.objects.filter(pk__in=[done.pk, failed.pk, queued.pk]).update(updated_at=long_ago)
    other = running_job(b, in_place, silent_for=JOB_SILENCE * 2)

    with in_place(a):
        assert jobs_fail_abandoned(place=a) == 0
        after = {job.pk: job for job in Job.objects.all()}
    assert after[done.pk].status == JobStatus.SUCCEEDED and after[done.pk].result == {"created": 1}
    assert after[failed.pk].result == {"message": "bad"}
    assert after[queued.pk].status == JobStatus.QUEUED
    for job in (done, failed, queued):
        assert after[job.pk].updated_at == long_ago and after[job.pk].log == job.log
    with in_place(b):
        assert Job.objects.get(pk=other.pk).status == JobStatus.RUNNING


def test_a_job_that_finishes_between_the_read_and_the_update_keeps_its_result(world, in_place):
    """The sweep read the job as silent; its worker, slow rather than gone, finished it just
    then. The conditional UPDATE finds it finished and leaves it."""
    place = world.a.place
    read = running_job(place, in_place, silent_for=JOB_SILENCE * 2)
    with in_place(place):
        worker_copy = Job.objects.get(pk=read.pk)
        job_log(job=worker_copy, message="Imported: 2 new.")
        job_finish(job=worker_copy, result={"created": 2})

        assert job_fail_abandoned(job=read, place=place) is False
        job = Job.objects.get(pk=read.pk)
    assert job.status == JobStatus.SUCCEEDED and job.result == {"created": 2}
    assert [line["message"] for line in job.log] == ["Reading the file.", "Imported: 2 new."]


def test_a_job_that_shows_life_between_the_read_and_the_update_is_not_failed(world, in_place):
    """Its log line is not lost under the sweep's either: the sweep writes nothing."""
    place = world.a.place
    read = running_job(place, in_place, silent_for=JOB_SILENCE * 2)
    with in_place(place):
        job_progress(job=Job.objects.get(pk=read.pk), progress=60)
        assert job_fail_abandoned(job=read, place=place) is False
        job = Job.objects.get(pk=read.pk)
    assert job.status == JobStatus.RUNNING and job.progress == 60


def test_a_slow_worker_that_finishes_after_the_sweep_failed_its_job_keeps_the_failure(
    world, in_place, client_for
):
    """A finished job's state is final (the page and API clients stopped polling at it): the
    late run neither erases the sweep's line nor turns the failure into a success, and says
    truthfully what it did — its import was saved, so the file need not be imported again."""
    place = world.a.place
    job = running_job(place, in_place, silent_for=JOB_SILENCE * 2)
    with in_place(place):
        assert jobs_fail_abandoned(place=place) == 1
        stopped = Job.objects.get(pk=job.pk)
        job_progress(job=job, progress=95)  # the slow worker's last steps
        job_log(job=job, message="Imported: 2 new.")
        returned = job_finish(job=job, result={"created": 2, "updated": 1, "skipped": 0})
        assert (returned.status, returned.finished_at) == (stopped.status, stopped.finished_at)
        job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at == stopped.finished_at
    assert job.progress == stopped.progress == 10
    assert job.result["code"] == "worker_stopped"
    assert job.result["message"] == stopped.result["message"]
    late = job.result["late"]
    assert late["status"] == JobStatus.SUCCEEDED
    assert late["result"] == {"created": 2, "updated": 1, "skipped": 0}
    messages = [line["message"] for line in job.log]
    assert messages[:3] == ["Reading the file.", stopped.result["message"], "Imported: 2 new."]
    assert messages[3] == late["message"] and len(messages) == 4
    assert "saved after all (2 new, 1 updated, 0 skipped)" in late["message"]
    assert "no need to import the file again" in late["message"]

    html = client_for(world.a.users["admin"]).get(
        reverse("places:job", kwargs={"place_slug": place.slug, "job_id": job.pk})
    )
    assert html.content.decode().count(late["message"]) == 2  # under the failure, in the log


def test_a_slow_worker_that_fails_late_says_so_in_the_language_of_the_job(world, in_place):
    place = world.a.place
    job = running_job(place, in_place, silent_for=JOB_SILENCE * 2, language="fr")
    with in_place(place):
        assert jobs_fail_abandoned(place=place) == 1
        with translation.override("fr"):  # the task runs in the job's language
            job_finish(job=job, result={"message": "3 lignes ne sont pas valides."}, failed=True)
        job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.result["code"] == "worker_stopped"
    assert job.result["late"]["status"] == JobStatus.FAILED
    assert job.log[-1]["message"] == job.result["late"]["message"]
    assert "3 lignes ne sont pas valides." in job.log[-1]["message"]
    assert "n’était que lent" in job.log[-1]["message"]


def test_a_log_line_is_appended_to_the_stored_log_never_written_over_it(world, in_place):
    """Two copies of one job (the worker's, the sweep's): each line lands after the other's."""
    place = world.a.place
    with in_place(place):
        job = job_create(place=place, kind="areas.import", title="t")
        job_start(job=job)
        other = Job.objects.get(pk=job.pk)
        job_log(job=job, message="one")
        job_log(job=other, message="two")
        job_log(job=job, message="three")
        stored = Job.objects.get(pk=job.pk).log
    assert [line["message"] for line in stored] == ["one", "two", "three"]
    assert job.log == stored


def test_the_sweep_command_fails_abandoned_jobs_and_the_job_page_shows_it(
    world, in_place, client_for
):
    place = world.a.place
    job = running_job(place, in_place, silent_for=JOB_SILENCE * 2, title="Import wards")
    out = io.StringIO()
    call_command("deliver_outbox", stdout=out)
    assert f"Jobs failed, their worker stopped: {place.slug} 1" in out.getvalue()

    client = client_for(world.a.users["admin"])
    url = reverse("places:job", kwargs={"place_slug": place.slug, "job_id": job.pk})
    html = client.get(url).content.decode()
    assert "Failed" in html and 'role="alert"' in html
    assert "the worker running it was shut down or restarted" in html
    assert "hx-get" not in html  # no longer polled: the page ends
    jobs = client.get(reverse("places:jobs", kwargs={"place_slug": place.slug}))
    assert "Import wards" in jobs.content.decode() and "Failed" in jobs.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_job_locked_by_a_live_transaction_is_skipped_not_waited_for(world, in_place):
    """An import writes its progress inside its own transaction (HSDS): the row is locked by a
    worker that is alive. On PostgreSQL the sweep skips it at once (SKIP LOCKED) rather than
    waiting for the import, which would hold up the whole sweep (and the outbox behind it)."""
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SQLite has one writer at a time: the sweep waits its turn")
    place = world.a.place
    job = running_job(place, in_place, silent_for=JOB_SILENCE * 2)
    locked, release = threading.Event(), threading.Event()

    def importing():
        try:
            with transaction.atomic(), in_place(place):
                job_progress(job=Job.objects.select_for_update().get(pk=job.pk), progress=50)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=importing)
    worker.start()
    try:
        assert locked.wait(10)
        with transaction.atomic(), in_place(place):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")  # waiting would raise
            assert jobs_fail_abandoned(place=place) == 0
    finally:
        release.set()
        worker.join()
    with in_place(place):
        job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.progress == 50


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


def test_a_job_of_no_language_is_written_in_the_place_language(world, in_place):
    place = world.a.place
    place.default_language = "de"
    place.save(update_fields=["default_language"])
    job = running_job(place, in_place, silent_for=JOB_SILENCE * 2)
    with in_place(place):
        Job.objects.filter(pk=job.pk).update(language="")
        job.refresh_from_db()
        jobs_fail_abandoned(place=place)
        job.refresh_from_db()
    assert "Datei" in job.result["message"]


@pytest.mark.django_db(transaction=True)
def test_the_migrations_date_existing_jobs_by_their_last_known_moment(world):
    """A job left running before the upgrade is dated by its start, so the first sweep fails
    it; a finished one by its end. Runs on SQLite and PostgreSQL alike."""
    executor = MigrationExecutor(connection)
    before, after = (
        [("core", "0007_shared_additions_s3")],
        [("core", "0009_job_updated_at")],
    )
    executor.migrate(before)
    executor.loader.build_graph()
    old_job = executor.loader.project_state(before).apps.get_model("core", "Job")
    long_ago = timezone.now() - timedelta(days=3)
    started = old_job._base_manager.create(
        place_id=world.a.place.pk,
        kind="areas.import",
        title="t",
        status="running",
        started_at=long_ago,
    )
    finished = old_job._base_manager.create(
        place_id=world.a.place.pk,
        kind="areas.import",
        title="t",
        status="succeeded",
        started_at=long_ago,
        finished_at=long_ago + timedelta(hours=1),
    )
    queued = old_job._base_manager.create(place_id=world.a.place.pk, kind="areas.import", title="t")

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new_job = executor.loader.project_state(after).apps.get_model("core", "Job")
    rows = {j.pk: j for j in new_job._base_manager.all()}
    assert rows[started.pk].updated_at == long_ago
    assert rows[finished.pk].updated_at == long_ago + timedelta(hours=1)
    assert rows[queued.pk].updated_at == rows[queued.pk].created_at
    assert rows[started.pk].language == ""
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


# --- progress written outside the import's one transaction (core.pulse) ---


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_progress_inside_a_transaction_is_written_outside_it(world, in_place, client_for):
    """An import's steps show while its transaction runs — they survive even its rollback —
    on the job page and in the API; the row the import's own connection holds is untouched
    (SQLite: a file beside it; PostgreSQL: a second connection)."""
    place = world.a.place
    job = running_job(place, in_place, silent_for=timedelta(minutes=5))
    before = job.updated_at
    with in_place(place):
        with pytest.raises(Rollback), transaction.atomic():
            job_pulse(job=job, progress=55)
            raise Rollback
        seen = access_job(place=place, job_id=job.pk)
    assert seen.status == JobStatus.RUNNING and seen.progress == 55
    assert seen.updated_at > before

    client = client_for(world.a.users["admin"])
    page = client.get(reverse("places:job", kwargs={"place_slug": place.slug, "job_id": job.pk}))
    assert 'value="55"' in page.content.decode()
    jobs = client.get(f"/api/v1/places/{place.slug}/jobs/{job.pk}")
    assert jobs.status_code == 200 and jobs.json()["progress"] == 55


@pytest.mark.django_db(transaction=True)
def test_an_import_showing_progress_is_not_failed_as_silent(world, in_place, monkeypatch):
    """Its row says nothing for longer than the limit (the import holds it in one
    transaction), but its steps outside it are recent: alive, not failed. A step older than the
    limit does not save a job whose worker died."""
    place = world.a.place
    alive = running_job(place, in_place, silent_for=JOB_SILENCE * 2)
    dead = running_job(place, in_place, silent_for=JOB_SILENCE * 3)
    with in_place(place):
        job_pulse(job=alive, progress=40)
        pulse.write(job=dead, progress=30, at=timezone.now() - JOB_SILENCE * 2)
        assert jobs_fail_abandoned(place=place) == 1
        alive, dead = (Job.objects.get(pk=job.pk) for job in (alive, dead))
    assert alive.status == JobStatus.RUNNING and dead.status == JobStatus.FAILED
    assert pulse.last_sign(dead) is None  # its step is gone with it


def test_steps_are_written_at_most_once_a_pulse_and_cleared_at_the_end(
    world, in_place, monkeypatch
):
    written = []
    monkeypatch.setattr(pulse, "write", lambda *, job, progress, at: written.append(progress))
    place = world.a.place
    with in_place(place):
        job = job_create(place=place, kind="directory.hsds_import", title="t")
        job_start(job=job)
        for progress in (20, 30, 40):
            job_pulse(job=job, progress=progress)
        assert written == [20] and job.progress == 40  # the page polls every second
        job._pulsed_at -= PULSE_EVERY
        job_pulse(job=job, progress=50)
        assert written == [20, 50]
        cleared = []
        monkeypatch.setattr(pulse, "clear", cleared.append)
        job_finish(job=job, result={})
    assert cleared == [job]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL writes the row itself")
def test_on_sqlite_a_step_is_a_file_that_the_end_of_the_job_removes(world, in_place):
    place = world.a.place
    with in_place(place):
        job = job_create(place=place, kind="directory.hsds_import", title="t")
        job_start(job=job)
        job_pulse(job=job, progress=70)
        path = pulse._path(job.pk)
        assert json.loads(path.read_text())["progress"] == 70
        assert Job.objects.get(pk=job.pk).progress == 0  # the row waits for the commit
        job_finish(job=job, result={})
    assert not path.exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL never waits (SKIP LOCKED)")
def test_on_sqlite_the_sweep_does_not_queue_for_the_lock_of_an_import_showing_life(
    world, in_place, monkeypatch
):
    """The import holds SQLite's write lock until its commit; failing a job takes that lock.
    A job whose step on file is recent is passed over before, so the sweep (and the outbox
    deliveries after it) does not wait for the import to finish."""
    from locus.core import services

    place = world.a.place
    job = running_job(place, in_place, silent_for=JOB_SILENCE * 2)
    tried = []
    monkeypatch.setattr(services, "job_fail_abandoned", lambda **kwargs: tried.append(kwargs))
    with in_place(place):
        job_pulse(job=job, progress=40)
        assert jobs_fail_abandoned(place=place) == 0
    assert tried == []
