"""The API for a library record's files: list them, and upload one (issue 5 §3). The same
rules as the pages (files.Access): a published record's files are public; a draft's only for
those who may see it; uploads by library editors, or by the contributing organisation's
members while the record is not published."""

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Path, Router, Schema, Status, UploadedFile

from locus.api.auth import STAFF_AUTH, SessionAuth, TokenAuth, token_membership
from locus.api.schemas import DB_ID_MAX, ErrorOut
from locus.core.errors import NotFound, PermissionDenied

from . import files
from .models import FileStatus

router = Router(tags=["library"])


def _anonymous(request):
    """Last in the list: anybody may read what is public."""
    return True


READ_AUTH = [TokenAuth(), SessionAuth(), _anonymous]


class LibraryFileOut(Schema):
    id: int
    name: str
    mime: str
    size: int
    sha256: str
    status: str
    language: str
    pages: int | None
    uploaded_at: datetime
    extracted_at: datetime | None
    download_url: str
    problem: str | None = None


class LibraryFileListOut(Schema):
    record_id: int
    can_add: bool
    files: list[LibraryFileOut]


def _out(file, rights):
    return {
        "id": file.pk,
        "name": file.original_name,
        "mime": file.mime,
        "size": file.size,
        "sha256": file.sha256,
        "status": file.status,
        "language": file.language,
        "pages": file.pages,
        "uploaded_at": file.uploaded_at,
        "extracted_at": file.extracted_at,
        "download_url": reverse("library:file_download", args=[file.record_id, file.pk]),
        "problem": files.error_message(file)
        if rights.can_manage and file.status == FileStatus.FAILED
        else None,
    }


def _record(request, record_id):
    user = request.user if getattr(request, "user", None) else None
    record, rights = files.access(
        record_id=record_id, user=user, membership=token_membership(request)
    )
    if record is None:
        raise NotFound(_("Not found."))
    return record, rights


@router.get(
    "/library/records/{record_id}/files",
    response={200: LibraryFileListOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    auth=READ_AUTH,
    summary="List a record's files",
    description=(
        "The files of a record with their text-extraction status and detected language. "
        "Public for published records; a draft's files only for those who may see the draft "
        "(library editors, the contributing organisation's members). `problem` says why the "
        "text could not be read, to those who may manage the files."
    ),
)
def library_files(request, record_id: int = Path(..., ge=1, le=DB_ID_MAX)):
    record, rights = _record(request, record_id)
    return {
        "record_id": record.pk,
        "can_add": rights.can_manage,
        "files": [_out(file, rights) for file in files.record_files(record)],
    }


@router.post(
    "/library/records/{record_id}/files",
    response={
        201: LibraryFileOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },
    auth=STAFF_AUTH,
    summary="Upload a file to a record",
    description=(
        "A `multipart/form-data` request with one `file`: a PDF or a UTF-8 plain-text file, "
        "its type decided by its content, at most `LOCUS_LIBRARY_MAX_FILE_BYTES` (25 MB by "
        "default) and 20 files a record. A refused file is a 422 naming `file`. The text is "
        "read afterwards by the task worker (`status`: `pending`, then `extracted` or "
        "`failed` with a `problem`)."
    ),
)
def library_file_upload(
    request, record_id: int = Path(..., ge=1, le=DB_ID_MAX), file: File[UploadedFile] = None
):
    record, rights = _record(request, record_id)
    if not rights.can_manage:
        raise PermissionDenied(_("You may not add files to this record."))
    stored = files.file_add(record=record, uploaded=file, actor=request.user, rights=rights)
    stored.refresh_from_db()
    return Status(201, _out(stored, rights))
