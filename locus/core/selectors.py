"""Reads for plumbing shared by every app: jobs, audit events, the service's health."""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from . import pulse
from .models import AuditEvent, Job


def access_job(*, place, job_id):
    """The job of this place with this id, or None (same answer for missing and not yours),
    with the progress its work wrote outside the row while it runs (`core.pulse`)."""
    job = Job.objects.filter(place=place, pk=job_id).first()
    return None if job is None else pulse.overlay([job])[0]


def job_list(*, place, limit=50):
    return pulse.overlay(Job.objects.filter(place=place).select_related("created_by")[:limit])


def audit_event_list(*, place=None, actor=None, limit=200):
    events = AuditEvent.objects.select_related("actor", "place")
    if place is not None:
        events = events.filter(place=place)
    if actor is not None:
        events = events.filter(actor=actor)
    return events[:limit]


def service_health(*, now=None):
    """{"database": "ok" | "unavailable", "tasks": "ok" | "late" | "unknown"}: whether the
    database answers, and whether a background task has waited longer than
    `LOCUS_HEALTH_TASK_LAG` seconds to start (no worker is running, or it is stuck: reports
    are still stored, but routing and deliveries wait). Names nothing and counts nothing, so
    the public health endpoint can show it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return {"database": "unavailable", "tasks": "unknown"}
    from django_tasks_db.models import DBTaskResult, get_date_max

    cutoff = (now or timezone.now()) - timedelta(seconds=settings.LOCUS_HEALTH_TASK_LAG)
    due_long_ago = Q(run_after=get_date_max(), enqueued_at__lt=cutoff) | Q(run_after__lt=cutoff)
    try:
        late = DBTaskResult.objects.ready().filter(due_long_ago).exists()
    except DatabaseError:  # the queue cannot be read (the connection dropped, no such table)
        return {"database": "ok", "tasks": "unknown"}
    return {"database": "ok", "tasks": "late" if late else "ok"}
