"""Retention: what happens to closed reports and their files once a place's periods have run.

Per place (Place.report_retention_days, Place.evidence_retention_days), measured from
`Report.closed_at`; a report that is not closed (closed_at empty), or that has an open case,
is never touched:

- **Anonymise** a report closed longer ago than `report_retention_days`: the reporter's words
  (account, location_text), contact details, police reference and the follow-up code hash are
  emptied, day precision of `occurred_on` is dropped (the 1st of the month), every evidence file
  is deleted from storage and its row removed, and `anonymised_at` is set. Fields statistics use
  (incident type, bias, area, setting, platform, role, consent flags, dates, the address of
  public online content and its key) are kept, so counts still work.
- **Delete evidence** of a report closed longer ago than `evidence_retention_days`, even when the
  report itself is still kept.
- **Delete staged evidence** never attached to a report, older than
  LOCUS_STAGED_EVIDENCE_TTL (`evidence_purge_stale`: the row first, only while it is still
  staged, so a late Send attaching it keeps it; then its file).
- **Delete files without a record**: a file of the place in the evidence storage that no row
  names, older than the same TTL (`evidence_purge_orphans`; a process killed between writing
  a file and committing its row leaves one).

What "anonymise" strips is one function, `strip_personal_data`, shared with the reporter's own
request for erasure (`services.report_erase`, docs/reporting.md): the report's personal fields,
its evidence files, the bodies of the messages between the reporter and the organisations and
the organisations' internal notes about it (which often repeat what the reporter said).

Idempotent: anonymised reports are skipped and deleted files are gone, so a second run finds
nothing. A row goes first and its file once that is committed (`core.storage.
delete_on_commit`): a transaction that rolls back (a failed erasure, a failed anonymisation)
keeps the rows and their files, so nothing names a file that is gone; a run killed between a
commit and its files leaves files no record names, which the next run deletes
(`evidence_purge_orphans`).
The result holds counts only: no personal data, no references.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from locus.core.storage import delete_on_commit

from .models import Evidence, Report
from .services import evidence_purge_stale

logger = logging.getLogger(__name__)

ORPHAN_BATCH = 500


@dataclass
class PurgeResult:
    reports_anonymised: int = 0
    evidence_deleted_with_report: int = 0
    evidence_deleted_retention: int = 0
    staged_evidence_deleted: int = 0
    orphan_files_deleted: int = 0

    def as_dict(self):
        return asdict(self)

    def __str__(self):
        return (
            f"{self.reports_anonymised} report(s) anonymised "
            f"({self.evidence_deleted_with_report} file(s) deleted with them), "
            f"{self.evidence_deleted_retention} evidence file(s) past retention deleted, "
            f"{self.staged_evidence_deleted} abandoned staged file(s) deleted, "
            f"{self.orphan_files_deleted} file(s) without a record deleted"
        )


def _open_case(*, place, report):
    """An open case of the report (`report`: an OuterRef to it). A report some organisation
    still works on is never stripped, whatever its `closed_at` says: a case opened after the
    report was closed (the reporter widened consent) once left it marked closed."""
    from locus.cases.choices import OPEN_STATUSES
    from locus.cases.models import Case

    return Exists(Case.objects.filter(place=place, report=report, status__in=OPEN_STATUSES))


def reports_to_anonymise(*, place, now=None):
    """Closed reports of the place past `report_retention_days`, not yet anonymised, with no
    open case."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=place.report_retention_days)
    return (
        Report.objects.filter(
            place=place, closed_at__isnull=False, closed_at__lt=cutoff, anonymised_at__isnull=True
        )
        .filter(~_open_case(place=place, report=OuterRef("pk")))
        .order_by("closed_at", "pk")
    )


def evidence_past_retention(*, place, now=None):
    """Evidence attached to reports of the place closed longer ago than
    `evidence_retention_days` and with no open case."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=place.evidence_retention_days)
    return (
        Evidence.objects.filter(
            place=place,
            report__isnull=False,
            report__closed_at__isnull=False,
            report__closed_at__lt=cutoff,
        )
        .filter(~_open_case(place=place, report=OuterRef("report")))
        .order_by("pk")
    )


def _delete_evidence(evidence):
    """The row now, the file once that is committed: a transaction rolled back after this
    (an erasure whose notification failed) keeps both, never a row without its file."""
    storage, name = evidence.file.storage, evidence.file.name
    evidence.delete()
    delete_on_commit(storage, name)


def _month_start(day):
    return day.replace(day=1) if day is not None else None


@transaction.atomic
def report_anonymise(*, place, report, now=None) -> int | None:
    """Strip the personal data from one closed report and delete its files. Returns the number
    of files deleted, or None when the report no longer qualifies (reopened or already done
    since it was listed)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=place.report_retention_days)
    report = (
        Report.objects.select_for_update()
        .filter(
            place=place,
            pk=report.pk,
            closed_at__isnull=False,
            closed_at__lt=cutoff,
            anonymised_at__isnull=True,
        )
        .filter(~_open_case(place=place, report=OuterRef("pk")))
        .first()
    )
    if report is None:
        return None
    return strip_personal_data(place=place, report=report, now=now)


def strip_personal_data(*, place, report, now, keep_followup_code=False) -> int:
    """Empty everything personal about `report` (call it in a transaction, the report row
    locked): the reporter's words, contact details, police reference, the day of the month,
    the evidence files (their rows, then the files once committed), message bodies and case
    notes. What statistics count stays. Returns the number of files deleted.

    `keep_followup_code` keeps the code's keyed hash (not personal data), so a reporter who
    asked for erasure can still be told, with their code, that it was done."""
    files = 0
    for evidence in Evidence.objects.filter(place=place, report=report):
        _delete_evidence(evidence)
        files += 1
    _anonymise_case_notes(place=place, report=report)
    _anonymise_messages(place=place, report=report)
    report.account = ""
    report.location_text = ""
    report.contact = None
    report.police_reference = ""
    report.wants_email_updates = False
    if not keep_followup_code:
        report.followup_code_hash = ""
    report.occurred_on = _month_start(report.occurred_on)
    report.anonymised_at = now
    report.save(
        update_fields=[
            "account",
            "location_text",
            "contact",
            "police_reference",
            "wants_email_updates",
            "followup_code_hash",
            "occurred_on",
            "anonymised_at",
        ]
    )
    return files


def _anonymise_case_notes(*, place, report):
    """Caseworkers' notes often repeat what the reporter said: they go with the report."""
    from locus.cases.models import CaseNote

    notes = list(CaseNote.objects.filter(place=place, case__report=report))
    for note in notes:
        note.body = ""
    CaseNote.objects.bulk_update(notes, ["body"])


def _anonymise_messages(*, place, report):
    """Messages between the reporter and the organisations: the bodies go, the rows (who
    wrote when) stay, so a case's timeline still adds up."""
    from locus.cases.models import CaseMessage

    messages = list(CaseMessage.objects.filter(place=place, case__report=report))
    for message in messages:
        message.body = ""
    CaseMessage.objects.bulk_update(messages, ["body"])


def purge_expired(*, place, now=None, dry_run=False) -> PurgeResult:
    """Apply the place's retention periods (see the module docstring). With `dry_run`, count
    what would be done and change nothing. Call it with the place active (place_scope)."""
    now = now or timezone.now()
    result = PurgeResult()

    anonymise = reports_to_anonymise(place=place, now=now)
    if dry_run:
        result.reports_anonymised = anonymise.count()
        result.evidence_deleted_with_report = Evidence.objects.filter(
            place=place, report__in=anonymise
        ).count()
    else:
        for report in anonymise.only("pk"):
            files = report_anonymise(place=place, report=report, now=now)
            if files is not None:
                result.reports_anonymised += 1
                result.evidence_deleted_with_report += files

    past_retention = evidence_past_retention(place=place, now=now)
    if dry_run:
        # Files of reports anonymised above were already counted with them.
        result.evidence_deleted_retention = past_retention.exclude(report__in=anonymise).count()
    else:
        for evidence in past_retention:
            with transaction.atomic():
                _delete_evidence(evidence)
            result.evidence_deleted_retention += 1

    ttl = settings.LOCUS_STAGED_EVIDENCE_TTL
    if dry_run:
        result.staged_evidence_deleted = Evidence.objects.filter(
            place=place, report=None, received_at__lt=now - ttl
        ).count()
    else:
        # evidence_purge_stale measures from the wall clock; shift the age so the cut-off is
        # `now - ttl` when a caller (a test) passes another `now`.
        result.staged_evidence_deleted = evidence_purge_stale(
            place=place, older_than=ttl + (timezone.now() - now)
        )

    result.orphan_files_deleted = evidence_purge_orphans(
        place=place, older_than=ttl, now=now, dry_run=dry_run
    )

    logger.info("retention place=%s dry_run=%s %s", place.pk, dry_run, result.as_dict())
    return result


def evidence_file_fields():
    """[(model, file field)] of every model whose files are kept in the evidence storage
    (reports' evidence, programmes' evidence files, …), found by the field's storage."""
    location = Evidence._meta.get_field("file").storage.location
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.local_concrete_fields
        if isinstance(field, models.FileField)
        and getattr(field.storage, "location", None) == location
    ]


def evidence_purge_orphans(*, place, older_than=None, now=None, dry_run=False) -> int:
    """Delete the place's files in the evidence storage that no record names and that are
    older than `older_than` (default LOCUS_STAGED_EVIDENCE_TTL). A file is written before the
    row that names it is committed; a process killed in between (or a removal whose file was
    kept) leaves a file nobody can reach — personal data that retention would otherwise never
    delete. Younger files are left alone: their row may be about to commit. Returns how many
    (with `dry_run`, how many would be)."""
    storage = Evidence._meta.get_field("file").storage
    directory = f"place-{place.pk}"
    cutoff = (now or timezone.now()) - (older_than or settings.LOCUS_STAGED_EVIDENCE_TTL)
    try:
        _dirs, names = storage.listdir(directory)
    except FileNotFoundError:
        return 0
    old = []
    for name in names:
        path = f"{directory}/{name}"
        try:
            if storage.get_modified_time(path) < cutoff:
                old.append(path)
        except FileNotFoundError:  # deleted meanwhile
            continue
    fields = evidence_file_fields()
    deleted = 0
    for start in range(0, len(old), ORPHAN_BATCH):
        batch = old[start : start + ORPHAN_BATCH]
        named = set()
        for model, field in fields:
            lookup = {f"{field.name}__in": batch}
            if any(f.name == "place" for f in model._meta.concrete_fields):
                lookup["place"] = place
            named.update(model._default_manager.filter(**lookup).values_list(field.name, flat=True))
        for path in batch:
            if path in named:
                continue
            if not dry_run:
                storage.delete(path)
            deleted += 1
    if deleted:
        logger.warning(
            "retention place=%s: %s evidence file(s) without a record %s",
            place.pk,
            deleted,
            "found" if dry_run else "deleted",
        )
    return deleted
