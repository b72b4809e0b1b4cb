"""Pages for a library record's files: add (a page of its own, so that errors show next to the
field), download, re-read and remove. Who may do what: files.Access (docs/library.md)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from locus.core.errors import PermissionDenied, ValidationFailed

from . import files
from .choices import RecordStatus
from .forms_files import FileUploadForm


def _record_or_404(request, record_id):
    record, rights = files.access(record_id=record_id, user=request.user)
    if record is None:
        raise Http404
    return record, rights


def _manageable(request, record_id):
    record, rights = _record_or_404(request, record_id)
    if not rights.can_manage:
        raise DjangoPermissionDenied
    return record, rights


def _files_anchor(record):
    return reverse("library:record", args=[record.pk]) + "#files-heading"


@login_required
@require_http_methods(["GET", "POST"])
def file_add(request, record_id):
    """Upload a PDF or a plain-text document to a record."""
    record, rights = _manageable(request, record_id)
    form = (
        FileUploadForm(request.POST, request.FILES)
        if request.method == "POST"
        else FileUploadForm()
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                file = files.file_add(
                    record=record,
                    uploaded=form.cleaned_data["file"],
                    actor=request.user,
                    rights=rights,
                )
            except ValidationFailed as exc:
                for message in exc.fields.get("file", [exc.message]):
                    form.add_error("file", message)
            except PermissionDenied as exc:
                raise DjangoPermissionDenied from exc
            else:
                messages.success(
                    request,
                    _("“%(name)s” was added. Its text is being read for the search.")
                    % {"name": file.original_name},
                )
                return redirect(_files_anchor(record))
        status = 422
    context = {
        "record": record,
        "form": form,
        "max_size": files.max_file_bytes(),
        "max_files": files.MAX_FILES_PER_RECORD,
    }
    return render(request, "library/files/add.html", context, status=status)


@require_GET
def file_download(request, record_id, file_id):
    """The stored file, for whoever may see the record (published: everyone)."""
    record, _rights = _record_or_404(request, record_id)
    file = files.record_file(record=record, file_id=file_id)
    if file is None:
        raise Http404
    try:
        handle = default_storage.open(file.file.name, "rb")
    except OSError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=file.original_name, content_type=file.mime
    )
    if file.mime == "text/plain":
        response["Content-Type"] = "text/plain; charset=utf-8"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if record.status != RecordStatus.PUBLISHED:
        response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def file_remove(request, record_id, file_id):
    record, rights = _manageable(request, record_id)
    file = files.record_file(record=record, file_id=file_id)
    if file is None:
        raise Http404
    files.file_remove(file=file, actor=request.user, rights=rights)
    messages.success(request, _("“%(name)s” was removed.") % {"name": file.original_name})
    return redirect(_files_anchor(record))


@login_required
@require_POST
def file_retry(request, record_id, file_id):
    record, rights = _manageable(request, record_id)
    file = files.record_file(record=record, file_id=file_id)
    if file is None:
        raise Http404
    files.file_retry(file=file, actor=request.user, rights=rights)
    messages.success(
        request, _("The text of “%(name)s” is being read again.") % {"name": file.original_name}
    )
    return redirect(_files_anchor(record))
