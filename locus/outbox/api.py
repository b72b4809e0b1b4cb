"""Staff API: webhooks — an organisation's endpoints in a place (list, create with the secret
shown once, get, change, rotate the secret), their delivery logs and "retry now". Mounted in
locus/api/urls.py. For administrators (`MANAGE_INTEGRATIONS`); the place team's administrators
also see every other organisation's endpoints, read-only (policies.py, docs/webhooks.md)."""

from datetime import datetime
from typing import Annotated, Literal

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import AfterValidator, ConfigDict
from pydantic_core import PydanticCustomError

from locus.accounts.policies import Capability
from locus.api.auth import STAFF_AUTH, api_membership
from locus.api.idempotency import IDEMPOTENCY_ERRORS, idempotency_key_header, idempotent
from locus.api.pagination import PageOut, PageQuery, paginate
from locus.api.schemas import BAD_BODY_ERRORS, DB_ID_MAX, PLACE_ERRORS, ErrorOut
from locus.core.errors import PermissionDenied, ValidationFailed

from . import endpoint_selectors, endpoint_services
from .choices import MessageStatus
from .policies import endpoint_can_manage

router = Router(tags=["webhooks"])

EventType = Literal[tuple(endpoint_services.EVENT_TYPES)]  # type: ignore[valid-type]
Status_ = Literal[tuple(MessageStatus.values)]  # type: ignore[valid-type]


def _plain_text(value):
    """Text that can be stored: no control characters, no lone surrogates."""
    for char in value:
        if ord(char) < 32 or ord(char) == 127:
            raise PydanticCustomError(
                "control_characters", _("Control characters are not allowed.")
            )
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise PydanticCustomError("invalid_unicode", _("The text is not valid Unicode."))
    return value.strip()


Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=500,
        description="https:// (plain http only outside production, to loopback).",
    ),
    AfterValidator(_plain_text),
]
Description = Annotated[str, Field(max_length=200), AfterValidator(_plain_text)]
EventTypes = Annotated[
    list[EventType],
    Field(max_length=endpoint_services.EVENT_TYPES_MAX, description="None: every event."),
]


# --- schemas -------------------------------------------------------------------------------


class EndpointIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://cases.police.example/locus-hook",
                    "description": "Case system",
                    "event_types": ["report.routed"],
                }
            ]
        },
    )

    url: Url
    description: Description = ""
    event_types: EventTypes = []


class EndpointPatchIn(Schema):
    """Only the fields given change."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"event_types": ["report.routed", "report.erased"], "is_active": True}]
        },
    )

    url: Url | None = None
    description: Description | None = None
    event_types: EventTypes | None = None
    is_active: bool | None = None


class RotateIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"revoke_old": False}]}
    )

    revoke_old: bool = Field(
        False,
        description="The old secret stops signing at once (it leaked). Otherwise it signs too, "
        "as a second signature, for 24 hours.",
    )


class EndpointOrganisationRef(Schema):
    id: int
    name: str


class EndpointOut(Schema):
    id: int
    organisation: EndpointOrganisationRef
    url: str
    description: str
    event_types: list[str] = Field(..., description="Empty: every event.")
    is_active: bool
    created_at: datetime
    previous_secret_expires_at: datetime | None = Field(
        ..., description="Until then the previous secret signs too (after a rotation)."
    )
    can_manage: bool = Field(..., description="False: another organisation's, read-only.")
    deliveries: dict[str, int] = Field(
        ..., description="Messages per state: waiting, delivered, problems (failed or dead)."
    )


class EndpointCreatedOut(EndpointOut):
    secret: str | None = Field(
        ...,
        description="The signing secret (`whsec_…`), returned once, in this answer only. A "
        "replay of the request (same Idempotency-Key) gives null.",
    )


class SecretOut(Schema):
    secret: str | None = Field(..., description="The new signing secret, returned once.")
    previous_secret_expires_at: datetime | None


class AttemptOut(Schema):
    at: datetime
    status_code: int | None = Field(..., description="HTTP status; null: no answer.")
    error: str
    duration_ms: int


class OutboxMessageOut(Schema):
    message_id: str = Field(..., description="The `webhook-id` header the receiver saw.")
    event_type: str
    status: Status_
    attempts: int
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None = Field(..., description="When pending: the next attempt.")
    last_error: str
    delivery_attempts: list[AttemptOut]


class OutboxMessagePage(PageOut):
    results: list[OutboxMessageOut]


class LogQuery(PageQuery):
    status: Status_ | None = None


# --- helpers -------------------------------------------------------------------------------


def _membership(request):
    if getattr(request, "place", None) is None:
        raise Http404
    return api_membership(request, Capability.MANAGE_INTEGRATIONS)


def _endpoint(request, membership, endpoint_id):
    endpoint = endpoint_selectors.access_webhook_endpoint(
        place=request.place, membership=membership, endpoint_id=endpoint_id
    )
    if endpoint is None:
        raise Http404
    return endpoint


def _managed(request, membership, endpoint_id):
    endpoint = _endpoint(request, membership, endpoint_id)
    if not endpoint_can_manage(membership, endpoint):
        raise PermissionDenied(
            _("Only an administrator of the organisation that owns this endpoint can change it.")
        )
    return endpoint


def _endpoint_out(endpoint, membership):
    return {
        "id": endpoint.pk,
        "organisation": {"id": endpoint.organisation_id, "name": endpoint.organisation.name},
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "is_active": endpoint.is_active,
        "created_at": endpoint.created_at,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at,
        "can_manage": endpoint_can_manage(membership, endpoint),
        "deliveries": {
            "waiting": getattr(endpoint, "n_waiting", 0),
            "delivered": getattr(endpoint, "n_delivered", 0),
            "problems": getattr(endpoint, "n_problems", 0),
        },
    }


def _fresh_out(request, membership, endpoint_id):
    """The endpoint as stored now, with its counts."""
    return _endpoint_out(_endpoint(request, membership, endpoint_id), membership)


def _iso(value):
    return value.isoformat() if value is not None else None


def _message_out(message):
    pending = message.status == MessageStatus.PENDING
    return {
        "message_id": message.message_id,
        "event_type": message.event_type,
        "status": message.status,
        "attempts": message.attempts,
        "created_at": message.created_at,
        "delivered_at": message.delivered_at,
        "next_attempt_at": message.next_attempt_at if pending else None,
        "last_error": message.last_error,
        "delivery_attempts": [
            {
                "at": a.at,
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in message.delivery_attempts.all()
        ],
    }


# --- endpoints -----------------------------------------------------------------------------

ENDPOINTS = "/places/{slug:place_slug}/webhooks"
ENDPOINT = ENDPOINTS + "/{endpoint_id}"
EndpointId = Path(..., ge=1, le=DB_ID_MAX)


@router.get(
    ENDPOINTS,
    response={200: list[EndpointOut], **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="List webhook endpoints",
    description="Your organisation's endpoints in the place; for the administrators of the "
    "team that runs Locus there, every organisation's (`can_manage: false` for others').",
)
def webhooks_list(request, place_slug: str):
    membership = _membership(request)
    endpoints = endpoint_selectors.webhook_endpoints_visible(
        place=request.place, membership=membership
    )
    return [_endpoint_out(endpoint, membership) for endpoint in endpoints]


@router.post(
    ENDPOINTS,
    response={201: EndpointCreatedOut, **BAD_BODY_ERRORS, **IDEMPOTENCY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Create a webhook endpoint",
    description="Registers an endpoint of your organisation. **The signing secret is returned "
    "once**, in this answer: give it to the receiving system, which verifies every request "
    "with the Standard Webhooks algorithm (docs/webhooks.md). Audited. Send an "
    "`Idempotency-Key` to retry safely (a replay answers with `secret: null`).",
)
@idempotent(
    "webhooks.create",
    stored=lambda body: {"id": body["id"]},
    replayed=lambda request, replay: _replayed_endpoint(request, replay),
)
def webhooks_create(
    request,
    place_slug: str,
    payload: EndpointIn,
    idempotency_key_header: str | None = idempotency_key_header(),
):
    membership = _membership(request)
    endpoint, secret = endpoint_services.webhook_endpoint_add(
        place=request.place,
        membership=membership,
        url=payload.url,
        description=payload.description,
        event_types=payload.event_types,
    )
    return Status(201, _fresh_out(request, membership, endpoint.pk) | {"secret": secret})


def _replayed_endpoint(request, replay):
    membership = _membership(request)
    body = _fresh_out(request, membership, (replay.body or {}).get("id")) | {"secret": None}
    return Status(replay.status, body)


@router.get(
    ENDPOINT,
    response={200: EndpointOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Get a webhook endpoint",
    description=(
        "One webhook endpoint with its delivery counts; never its secret (shown once, at "
        "creation or rotation). Administrators of its organisation; the place team's "
        "administrators read others' (`can_manage: false`)."
    ),
)
def webhooks_get(request, place_slug: str, endpoint_id: int = EndpointId):
    membership = _membership(request)
    return _fresh_out(request, membership, endpoint_id)


@router.patch(
    ENDPOINT,
    response={200: EndpointOut, **BAD_BODY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Change a webhook endpoint",
    description="Only the fields given change. `is_active: false` stops deliveries: messages "
    "for it then fail, and can be retried once it is enabled again. Audited.",
)
def webhooks_update(
    request, place_slug: str, payload: EndpointPatchIn, endpoint_id: int = EndpointId
):
    membership = _membership(request)
    endpoint = _managed(request, membership, endpoint_id)
    data = payload.model_dump(exclude_unset=True)
    nulls = [name for name, value in data.items() if value is None]
    if nulls:
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={name: [_("Leave the field out to keep it as it is.")] for name in nulls},
        )
    endpoint_services.webhook_endpoint_change(
        place=request.place, membership=membership, endpoint=endpoint, **data
    )
    return _fresh_out(request, membership, endpoint_id)


@router.post(
    ENDPOINT + "/rotate-secret",
    response={200: SecretOut, **BAD_BODY_ERRORS, **IDEMPOTENCY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Give a webhook endpoint a new signing secret",
    description="Returns the new secret once. The old one keeps signing, as a second "
    "signature, for 24 hours unless `revoke_old`. Audited. With an `Idempotency-Key`, a replay "
    "rotates nothing and answers `secret: null`.",
)
@idempotent(
    "webhooks.rotate",
    stored=lambda body: {"previous_secret_expires_at": _iso(body["previous_secret_expires_at"])},
    replayed=lambda request, replay: Status(replay.status, {**replay.body, "secret": None}),
)
def webhooks_rotate_secret(
    request,
    place_slug: str,
    payload: RotateIn,
    endpoint_id: int = EndpointId,
    idempotency_key_header: str | None = idempotency_key_header(),
):
    membership = _membership(request)
    endpoint = _managed(request, membership, endpoint_id)
    secret = endpoint_services.webhook_endpoint_new_secret(
        place=request.place, membership=membership, endpoint=endpoint, revoke_old=payload.revoke_old
    )
    return {
        "secret": secret,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at,
    }


@router.post(
    ENDPOINT + "/test",
    response={201: OutboxMessageOut, 422: ErrorOut, **IDEMPOTENCY_ERRORS, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Send a webhook endpoint a test event",
    description="Queues a signed `webhook.test` event (`data`: `endpoint`, `test`, `link`; no "
    "report) for the endpoint, whatever events it subscribed to; answers with the message, "
    "whose delivery then shows in the delivery log. Enabled endpoints only (422). Audited. "
    "With an `Idempotency-Key`, a replay sends nothing and answers with the first message.",
)
@idempotent(
    "webhooks.test",
    stored=lambda body: {"message_id": body["message_id"]},
    replayed=lambda request, replay: _replayed_message(request, replay),
)
def webhooks_test(
    request,
    place_slug: str,
    endpoint_id: int = EndpointId,
    idempotency_key_header: str | None = idempotency_key_header(),
):
    membership = _membership(request)
    endpoint = _managed(request, membership, endpoint_id)
    message = endpoint_services.webhook_endpoint_test(
        place=request.place,
        membership=membership,
        endpoint=endpoint,
        link=reverse(
            "outbox:endpoint",
            kwargs={"place_slug": request.place.slug, "endpoint_id": endpoint.pk},
        ),
    )
    return Status(201, _logged_message_out(request, endpoint, message.message_id))


def _logged_message_out(request, endpoint, message_id):
    log = endpoint_selectors.webhook_delivery_log(place=request.place, endpoint=endpoint)
    return _message_out(log.get(message_id=message_id))


def _replayed_message(request, replay):
    membership = _membership(request)
    endpoint = _managed(request, membership, int(request.resolver_match.kwargs["endpoint_id"]))
    body = _logged_message_out(request, endpoint, (replay.body or {}).get("message_id"))
    return Status(replay.status, body)


@router.get(
    ENDPOINT + "/messages",
    response={200: OutboxMessagePage, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="The delivery log of a webhook endpoint",
    description="Messages, newest first, each with every delivery attempt (time, HTTP status "
    "or error, duration). Filter by `status`; paged (`page`, `page_size`).",
)
def webhooks_messages(
    request, place_slug: str, query: Query[LogQuery], endpoint_id: int = EndpointId
):
    membership = _membership(request)
    endpoint = _endpoint(request, membership, endpoint_id)
    messages = endpoint_selectors.webhook_delivery_log(
        place=request.place, endpoint=endpoint, status=query.status
    )
    return paginate(messages, query, item=_message_out)


@router.post(
    ENDPOINT + "/messages/{message_id}/retry",
    response={200: OutboxMessageOut, 422: ErrorOut, **PLACE_ERRORS},
    auth=STAFF_AUTH,
    summary="Send a failed or dead message again, now",
    description="A fresh retry schedule; the delivery log keeps every earlier attempt. Only "
    "for `failed` and `dead` messages (422 otherwise). Audited.",
)
def webhooks_message_retry(
    request,
    place_slug: str,
    endpoint_id: int = EndpointId,
    message_id: str = Path(..., min_length=1, max_length=40),
):
    membership = _membership(request)
    endpoint = _managed(request, membership, endpoint_id)
    message = endpoint_selectors.access_webhook_message(
        place=request.place, endpoint=endpoint, message_id=message_id
    )
    if message is None:
        raise Http404
    endpoint_services.webhook_message_retry(
        place=request.place, membership=membership, endpoint=endpoint, message=message
    )
    message = endpoint_selectors.webhook_delivery_log(place=request.place, endpoint=endpoint).get(
        pk=message.pk
    )
    return _message_out(message)
