"""Reads for the webhook pages and API: the endpoints a membership may see, with delivery
counts, and an endpoint's delivery log. Every function takes the place explicitly."""

from django.db.models import Count, Prefetch, Q

from locus.core.ids import is_token

from .choices import MessageStatus
from .models import DeliveryAttempt, OutboxMessage
from .policies import sees_every_endpoint
from .selectors import webhook_endpoint_list

PROBLEM_STATUSES = (MessageStatus.FAILED, MessageStatus.DEAD)
WAITING_STATUSES = (MessageStatus.PENDING, MessageStatus.DELIVERING)


def webhook_endpoints_visible(*, place, membership):
    """The membership's organisation's endpoints in the place; for an administrator of the
    place's own team, every organisation's (read-only for the others). With message counts
    (`n_waiting`, `n_problems`, `n_delivered`) in the same query."""
    organisation = None if sees_every_endpoint(membership) else membership.organisation
    return webhook_endpoint_list(place=place, organisation=organisation).annotate(
        n_waiting=Count("messages", filter=Q(messages__status__in=WAITING_STATUSES)),
        n_problems=Count("messages", filter=Q(messages__status__in=PROBLEM_STATUSES)),
        n_delivered=Count("messages", filter=Q(messages__status=MessageStatus.DELIVERED)),
    )


def access_webhook_endpoint(*, place, membership, endpoint_id):
    """The endpoint if the membership may see it, else None (the same for missing, another
    place's and another organisation's)."""
    return (
        webhook_endpoints_visible(place=place, membership=membership).filter(pk=endpoint_id).first()
    )


def webhook_delivery_log(*, place, endpoint, status=None):
    """The endpoint's messages, newest first, each with its attempts (two queries per page)."""
    messages = OutboxMessage.objects.filter(place=place, endpoint=endpoint)
    if status:
        messages = messages.filter(status=status)
    attempts = DeliveryAttempt.objects.filter(place=place).order_by("at", "id")
    return messages.prefetch_related(Prefetch("delivery_attempts", queryset=attempts)).order_by(
        "-created_at", "-id"
    )


def access_webhook_message(*, place, endpoint, message_id):
    """The endpoint's message with this `msg_…` id, or None."""
    if not is_token(message_id):
        return None
    return OutboxMessage.objects.filter(
        place=place, endpoint=endpoint, message_id=message_id
    ).first()


def webhook_status_counts(*, place, endpoint) -> dict[str, int]:
    """Messages per status for one endpoint, and "all"."""
    counts = {
        row["status"]: row["n"]
        for row in OutboxMessage.objects.filter(place=place, endpoint=endpoint)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
    }
    result = {status: counts.get(status, 0) for status in MessageStatus.values}
    result["all"] = sum(counts.values())
    return result
