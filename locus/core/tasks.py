"""Task helpers: every task takes ids (never objects) and runs inside its place.

A task is queued after the commit of the rows it reads (`enqueue_on_commit`). Queuing it can
fail (the queue's table locked, the database gone for a moment) when the change is already
committed: that is logged, never raised, and a sweep does the work instead — for a watched
`Job`, `start_stalled_jobs_everywhere` (run by `manage.py deliver_outbox`) starts it through
the task declared for its kind (`job_task`). A job whose worker died while running it is failed
by `fail_abandoned_jobs_everywhere`, in the same sweep.
"""

import functools
import logging

import django.tasks
from django.db import transaction

from .tenancy import place_scope

logger = logging.getLogger(__name__)

# Job kind → the task that runs such a job (keyword arguments place_id and job_id).
JOB_TASKS = {}


def in_place(func):
    """Decorate a task body taking `place_id` so it runs with that place active."""

    @functools.wraps(func)
    def wrapper(*, place_id, **kwargs):
        from locus.places.models import Place

        place = Place.objects.get(pk=place_id)
        with place_scope(place):
            return func(place=place, **kwargs)

    return wrapper


def job_task(kind):
    """Declare the task that runs jobs of `kind` (above `@task()`), so the sweep can start a
    job whose task was never queued. The task's body must claim the job with
    `core.services.job_start` and stop when that fails: the task and the sweep may both try.
    It runs in the language of the person who started the job (`core.services.job_language`),
    who reads its log."""

    def register(job_runner):
        JOB_TASKS[kind] = job_runner
        return job_runner

    return register


def enqueue_on_commit(task, **kwargs):
    """Enqueue after the surrounding transaction commits, so the worker sees the rows.

    Never raises: by then the change is committed, and raising would answer a saved import
    (or file) with an error page. A task that cannot be queued is logged; a job's is started
    by the sweep (`core.services.jobs_start_stalled`)."""

    def enqueue():
        try:
            task.enqueue(**kwargs)
        except Exception:
            logger.warning(
                "tasks: could not queue %s %s after its commit; a queued job is started by "
                "the sweep (deliver_outbox)",
                getattr(task, "name", task),
                kwargs,
                exc_info=True,
            )

    transaction.on_commit(enqueue)


def counts_per_place(sweep):
    """Run `sweep(place=…)` for every place, that place active: {slug: count} for the places
    where it did something (what the sweeps report)."""
    from locus.places.selectors import place_list

    counts = {}
    for place in place_list().order_by("slug"):
        with place_scope(place):
            count = sweep(place=place)
        if count:
            counts[place.slug] = count
    return counts


@django.tasks.task()
def start_stalled_jobs_everywhere():
    """The sweep's safety net for jobs across places (`core.services.jobs_start_stalled`).
    Returns {slug: count started} for places with any."""
    from .services import jobs_start_stalled

    return counts_per_place(jobs_start_stalled)


@django.tasks.task()
def fail_abandoned_jobs_everywhere():
    """The sweep's net for jobs whose worker died mid-run (`core.services.jobs_fail_abandoned`).
    Returns {slug: count failed} for places with any."""
    from .services import jobs_fail_abandoned

    return counts_per_place(jobs_fail_abandoned)
