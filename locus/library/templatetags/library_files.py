"""`{% record_files_section record %}`: the files panel of a record's page (files.py decides
who sees what), so that the record view itself needs no change."""

from django import template
from django.utils import timezone

from locus.core.services import JOB_STALL
from locus.library import files
from locus.library.models import FileStatus

register = template.Library()


@register.inclusion_tag("library/files/section.html", takes_context=True)
def record_files_section(context, record):
    request = context.get("request")
    rights = files.Access(record, getattr(request, "user", None))
    rows = []
    # A file still waiting this long may have no task (it could not be queued after the
    # upload was saved, core.tasks.enqueue_on_commit): it can be read again by hand.
    stalled_before = timezone.now() - JOB_STALL
    if rights.can_view:
        for file in files.record_files(record):
            pending = file.status == FileStatus.PENDING
            rows.append(
                {
                    "file": file,
                    "failed": file.status == FileStatus.FAILED,
                    "pending": pending,
                    "stalled": pending and file.uploaded_at < stalled_before,
                    "problem": files.error_message(file) if file.error else "",
                }
            )
    # Neither a file nor a web address: the page says where to look instead of ending there.
    no_copy = not rows and not record.url
    return {
        "record": record,
        "rows": rows,
        "can_manage": rights.can_manage,
        "no_copy": no_copy,
        "show": bool(rows) or rights.can_manage or no_copy,
        "request": request,
    }
