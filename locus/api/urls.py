"""The one NinjaAPI: error shape, auth, and the routers of each app's api.py."""

import inspect
import logging
import re
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.urls import re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import PathView

from locus.core.errors import ApplicationError, ServiceUnavailable, json_error
from locus.core.middleware import mark_public_api

from . import openapi
from .unpaired import refuse_unpaired_surrogates

logger = logging.getLogger(__name__)
AUTH_REALM = "Locus API"


def _json_errors(view):
    """Answer in the API's error shape where Django or ninja would answer in HTML or plain text:
    a wrong method (405) and an unknown address (404)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return json_error(404, _("Not found."), "not_found")
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allow = response.get("Allow", "")
            response = json_error(405, _("Method not allowed."), "method_not_allowed")
            response["Allow"] = allow
        return response

    return wrapper


@csrf_exempt  # it changes nothing; a POST to an unknown address is a 404, not a CSRF 403
def _unknown_address(request, *args, **kwargs):
    raise Http404


def _public_methods(view):
    """The HTTP methods for which `view`, one of ninja's path views, runs an operation declared
    `auth=None` (the first operation with the method, as ninja picks it). Anything else (the
    schema, the docs, an operation with authentication) has none: the full middleware runs."""
    if not inspect.isfunction(view):
        return frozenset()
    path_view = inspect.getclosurevars(view).nonlocals.get("self")
    if not isinstance(path_view, PathView):
        return frozenset()
    seen, public = set(), set()
    for operation in path_view.operations:
        for method in set(operation.methods) - seen:
            seen.add(method)
            if operation.auth_param is None and not operation.auth_callbacks:
                public.add(method)
    return frozenset(public)


class LocusAPI(NinjaAPI):
    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            public = _public_methods(pattern.callback)
            pattern.callback = _json_errors(refuse_unpaired_surrogates(pattern.callback))
            mark_public_api(pattern.callback, public)
        urls.append(re_path(r"^", _json_errors(_unknown_address), name="unknown"))
        return urls

    def get_openapi_schema(self, **kwargs):
        return openapi.document(super().get_openapi_schema(**kwargs))


api = LocusAPI(
    title="Locus API",
    version="1",
    description=(
        "Locus JSON API. Authenticate with a personal token (`Authorization: Bearer locus_…`) "
        "created on your staff page, or with a signed-in browser session. A token whose owner's "
        "role can see personal data works only while the owner has two-factor authentication "
        "set up (otherwise 401, code `mfa_required`); it expires on the date chosen when it was "
        "made (then 401, code `token_expired`). Each token, and each signed-in person, may make "
        "600 requests a minute by default (then 429, code `rate_limited`, with `Retry-After`). "
        'Errors always have the shape `{"message", "code", "fields"}`; paged lists answer '
        '`{"count", "page", "pages", "page_size", "results"}`. The conventions, tokens and '
        "their expiry are in docs/api.md of Locus's source; webhooks in docs/webhooks.md."
    ),
    urls_namespace="api",
    openapi_extra={
        "tags": [{"name": name, "description": text} for name, text in openapi.TAGS],
    },
    # Swagger UI from ninja's static files (no CDN). It runs under the site's strict CSP as is:
    # it sets styles through the CSSOM, which CSP allows, so no 'unsafe-inline' is needed.
    # No online validator: its badge would send the schema's address to swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)


def _error(request, status, message, code, fields=None):
    return api.create_response(
        request, {"message": message, "code": code, "fields": fields or {}}, status=status
    )


def _field_message(error):
    """pydantic's message for a field, in the request's language for the kinds a client meets
    (docs/api.md: messages are for a person); our own validators' messages are translated
    already and pass as they are, so does any kind not listed here."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind in ("literal_error", "enum"):
        values = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        return _("Choose one of: %(values)s.") % {"values": values}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind == "string_too_long":
        return _("Write at most %(limit)s characters.") % {"limit": ctx.get("max_length")}
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("This field is required.")
        return _("Write at least %(limit)s characters.") % {"limit": ctx.get("min_length")}
    if kind == "too_long":
        return _("Give at most %(limit)s values.") % {"limit": ctx.get("max_length")}
    if kind == "too_short":
        return _("Give at least %(limit)s values.") % {"limit": ctx.get("min_length")}
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        if kind == "greater_than":
            return _("Enter a number greater than %(limit)s.") % {"limit": limit}
        return _("Enter a number of at least %(minimum)s.") % {"minimum": limit}
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        if kind == "less_than":
            return _("Enter a number less than %(limit)s.") % {"limit": limit}
        return _("Enter a number of at most %(limit)s.") % {"limit": limit}
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type"):
        return _("Enter a number.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Give true or false.")
    if kind in (
        "date_parsing",
        "date_type",
        "date_from_datetime_parsing",
        "date_from_datetime_inexact",
    ):
        return _("Enter a date as YYYY-MM-DD.")
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return _("Enter a date and time as YYYY-MM-DDTHH:MM.")
    if kind in ("string_type", "string_unicode"):
        return _("Enter text.")
    if kind == "string_pattern_mismatch":
        return _("This value does not have the expected form (%(pattern)s).") % {
            "pattern": ctx.get("pattern", "")
        }
    if kind in ("list_type", "set_type", "tuple_type"):
        return _("Give a list.")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("Give an object.")
    return error.get("msg", _("Invalid value."))


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc):
    fields = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", [])]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
            loc = loc[1:]  # where the value came from, not its name (a field may be "body")
        key = ".".join(loc[1:] if loc and loc[0] in ("payload", "data") else loc) or "non_field"
        fields.setdefault(key, []).append(_field_message(error))
    return _error(request, 422, _("The request is not valid."), "validation_error", fields)


# RFC 6750's error_description (ASCII, in English) for the 401s that say why a token failed.
CHALLENGE_DESCRIPTIONS = {
    "token_expired": "The token expired",
    "mfa_required": "The token's owner must set up two-factor authentication",
}


def _challenge(request, response, description=None):
    """RFC 9110 and RFC 6750: a 401 names the scheme that would work. `invalid_token` when a
    bearer token was sent but is unknown, revoked, expired or cannot be used (`mfa_required`);
    `description` says which, for a person reading the header."""
    challenge = f'Bearer realm="{AUTH_REALM}"'
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        challenge += ', error="invalid_token"'
        if description:
            challenge += f', error_description="{description}"'
    response["WWW-Authenticate"] = challenge
    return response


@api.exception_handler(ApplicationError)
def on_application_error(request, exc):
    response = _error(request, exc.status, exc.message, exc.code, exc.fields)
    if getattr(exc, "retry_after", None):
        response["Retry-After"] = str(exc.retry_after)
    for name, value in getattr(exc, "headers", {}).items():
        response[name] = value  # e.g. a 412's ETag: the version the resource has now
    if exc.status == 401:
        _challenge(request, response, CHALLENGE_DESCRIPTIONS.get(exc.code))
    return response


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request, exc):
    """The database was locked past its busy timeout or could not be reached: 503 with
    `Retry-After` (QUALITY.md: never a 500 under load). The transaction rolled back; a
    submission sent again with its Idempotency-Key is processed once."""
    logger.warning(
        "api: database unavailable for %s %s", request.method, request.path, exc_info=exc
    )
    return on_application_error(
        request,
        ServiceUnavailable(
            _(
                "The service is very busy or briefly unavailable. Try again in a moment; a "
                "request sent again with the same Idempotency-Key is not processed twice."
            )
        ),
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    message = _(
        "Authentication required. Send your personal API token in the Authorization header "
        "(Bearer locus_…); create one under API tokens in your staff area "
        "(/<place>/staff/tokens/)."
    )
    return _challenge(request, _error(request, 401, message, "unauthorized"))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, _("Not found."), "not_found")


HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
}


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    status = exc.status_code
    return _error(request, status, str(exc), HTTP_ERROR_CODES.get(status, "error"))


@api.exception_handler(RequestDataTooBig)
def on_request_too_big(request, exc):
    # Otherwise Django's 400 page: the body is over DATA_UPLOAD_MAX_MEMORY_SIZE.
    return _error(request, 413, _("The request body is too large."), "too_large")


def _mount_routers():
    from locus.accounts.api import router as accounts_router
    from locus.alerts.api import router as alerts_router
    from locus.cases.api import router as cases_router
    from locus.cases.rules_api import router as routing_router
    from locus.directory.api import router as directory_router
    from locus.insights.api import router as insights_router
    from locus.insights.public_api import router as insights_data_router
    from locus.library.api import router as library_router
    from locus.library.file_api import router as library_files_router
    from locus.library.review_api import router as library_review_router
    from locus.outbox.api import router as webhooks_router
    from locus.places.api import router as places_router
    from locus.places.indicator_api import router as indicators_router
    from locus.programmes.api import router as programmes_router
    from locus.reporting.api import router as reporting_router

    api.add_router("", accounts_router)
    api.add_router("", places_router)
    api.add_router("", directory_router)
    api.add_router("", reporting_router)
    api.add_router("", cases_router)
    api.add_router("", routing_router)
    api.add_router("", webhooks_router)
    api.add_router("", library_router)
    api.add_router("", programmes_router)
    api.add_router("", insights_router)
    api.add_router("", insights_data_router)
    api.add_router("", alerts_router)  # spike alarms and subscriptions (issue 4 §2)
    api.add_router("", indicators_router)  # context indicators (issue 4 §3)
    api.add_router("", library_files_router)  # library files (issue 5 §3)
    api.add_router("", library_review_router)  # library contribution, moderation, similar (§6)


_mount_routers()
