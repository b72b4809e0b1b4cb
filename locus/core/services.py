"""Writes for plumbing shared by every app: audit events and jobs."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import pulse
from .choices import JobStatus
from .models import AuditEvent, Heartbeat, Job

logger = logging.getLogger(__name__)

# A job still queued this long after it was created has no task that will run it (or one far
# behind in the queue): the sweep starts it (`jobs_start_stalled`).
JOB_STALL = timedelta(minutes=5)
# A running job silent this long (no log line, no progress step) lost its worker — killed, or
# the machine restarted — and the sweep fails it (`jobs_fail_abandoned`). An import's steps
# inside its one transaction count too (`job_pulse`): a long import is not silent.
JOB_SILENCE = timedelta(minutes=30)


def audit_record(*, action, actor=None, place=None, target=None, data=None):
    """Record one audit event. `target` is any model instance (stored as type + id only)."""
    event = AuditEvent(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        place=place,
        data=data or {},
    )
    if target is not None:
        event.target_type = target._meta.label_lower
        event.target_id = str(target.pk)
    event.save()
    return event


def heartbeat_stamp(*, name, now=None):
    """Record that a process outside the task queue (the sweep) is running now, for the health
    check (`selectors.service_health`)."""
    now = now or timezone.now()
    if not Heartbeat.objects.filter(name=name).update(at=now):
        Heartbeat.objects.update_or_create(name=name, defaults={"at": now})


@transaction.atomic
def job_create(*, place, kind, title, created_by=None, params=None, payload=""):
    return Job.objects.create(
        place=place,
        kind=kind,
        title=title,
        created_by=created_by,
        params=params or {},
        payload=payload,
        language=translation.get_language() or "",
    )


def job_language(*, job, place):
    """Speak the language of the person who started the job (its log is theirs to read): the
    worker has no request, so it would otherwise write in the site's default language."""
    language = job.language or place.default_language
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    return translation.override(language)


def job_start(*, job) -> bool:
    """Claim a queued job for this run: QUEUED → RUNNING by a conditional UPDATE. Its task and
    the sweep (`jobs_start_stalled`) may both try to run a job; only the one that claims it
    goes on. Returns False (and the caller stops) when the job was claimed already."""
    now = timezone.now()
    claimed = Job.objects.filter(place=job.place_id, pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, updated_at=now
    )
    if not claimed:
        return False
    job.status, job.started_at, job.updated_at = JobStatus.RUNNING, now, now
    return True


def job_log(*, job, message, level="info"):
    """Append one line to the job's log (visible to the person watching). No personal data.
    Appended to the log as stored, under the row's lock, never over it: the sweep may have
    failed the job meanwhile (`job_fail_abandoned`), and its line stays."""
    job.updated_at = timezone.now()
    line = {"at": job.updated_at.isoformat(), "level": level, "message": str(message)}
    with transaction.atomic():
        stored = Job.objects.select_for_update().filter(place=job.place_id, pk=job.pk)
        job.log = [*(stored.values_list("log", flat=True).first() or []), line]
        stored.update(log=job.log, updated_at=job.updated_at)


def job_progress(*, job, progress):
    """Record progress of a running job (a conditional UPDATE: a job the sweep failed
    meanwhile stays as it is). Work inside one long transaction uses `job_pulse`."""
    job.progress = max(0, min(100, int(progress)))
    job.updated_at = timezone.now()
    Job.objects.filter(place=job.place_id, pk=job.pk, status=JobStatus.RUNNING).update(
        progress=job.progress, updated_at=job.updated_at
    )


# The shortest time between two steps `job_pulse` writes: the job page polls every second.
PULSE_EVERY = 1.0


def job_pulse(*, job, progress):
    """Progress of work that runs inside one long transaction (an import saved whole or not
    at all): written outside it (`core.pulse`), so the person watching sees it while it runs
    and the sweep counts it as a sign of life, instead of both seeing nothing until the
    commit. At most one step every PULSE_EVERY seconds is written."""
    job.progress = max(0, min(100, int(progress)))
    job.updated_at = timezone.now()
    tick = time.monotonic()
    last = getattr(job, "_pulsed_at", None)
    if last is not None and tick - last < PULSE_EVERY:
        return
    job._pulsed_at = tick
    pulse.write(job=job, progress=job.progress, at=job.updated_at)


def job_finish(*, job, result=None, failed=False):
    """Finish a job that is still queued or running, by a conditional UPDATE under the row's
    lock. A finished job's state is final — the person watching and API clients stop polling
    at it — so when the sweep failed this job meanwhile (its worker was silent for
    JOB_SILENCE but only slow, not gone), its status and result stay, and the late outcome is
    recorded truthfully: a log line saying what the late run did (its import was saved, or not),
    repeated with the run's own status and result under `result["late"]`, which the job page
    shows."""
    status = JobStatus.FAILED if failed else JobStatus.SUCCEEDED
    result = result or {}
    now = timezone.now()
    with transaction.atomic():
        stored = Job.objects.select_for_update().filter(place=job.place_id, pk=job.pk)
        current = stored.values("status", "log", "result", "finished_at").first()
        if current is None:  # deleted meanwhile: nothing to record
            return job
        if current["status"] in {JobStatus.QUEUED, JobStatus.RUNNING}:
            job.status, job.result = status, result
            job.progress = 100 if not failed else job.progress
            job.finished_at = job.updated_at = now
            job.payload = ""  # the input is no longer needed once the job has run
            stored.update(
                status=job.status,
                progress=job.progress,
                result=job.result,
                finished_at=now,
                updated_at=now,
                payload="",
            )
        else:
            line = _late_line(status=status, result=result, now=now)
            job.log = [*current["log"], line]
            job.status, job.finished_at = current["status"], current["finished_at"]
            job.updated_at, job.payload = now, ""
            late = {"status": status, "message": line["message"], "result": result}
            job.result = {**current["result"], "late": late}
            stored.update(log=job.log, result=job.result, updated_at=now, payload="")
            logger.warning(
                "jobs: job %s of place %s finished (%s) after it had been marked %s; its state "
                "is kept and the late outcome logged",
                job.pk,
                job.place_id,
                status,
                current["status"],
            )
    pulse.clear(job)
    return job


def _late_line(*, status, result, now):
    """The log line of a run that finished after its job had been failed (the caller runs in
    the language of the job's starter)."""
    if status == JobStatus.SUCCEEDED:
        if result.get("created") is not None:
            message = _(
                "The worker was only slow: it finished after this job had been marked as "
                "stopped, and the import was saved after all (%(created)s new, %(updated)s "
                "updated, %(skipped)s skipped). There is no need to import the file again."
            ) % {
                "created": result.get("created", 0),
                "updated": result.get("updated", 0),
                "skipped": result.get("skipped", 0),
            }
        else:
            message = _(
                "The worker was only slow: it finished after this job had been marked as "
                "stopped, and its work was saved after all."
            )
    else:
        message = _(
            "The worker was only slow: it finished after this job had been marked as stopped, "
            "and failed too: %(message)s"
        ) % {"message": result.get("message") or _("Nothing was imported.")}
    return {"at": now.isoformat(), "level": "warning", "message": str(message)}


def jobs_start_stalled(*, place, now=None) -> int:
    """Run the place's jobs still queued JOB_STALL after they were created: their task was
    lost (a crash right after the commit) or could not be queued. Each runs here, through the
    task declared for its kind; a task that turns up later finds the job claimed and does
    nothing. Returns how many were started. Call it with the place active."""
    from django.utils.module_loading import autodiscover_modules

    from .tasks import JOB_TASKS

    autodiscover_modules("tasks")  # every app's job_task declarations
    cutoff = (now or timezone.now()) - JOB_STALL
    stalled = Job.objects.filter(place=place, status=JobStatus.QUEUED, created_at__lt=cutoff)
    started = 0
    for job_id, kind in stalled.order_by("created_at", "id").values_list("pk", "kind"):
        runner = JOB_TASKS.get(kind)
        if runner is None:
            logger.warning("jobs: no task runs jobs of kind %s (job %s)", kind, job_id)
            continue
        logger.warning("jobs: job %s of place %s waited without a task; started", job_id, place.pk)
        try:
            runner.call(place_id=place.pk, job_id=job_id)
        except Exception:  # one broken job must not stop the others
            logger.exception("jobs: job %s of place %s failed in the sweep", job_id, place.pk)
        started += 1
    return started


def jobs_fail_abandoned(*, place, now=None) -> int:
    """Fail the place's running jobs silent for JOB_SILENCE: their worker died (killed, the
    machine restarted) and nothing else would ever finish them — the person watching would wait
    for ever. Returns how many were failed. Call it with the place active."""
    now = now or timezone.now()
    silent = Job.objects.filter(
        place=place, status=JobStatus.RUNNING, updated_at__lt=now - JOB_SILENCE
    ).order_by("updated_at", "id")
    failed = 0
    for job in list(silent.only("pk", "place", "log", "language", "updated_at")):
        sign = pulse.last_sign(job)
        if sign is not None and sign >= now - JOB_SILENCE:
            continue  # an import alive in its transaction: not even waiting for SQLite's lock
        try:
            done = job_fail_abandoned(job=job, place=place, now=now)
        except Exception:  # one job that cannot be written must not stop the others
            logger.exception("jobs: job %s of place %s could not be failed", job.pk, place.pk)
            continue
        if done:
            logger.warning(
                "jobs: job %s of place %s was running with no sign of life since %s; its "
                "worker stopped, so it is marked failed",
                job.pk,
                place.pk,
                job.updated_at.isoformat(),
            )
            failed += 1
    return failed


@transaction.atomic
def job_fail_abandoned(*, job, place, now=None) -> bool:
    """Fail one abandoned job, with a log line saying so in its starter's language, by a
    conditional UPDATE: only if it is still running and still silent, so a job that finished
    or showed life since it was read (its worker was slow, not gone) is left as it is — life
    written outside the row included (an import's steps on file with SQLite, `core.pulse`). On
    PostgreSQL a row locked by a live transaction is skipped, never waited for. Every import is
    one transaction, so nothing was left half-imported."""
    now = now or timezone.now()
    still_silent = Job.objects.filter(
        place=place, pk=job.pk, status=JobStatus.RUNNING, updated_at__lt=now - JOB_SILENCE
    )
    if connection.features.has_select_for_update_skip_locked and not list(
        still_silent.select_for_update(skip_locked=True).values_list("pk")
    ):
        return False
    # With SQLite this transaction holds the write lock: an import still running cannot
    # commit now, and its last step on file says whether it is alive.
    sign = pulse.last_sign(job)
    if sign is not None and sign >= now - JOB_SILENCE:
        return False
    with job_language(job=job, place=place):
        message = _(
            "The job stopped: the worker running it was shut down or restarted. An import is "
            "saved whole or not at all, so nothing was left half-imported: import the file again."
        )
    line = {"at": now.isoformat(), "level": "error", "message": message}
    failed = still_silent.update(
        status=JobStatus.FAILED,
        log=[*job.log, line],
        result={"message": message, "code": "worker_stopped"},
        finished_at=now,
        updated_at=now,
        payload="",
    )
    if failed:
        pulse.clear(job)
    return bool(failed)
