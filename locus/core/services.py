"""Writes for plumbing shared by every app: audit events and jobs."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .choices import JobStatus
from .models import AuditEvent, Job

logger = logging.getLogger(__name__)

# A job still queued this long after it was created has no task that will run it (or one far
# behind in the queue): the sweep starts it (`jobs_start_stalled`).
JOB_STALL = timedelta(minutes=5)
# A running job silent this long (no log line, no progress) lost its worker — killed, or the
# machine restarted — and the sweep fails it (`jobs_fail_abandoned`). The imports' longest
# silence is their one transaction: seconds at their size limits (docs/architecture.md).
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
    """Append one line to the job's log (visible to the person watching). No personal data."""
    job.updated_at = timezone.now()
    job.log = [
        *job.log,
        {"at": job.updated_at.isoformat(), "level": level, "message": str(message)},
    ]
    job.save(update_fields=["log", "updated_at"])


def job_progress(*, job, progress):
    job.progress = max(0, min(100, int(progress)))
    job.updated_at = timezone.now()
    job.save(update_fields=["progress", "updated_at"])


def job_finish(*, job, result=None, failed=False):
    job.status = JobStatus.FAILED if failed else JobStatus.SUCCEEDED
    job.progress = 100 if not failed else job.progress
    job.result = result or {}
    job.finished_at = job.updated_at = timezone.now()
    job.payload = ""  # the input is no longer needed once the job has run
    job.save(update_fields=["status", "progress", "result", "finished_at", "updated_at", "payload"])
    return job


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
    or showed life since it was read (its worker was slow, not gone) is left as it is. On
    PostgreSQL a row locked by a live transaction (an import writing its progress) is skipped,
    never waited for. Every import is one transaction, so nothing was left half-imported."""
    now = now or timezone.now()
    still_silent = Job.objects.filter(
        place=place, pk=job.pk, status=JobStatus.RUNNING, updated_at__lt=now - JOB_SILENCE
    )
    if connection.features.has_select_for_update_skip_locked and not list(
        still_silent.select_for_update(skip_locked=True).values_list("pk")
    ):
        return False
    with job_language(job=job, place=place):
        message = _(
            "The job stopped: the worker running it was shut down or restarted. An import is "
            "saved whole or not at all, so nothing was left half-imported: import the file again."
        )
    line = {"at": now.isoformat(), "level": "error", "message": message}
    return bool(
        still_silent.update(
            status=JobStatus.FAILED,
            log=[*job.log, line],
            result={"message": message, "code": "worker_stopped"},
            finished_at=now,
            updated_at=now,
            payload="",
        )
    )
