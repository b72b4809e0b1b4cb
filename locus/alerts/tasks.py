"""Scheduled spike detection. Enqueue `detect_spikes_all` once a week (Monday morning) from a
scheduler, or run `manage.py detect_spikes` from cron (docs/insights.md, "Alerts"). Running it
again in the same week changes nothing: alarms are stored once per series and week."""

import logging

from django.tasks import task

from locus.core.tasks import in_place
from locus.core.tenancy import place_scope

logger = logging.getLogger(__name__)


@task()
def detect_spikes_all():
    """Judge the last week that has ended in every active place, each inside its own place.
    One failing place is logged and does not stop the others, but the task then fails (so the
    scheduler shows it). Returns {slug: counts}."""
    from locus.places.selectors import place_list

    from .services import detection_run

    results, failed = {}, []
    for place in place_list().order_by("slug"):
        try:
            with place_scope(place):
                summary = detection_run(place=place)
            results[place.slug] = {
                "series": summary.series,
                "alarms": len(summary.alarms),
                "new": len(summary.new_alarms),
            }
        except Exception:
            logger.exception("spike detection failed for place=%s", place.pk)
            failed.append(place.slug)
    if failed:
        raise RuntimeError(f"spike detection failed for: {', '.join(failed)} (see the log)")
    return results


@task()
@in_place
def detect_spikes(*, place, since=None):
    """One place: the last week that has ended, or every week since `since` (ISO date)."""
    from datetime import date

    from .services import detection_run, detection_run_since

    if since:
        summaries = detection_run_since(place=place, since=date.fromisoformat(since))
    else:
        summaries = [detection_run(place=place)]
    return [summary.line() for summary in summaries]
