"""`If-Match` for API operations that change a resource others may change too: the client
sends back the `ETag` it read, and the change is refused with 412 when the resource has
changed since (RFC 9110, 13.1.1) — two clients no longer silently overwrite each other.

    def case_assign(request, ..., if_match: str | None = if_match_header(), response: HttpResponse):
        services.case_assign(..., versions=parse_if_match(if_match))

The header is optional: without it (or with `*`) nothing is checked, as before.
"""

import re

from django.utils.translation import gettext as _
from ninja import Header

from locus.core.errors import ValidationFailed

HEADER = "If-Match"

# An entity tag: optionally weak (W/), then a quoted string of visible ASCII but `"`.
_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e]*)"\s*')


def if_match_header():
    """The `If-Match` parameter, so that the OpenAPI document shows it."""
    return Header(
        None,
        alias=HEADER,
        description='Optional: the `ETag` you read (e.g. `"4711"`). When the resource has '
        "changed since, nothing is done and the answer is 412 `changed_meanwhile`, naming the "
        "change and who made it. Without it (or with `*`), nothing is checked.",
    )


def etag(version: str) -> str:
    """The `ETag` header's value for a version."""
    return f'"{version}"'


def parse_if_match(value):
    """The versions an `If-Match` value accepts (a set of strings), or None for no condition
    (no header, or `*`). Weak tags never match (the comparison is strong). A value that is not
    a list of entity tags is a 422 naming the header."""
    if value is None or value.strip() == "*":
        return None
    versions = set()
    for part in value.split(","):
        match = _TAG.fullmatch(part)
        if match is None:
            raise ValidationFailed(
                _("The request is not valid."),
                fields={
                    HEADER: [_('Give the ETag you read, in double quotes (e.g. "4711"), or *.')]
                },
            )
        if not match[1]:
            versions.add(match[2])
    return versions
