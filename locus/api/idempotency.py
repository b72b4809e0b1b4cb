"""`Idempotency-Key` for API operations: the header, the request's hash, and the outcomes in
the API's error shape. The mechanics are in `locus.core.idempotency`.

    @router.post("/places/{slug:place_slug}/reports", response={201: ReceiptOut,
                 **IDEMPOTENCY_ERRORS, ...}, auth=None)
    @rate_limited("report.submit", "10/h")      # outermost: a refused request claims nothing
    @idempotent("report.submit")
    def report_submit(request, place_slug: str, payload: ReportIn):
        report = services.report_submit(...)
        return Status(201, {"receipt": report.receipt_code})

Without the header the operation runs as usual. With it:
- the same key and request again → the first response (its status and body, rendered through
  the operation's response schema as the first time);
- the same key, another request (body, address, query or signed-in user) → 422,
  `idempotency_key_reused`, naming the `Idempotency-Key` field;
- while the first is still being processed → 409, `request_in_flight`, `Retry-After: 1`;
- a malformed key → 422, `invalid_idempotency_key`.

The operation runs in one transaction together with the recording of its result. Its 2xx body
is stored for 24 hours to be replayed: return only result references and receipt ids, never the
submitted content. A 2xx must be returned as a body or `Status(code, body)` (not an
`HttpResponse`, which cannot be replayed faithfully); any other outcome releases the key.
"""

import hashlib
import json
from functools import wraps

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpResponseBase, JsonResponse
from django.http.request import RawPostDataException
from ninja import Header, Status
from pydantic import BaseModel

from locus.api.schemas import ErrorOut
from locus.core.idempotency import (
    HEADER,
    ClaimLost,
    IdempotencyGuard,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    RequestInFlight,
    canonical_form,
    hash_json,
    in_flight_message,
    normalize_key,
)

# Responses an idempotent operation may give besides its own (add them to `response=`).
IDEMPOTENCY_ERRORS = {409: ErrorOut, 422: ErrorOut}


def idempotency_key_header():
    """The `Idempotency-Key` parameter of an idempotent operation, so that the OpenAPI document
    shows it (the decorator reads the header itself):
    `idempotency_key_header: str | None = idempotency_key_header()`."""
    return Header(
        None,
        alias=HEADER,
        description="Optional: a key of yours (1–255 printable ASCII characters) that makes a "
        "retry safe. The same key and request again: the first answer; another request: 422; "
        "while the first is still processed: 409 with `Retry-After`. Kept 24 hours.",
    )


def idempotency_key(request):
    """The request's `Idempotency-Key`, normalised, or None. Raises `InvalidIdempotencyKey`."""
    value = request.headers.get(HEADER)
    if value is None:
        return None
    return normalize_key(value)


def _body(request):
    content_type = request.content_type or ""
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return {"form": canonical_form(request.POST, request.FILES)}
    try:
        raw = request.body
    except RawPostDataException:  # the stream was read as a form already
        return {"form": canonical_form(request.POST, request.FILES)}
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            return {"json": json.loads(raw)}
        except ValueError:
            pass
    return {"bytes": hashlib.sha256(raw).hexdigest()}


def request_hash(request):
    """SHA-256 of what makes this request this request: method, address, query, signed-in
    user and the canonical body (JSON with sorted keys; forms as sorted items, files by hash)."""
    user = getattr(request, "user", None)
    return hash_json(
        {
            "method": request.method,
            "path": request.path_info,
            "query": sorted((k, v) for k, values in request.GET.lists() for v in values),
            "user": str(user.pk) if user is not None and user.is_authenticated else None,
            "body": _body(request),
        }
    )


def error_response(exc, *, headers=None):
    """An `ApplicationError` in the API's error shape, with extra headers."""
    return JsonResponse(exc.as_dict(), status=exc.status, headers=headers)


def _status_and_body(result):
    if isinstance(result, HttpResponseBase):
        if 200 <= result.status_code < 300:
            raise TypeError(
                "an idempotent operation returns its 2xx as a body or Status(code, body), "
                "not an HttpResponse"
            )
        return result.status_code, None
    if isinstance(result, Status):
        status, body = result.status_code, result.value
    elif isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
        status, body = result
    else:
        status, body = 200, result
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    return status, body


def _replay_as_stored(request, replay):
    return Status(replay.status, replay.body)


def idempotent(scope, *, stored=None, replayed=_replay_as_stored):
    """Decorate a ninja operation of a place (`request.place`) to honour `Idempotency-Key`.

    `stored(body)` picks what of a 2xx body is kept for replays (default: all of it) and
    `replayed(request, replay)` turns what was kept into the replayed answer — so an answer
    carrying a one-time secret can keep only a reference and replay without the secret.
    """

    def decorator(operation):
        @wraps(operation)
        def wrapper(request, *args, **kwargs):
            try:
                key = idempotency_key(request)
            except InvalidIdempotencyKey as exc:
                return error_response(exc)
            if key is None:
                return operation(request, *args, **kwargs)
            place = getattr(request, "place", None)
            if place is None:
                raise ImproperlyConfigured(f"@idempotent({scope!r}) needs a place in the URL")
            guard = IdempotencyGuard(
                place=place, scope=scope, key=key, request_hash=request_hash(request)
            )
            try:
                guard.claim()
            except RequestInFlight as exc:
                return error_response(exc, headers={"Retry-After": str(exc.retry_after)})
            except IdempotencyKeyReused as exc:
                return error_response(exc)
            if guard.replay:
                return replayed(request, guard.replay)
            try:
                with transaction.atomic():
                    result = operation(request, *args, **kwargs)
                    status, body = _status_and_body(result)
                    if 200 <= status < 300:
                        guard.complete(status=status, body=stored(body) if stored else body)
            except ClaimLost:
                # This request outlived its lease and a retry took over; its work is rolled
                # back. Retrying returns the retry's result.
                exc = RequestInFlight(in_flight_message())
                return error_response(exc, headers={"Retry-After": str(exc.retry_after)})
            finally:
                guard.close()
            return result

        return wrapper

    return decorator
