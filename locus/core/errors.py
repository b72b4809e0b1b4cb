"""Application errors: business code raises these; HTTP layers render one shape
`{"message", "code", "fields"}`."""


def json_error(status, message, code, fields=None):
    """That shape as a response, for what answers outside django-ninja's handlers: the place
    middleware, the rate limit, Django's own error handlers, the API's unmatched addresses."""
    from django.http import JsonResponse

    return JsonResponse(
        {"message": str(message), "code": code, "fields": fields or {}}, status=status
    )


def error_page(request, template, context=None, *, status):
    """A page that says what went wrong instead of showing a form (429, a link that no longer
    works, a report erased): `error_page` in the context makes base.html say "Error:" first in
    its title, as a page shown again with a form's errors does (WCAG 2.2, 3.3.1), so a screen
    reader's first words say the request was not done. Under 400 (the erased report's page
    opened with GET) it is an ordinary page."""
    from django.shortcuts import render

    context = {**(context or {}), "error_page": status >= 400}
    return render(request, template, context, status=status)


class ApplicationError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message, *, code=None, fields=None, status=None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = {key: [str(m) for m in msgs] for key, msgs in (fields or {}).items()}

    def as_dict(self):
        return {"message": self.message, "code": self.code, "fields": self.fields}


class ValidationFailed(ApplicationError):
    status = 422
    code = "validation_error"


class NotFound(ApplicationError):
    status = 404
    code = "not_found"


class PermissionDenied(ApplicationError):
    status = 403
    code = "forbidden"


class PreconditionFailed(ApplicationError):
    """A condition of the request no longer holds (`If-Match`: the resource changed since the
    client read it): 412, nothing done."""

    status = 412
    code = "precondition_failed"


class RateLimited(ApplicationError):
    """Too many attempts: 429 with `Retry-After` seconds (the API adds the header)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message, *, retry_after):
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(ApplicationError):
    """The database is busy or briefly unreachable: 503 with `Retry-After`. Nothing about the
    request was wrong; the same request (with the same idempotency key) may be sent again."""

    status = 503
    code = "service_unavailable"
    retry_after = 5


def database_unavailable(exc) -> bool:
    """Whether `exc` says the database could not be used just now (locked past the busy
    timeout, a dropped or refused connection, a server restarting), rather than that the
    request or the code is wrong: such a request is answered 503, not 500."""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)
