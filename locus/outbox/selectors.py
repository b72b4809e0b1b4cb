"""Reads for the outbox. Every function takes the place explicitly (the scoped manager is only
the safety net)."""

from django.db.models import Count

from .models import DeliveryAttempt, OutboxMessage, WebhookEndpoint
from .services import source_ref


def webhook_endpoint_list(*, place, organisation=None):
    endpoints = WebhookEndpoint.objects.filter(place=place).select_related("organisation")
    if organisation is not None:
        endpoints = endpoints.filter(organisation=organisation)
    return endpoints.order_by("created_at", "id")


def webhook_endpoint_get(*, place, organisation, endpoint_id):
    """The organisation's endpoint in this place, or None (the same for missing and not
    yours)."""
    return (
        webhook_endpoint_list(place=place, organisation=organisation).filter(pk=endpoint_id).first()
    )


def webhook_endpoints_for_event(*, place, organisation, event_type):
    """Active endpoints of the organisation in the place that receive `event_type`. Filtered in
    Python: JSON containment is not portable to SQLite, and an organisation has few endpoints."""
    endpoints = webhook_endpoint_list(place=place, organisation=organisation).filter(is_active=True)
    return [endpoint for endpoint in endpoints if endpoint.accepts(event_type)]


def outbox_message_list(*, place, status=None, source=None):
    messages = OutboxMessage.objects.filter(place=place).select_related("endpoint")
    if status is not None:
        messages = messages.filter(status=status)
    if source is not None:
        source_type, source_id = source_ref(source)
        messages = messages.filter(source_type=source_type, source_id=source_id)
    return messages.order_by("-created_at", "-id")


def outbox_message_get(*, place, message_id):
    """By its `msg_…` id, or None."""
    return outbox_message_list(place=place).filter(message_id=message_id).first()


def delivery_attempt_list(*, place, message):
    return DeliveryAttempt.objects.filter(place=place, message=message).order_by("at", "id")


def outbox_stats(*, place):
    """{status: count} for the place, e.g. for a health page or an alert on dead messages."""
    rows = (
        OutboxMessage.objects.filter(place=place)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["status"]: row["n"] for row in rows}
