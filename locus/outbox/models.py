"""The durable outbox: messages written in the same transaction as the change they announce,
delivered afterwards by the worker with retries (see services.py and docs/operations.md).

Everything here is tenant-owned. A message never holds personal data in an e-mail (e-mails
carry only a link to the record in Locus); webhook payloads are chosen by the enqueuing code
and go only to endpoints the organisation registered.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from locus.core.fields import EncryptedTextField
from locus.core.tenancy import TenantModel

from .choices import MessageKind, MessageStatus
from .standard_webhooks import generate_message_id
from .transport import address_allowed

# The event an administrator sends from the endpoint's page to check the receiver
# (docs/webhooks.md): no report, no personal data, never subscribed to.
TEST_EVENT = "webhook.test"


def _is_loopback(host):
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _local_host(host):
    """A host written as an address (or `localhost`) that Locus does not send webhooks to:
    loopback, private, link-local… (transport.address_allowed). Host names are resolved and
    checked when connecting, not here."""
    if host == "localhost" or host.endswith(".localhost"):
        return not address_allowed("127.0.0.1")
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return not address_allowed(host)


def validate_webhook_url(url):
    """https always; plain http never in production, otherwise only to a loopback address or
    when DEBUG is on or under test. Never to a local or private address (SSRF), unless the
    operator allowed its network (`LOCUS_WEBHOOK_ALLOWED_NETWORKS`; outside production,
    loopback is allowed)."""
    parts = urlsplit(url)
    try:
        host = parts.hostname
    except ValueError:  # a malformed [IPv6] host
        host = None
    if host and _local_host(host):
        raise ValidationError(
            _(
                "Locus does not send webhooks to a local or private network address. "
                "Give the public address of your system."
            ),
            code="address_not_allowed",
        )
    if parts.scheme == "https" and host:
        return
    http_allowed = parts.scheme == "http" and host and not settings.PRODUCTION
    if http_allowed and (_is_loopback(host) or settings.DEBUG or settings.TESTING):
        return
    raise ValidationError(_("A webhook address must start with https://."), code="https_required")


def validate_event_types(value):
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError(
            _("Event types must be a list of event names."), code="invalid_event_types"
        )


class WebhookEndpoint(TenantModel):
    """Where an organisation wants a place's events POSTed, signed per Standard Webhooks."""

    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organisation"),
    )
    url = models.URLField(max_length=500, validators=[validate_webhook_url], verbose_name=_("URL"))
    description = models.CharField(max_length=200, blank=True, verbose_name=_("description"))
    # `whsec_` + base64 of the random key, shown once when created or rotated.
    secret = EncryptedTextField(editable=False, verbose_name=_("secret"))
    # The secret before the last rotation: still signed with (a second signature) until
    # `previous_secret_expires_at`, so receivers can switch without losing messages.
    previous_secret = EncryptedTextField(
        blank=True, editable=False, verbose_name=_("previous secret")
    )
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("previous secret valid until")
    )
    # Event types this endpoint receives; empty means every event.
    event_types = models.JSONField(
        default=list, blank=True, validators=[validate_event_types], verbose_name=_("events")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.url

    def accepts(self, event_type):
        """Its events; the test event whatever it subscribed to (it is asked for by name)."""
        return event_type == TEST_EVENT or not self.event_types or event_type in self.event_types

    def signing_secrets(self, now):
        """The current secret, then the previous one while its grace period lasts."""
        secrets_ = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and now < self.previous_secret_expires_at
        ):
            secrets_.append(self.previous_secret)
        return secrets_


class OutboxMessage(TenantModel):
    """One message to one destination, written in the caller's transaction and delivered after
    commit. Never deleted: it is the proof of what was sent, when, and how it went.

    Invariants:
    - a webhook has an endpoint (of the same place) and no e-mail address; an e-mail has an
      address and no endpoint (check constraint and `clean()`);
    - `message_id` is the Standard Webhooks `webhook-id`: unique and the same on every retry;
    - at most one message per (source, destination, event type) when a source is given
      (unique constraints), so a report or case can prove "exactly one per destination";
    - an e-mail payload holds only `subject` and `body`, and the enqueuing code puts no
      personal data in them: e-mails carry a link to Locus, where access is checked;
    - `next_attempt_at` is when a pending message is due; while `delivering` it is the end of
      the worker's claim, after which another worker may take the message over (a crash
      mid-delivery loses nothing).
    """

    kind = models.CharField(max_length=10, choices=MessageKind.choices, verbose_name=_("kind"))
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name=_("webhook endpoint"),
    )
    # E-mail only: an organisation's inbox, never a reporter's address (reporters get a
    # stand-in, see outbox_enqueue_reporter_email).
    email_to = models.EmailField(blank=True, verbose_name=_("e-mail to"))
    event_type = models.CharField(max_length=100, verbose_name=_("event"))
    payload = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, verbose_name=_("payload")
    )
    message_id = models.CharField(
        max_length=40,
        unique=True,
        editable=False,
        default=generate_message_id,
        verbose_name=_("message ID"),
    )
    status = models.CharField(
        max_length=12,
        choices=MessageStatus.choices,
        default=MessageStatus.PENDING,
        verbose_name=_("status"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(
        default=timezone.now, verbose_name=_("next attempt at")
    )  # indexed: see Meta
    # Short and free of payload content: "HTTP 503", "ConnectionRefusedError: …".
    last_error = models.CharField(max_length=200, blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    # What the message is about, e.g. ("reporting.report", "42"); empty when not tracked.
    source_type = models.CharField(max_length=60, blank=True, verbose_name=_("source type"))
    source_id = models.CharField(max_length=64, blank=True, verbose_name=_("source ID"))

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep: messages due (or with an expired claim), oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=[MessageStatus.PENDING, MessageStatus.DELIVERING]),
                name="outbox_message_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=MessageKind.WEBHOOK, endpoint__isnull=False, email_to="")
                    | (Q(kind=MessageKind.EMAIL, endpoint__isnull=True) & ~Q(email_to=""))
                ),
                name="outbox_message_destination_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["source_type", "source_id", "endpoint", "event_type"],
                condition=Q(kind=MessageKind.WEBHOOK) & ~Q(source_id=""),
                name="outbox_one_webhook_per_source_endpoint_event",
            ),
            # Endpoint is NULL for e-mails and NULLs never collide, hence a second constraint.
            models.UniqueConstraint(
                fields=["source_type", "source_id", "email_to", "event_type"],
                condition=Q(kind=MessageKind.EMAIL) & ~Q(source_id=""),
                name="outbox_one_email_per_source_address_event",
            ),
        ]

    def __str__(self):
        return f"{self.message_id} {self.event_type}"

    def clean(self):
        if self.kind == MessageKind.WEBHOOK:
            if self.endpoint_id is None or self.email_to:
                raise ValidationError({"endpoint": _("A webhook needs an endpoint.")})
            if self.place_id is not None and self.endpoint.place_id != self.place_id:
                raise ValidationError({"endpoint": _("The endpoint belongs to another place.")})
        elif self.kind == MessageKind.EMAIL and (self.endpoint_id is not None or not self.email_to):
            raise ValidationError({"email_to": _("An e-mail needs an address.")})


class DeliveryAttempt(TenantModel):
    """One try at delivering a message: the delivery log."""

    message = models.ForeignKey(
        OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    at = models.DateTimeField()
    # The HTTP status; null on a network error and for e-mail.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.message_id} @ {self.at:%Y-%m-%d %H:%M:%S}"
