"""Files of library records (issue 5 §3): who may add, see and remove them, storing an upload,
and the text extraction that the task worker runs.

- **Adding**: library editors on any record; members of the contributing organisation on
  their organisation's drafts (a file added to a published record is public at once, which
  is the editors' call). The type is decided by the bytes
  (`locus.core.files.inspect_upload`): PDF or UTF-8 plain text only, at most
  `LOCUS_LIBRARY_MAX_FILE_BYTES`; a PDF with scripts, launch actions or embedded files is
  refused. Stored under an opaque name with its SHA-256; the same file twice on one record is
  refused.
- **Extraction** runs in the worker (`file_tasks.extract_record_file`), in a child process
  with hard limits (`extraction.py`). Success stores the text, the page count and the
  detected language and re-indexes the record, so full-text search finds words that appear
  only in its files; failure stores a code and a message on the file (shown to those who may
  manage it) and leaves the record as it was.
- **Seeing**: the files of a published record are public; those of other records are seen by
  whoever may see the record (editors, and the contributing organisation's members).
"""

import logging
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from locus.accounts.models import Membership
from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.files import inspect_upload
from locus.core.services import audit_record
from locus.core.storage import delete_on_commit, opaque_name
from locus.core.tasks import enqueue_on_commit

from . import extraction, policies
from .models import FileStatus, Record, RecordFile

logger = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_FILES_PER_RECORD = 20
ALLOWED_KINDS = frozenset({"pdf", "text"})
# The extracted text of all of a record's files that goes into its search document. PostgreSQL
# refuses a tsvector over 1 MB; this keeps well within it for any text.
MAX_INDEXED_CHARS = 300_000

# Why extraction failed, by the code stored before the ":" of RecordFile.error.
ERROR_MESSAGES = {
    "encrypted": gettext_lazy(
        "The PDF is protected by a password, so its text cannot be read. Upload a copy "
        "without a password."
    ),
    "too_many_pages": gettext_lazy(
        "The PDF has more pages than the library reads (%(max_pages)s); its text was not read."
    ),
    "timeout": gettext_lazy(
        "Reading the text took longer than the limit (%(seconds)s seconds) and was stopped. "
        "The PDF may be damaged or built to be slow to read."
    ),
    "memory": gettext_lazy(
        "Reading the text needed more memory than the limit and was stopped. The PDF may be "
        "damaged or built to exhaust memory."
    ),
    "limit": gettext_lazy(
        "The PDF holds compressed data that expands far beyond a normal document (a "
        "“decompression bomb”), so it was not read."
    ),
    "too_much_output": gettext_lazy("Reading the text produced more than the limit allows."),
    "broken": gettext_lazy(
        "The PDF is damaged or not a valid PDF, so its text could not be read. Try saving it "
        "again as PDF."
    ),
    "no_text": gettext_lazy(
        "No text was found in the file (a scanned document without a text layer?), so its "
        "words cannot be searched."
    ),
    "missing": gettext_lazy("The stored file could not be found."),
    "unsupported": gettext_lazy("The library cannot read text from this type of file."),
}


def max_file_bytes():
    return int(getattr(settings, "LOCUS_LIBRARY_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))


def error_message(file):
    """The extraction problem of a file, in the active language."""
    code, _sep, detail = (file.error or "").partition(":")
    message = ERROR_MESSAGES.get(code.strip())
    if message is None:
        return file.error
    limit = extraction.limits()
    return str(message) % {
        "max_pages": limit["max_pages"],
        "seconds": limit["timeout_seconds"],
    }


# --------------------------------------------------------------------------------------------
# Who may do what (pure predicates; the facts come from `access`)


def organisation_ids(user, *, membership=None):
    """Ids of the organisations the person is an active member of; with `membership` (an API
    token's), its organisation alone."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if membership is not None:
        return frozenset({membership.organisation_id})
    return frozenset(
        Membership.objects.filter(user=user, is_active=True).values_list(
            "organisation_id", flat=True
        )
    )


def can_view_files(record, *, editor, organisations):
    """A record's files follow the record (policies.can_view_record): published → everyone;
    otherwise editors and the contributing organisation's members."""
    return policies.can_view_record(record, editor=editor, organisation_ids=organisations)


def can_manage_files(record, *, editor, organisations):
    """Add, remove and re-read files: editors on any record; the contributing organisation's
    members on its drafts (policies.can_edit_draft) — a file added to a published record is
    public at once, which is the editors' call."""
    return editor or policies.can_edit_draft(record, organisations)


class Access:
    """What one person may do with one record's files (computed once per request)."""

    def __init__(self, record, user, *, membership=None):
        """`membership`: an API token's, which alone the token acts through."""
        from .selectors import library_editor

        self.record = record
        self.editor = library_editor(user, membership=membership)
        self.organisations = organisation_ids(user, membership=membership)
        self.can_view = can_view_files(record, editor=self.editor, organisations=self.organisations)
        self.can_manage = self.can_view and can_manage_files(
            record, editor=self.editor, organisations=self.organisations
        )


def access(*, record_id, user, membership=None):
    """(record, Access) or (None, None) when the record does not exist or the person may not
    see it — the same answer, so that drafts stay unknown. `membership`: as for `Access`."""
    record = Record.objects.select_related("organisation").filter(pk=record_id).first()
    if record is None:
        return None, None
    rights = Access(record, user, membership=membership)
    if not rights.can_view:
        return None, None
    return record, rights


# --------------------------------------------------------------------------------------------
# Reads


def record_files(record):
    return list(RecordFile.objects.filter(record=record).order_by("uploaded_at", "id"))


def record_file(*, record, file_id):
    return RecordFile.objects.filter(record=record, pk=file_id).first()


def indexed_text(record):
    """The extracted text of the record's files for its search document (None if none)."""
    texts = RecordFile.objects.filter(record=record, status=FileStatus.EXTRACTED).values_list(
        "text", flat=True
    )
    body = "\n\n".join(text for text in texts if text)
    return body[:MAX_INDEXED_CHARS]


# --------------------------------------------------------------------------------------------
# Writes


def _refuse(message):
    raise ValidationFailed(message, fields={"file": [message]})


def _extension(checked):
    return {"pdf": ".pdf", "text": ".txt"}[checked.kind]


def _check_room(record, *, sha256=None):
    existing = RecordFile.objects.filter(record=record)
    if existing.count() >= MAX_FILES_PER_RECORD:
        _refuse(
            _("A record has at most %(count)s files; remove one first.")
            % {"count": MAX_FILES_PER_RECORD}
        )
    if sha256 is not None and existing.filter(sha256=sha256).exists():
        _refuse(_("This file is already attached to the record."))


def file_add(*, record, uploaded, actor, rights=None) -> RecordFile:
    """Check and store an uploaded file on a record, and queue its text extraction.
    Raises ValidationFailed (under `file`) or PermissionDenied.

    The file is checked (a PDF of up to 25 MB read for scripts and embedded files) and
    written before any transaction: on SQLite a transaction holds the writers' queue
    (locus/core/sqlite), which every report submission waits for. One short transaction then
    locks the record, checks the caps again and inserts the row; if it fails, the stored file
    is deleted."""
    rights = rights or Access(record, actor)
    if not rights.can_manage:
        raise PermissionDenied(_("You may not add files to this record."))
    if uploaded is None:
        _refuse(_("Choose a file to upload."))
    _check_room(record)
    try:
        checked = inspect_upload(uploaded, max_bytes=max_file_bytes())
    except ValidationFailed as exc:
        _refuse(exc.message)
    if checked.kind not in ALLOWED_KINDS:
        _refuse(
            _(
                "Only PDF documents and plain-text files (UTF-8) can be added to the library; "
                "this file is %(kind)s."
            )
            % {"kind": checked.mime}
        )
    _check_room(record, sha256=checked.sha256)
    name = checked.original_name or (_("document") + _extension(checked))
    stored = default_storage.save(
        opaque_name(prefix=f"library/{record.pk}", suffix=_extension(checked)),
        ContentFile(checked.content),
    )
    try:
        with transaction.atomic():
            record = Record.objects.select_for_update().get(pk=record.pk)
            _check_room(record, sha256=checked.sha256)  # another upload may have come first
            file = RecordFile.objects.create(
                record=record,
                file=stored,
                original_name=name[:200],
                mime=checked.mime,
                size=checked.size,
                sha256=checked.sha256,
                status=FileStatus.PENDING,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
            audit_record(
                action=AuditAction.LIBRARY_FILE_ADDED,
                actor=actor,
                target=record,
                data={"file_id": file.pk, "size": file.size, "mime": file.mime},
            )
            _touch(record)
            _queue_extraction(file)
    except BaseException:
        default_storage.delete(stored)  # no row, no bytes
        raise
    return file


def _touch(record):
    """A change of files is a change of the record for harvesters (OAI-PMH datestamps)."""
    Record.objects.filter(pk=record.pk).update(updated_at=timezone.now())


def _queue_extraction(file):
    from .file_tasks import extract_record_file

    enqueue_on_commit(extract_record_file, file_id=file.pk)


def file_retry(*, file, actor, rights):
    """Read a file's text again (after a limit was raised, or a failure to be checked)."""
    if not rights.can_manage:
        raise PermissionDenied(_("You may not manage the files of this record."))
    with transaction.atomic():
        RecordFile.objects.filter(pk=file.pk).update(
            status=FileStatus.PENDING, error="", extracted_at=None
        )
        _queue_extraction(file)


def file_remove(*, file, actor, rights):
    """Remove a file, its stored bytes and its words from the search index."""
    if not rights.can_manage:
        raise PermissionDenied(_("You may not manage the files of this record."))
    record = file.record
    name = file.file.name
    with transaction.atomic():
        was_indexed = file.status == FileStatus.EXTRACTED
        file.delete()
        _touch(record)
        if was_indexed:
            _reindex(record)
        delete_on_commit(default_storage, name)


def files_delete_with_record(record):
    """The stored files of a record being deleted (its rows go with it, by cascade), deleted
    once that is committed. Call it in the deleting transaction (`services.record_delete`)."""
    for name in RecordFile.objects.filter(record=record).values_list("file", flat=True):
        delete_on_commit(default_storage, name)


LIBRARY_DIRECTORY = "library"
ORPHAN_BATCH = 500


def _stored_names(storage, directory):
    """Every file's name under `directory` of `storage`, at any depth."""
    try:
        directories, names = storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in names:
        yield f"{directory}/{name}"
    for sub in directories:
        yield from _stored_names(storage, f"{directory}/{sub}")


def files_purge_orphans(*, older_than=None, now=None, dry_run=False) -> int:
    """Delete the files under `library/` in the default storage that no `RecordFile` names and
    that are older than `older_than` (default LOCUS_STAGED_EVIDENCE_TTL): `file_add` writes a
    file before its row is committed, and a process killed in between leaves one nobody can
    reach or remove. Younger files are left alone: their row may be about to commit. Run by
    `manage.py purge_expired` (the library is not a place's: once, after the places). Returns
    how many (with `dry_run`, how many would be)."""
    cutoff = (now or timezone.now()) - (older_than or settings.LOCUS_STAGED_EVIDENCE_TTL)
    old = []
    for name in _stored_names(default_storage, LIBRARY_DIRECTORY):
        try:
            if default_storage.get_modified_time(name) < cutoff:
                old.append(name)
        except FileNotFoundError:  # deleted meanwhile
            continue
    deleted = 0
    for start in range(0, len(old), ORPHAN_BATCH):
        batch = old[start : start + ORPHAN_BATCH]
        named = set(RecordFile.objects.filter(file__in=batch).values_list("file", flat=True))
        for name in batch:
            if name in named:
                continue
            if not dry_run:
                default_storage.delete(name)
            deleted += 1
    if deleted:
        logger.warning(
            "library: %s file(s) without a record %s", deleted, "found" if dry_run else "deleted"
        )
    return deleted


def _reindex(record):
    from .services import search_reindex

    search_reindex(records=Record.objects.filter(pk=record.pk))


def _fail(file, code, detail=""):
    message = f"{code}: {detail}" if detail else code
    RecordFile.objects.filter(pk=file.pk).update(
        status=FileStatus.FAILED,
        error=message[:300],
        text="",
        language="",
        extracted_at=timezone.now(),
    )
    logger.info("library file %s: extraction failed (%s)", file.pk, message[:300])


def file_extract(*, file_id):
    """Read a stored file's text within the limits (the worker's task). Returns the file's
    status. Never raises for what a file contains: failures are stored on the file."""
    file = RecordFile.objects.select_related("record").filter(pk=file_id).first()
    if file is None:
        return None
    try:
        with default_storage.open(file.file.name, "rb") as handle:
            content = handle.read(file.size + 1)
    except OSError:
        _fail(file, "missing")
        return FileStatus.FAILED
    try:
        result = extraction.extract(content, file.mime)
    except extraction.ExtractionFailed as exc:
        _fail(file, exc.code, exc.detail)
        return FileStatus.FAILED
    if not result.text.strip():
        _fail(file, "no_text")
        return FileStatus.FAILED
    language = extraction.detect_language(result.text)
    with transaction.atomic():
        updated = RecordFile.objects.filter(pk=file.pk).update(
            status=FileStatus.EXTRACTED,
            error="",
            text=result.text,
            language=language,
            pages=result.pages,
            extracted_at=timezone.now(),
        )
        if updated:
            _reindex(file.record)
    return FileStatus.EXTRACTED


def describe_size(size):
    return filesizeformat(size)


def file_display_name(file):
    return PurePosixPath(file.original_name).name or _("document")


# --------------------------------------------------------------------------------------------
# Demo


class _DemoRights:
    can_view = can_manage = True


# Short reading notes, written for the demo (they describe, they do not quote): a PDF in
# English and a text file in Swedish, each attached to a seed record and read at once.
DEMO_FILES = (
    (
        "Shared Endeavour Fund: Call Three Evaluation Report",
        "reading-notes-shared-endeavour-call-three.pdf",
        [
            "Reading notes for the Locus library (demo document)\n"
            "Shared Endeavour Fund, Call Three: how the evaluation was done\n"
            "The evaluation follows the community projects funded by the Mayor of London.\n"
            "Participants answered validated survey instruments after the activities,\n"
            "rating their attitudes before and after in a retrospective pre/post design.\n"
            "Themes: resilience to extremist narratives, confidence to challenge hate,\n"
            "sympathy for violent extremism, and trust between communities.",
            "What a local team can reuse\n"
            "Build the survey into the activity, not after it; keep instruments short;\n"
            "report reach and outcomes separately; publish the questionnaire with the report.",
        ],
    ),
    (
        "SOU 2016:92 Värna demokratin mot våldsbejakande extremism – nationell samordning och "
        "kommunernas ansvar",
        "lasanteckningar-sou-2016-92.txt",
        "Läsanteckningar för Locus-biblioteket (demodokument)\n\n"
        "Utredningen beskriver hur den nationella samordningen mot våldsbejakande extremism "
        "kan organiseras och vilket ansvar kommunerna har. Den betonar lokala lägesbilder, "
        "samverkan mellan skola, socialtjänst och polis, och kommunala handlingsplaner som "
        "följs upp. Anteckningarna pekar på frågor som en kommun kan använda när den tar fram "
        "eller reviderar sin handlingsplan.",
    ),
)


def library_files_load_demo():
    """Attach the demo files to their seed records and read them at once (the demo may run
    without a worker). Idempotent: a file already attached is left alone. Returns how many
    files were added."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .pdf_writer import text_pdf

    added = 0
    for title, name, content in DEMO_FILES:
        record = Record.objects.filter(title=title).first()
        if record is None:
            continue
        data = text_pdf(content) if name.endswith(".pdf") else content.encode("utf-8")
        try:
            with transaction.atomic():
                file = file_add(
                    record=record,
                    uploaded=SimpleUploadedFile(name, data),
                    actor=None,
                    rights=_DemoRights(),
                )
        except ValidationFailed:
            continue  # already attached
        file_extract(file_id=file.pk)
        added += 1
    return added
