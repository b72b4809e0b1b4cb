"""Writes for plumbing shared by every app: audit events and jobs."""

import logging

from django.db import transaction
from django.utils import timezone

from .choices import JobStatus
from .models import AuditEvent, Job

logger = logging.getLogger(__name__)


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
    )


def job_start(*, job):
    job.status = JobStatus.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])


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
