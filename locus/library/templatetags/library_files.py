"""`{% record_files_section record %}`: the files panel of a record's page (files.py decides
who sees what), so that the record view itself needs no change."""

from django import template

from locus.library import files
from locus.library.models import FileStatus

register = template.Library()


@register.inclusion_tag("library/files/section.html", takes_context=True)
def record_files_section(context, record):
    request = context.get("request")
    rights = files.Access(record, getattr(request, "user", None))
    rows = []
    if rights.can_view:
        for file in files.record_files(record):
            rows.append(
                {
                    "file": file,
                    "failed": file.status == FileStatus.FAILED,
                    "pending": file.status == FileStatus.PENDING,
                    "problem": files.error_message(file) if file.error else "",
                }
            )
    return {
        "record": record,
        "rows": rows,
        "can_manage": rights.can_manage,
        "show": bool(rows) or rights.can_manage,
        "request": request,
    }
