"""JSON may carry text that no database can store: a lone surrogate, written as an escape
("\\ud800" without its pair). Python's json module accepts it; SQLite then fails to encode the
string and PostgreSQL refuses it — a 500 from any endpoint that stores text. Every API view is
wrapped so that such a body is a 422 naming the field, before any endpoint sees it.

The check costs one regular-expression search over the raw body; the body is parsed again only
when it holds a surrogate escape (an emoji written as a pair of escapes is fine)."""

import json
import re
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils.translation import gettext as _

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE = re.compile("[\ud800-\udfff]")


def unpaired_surrogate_path(data, path=()):
    """The path (keys and indexes) of the first string holding a lone surrogate, or None."""
    if isinstance(data, str):
        return path if _LONE.search(data) else None
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for key, value in items:
        if isinstance(key, str) and _LONE.search(key):
            return (*path, key)
        found = unpaired_surrogate_path(value, (*path, key))
        if found is not None:
            return found
    return None


def _body_problem(request):
    if request.method not in ("POST", "PUT", "PATCH") or "json" not in request.content_type:
        return None  # multipart uploads are read by the endpoint, in a stream
    try:
        body = request.body
    except RequestDataTooBig:
        return None  # the endpoint answers 413
    if not body or not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None  # not JSON: the endpoint answers that
    return unpaired_surrogate_path(data)


def refuse_unpaired_surrogates(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        path = _body_problem(request)
        if path is None:
            return view(request, *args, **kwargs)
        field = ".".join(str(part) for part in path) or "non_field"
        message = _("This text holds a character that cannot be stored (an unpaired surrogate).")
        return JsonResponse(
            {
                "message": _("The request is not valid."),  # as every 422 of the API
                "code": "validation_error",
                "fields": {field: [message]},
            },
            status=422,
        )

    return wrapper
