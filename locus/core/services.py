"""Writes for plumbing shared by every app: audit events and jobs."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from .choices import JobStatus
from .models import AuditEvent, Job

logger = logging.getLogger(__name__)

# A job still queued this long after it was created has no task that will run it (or one far
# behind in the queue): the sweep starts it (`jobs_start_stalled`).
JOB_STALL = timedelta(minutes=5)


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
        status=JobStatus.RUNNING, started_at=now
    )
    if not claimed:
        return False
    job.status, job.started_at = JobStatus.RUNNING, now
    return True


def job_log(*, job, message, level="info"):
    """Append one line to the job's log (visible to the person watching). No personal data."""
    job.log = [
        *job.log,
        {"at": timezone.now().isoformat(), "level": level, "message": str(message)},
    ]
    job.save(update_fields=["log"])


def job_progress(*, job, progress):
    job.progress = max(0, min(100, int(progress)))
    job.save(update_fields=["progress"])


def job_finish(*, job, result=None, failed=False):
    job.status = JobStatus.FAILED if failed else JobStatus.SUCCEEDED
    job.progress = 100 if not failed else job.progress
    job.result = result or {}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "progress", "result", "finished_at"])
    job.payload = ""  # the input is no longer needed once the job has run
    job.save(update_fields=["payload"])
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
