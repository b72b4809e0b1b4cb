"""The scheduled sweep: deliver every due message of every place.

It spans places, so it is one of the few modules allowed to call `unscoped()`
(tests/test_tenancy.py): it only reads which messages are due and their place, then activates
each message's place and goes through the scoped services like any task.
"""

import logging
from collections import Counter

from django.utils import timezone

from locus.core.services import heartbeat_stamp
from locus.core.tenancy import place_scope
from locus.places.models import Place

from .choices import MessageStatus
from .models import OutboxMessage
from .services import outbox_claim, outbox_deliver_claimed

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
# The sweep's heartbeat (`core.models.Heartbeat`): the health check says whether it runs.
HEARTBEAT = "outbox.sweep"


def due_messages(*, now, limit):
    """(place_id, pk) of messages due at `now`, oldest first: pending ones whose time has come
    and delivering ones whose claim has expired (their worker died)."""
    return list(
        OutboxMessage.objects.unscoped()
        .filter(
            status__in=[MessageStatus.PENDING, MessageStatus.DELIVERING],
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at", "id")
        .values_list("place_id", "pk")[:limit]
    )


def overdue_exists(*, cutoff) -> bool:
    """Whether a message has been due since `cutoff` or earlier: a pending one whose time
    came, or one whose delivering worker's claim ran out then (names and counts nothing: the
    public health check reads it)."""
    return (
        OutboxMessage.objects.unscoped()
        .filter(
            status__in=[MessageStatus.PENDING, MessageStatus.DELIVERING],
            next_attempt_at__lte=cutoff,
        )
        .exists()
    )


def outbox_deliver_due(*, now=None, batch_size=BATCH_SIZE) -> dict:
    """Make one attempt for every message due at `now` (default: the current time) and return
    how many ended in each status. Every message leaves the due set once attempted (delivered,
    or rescheduled after `now`), so the loop ends; messages another worker holds are skipped.
    Stamps the sweep's heartbeat before each batch, so a long sweep shows it is alive."""
    now = now or timezone.now()
    outcome = Counter()
    places = {}
    while True:
        heartbeat_stamp(name=HEARTBEAT)
        due = due_messages(now=now, limit=batch_size)
        progressed = False
        for place_id, pk in due:
            if place_id not in places:
                places[place_id] = Place.objects.get(pk=place_id)
            with place_scope(places[place_id]):
                try:
                    message = OutboxMessage.objects.get(pk=pk)
                    claimed = outbox_claim(message=message, now=now)
                    if claimed is None:
                        continue
                    progressed = True
                    outcome[outbox_deliver_claimed(message=claimed, now=now).status] += 1
                except Exception:
                    # One broken message must not stop the others; its claim expires and the
                    # next sweep tries it again.
                    logger.exception("outbox sweep: message pk=%s place=%s failed", pk, place_id)
                    outcome["error"] += 1
        if not progressed or len(due) < batch_size:
            break
    return dict(outcome)
