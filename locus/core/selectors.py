from .models import AuditEvent, Job


def access_job(*, place, job_id):
    """The job of this place with this id, or None (same answer for missing and not yours)."""
    return Job.objects.filter(place=place, pk=job_id).first()


def job_list(*, place, limit=50):
    return Job.objects.filter(place=place).select_related("created_by")[:limit]


def audit_event_list(*, place=None, actor=None, limit=200):
    events = AuditEvent.objects.select_related("actor", "place")
    if place is not None:
        events = events.filter(place=place)
    if actor is not None:
        events = events.filter(actor=actor)
    return events[:limit]
