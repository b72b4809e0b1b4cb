from django.tasks import task

from locus.core.tasks import counts_per_place, in_place


@task()
@in_place
def route_report(*, place, report_id):
    """Route one report once its submission has committed. Enqueued in the submission's own
    transaction, so the task exists exactly when the report does; routing is idempotent, so a
    second run (the sweep, a retry) changes nothing. Returns the number of destinations."""
    from locus.reporting.models import Report

    from .services import report_route

    report = Report.objects.filter(place=place, pk=report_id).first()
    if report is None or report.anonymised_at is not None:  # erased before it was routed
        return None
    return len(report_route(report=report))


@task()
def route_pending_everywhere():
    """The sweep's safety net across places: route every report whose routing task was lost
    or failed (see `reports_route_pending`). Returns {slug: count routed} for places with any."""
    from .services import reports_route_pending

    return counts_per_place(reports_route_pending)
