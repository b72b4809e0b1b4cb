"""Scheduled work for reports. Enqueue `purge_expired_all` once a day from a scheduler (or run
`manage.py purge_expired` from cron; docs/operations.md, "Retention and reconciliation")."""

import logging

from django.tasks import task

from locus.core.tenancy import place_scope

logger = logging.getLogger(__name__)


@task()
def purge_expired_all():
    """Apply the retention periods of every place (deactivated ones too: the reports they
    hold must still go when their time is up), each inside its own place, then
    delete the library's files that no record names (as `manage.py purge_expired`). One
    failing place is logged and does not stop the others, but the task then fails (so the
    scheduler shows it). Returns {"places": {slug: counts}, "library": counts}: counts only,
    no personal data."""
    from locus.library.files import files_purge_orphans
    from locus.places.selectors import place_list

    from .retention import purge_expired

    results, failed = {}, []
    for place in place_list(include_inactive=True).order_by("slug"):
        try:
            with place_scope(place):
                results[place.slug] = purge_expired(place=place).as_dict()
        except Exception:
            logger.exception("retention purge failed for place=%s", place.pk)
            failed.append(place.slug)
    library = {"orphan_files_deleted": files_purge_orphans()}
    if failed:
        raise RuntimeError(f"retention purge failed for: {', '.join(failed)} (see the log)")
    return {"places": results, "library": library}
