"""A job's progress while its work runs inside one long transaction (an import).

Every import is saved whole or not at all, so it writes in one transaction; progress written
through the same connection would be invisible — to the person watching the job page and to
the sweep that fails silent jobs (`services.jobs_fail_abandoned`) — until the commit. So the
import's progress steps (`services.job_pulse`) are written outside that transaction:

- PostgreSQL: through a second connection, in autocommit, as an UPDATE of the job's row
  (`progress`, `updated_at`) that skips the row while another transaction holds it, so it never
  waits. The page, the API and the sweep read the row as usual.
- SQLite: one transaction writes at a time and the import holds the write lock until its
  commit, so a second writer (even the cache table) would wait for it — for ever, from the
  import's own process. The step goes to a small file in `LOCUS_JOB_PULSE_DIR` instead (with
  SQLite the web, the worker and the sweep share one machine and its var directory), which the
  job's readers lay over the row (`overlay`) and the sweep consults before failing a job
  (`last_sign`). `clear` removes it when the job finishes.
"""

import json
import logging
import os
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection

from .choices import JobStatus
from .models import Job

logger = logging.getLogger(__name__)


def _on_file():
    return connection.vendor == "sqlite"


def _path(job_id) -> Path:
    return Path(settings.LOCUS_JOB_PULSE_DIR) / f"{int(job_id)}.json"


def write(*, job, progress, at):
    """Record a step of a running job outside the current transaction. Never raises: a step
    that cannot be written is shown with the next one (or at the commit)."""
    try:
        if _on_file():
            _write_file(job, progress, at)
        else:
            _write_row(job, progress, at)
    except (OSError, DatabaseError):
        logger.warning("jobs: progress of job %s could not be written", job.pk, exc_info=True)


def _write_file(job, progress, at):
    path = _path(job.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"progress": progress, "at": at.isoformat()}))
    os.replace(temporary, path)  # readers see the old step or the new one, never half a file


def _write_row(job, progress, at):
    side = connection.copy()
    try:
        table = connection.ops.quote_name(Job._meta.db_table)
        with side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET progress = %s, updated_at = %s WHERE id = ("  # noqa: S608
                f"SELECT id FROM {table} WHERE id = %s AND place_id = %s AND status = %s "
                "FOR UPDATE SKIP LOCKED)",
                [progress, at, job.pk, job.place_id, JobStatus.RUNNING],
            )
    finally:
        side.close()


def _read_file(job_id):
    """(progress, at) of the job's last step on file, or None."""
    try:
        data = json.loads(_path(job_id).read_text())
        return int(data["progress"]), datetime.fromisoformat(data["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def last_sign(job) -> datetime | None:
    """When the job last showed life outside its row (SQLite's file), or None."""
    if not _on_file():
        return None
    step = _read_file(job.pk)
    return step[1] if step else None


def overlay(jobs):
    """Lay each running job's newer step on file over what its row says (SQLite; with
    PostgreSQL the row has it already). Returns the jobs, as a list."""
    jobs = list(jobs)
    if not _on_file():
        return jobs
    for job in jobs:
        if job.status != JobStatus.RUNNING:
            continue
        step = _read_file(job.pk)
        if step and (job.updated_at is None or step[1] > job.updated_at):
            job.progress, job.updated_at = min(max(step[0], 0), 100), step[1]
    return jobs


def clear(job):
    """Forget the job's steps on file (it finished, or was failed by the sweep)."""
    if _on_file():
        try:
            _path(job.pk).unlink(missing_ok=True)
        except OSError:
            logger.warning("jobs: progress file of job %s not removed", job.pk, exc_info=True)
