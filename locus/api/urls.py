"""The one NinjaAPI: error shape, auth, and the routers of each app's api.py."""

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from locus.core.errors import ApplicationError

api = NinjaAPI(
    title="Locus API",
    version="1",
    description=(
        "Locus JSON API. Authenticate with a personal token (`Authorization: Bearer locus_…`) "
        "created on your staff page, or with a signed-in browser session. "
        'Errors always have the shape `{"message", "code", "fields"}`.'
    ),
    urls_namespace="api",
)


def _error(request, status, message, code, fields=None):
    return api.create_response(
        request, {"message": message, "code": code, "fields": fields or {}}, status=status
    )


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc):
    fields = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "query", "path")]
        key = ".".join(loc[1:] if loc and loc[0] in ("payload", "data") else loc) or "non_field"
        fields.setdefault(key, []).append(error.get("msg", "Invalid value."))
    return _error(request, 422, "The request is not valid.", "validation_error", fields)


@api.exception_handler(ApplicationError)
def on_application_error(request, exc):
    return _error(request, exc.status, exc.message, exc.code, exc.fields)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    return _error(request, 401, "Authentication required.", "unauthorized")


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "Not found.", "not_found")


HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "throttled",
}


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    status, message = exc.status_code, str(exc)
    if isinstance(exc.__cause__, RequestDataTooBig):
        # ninja reports every unreadable body as 400; say what is really wrong.
        status, message = 413, "The request body is too large."
    return _error(request, status, message, HTTP_ERROR_CODES.get(status, "error"))


def _mount_routers():
    from locus.accounts.api import router as accounts_router
    from locus.directory.api import router as directory_router
    from locus.places.api import router as places_router

    api.add_router("", accounts_router)
    api.add_router("", places_router)
    api.add_router("", directory_router)


_mount_routers()
