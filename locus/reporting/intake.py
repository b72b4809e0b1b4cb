"""The writes of a report submission, prepared once per process (docs/operations.md, "Intake").

A submission writes three rows (the report, its consent record, its routing task) plus its
idempotency key. Through `Model.save()` each INSERT is compiled anew, which costs far more CPU
than the write itself; here each statement is built once (`PreparedInsert`) and only the values
are converted per request. `report_submit` runs them in one transaction.
"""

from functools import cache

from django.db import connection
from django.utils import timezone

from locus.core.idempotency import PreparedInsert

from .models import ConsentChange, Report

REPORT = PreparedInsert(Report)
CONSENT = PreparedInsert(ConsentChange)


def area_of_place(*, place, area_id):
    """The area `area_id` of `place`, or None: what `area_list(place=place).filter(pk=area_id)
    .first()` answers, with one SELECT of its key instead of the ORM's compilation of that
    query (as much CPU as the report's INSERTs together). The other fields are deferred, as
    with `.only("id", "place")`: read on first use."""
    from locus.places.models import Area

    meta = Area._meta
    quote = connection.ops.quote_name
    sql = (  # names from the model, quoted by the backend; values are parameters
        f"SELECT {quote(meta.pk.column)} FROM {quote(meta.db_table)} "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s AND {quote(meta.get_field('place').column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [area_id, place.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    return Area.from_db(connection.alias, ["id", "place_id"], [row[0], place.pk])


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
