"""Writes for the outbox: webhook endpoints, enqueueing, delivery attempts, operator retries.

How a message travels (ARCHITECTURE.md, "Reliability"):

1. The business service (report_submit, case_route…) calls `outbox_enqueue_webhook` /
   `outbox_enqueue_email` inside its own transaction. Only the row is written; the delivery
   task is enqueued on commit. A rollback leaves no message and sends nothing.
2. `deliver_message` (on commit) and the `deliver_outbox` sweep call `outbox_deliver`: claim
   the message (a conditional status change, so two workers never both take it), send one
   attempt outside any transaction (no database lock is held during network I/O), then
   record the attempt and the new state in a short transaction.
3. A failed attempt schedules the next one (`backoff.py`: ≈ 3 days); after the last the
   message is `dead`. Nothing is deleted; `outbox_retry` sends a dead or failed one again.

Delivery is at least once: a worker that dies after the receiver answered but before the
outcome was recorded leaves the message `delivering` until its claim expires, and the sweep
then sends it again with the same `webhook-id`, which receivers use to drop duplicates.
"""

import functools
import json
import logging
import time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from locus.core.errors import ValidationFailed
from locus.directory.selectors import listing_exists

from . import transport
from .backoff import retry_delay
from .choices import MessageKind, MessageStatus
from .models import DeliveryAttempt, OutboxMessage, WebhookEndpoint, validate_webhook_url
from .standard_webhooks import generate_secret, signature_headers

logger = logging.getLogger(__name__)

# A worker's claim on a message lasts this long; then another worker may take it over. Far
# longer than one attempt (10 s HTTP timeout, 20 s SMTP timeout).
CLAIM_SECONDS = 5 * 60
# After a rotation the old secret still signs (as a second signature) for this long.
SECRET_ROTATION_GRACE = timedelta(hours=24)
EMAIL_SUBJECT_MAX = 200


class OutboxMisuse(RuntimeError):
    """An enqueue outside the caller's transaction: the message could be lost (or sent for a
    change that never committed). A programming error, not a user error."""


def _in_callers_transaction(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not transaction.get_connection().in_atomic_block:
            raise OutboxMisuse(
                f"{func.__name__} must run inside the transaction that writes the change it "
                "announces (transaction.atomic)"
            )
        return func(*args, **kwargs)

    return wrapper


def _as_validation_failed(exc):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return ValidationFailed(_("Please correct the errors below."), fields=fields)


def source_ref(source):
    """("app.model", "pk") for a model instance, the pair itself for a (type, id) pair, and
    ("", "") for None."""
    if source is None:
        return "", ""
    if isinstance(source, models.Model):
        if source.pk is None:
            raise ValueError("the source must be saved before a message can refer to it")
        return source._meta.label_lower, str(source.pk)
    source_type, source_id = source
    if not source_type or source_id in (None, ""):
        raise ValueError("a source is a (type, id) pair with both parts set")
    return str(source_type), str(source_id)


# Webhook endpoints ---------------------------------------------------------------------------


@transaction.atomic
def webhook_endpoint_create(
    *, place, organisation, url, description="", event_types=()
) -> tuple[WebhookEndpoint, str]:
    """Register an organisation's endpoint in the place. Returns (endpoint, secret): show the
    secret to the person once; it is not shown again (rotate it if it is lost)."""
    if not listing_exists(place=place, organisation=organisation):
        raise ValidationFailed(
            _("This organisation does not work in this place."),
            fields={"organisation": [_("This organisation does not work in this place.")]},
        )
    endpoint = WebhookEndpoint(
        place=place,
        organisation=organisation,
        url=url,
        description=description,
        event_types=list(event_types),
        secret=generate_secret(),
    )
    try:
        endpoint.full_clean()
    except ValidationError as exc:
        raise _as_validation_failed(exc) from exc
    endpoint.save()
    logger.info("webhook endpoint %s created place=%s", endpoint.pk, place.pk)
    return endpoint, endpoint.secret


@transaction.atomic
def webhook_endpoint_update(
    *, place, endpoint, url=None, description=None, event_types=None, is_active=None
) -> WebhookEndpoint:
    """Change what is given; the secret only changes through `webhook_endpoint_rotate_secret`."""
    if endpoint.place_id != place.pk:
        raise ValidationFailed(_("The endpoint belongs to another place."))
    if url is not None:
        endpoint.url = url
    if description is not None:
        endpoint.description = description
    if event_types is not None:
        endpoint.event_types = list(event_types)
    if is_active is not None:
        endpoint.is_active = is_active
    try:
        endpoint.full_clean()
    except ValidationError as exc:
        raise _as_validation_failed(exc) from exc
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, place, endpoint, grace=SECRET_ROTATION_GRACE, now=None
) -> str:
    """Give the endpoint a new secret and return it (shown once). The old secret keeps signing,
    as a second signature, for `grace`, so the receiver can switch without rejecting anything;
    pass `grace=timedelta(0)` when the old secret leaked."""
    if endpoint.place_id != place.pk:
        raise ValidationFailed(_("The endpoint belongs to another place."))
    now = now or timezone.now()
    endpoint.previous_secret = endpoint.secret if grace > timedelta(0) else ""
    endpoint.previous_secret_expires_at = now + grace if grace > timedelta(0) else None
    endpoint.secret = generate_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    logger.info("webhook endpoint %s secret rotated place=%s", endpoint.pk, place.pk)
    return endpoint.secret


# Enqueueing ----------------------------------------------------------------------------------


KICKS = "_locus_outbox_kicks"  # on the connection: (outermost atomic block, {place: [ids]})


def _kick(message):
    """Have the worker try `message` as soon as the transaction commits. The messages of one
    transaction share one task (a task per message would be a write per message): each
    on-commit callback flushes whatever is pending, so the batch goes out even when the
    savepoint of an earlier message was rolled back (its id then finds nothing)."""
    connection = transaction.get_connection()
    # Pending ids belong to the outermost transaction: a rolled-back one leaves its ids behind,
    # and the next transaction starts afresh instead of carrying them.
    outermost = connection.atomic_blocks[0] if connection.atomic_blocks else None
    state = connection.__dict__.get(KICKS)
    if state is None or state[0] is not outermost:
        state = connection.__dict__[KICKS] = (outermost, {})
    state[1].setdefault(message.place_id, []).append(message.message_id)
    transaction.on_commit(lambda: _flush_kicks(connection))


def _flush_kicks(connection):
    """Enqueue the first attempts of the committed messages. Never raises: the messages (and
    the change they announce) are committed, and the sweep (`deliver_outbox`) makes the first
    attempt of any message whose task could not be queued. Raising here, after the commit,
    would answer a saved report, message or erasure with an error page."""
    from .tasks import deliver_messages

    _outermost, pending = connection.__dict__.pop(KICKS, None) or (None, {})
    for place_id, message_ids in pending.items():
        try:
            deliver_messages.enqueue(place_id=place_id, message_ids=message_ids)
        except Exception:
            logger.warning(
                "outbox: could not queue the first attempt of %s message(s) place=%s; "
                "the sweep delivers them",
                len(message_ids),
                place_id,
                exc_info=True,
            )


def _insert_once(message, existing):
    """Save `message` unless `existing` (a queryset) already holds its (source, destination,
    event): then return that one. Only messages with a source can collide, so only they pay
    for a savepoint, which keeps the caller's transaction usable (PostgreSQL aborts it on an
    IntegrityError otherwise) when a concurrent transaction inserted the same message first."""
    if not message.source_id:
        message.save()
        return message, True
    found = existing.first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        found = existing.first()
        if found is None:
            raise
        return found, False
    return message, True


# The two enqueue functions write one row inside the caller's transaction (enforced), so they
# open no savepoint of their own beyond `_insert_once`'s: they sit on the intake path.


@_in_callers_transaction
def outbox_enqueue_webhook(*, place, endpoint, event_type, payload, source=None) -> OutboxMessage:
    """Queue `payload` for POSTing to `endpoint` once the caller's transaction commits.

    Call it inside the transaction that writes the change (raises OutboxMisuse otherwise).
    With a `source` (a model instance or a (type, id) pair) it is idempotent: the same
    (source, endpoint, event_type) returns the first message and queues nothing new.
    The receiver gets `{"type": event_type, "timestamp": …, "data": payload}`.
    """
    if endpoint.place_id != place.pk:
        raise ValidationFailed(_("The endpoint belongs to another place."))
    if not endpoint.is_active or not endpoint.accepts(event_type):
        raise ValidationFailed(_("This endpoint does not receive this event."))
    return _enqueue(
        place=place,
        kind=MessageKind.WEBHOOK,
        destination={"endpoint": endpoint},
        event_type=event_type,
        payload=payload,
        source=source,
    )


def _enqueue(*, place, kind, destination, event_type, payload, source):
    """Insert one message per (source, destination, event) — the first one if it exists —
    and kick its delivery after commit."""
    source_type, source_id = source_ref(source)
    identity = {
        "place": place,
        "kind": kind,
        "event_type": event_type,
        "source_type": source_type,
        "source_id": source_id,
        **destination,
    }
    message, created = _insert_once(
        OutboxMessage(payload=payload, **identity), OutboxMessage.objects.filter(**identity)
    )
    if created:
        _kick(message)
    return message


@_in_callers_transaction
def outbox_enqueue_email(
    *, place, to, subject, body, source=None, event_type="notification"
) -> OutboxMessage:
    """Queue an e-mail to an organisation's inbox once the caller's transaction commits.

    PERSONAL DATA: the subject and body must not contain any — no names, contact details,
    narratives or locations of a report — because e-mail leaves our control. Write a neutral
    sentence and a link to the record in Locus, where access is checked and audited, e.g.
    "A new case was routed to your organisation: https://…/london/staff/cases/123/".

    Call it inside the transaction that writes the change (raises OutboxMisuse otherwise).
    With a `source` it is idempotent per (source, address, event_type).
    """
    to = (to or "").strip()
    try:
        validate_email(to)
    except ValidationError as exc:
        raise ValidationFailed(
            _("Enter a valid email address."), fields={"to": exc.messages}
        ) from exc
    if "\n" in subject or "\r" in subject or len(subject) > EMAIL_SUBJECT_MAX:
        raise ValidationFailed(
            _("The subject must be one line."), fields={"subject": [_("One line, please.")]}
        )
    local, _at, domain = to.rpartition("@")
    to = f"{local}@{domain.lower()}"
    return _enqueue(
        place=place,
        kind=MessageKind.EMAIL,
        destination={"email_to": to},
        event_type=event_type,
        payload={"subject": subject, "body": body},
        source=source,
    )


# A reporter's e-mail address is never copied into the outbox (which is not encrypted): their
# messages carry this stand-in, and the address is read from the report at each attempt.
REPORTER_DOMAIN = "reporter.locus.invalid"


def reporter_stand_in(report_id):
    return f"report-{int(report_id)}@{REPORTER_DOMAIN}"


@_in_callers_transaction
def outbox_enqueue_reporter_email(
    *, place, report, subject, body, source=None, event_type="notification"
) -> OutboxMessage:
    """Queue an e-mail to the reporter of `report`, who asked for news by e-mail. Same rules
    as `outbox_enqueue_email` (no personal data in the text); the address stays encrypted in
    the report and is looked up when the message is sent, so an erased report gets nothing."""
    if report.place_id != place.pk:
        raise ValidationFailed(_("The report belongs to another place."))
    return outbox_enqueue_email(
        place=place,
        to=reporter_stand_in(report.pk),
        subject=subject,
        body=body,
        source=source,
        event_type=event_type,
    )


def _email_address(message):
    """The address to send to: the stored one, or for a reporter the one in their report —
    None when the report no longer has it (erased, or the reporter stopped wanting e-mail)."""
    local, _at, domain = message.email_to.rpartition("@")
    if domain != REPORTER_DOMAIN:
        return message.email_to
    from locus.reporting.models import Report

    report_id = local.removeprefix("report-")
    report = Report.objects.filter(place_id=message.place_id, pk=report_id).first()
    if report is None or report.anonymised_at or not report.wants_email_updates:
        return None
    return (report.contact or {}).get("email") or None


@_in_callers_transaction
@transaction.atomic
def outbox_enqueue_event(
    *, place, organisation, event_type, payload, source=None
) -> list[OutboxMessage]:
    """Queue `payload` for every active endpoint of `organisation` in `place` that receives
    `event_type` (none registered → nothing queued). One message per endpoint."""
    from .selectors import webhook_endpoints_for_event

    return [
        outbox_enqueue_webhook(
            place=place, endpoint=endpoint, event_type=event_type, payload=payload, source=source
        )
        for endpoint in webhook_endpoints_for_event(
            place=place, organisation=organisation, event_type=event_type
        )
    ]


# Delivery ------------------------------------------------------------------------------------


def webhook_body(message) -> bytes:
    """The request body, the same bytes on every attempt (the Standard Webhooks envelope)."""
    envelope = {
        "type": message.event_type,
        "timestamp": message.created_at.isoformat().replace("+00:00", "Z"),
        "data": message.payload,
    }
    return json.dumps(
        envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    ).encode()


@transaction.atomic
def outbox_claim(*, message, now=None) -> OutboxMessage | None:
    """Take the message for one attempt if it is due (pending, or delivering with an expired
    claim) and nobody else holds it; returns the claimed message or None.

    The status change is conditional (UPDATE … WHERE status … AND next_attempt_at <= now), so
    of two workers only one gets a row count of 1 — on SQLite and PostgreSQL alike. On
    PostgreSQL the row is first locked with SKIP LOCKED, so a worker never waits for another.
    """
    now = now or timezone.now()
    due = OutboxMessage.objects.filter(
        pk=message.pk,
        status__in=[MessageStatus.PENDING, MessageStatus.DELIVERING],
        next_attempt_at__lte=now,
    )
    skip_locked = connection.features.has_select_for_update_skip_locked
    if skip_locked and not list(due.select_for_update(skip_locked=True).values_list("pk")):
        return None
    claimed = due.update(
        status=MessageStatus.DELIVERING, next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
    )
    if not claimed:
        return None
    return OutboxMessage.objects.select_related("endpoint").get(pk=message.pk)


def _send(message, now):
    """One attempt. Returns (outcome, permanent): permanent failures are not retried."""
    if message.kind == MessageKind.EMAIL:
        to = _email_address(message)
        if to is None:
            return transport.Outcome(ok=False, error="the reporter's address is gone"), True
        return (
            transport.send_email(
                to=to,
                subject=message.payload.get("subject", ""),
                body=message.payload.get("body", ""),
            ),
            False,
        )
    endpoint = message.endpoint
    if not endpoint.is_active:
        return transport.Outcome(ok=False, error="endpoint switched off"), True
    try:
        validate_webhook_url(endpoint.url)
    except ValidationError as exc:
        reason = "not a public address" if exc.code == "address_not_allowed" else "https required"
        return transport.Outcome(ok=False, error=f"endpoint address refused ({reason})"), True
    body = webhook_body(message)
    # The timestamp is the wall clock, not the scheduler's `now`: receivers compare it with
    # their own clock to reject replays.
    headers = signature_headers(
        secrets_=endpoint.signing_secrets(now),
        message_id=message.message_id,
        timestamp=time.time(),
        body=body,
    )
    return transport.post_json(url=endpoint.url, body=body, headers=headers), False


# Standard Webhooks: "410 Gone … Sender should disable the webhook endpoint, and stop sending
# it messages."
GONE = 410


def _endpoint_gone(message):
    """Disable the endpoint of a message its receiver answered 410 Gone (within _record's
    transaction), audited as a change made by nobody: its administrators see it switched off
    on its page and enable it again when they want messages back."""
    from locus.core.choices import AuditAction
    from locus.core.services import audit_record

    endpoint = message.endpoint
    if WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(is_active=False):
        audit_record(
            action=AuditAction.WEBHOOK_ENDPOINT_CHANGED,
            place=endpoint.place,
            target=endpoint,
            data={
                "endpoint": endpoint.pk,
                "organisation": endpoint.organisation_id,
                "fields": ["is_active"],
                "reason": "410 Gone",
            },
        )


@transaction.atomic
def _record(*, message, outcome, permanent, now, duration_ms):
    DeliveryAttempt.objects.create(
        place_id=message.place_id,
        message=message,
        at=now,
        status_code=outcome.status_code,
        error=outcome.error[:200],
        duration_ms=duration_ms,
    )
    current = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    current.attempts += 1
    if current.status == MessageStatus.DELIVERED:
        # Another worker took over after our claim expired and got there first: keep its
        # result, only count our attempt.
        pass
    elif outcome.ok:
        current.status = MessageStatus.DELIVERED
        current.delivered_at = now
        current.last_error = ""
    else:
        current.last_error = outcome.error[:200]
        if current.kind == MessageKind.WEBHOOK and outcome.status_code == GONE:
            permanent = True
            stop = "the receiver asked to stop: endpoint disabled"
            current.last_error = f"{outcome.error} ({stop})"[:200]
            _endpoint_gone(current)
        delay = None if permanent else retry_delay(current.attempts)
        if delay is not None and outcome.retry_after is not None:
            delay = max(delay, outcome.retry_after)  # the receiver's Retry-After
        if permanent:
            current.status = MessageStatus.FAILED
        elif delay is None:
            current.status = MessageStatus.DEAD
        else:
            current.status = MessageStatus.PENDING
            current.next_attempt_at = now + delay
    current.save(
        update_fields=["attempts", "status", "delivered_at", "last_error", "next_attempt_at"]
    )
    log = logger.info if outcome.ok else logger.warning
    if current.status == MessageStatus.DEAD:
        log = logger.error
    log(
        "outbox message %s place=%s kind=%s attempt=%s -> %s %s",
        current.message_id,
        current.place_id,
        current.kind,
        current.attempts,
        current.status,
        current.last_error,
    )
    return current


def outbox_deliver_claimed(*, message, now=None) -> OutboxMessage:
    """Make one attempt for a message this worker has claimed (`outbox_claim`) and record it.

    Deliberately not atomic as a whole: the network call must not hold a database lock (on
    SQLite that would stall every write, intake included, for up to the timeout)."""
    now = now or timezone.now()
    started = time.monotonic()
    try:
        outcome, permanent = _send(message, now)
    except Exception as exc:  # a bug or an unexpected failure: log it, retry like any other
        logger.exception("outbox message %s: unexpected error while sending", message.message_id)
        outcome, permanent = transport.Outcome(ok=False, error=transport.short_error(exc)), False
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(
        message=message, outcome=outcome, permanent=permanent, now=now, duration_ms=duration_ms
    )


def outbox_deliver(*, message, now=None) -> OutboxMessage:
    """One delivery attempt if the message is due and free: claim, send, record. Returns the
    message in its new state (unchanged when it was not due or another worker holds it).

    `now` is the scheduler's clock (tests move it forward); the signature timestamp is always
    the real time of the attempt."""
    now = now or timezone.now()
    claimed = outbox_claim(message=message, now=now)
    if claimed is None:
        message.refresh_from_db()
        return message
    return outbox_deliver_claimed(message=claimed, now=now)


@transaction.atomic
def outbox_retry(*, place, message, now=None) -> OutboxMessage:
    """An operator sends a dead or failed message again: it becomes pending with a fresh retry
    schedule (`attempts` restarts at 0; the delivery log keeps every earlier attempt) and is
    tried at once after commit."""
    if message.place_id != place.pk:
        raise ValidationFailed(_("The message belongs to another place."))
    if message.status not in {MessageStatus.DEAD, MessageStatus.FAILED}:
        raise ValidationFailed(_("Only a failed or dead message can be retried."))
    message.status = MessageStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now or timezone.now()
    message.save(update_fields=["status", "attempts", "next_attempt_at"])
    _kick(message)
    return message
