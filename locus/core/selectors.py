"""Reads for plumbing shared by every app: jobs, audit events, the service's health."""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from . import pulse
from .models import AuditEvent, Heartbeat, Job


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
    """{"database": "ok" | "unavailable", "tasks": "ok" | "late" | "unknown", "deliveries":
    "ok" | "stopped" | "behind" | "unknown"}: whether the database answers, whether a
    background task has waited longer than `LOCUS_HEALTH_TASK_LAG` seconds to start (no worker
    is running, or it is stuck: reports are still stored, but routing and deliveries wait), and
    whether an outbox message has been due longer than `LOCUS_HEALTH_DELIVERY_LAG` seconds
    (`deliveries_health`). Names nothing and counts nothing, so the public health endpoint can
    show it."""
    now = now or timezone.now()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return {"database": "unavailable", "tasks": "unknown", "deliveries": "unknown"}
    return {"database": "ok", "tasks": _tasks_health(now), "deliveries": deliveries_health(now)}


def _tasks_health(now):
    from django_tasks_db.models import DBTaskResult, get_date_max

    cutoff = now - timedelta(seconds=settings.LOCUS_HEALTH_TASK_LAG)
    due_long_ago = Q(run_after=get_date_max(), enqueued_at__lt=cutoff) | Q(run_after__lt=cutoff)
    try:
        late = DBTaskResult.objects.ready().filter(due_long_ago).exists()
    except DatabaseError:  # the queue cannot be read (the connection dropped, no such table)
        return "unknown"
    return "late" if late else "ok"


def deliveries_health(now):
    """Retries, and first attempts whose task was lost, are made only by the sweep (`manage.py
    deliver_outbox`, cron or a sidecar), which no task queue watches. "ok" while no message has
    been due for longer than the lag; otherwise "stopped" when the sweep has not run within the
    lag either (or never: it is not scheduled, or it fails before its first batch), "behind"
    when it runs but messages still wait (a backlog, or receivers so slow that a sweep outlasts
    the lag)."""
    from locus.outbox.sweep import HEARTBEAT, overdue_exists

    cutoff = now - timedelta(seconds=settings.LOCUS_HEALTH_DELIVERY_LAG)
    try:
        if not overdue_exists(cutoff=cutoff):
            return "ok"
        last_sweep = Heartbeat.objects.filter(name=HEARTBEAT).values_list("at", flat=True).first()
    except DatabaseError:
        return "unknown"
    return "behind" if last_sweep is not None and last_sweep >= cutoff else "stopped"
