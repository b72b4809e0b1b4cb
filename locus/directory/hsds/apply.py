"""Write parsed HSDS rows into a place's directory — the good rows, or nothing when any row is
bad — and the watched job that does it (`hsds_import_job_start` → task → `…_run`)."""

import json
import logging

from django.core.exceptions import ValidationError
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
    job_pulse,
    job_start,
)
from locus.core.tasks import enqueue_on_commit

from ..models import Organisation, OrganisationListing, Partnership, Service
from .importer import ImportFailed, Parsed, Problem, parse_csv_package, parse_text

logger = logging.getLogger(__name__)

IMPORT_JOB = "directory.hsds_import"
MODES = ("good_rows", "nothing")


def _resolve(place, parsed: Parsed):
    """Problems found across rows or against the database: an id used twice, a service whose
    organisation is neither in the import nor in the place's directory. Moves such rows to
    `parsed.problems`."""
    from locus.places.models import Area

    for kind in ("organisations", "services"):
        seen, unique_rows = {}, []
        for row in getattr(parsed, kind):
            if row.hsds_id in seen:
                first = seen[row.hsds_id]
                parsed.problems.append(
                    Problem(
                        row.source,
                        row.row,
                        [
                            _("The same id as %(source)s row %(row)s.")
                            % {"source": first.source, "row": first.row}
                        ],
                        row.fields["name"],
                    )
                )
                continue
            seen[row.hsds_id] = row
            unique_rows.append(row)
        setattr(parsed, kind, unique_rows)
    good_orgs = {row.hsds_id for row in parsed.organisations}
    listed = set(
        OrganisationListing.objects.filter(place=place, is_active=True).values_list(
            "organisation__hsds_id", flat=True
        )
    )
    areas = {
        name.lower(): pk for pk, name in Area.objects.filter(place=place).values_list("pk", "name")
    }
    kept = []
    for row in parsed.services:
        reasons = []
        if row.organisation_id not in good_orgs and row.organisation_id not in listed:
            reasons.append(
                _("Its organisation (%(id)s) is neither in this import nor in the directory.")
                % {"id": row.organisation_id}
            )
        if reasons:
            parsed.problems.append(Problem(row.source, row.row, reasons, row.fields["name"]))
            continue
        row.area_ids = []
        for name in row.area_names:
            if name.lower() == place.name.lower() and name.lower() not in areas:
                row.whole_place = True
            elif name.lower() in areas:
                row.area_ids.append(areas[name.lower()])
            else:
                parsed.warnings.append(
                    _("%(source)s row %(row)s: area “%(area)s” is not an area of %(place)s.")
                    % {"source": row.source, "row": row.row, "area": name, "place": place.name}
                )
        kept.append(row)
    parsed.services = kept
    parsed.problems.sort(key=lambda p: (p.source, p.row))
    return parsed


@transaction.atomic
def apply_import(*, place, parsed: Parsed, actor=None, mode="good_rows", progress=None):
    """Write the good rows (mode "good_rows") or, when any row is bad and mode is "nothing",
    nothing at all. Organisations match by their HSDS id (global: an organisation already
    listed elsewhere only gets listed here, its entry is left as it is); services match by
    their id within the place. Returns a summary (counts, problems, warnings)."""
    if mode not in MODES:
        raise ValidationFailed(_("Unknown mode."), fields={"mode": [_("Choose a mode.")]})
    _resolve(place, parsed)
    summary = {
        "created": 0,
        "updated": 0,
        "skipped": len(parsed.problems),
        "problems": [p.as_dict() for p in parsed.problems],
        "warnings": [str(w) for w in parsed.warnings[:200]],
        "mode": mode,
        "imported": False,
    }
    if parsed.problems and mode == "nothing":
        return summary
    total = max(len(parsed.organisations) + len(parsed.services), 1)
    done = 0
    by_uuid = {}
    for row in parsed.organisations:
        organisation = Organisation.objects.filter(hsds_id=row.hsds_id).first()
        if organisation is None:
            organisation = Organisation(hsds_id=row.hsds_id, type=row.type, **row.fields)
            created = True
        else:
            created = False
            listed_elsewhere = (
                OrganisationListing.objects.filter(organisation=organisation)
                .exclude(place=place)
                .exists()
            )
            here = OrganisationListing.objects.filter(
                organisation=organisation, place=place
            ).exists()
            if here or not listed_elsewhere:
                for key, value in row.fields.items():
                    setattr(organisation, key, value)
                organisation.type = row.type
        try:
            organisation.full_clean(validate_unique=False)
        except ValidationError as exc:
            raise ValidationFailed(
                _("%(source)s row %(row)s is not valid.") % {"source": row.source, "row": row.row},
                fields=exc.message_dict,
            ) from None
        organisation.save()
        listing = OrganisationListing.objects.filter(place=place, organisation=organisation).first()
        if listing is None:
            listing = OrganisationListing(place=place, organisation=organisation)
        listing.is_active = True
        listing.save()
        by_uuid[row.hsds_id] = organisation
        summary["created" if created else "updated"] += 1
        done += 1
        if progress and done % 20 == 0:
            progress(done * 90 // total)
    for row in parsed.organisations:
        source = by_uuid[row.hsds_id]
        for kind, target_id, description in row.partnerships:
            target = (
                by_uuid.get(target_id)
                or Organisation.objects.filter(
                    hsds_id=target_id, listings__place=place, listings__is_active=True
                ).first()
            )
            if target is None or target.pk == source.pk:
                parsed.warnings.append(
                    _("%(source)s row %(row)s: a partner organisation is not in the directory.")
                    % {"source": row.source, "row": row.row}
                )
                continue
            Partnership.objects.update_or_create(
                place=place,
                source=source,
                target=target,
                kind=kind,
                defaults={"description": description},
            )
    listed_orgs = {
        o.hsds_id: o
        for o in Organisation.objects.filter(listings__place=place, listings__is_active=True)
    }
    for row in parsed.services:
        organisation = by_uuid.get(row.organisation_id) or listed_orgs[row.organisation_id]
        service = Service.objects.filter(place=place, hsds_id=row.hsds_id).first()
        created = service is None
        if created:
            service = Service(place=place, hsds_id=row.hsds_id)
        service.organisation = organisation
        for key, value in row.fields.items():
            setattr(service, key, value)
        service.whole_place = row.whole_place
        try:
            service.full_clean(exclude=["organisation"], validate_unique=False)
        except ValidationError as exc:
            raise ValidationFailed(
                _("%(source)s row %(row)s is not valid.") % {"source": row.source, "row": row.row},
                fields=exc.message_dict,
            ) from None
        service.save()
        service.areas.set(row.area_ids)
        summary["created" if created else "updated"] += 1
        done += 1
        if progress and done % 20 == 0:
            progress(done * 90 // total)
    summary["warnings"] = [str(w) for w in parsed.warnings[:200]]
    summary["imported"] = True
    audit_record(
        action=AuditAction.DIRECTORY_IMPORTED,
        actor=actor,
        place=place,
        data={
            "created": summary["created"],
            "updated": summary["updated"],
            "skipped": summary["skipped"],
        },
    )
    return summary


def import_payload(*, raw: bytes, filename: str) -> str:
    """The job's input as text: JSON as it is, or a ZIP / single CSV of the tabular package as
    `{"csv": {file name: text}}`. Raises ImportFailed when it cannot be read."""
    import io
    import zipfile

    name = (filename or "").lower()
    if name.endswith(".zip") or raw[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                files, size = {}, 0
                for info in archive.infolist():
                    if info.is_dir() or not info.filename.lower().endswith(".csv"):
                        continue
                    size += info.file_size
                    if size > 10 * 1024 * 1024:
                        raise ImportFailed(_("The file is too large."))
                    files[info.filename.rsplit("/", 1)[-1]] = archive.read(info).decode(
                        "utf-8-sig", errors="replace"
                    )
        except zipfile.BadZipFile:
            raise ImportFailed(_("The ZIP file cannot be read.")) from None
        return json.dumps({"csv": files})
    text = raw.decode("utf-8-sig", errors="replace")
    if name.endswith(".csv"):
        return json.dumps({"csv": {filename.rsplit("/", 1)[-1]: text}})
    return text


def parse_payload(payload: str) -> Parsed:
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return parse_text(payload)  # names the problem
    if isinstance(data, dict) and set(data) == {"csv"} and isinstance(data["csv"], dict):
        return parse_csv_package(data["csv"])
    return parse_text(payload)


def hsds_import_job_start(*, place, raw: bytes, filename="", mode="good_rows", actor=None):
    """Check that the input can be read at all, then queue the import as a watched job."""
    from ..tasks import run_hsds_import

    if mode not in MODES:
        raise ValidationFailed(_("Unknown mode."), fields={"mode": [_("Choose a mode.")]})
    payload = import_payload(raw=raw, filename=filename)
    parse_payload(payload)  # an unreadable file is refused now, not in a failed job
    job = job_create(
        place=place,
        kind=IMPORT_JOB,
        title=_("Import the directory from %(file)s") % {"file": filename or "HSDS"},
        created_by=actor,
        params={"mode": mode},
        payload=payload,
    )
    enqueue_on_commit(run_hsds_import, place_id=place.pk, job_id=job.pk)
    return job


def hsds_import_job_run(*, place, job):
    if not job_start(job=job):  # its task and the sweep both tried: the other one runs it
        return None
    job_log(job=job, message=_("Reading the data."))
    try:
        parsed = parse_payload(job.payload)
        job_progress(job=job, progress=10)
        summary = apply_import(
            place=place,
            parsed=parsed,
            actor=job.created_by,
            mode=job.params.get("mode", "good_rows"),
            # Inside the import's one transaction: written outside it, so it shows meanwhile.
            progress=lambda value: job_pulse(job=job, progress=10 + value),
        )
    except ImportFailed as exc:
        job_log(job=job, message=exc.message, level="error")
        return job_finish(job=job, result=exc.as_dict(), failed=True)
    except Exception:
        logger.exception("HSDS import job %s of place %s failed unexpectedly", job.pk, place.pk)
        message = _("An unexpected error stopped the import. Nothing was imported.")
        job_log(job=job, message=message, level="error")
        return job_finish(
            job=job, result={"message": message, "code": "unexpected_error"}, failed=True
        )
    for problem in summary["problems"][:200]:
        job_log(job=job, message=str(Problem(**problem)), level="error")
    for warning in summary["warnings"][:100]:
        job_log(job=job, message=warning, level="warning")
    if not summary["imported"]:
        message = ngettext(
            "%(count)s row is not valid, so nothing was imported.",
            "%(count)s rows are not valid, so nothing was imported.",
            summary["skipped"],
        ) % {"count": summary["skipped"]}
        job_log(job=job, message=message, level="error")
        return job_finish(job=job, result={**summary, "message": message}, failed=True)
    job_log(
        job=job,
        message=_("Imported: %(created)s new, %(updated)s updated, %(skipped)s skipped.") % summary,
    )
    return job_finish(job=job, result=summary)
