"""Writes for places and areas."""

import logging

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.geo import parse_area_features
from locus.core.services import (
    audit_record,
    job_create,
    job_finish,
    job_log,
    job_progress,
    job_start,
)
from locus.core.tasks import enqueue_on_commit

from .models import Area

logger = logging.getLogger(__name__)

AREA_IMPORT_JOB = "areas.import"


@transaction.atomic
def place_update_settings(*, place, actor, form):
    """Save a validated PlaceSettingsForm and audit which settings changed (not their values:
    they are not personal, but the log stays short)."""
    changed = list(form.changed_data)
    form.save()
    if changed:
        audit_record(
            action=AuditAction.PLACE_SETTINGS_CHANGED,
            actor=actor,
            place=place,
            target=place,
            data={"fields": changed},
        )
    return place


@transaction.atomic
def areas_import(*, place, candidates, actor=None):
    """Create or update (by name) one area per candidate, all in one transaction."""
    existing = {area.name.casefold(): area for area in Area.objects.filter(place=place)}
    created = updated = 0
    for candidate in candidates:
        area = existing.get(candidate.name.casefold())
        if area is None:
            area = Area(place=place, name=candidate.name)
            created += 1
        else:
            updated += 1
        area.code = candidate.code
        area.geometry = candidate.geometry
        if candidate.population is not None:
            area.population = candidate.population
        area.save()
    audit_record(
        action=AuditAction.AREAS_IMPORTED,
        actor=actor,
        place=place,
        data={"created": created, "updated": updated},
    )
    return {"created": created, "updated": updated}


def areas_import_from_file(
    *,
    place,
    raw,
    name_property,
    code_property="",
    population_property="",
    skip_invalid=False,
    actor=None,
    log=None,
):
    """Validate a GeoJSON file and import it: all or nothing unless `skip_invalid`.

    Returns a summary; raises ValidationFailed (with each bad feature) when nothing was imported.
    """
    parsed = parse_area_features(
        raw,
        name_property=name_property,
        code_property=code_property,
        population_property=population_property,
    )
    problems = [p.as_dict() for p in parsed.problems]
    for problem in parsed.problems:
        if log:
            log(_("Feature %(feature)s (%(name)s): %(reason)s") % problem.as_dict(), "error")
    if log:
        for candidate in parsed.candidates:
            if candidate.repaired:
                log(
                    _("%(name)s: the boundary was repaired (%(reason)s).")
                    % {"name": candidate.name, "reason": candidate.repaired},
                    "warning",
                )
    if problems and not skip_invalid:
        raise ValidationFailed(
            ngettext(
                "%(count)s feature is invalid, so nothing was imported.",
                "%(count)s features are invalid, so nothing was imported.",
                len(problems),
            )
            % {"count": len(problems)},
            fields={"file": [_("Feature %(feature)s: %(reason)s") % p for p in problems[:50]]},
            code="invalid_features",
        )
    if not parsed.candidates:
        raise ValidationFailed(
            _("No valid feature to import."), fields={"file": [_("No valid feature.")]}
        )
    summary = areas_import(place=place, candidates=parsed.candidates, actor=actor)
    summary["skipped"] = len(problems)
    summary["problems"] = problems
    return summary


def areas_import_job_start(
    *,
    place,
    raw,
    name_property,
    code_property="",
    population_property="",
    skip_invalid=False,
    actor=None,
    filename="",
):
    """Queue an area import as a watched job and return the job."""
    from .tasks import run_area_import

    job = job_create(
        place=place,
        kind=AREA_IMPORT_JOB,
        title=_("Import areas from %(file)s") % {"file": filename or "GeoJSON"},
        created_by=actor,
        params={
            "name_property": name_property,
            "code_property": code_property,
            "population_property": population_property,
            "skip_invalid": skip_invalid,
        },
        payload=raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw,
    )
    enqueue_on_commit(run_area_import, place_id=place.pk, job_id=job.pk)
    return job


def area_import_job_run(*, place, job):
    """Body of the area-import task: validate, import, record progress and every problem."""
    if not job_start(job=job):  # its task and the sweep both tried: the other one runs it
        return None
    job_log(job=job, message=_("Reading the file."))

    def log(message, level="info"):
        job_log(job=job, message=message, level=level)

    try:
        job_progress(job=job, progress=10)
        summary = areas_import_from_file(
            place=place,
            raw=job.payload,
            actor=job.created_by,
            log=log,
            **job.params,
        )
    except ValidationFailed as exc:
        log(exc.message, "error")
        return job_finish(job=job, result=exc.as_dict(), failed=True)
    except Exception:
        # Never leave a job "running" for ever: the person watching sees that it stopped. The
        # traceback goes to the server log only (it may hold details not meant for the page).
        logger.exception("Area import job %s of place %s failed unexpectedly", job.pk, place.pk)
        message = _("An unexpected error stopped the import. Nothing was imported.")
        log(message, "error")
        return job_finish(
            job=job, result={"message": message, "code": "unexpected_error"}, failed=True
        )
    log(_("Imported: %(created)s new, %(updated)s updated, %(skipped)s skipped.") % summary)
    return job_finish(job=job, result=summary)
