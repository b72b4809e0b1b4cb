"""Background work of the insights app: keeping the roll-up current off the request path."""

from django.tasks import task

from locus.core.tasks import in_place


@task()
@in_place
def refresh_rollup(*, place, rebuild=False):
    """Refresh the place's roll-up (or rebuild it). Enqueue with `place_id` only."""
    from .services import rollup_rebuild, rollup_refresh

    if rebuild:
        return {"rows": rollup_rebuild(place=place)}
    return rollup_refresh(place=place) or {}
