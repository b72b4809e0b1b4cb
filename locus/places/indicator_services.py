"""Writes for area indicators: the CSV import (all or nothing, or the good rows), as a watched
job, and the demo's figures (docs/insights.md, "Context indicators")."""

import logging
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.services import (
    audit_record,
    job_create,
    job_finish,
    job_log,
    job_progress,
    job_start,
)
from locus.core.tasks import enqueue_on_commit

from . import indicators
from .models import Area, AreaIndicator

logger = logging.getLogger(__name__)

INDICATOR_IMPORT_JOB = "indicators.import"
DEMO_FILES = {"london": "london-indicators.csv"}
DEMO_DIR = Path(__file__).resolve().parent / "demo_data"


class IndicatorImportRejected(ValidationFailed):
    """Nothing was imported; `problems` lists every bad row (line, column, reason)."""

    code = "invalid_rows"

    def __init__(self, message, *, problems, field="file"):
        lines = [_problem_line(problem) for problem in problems[:200]]
        fields = {field: lines or [message]}
        super().__init__(message, fields=fields)
        self.problems = problems


def indicators_check(*, place, raw):
    """Parse the file against the place's areas (nothing written)."""
    return indicators.read_indicators(raw, areas=list(Area.objects.filter(place=place)))


@transaction.atomic
def indicators_import(*, place, raw, skip_invalid=False, actor=None, filename=""):
    """Import an indicator CSV: all or nothing unless `skip_invalid` (then the good rows, with
    every bad one listed). A row for an (area, indicator, period) that exists replaces its
    value; an indicator name matches an existing one whatever its case. Returns a summary;
    raises IndicatorImportRejected (every problem with its line) when nothing was imported."""
    parsed = indicators_check(place=place, raw=raw)
    problems = parsed.problems
    if parsed.fatal or (problems and not skip_invalid):
        raise IndicatorImportRejected(
            ngettext(
                "%(count)s problem in the file, so nothing was imported.",
                "%(count)s problems in the file, so nothing was imported.",
                len(problems),
            )
            % {"count": len(problems)},
            problems=problems,
        )
    if not parsed.rows:
        raise IndicatorImportRejected(_("No valid row to import."), problems=problems)
    names = {}
    for name in AreaIndicator.objects.filter(place=place).values_list("indicator", flat=True):
        names.setdefault(indicators._key(name), name)
    existing = {
        (row.area_id, row.indicator, row.period): row
        for row in AreaIndicator.objects.filter(place=place)
    }
    created = updated = unchanged = 0
    to_create, to_update = [], []
    for row in parsed.rows:
        name = names.setdefault(indicators._key(row.indicator), row.indicator)
        current = existing.get((row.area_id, name, row.period))
        if current is None:
            to_create.append(
                AreaIndicator(
                    place=place,
                    area_id=row.area_id,
                    indicator=name,
                    period=row.period,
                    value=row.value,
                )
            )
            created += 1
        elif current.value != row.value:
            current.value = row.value
            to_update.append(current)
            updated += 1
        else:
            unchanged += 1
    AreaIndicator.objects.bulk_create(to_create, batch_size=500)
    AreaIndicator.objects.bulk_update(to_update, ["value"], batch_size=500)
    summary = {
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "skipped": len(parsed.bad_lines),
        "problems": [p.as_dict() for p in problems[:500]],
        "warnings": [w.as_dict() for w in parsed.warnings],
    }
    audit_record(
        action=AuditAction.INDICATORS_IMPORTED,
        actor=actor,
        place=place,
        data={
            "file": Path(filename).name[:100] if filename else "",
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
            "skipped": summary["skipped"],
        },
    )
    return summary


def indicators_import_job_start(*, place, raw, skip_invalid=False, actor=None, filename=""):
    """Queue an indicator import as a watched job and return the job."""
    from .tasks import run_indicator_import

    text = raw.decode("utf-8-sig", errors="replace") if isinstance(raw, bytes) else raw
    job = job_create(
        place=place,
        kind=INDICATOR_IMPORT_JOB,
        title=_("Import indicators from %(file)s") % {"file": Path(filename).name or "CSV"},
        created_by=actor,
        params={"skip_invalid": bool(skip_invalid), "filename": Path(filename).name[:100]},
        payload=text,
    )
    enqueue_on_commit(run_indicator_import, place_id=place.pk, job_id=job.pk)
    return job


def indicator_import_job_run(*, place, job):
    """Body of the import task: import, log every skipped row with its line, record the
    result."""
    if not job_start(job=job):  # its task and the sweep both tried: the other one runs it
        return None
    job_log(job=job, message=_("Reading the file."))
    try:
        job_progress(job=job, progress=10)
        summary = indicators_import(
            place=place,
            raw=job.payload,
            skip_invalid=job.params.get("skip_invalid", False),
            actor=job.created_by,
            filename=job.params.get("filename", ""),
        )
    except IndicatorImportRejected as exc:
        for problem in exc.problems[:500]:
            job_log(job=job, message=_problem_line(problem), level="error")
        job_log(job=job, message=exc.message, level="error")
        return job_finish(
            job=job,
            result={**exc.as_dict(), "problems": [p.as_dict() for p in exc.problems[:500]]},
            failed=True,
        )
    except Exception:
        logger.exception("Indicator import job %s of place %s failed", job.pk, place.pk)
        message = _("An unexpected error stopped the import. Nothing was imported.")
        job_log(job=job, message=message, level="error")
        return job_finish(
            job=job, result={"message": message, "code": "unexpected_error"}, failed=True
        )
    for problem in summary["problems"]:
        job_log(job=job, message=_problem_line(problem), level="warning")
    job_log(
        job=job,
        message=_(
            "Imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged, "
            "%(skipped)s rows skipped."
        )
        % summary,
    )
    return job_finish(job=job, result=summary)


def _problem_line(problem):
    data = problem if isinstance(problem, dict) else problem.as_dict()
    if data["line"]:
        return _("Line %(line)s, %(column)s: %(reason)s") % {
            **data,
            "column": data["column"] or _("row"),
        }
    return data["reason"]


def indicators_load_demo(*, place) -> list[str]:
    """The demo's indicators of the place's areas from the CSV shipped in demo_data (run with
    the place active). Safe to run again."""
    name = DEMO_FILES.get(place.slug)
    if name is None:
        return []
    summary = indicators_import(
        place=place, raw=(DEMO_DIR / name).read_bytes(), skip_invalid=False, filename=name
    )
    return [
        f"{place.name}: indicators {summary['created']} new, {summary['updated']} updated, "
        f"{summary['unchanged']} unchanged"
    ]
