"""Webhook endpoints changed by a person (staff pages and API): the policy check, the change
through `services.webhook_endpoint_*`, and an audit event (`webhook_endpoint_changed`, ids and
field names only, never a secret) — all in one transaction.

The management command `webhook_endpoint` calls the lower services directly (an operator on
the server, no person in Locus to record).
"""

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from locus.accounts.policies import Capability, membership_can
from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.services import audit_record

from .models import TEST_EVENT
from .policies import endpoint_can_manage
from .services import (
    outbox_enqueue_webhook,
    outbox_retry,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

# The events Locus sends to webhooks (docs/webhooks.md describes their payloads). The codes
# are the `event_type`s of locus.cases and locus.reporting (a test checks they match).
EVENT_TYPES = {
    "report.routed": gettext_lazy("A report reached the organisation (routed or handed on)"),
    "report.erased": gettext_lazy("A report's personal data was erased at the reporter's request"),
    "insights.alert": gettext_lazy("An unusual rise in reports was detected in the place"),
}
EVENT_TYPES_MAX = 20


def _check_manage(membership, endpoint):
    if not endpoint_can_manage(membership, endpoint):
        raise PermissionDenied(
            _("Only an administrator of the organisation that owns this endpoint can change it.")
        )


def _check_event_types(event_types):
    event_types = list(dict.fromkeys(event_types or ()))
    unknown = [e for e in event_types if e not in EVENT_TYPES]
    if unknown or len(event_types) > EVENT_TYPES_MAX:
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={
                "event_types": [
                    _("Unknown event type: %(event)s") % {"event": event} for event in unknown
                ]
                or [_("Too many event types.")]
            },
        )
    return event_types


def _audit(*, membership, place, endpoint, **data):
    audit_record(
        action=AuditAction.WEBHOOK_ENDPOINT_CHANGED,
        actor=membership.user,
        place=place,
        target=endpoint,
        data={"endpoint": endpoint.pk, "organisation": endpoint.organisation_id, **data},
    )


@transaction.atomic
def webhook_endpoint_add(*, place, membership, url, description="", event_types=()):
    """Register an endpoint of the membership's organisation. Returns (endpoint, secret): the
    secret (`whsec_…`) is shown to the person once and never again."""
    if not membership_can(membership, Capability.MANAGE_INTEGRATIONS):
        raise PermissionDenied(_("Your role does not allow this."))
    endpoint, secret = webhook_endpoint_create(
        place=place,
        organisation=membership.organisation,
        url=url,
        description=description,
        event_types=_check_event_types(event_types),
    )
    _audit(membership=membership, place=place, endpoint=endpoint, created=True)
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_change(
    *, place, membership, endpoint, url=None, description=None, event_types=None, is_active=None
):
    """Change what is given (address, description, events, enabled). Audited with the names of
    the fields that changed; nothing changed, nothing recorded."""
    _check_manage(membership, endpoint)
    if event_types is not None:
        event_types = _check_event_types(event_types)
    given = {
        "url": url,
        "description": description,
        "event_types": event_types,
        "is_active": is_active,
    }
    changed = sorted(
        name
        for name, value in given.items()
        if value is not None and getattr(endpoint, name) != value
    )
    endpoint = webhook_endpoint_update(place=place, endpoint=endpoint, **given)
    if changed:
        _audit(membership=membership, place=place, endpoint=endpoint, fields=changed)
    return endpoint


@transaction.atomic
def webhook_endpoint_new_secret(*, place, membership, endpoint, revoke_old=False) -> str:
    """A new signing secret, returned once. The old one keeps signing (a second signature) for
    24 hours so the receiver can switch over, unless `revoke_old` (it leaked)."""
    _check_manage(membership, endpoint)
    kwargs = {"grace": timedelta(0)} if revoke_old else {}
    secret = webhook_endpoint_rotate_secret(place=place, endpoint=endpoint, **kwargs)
    _audit(
        membership=membership,
        place=place,
        endpoint=endpoint,
        fields=["secret"],
        revoke_old=bool(revoke_old),
    )
    return secret


@transaction.atomic
def webhook_message_retry(*, place, membership, endpoint, message):
    """Send a failed or dead message of the endpoint again, now (a fresh retry schedule).
    Recorded as a change of the endpoint's deliveries."""
    _check_manage(membership, endpoint)
    if message.endpoint_id != endpoint.pk:
        raise ValidationFailed(_("The message belongs to another endpoint."))
    message = outbox_retry(place=place, message=message)
    _audit(membership=membership, place=place, endpoint=endpoint, retried=message.message_id)
    return message


@transaction.atomic
def webhook_endpoint_test(*, place, membership, endpoint, link=""):
    """Queue a test event for the endpoint, whatever events it subscribed to, so that its
    organisation sees in the delivery log whether the receiver answers and verifies. Each call
    sends a new message (`data.test` is its number for this endpoint). Audited."""
    _check_manage(membership, endpoint)
    if not endpoint.is_active:
        raise ValidationFailed(_("Enable the endpoint to send it a test event."))
    number = endpoint.messages.filter(event_type=TEST_EVENT).count() + 1
    message = outbox_enqueue_webhook(
        place=place,
        endpoint=endpoint,
        event_type=TEST_EVENT,
        payload={"endpoint": endpoint.pk, "test": number, "link": link},
    )
    _audit(membership=membership, place=place, endpoint=endpoint, tested=message.message_id)
    return message
