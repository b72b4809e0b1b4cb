"""The writes of a report submission, prepared once per process (docs/operations.md, "Intake").

A submission writes three rows (the report, its consent record, its routing task) plus its
idempotency key. Through `Model.save()` each INSERT is compiled anew, which costs far more CPU
than the write itself; here each statement is built once (`PreparedInsert`) and only the values
are converted per request. `report_submit` runs them in one transaction.
"""

from functools import cache

from django.utils import timezone

from locus.core.idempotency import PreparedInsert

from .models import ConsentChange, Report

REPORT = PreparedInsert(Report)
CONSENT = PreparedInsert(ConsentChange)


@cache
def _task_insert():
    from django_tasks_db.models import DBTaskResult

    return PreparedInsert(DBTaskResult)


def _database_backend(task):
    """The task's backend when it is django-tasks-db's (the production queue), else None."""
    try:
        from django_tasks_db.backend import DatabaseBackend
    except ImportError:  # pragma: no cover - the queue is a dependency
        return None
    backend = task.get_backend()
    return backend if isinstance(backend, DatabaseBackend) else None


def enqueue_routing(*, report, now=None):
    """Queue the routing of `report`, in the caller's transaction. Returns True when it already
    ran (a synchronous backend: tests, development), False when the worker will run it.

    With the database queue the task row is written with one prepared INSERT, exactly as
    `route_report.enqueue()` writes it (same id function, arguments, priority, queue, backend)
    and its `pre_save` signal (`run_after`), but without its `task_enqueued` signal, whose only
    receiver logs at DEBUG level. Any other
    backend goes through `enqueue()`."""
    from locus.cases.tasks import route_report

    backend = _database_backend(route_report)
    if backend is None:
        return route_report.enqueue(place_id=report.place_id, report_id=report.pk).is_finished
    from django_tasks_db.compat import normalize_json
    from django_tasks_db.models import DBTaskResult, get_date_max

    row = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=normalize_json(
            {"args": [], "kwargs": {"place_id": report.place_id, "report_id": report.pk}}
        ),
        priority=route_report.priority,
        task_path=route_report.module_path,
        queue_name=route_report.queue_name,
        # What the package's pre_save signal does: "no time set" is stored as the far future.
        run_after=route_report.run_after or get_date_max(),
        backend_name=backend.alias,
        enqueued_at=now or timezone.now(),
    )
    _task_insert().insert(row, returning=False)
    return False
