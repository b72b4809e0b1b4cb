"""Prove that every routed report produced exactly one `report.routed` message per destination
endpoint, and list deliveries that need an operator.

    manage.py reconcile_outbox                   # every active place
    manage.py reconcile_outbox --place london    # one place

Per place, over the outbox rows whose source is a RoutingDecision (report_route passes
`source=decision`, stored as source_type "cases.routingdecision" + source_id = its pk):

- missing: a sent decision with no message to an active endpoint of its organisation that
  receives "report.routed" and already existed when the decision was made (an endpoint
  registered later never received older reports, which is correct);
- duplicates: more than one message for one (source, destination, event) — the unique
  constraints should make this impossible, so any hit means the guarantee broke;
- unexpected: a message for a decision that was not sent, or to an endpoint of another
  organisation than the decision's (a report went where it should not have);
- stuck: pending/delivering with 3 or more attempts, or created more than an hour ago; and
  dead ones (every retry failed). These need an operator but are not a proof failure.

Exit status 1 when anything is missing, duplicated or unexpected; 0 otherwise. Output holds
ids, statuses and counts only, never payloads.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q
from django.utils import timezone

from locus.cases.choices import ROUTED_EVENT
from locus.cases.models import RoutingDecision
from locus.cases.services import ROUTING_GRACE
from locus.core.ids import parse_id
from locus.core.tenancy import place_scope
from locus.outbox.choices import MessageKind, MessageStatus
from locus.outbox.models import OutboxMessage, WebhookEndpoint
from locus.places.selectors import place_get_by_slug, place_list
from locus.reporting.models import Report

STUCK_ATTEMPTS = 3
STUCK_AGE = timedelta(hours=1)
DECISION_SOURCE = RoutingDecision._meta.label_lower


@dataclass
class Reconciliation:
    sent_decisions: int = 0
    messages: int = 0
    missing: list = field(default_factory=list)  # (decision pk, report pk, org pk, endpoint pk)
    duplicates: list = field(default_factory=list)  # (kind, source, destination, event, n)
    unexpected: list = field(default_factory=list)  # (message_id, why)
    stuck: list = field(default_factory=list)  # OutboxMessage
    dead: list = field(default_factory=list)  # OutboxMessage
    unrouted: list = field(default_factory=list)  # references still waiting after the grace

    @property
    def failed(self):
        return bool(self.missing or self.duplicates or self.unexpected or self.unrouted)


def reconcile(*, place, now=None) -> Reconciliation:
    """Check one place (call it with the place active)."""
    now = now or timezone.now()
    result = Reconciliation()

    endpoints_by_org = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(place=place, is_active=True):
        if endpoint.accepts(ROUTED_EVENT):
            endpoints_by_org[endpoint.organisation_id].append(endpoint)
    endpoint_org = dict(
        WebhookEndpoint.objects.filter(place=place).values_list("pk", "organisation_id")
    )

    decisions = {
        pk: (report_id, organisation_id, sent, created_at)
        for pk, report_id, organisation_id, sent, created_at in RoutingDecision.objects.filter(
            place=place
        ).values_list("pk", "report_id", "organisation_id", "sent", "created_at")
    }
    rows = OutboxMessage.objects.filter(
        place=place, kind=MessageKind.WEBHOOK, source_type=DECISION_SOURCE, event_type=ROUTED_EVENT
    ).values_list("message_id", "source_id", "endpoint_id")
    delivered_to = Counter()
    for message_id, source_id, endpoint_id in rows:
        result.messages += 1
        decision = decisions.get(parse_id(source_id))
        if decision is None:
            continue  # its report was deleted; the message stays as the record of what was sent
        delivered_to[(int(source_id), endpoint_id)] += 1
        _report_id, organisation_id, sent, _created_at = decision
        if not sent:
            result.unexpected.append((message_id, "decision not sent"))
        elif endpoint_org.get(endpoint_id) != organisation_id:
            result.unexpected.append((message_id, "endpoint of another organisation"))

    for pk, (report_id, organisation_id, sent, created_at) in sorted(decisions.items()):
        if not sent:
            continue
        result.sent_decisions += 1
        for endpoint in endpoints_by_org.get(organisation_id, ()):
            if endpoint.created_at <= created_at and not delivered_to[(pk, endpoint.pk)]:
                result.missing.append((pk, report_id, organisation_id, endpoint.pk))

    duplicates = (
        OutboxMessage.objects.filter(place=place)
        .exclude(source_id="")
        .values("kind", "source_type", "source_id", "endpoint_id", "email_to", "event_type")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("source_type", "source_id", "endpoint_id", "email_to", "event_type")
    )
    for row in duplicates:
        destination = (
            f"endpoint {row['endpoint_id']}" if row["kind"] == MessageKind.WEBHOOK else "e-mail"
        )
        source = f"{row['source_type']}:{row['source_id']}"
        result.duplicates.append((row["kind"], source, destination, row["event_type"], row["n"]))

    result.stuck = list(
        OutboxMessage.objects.filter(
            place=place, status__in=[MessageStatus.PENDING, MessageStatus.DELIVERING]
        )
        .filter(Q(attempts__gte=STUCK_ATTEMPTS) | Q(created_at__lt=now - STUCK_AGE))
        .order_by("created_at", "pk")
    )
    result.dead = list(
        OutboxMessage.objects.filter(place=place, status=MessageStatus.DEAD).order_by(
            "created_at", "pk"
        )
    )
    # Routing runs in the worker after submission; the sweep routes what it missed.
    result.unrouted = list(
        Report.objects.filter(
            place=place,
            routing_run__isnull=True,
            anonymised_at__isnull=True,
            submitted_at__lt=now - ROUTING_GRACE,
        )
        .order_by("submitted_at", "pk")
        .values_list("reference", flat=True)
    )
    return result


def _describe(message, now):
    age = now - message.created_at
    hours = int(age.total_seconds() // 3600)
    return (
        f"{message.message_id} {message.kind} {message.event_type} status={message.status} "
        f"attempts={message.attempts} age={hours}h"
        + (f" endpoint={message.endpoint_id}" if message.endpoint_id else "")
        + (f" source={message.source_type}:{message.source_id}" if message.source_id else "")
    )


class Command(BaseCommand):
    help = (
        "Check that every sent routing decision has exactly one report.routed message per "
        "destination endpoint; list stuck and dead deliveries. Exit 1 on a proof failure."
    )

    def add_arguments(self, parser):
        parser.add_argument("--place", help="Only this place (its slug); default: every place")

    def handle(self, *args, place=None, **options):
        if place:
            found = place_get_by_slug(place)
            if found is None:
                raise CommandError(f"No active place with slug '{place}'")
            places = [found]
        else:
            places = list(place_list().order_by("slug"))
        now = timezone.now()
        failed = []
        for target in places:
            with place_scope(target):
                result = reconcile(place=target, now=now)
            self._print(target, result, now)
            if result.failed:
                failed.append(target.slug)
        if failed:
            raise CommandError(
                f"Outbox reconciliation failed for: {', '.join(failed)}", returncode=1
            )

    def _print(self, place, result, now):
        verdict = "FAILED" if result.failed else "ok"
        self.stdout.write(
            f"{place.slug}: {verdict} — {result.sent_decisions} sent decision(s), "
            f"{result.messages} report.routed message(s); missing {len(result.missing)}, "
            f"duplicated {len(result.duplicates)}, unexpected {len(result.unexpected)}, "
            f"stuck {len(result.stuck)}, dead {len(result.dead)}, "
            f"unrouted {len(result.unrouted)}"
        )
        for decision, report, organisation, endpoint in result.missing:
            self.stdout.write(
                f"  missing: decision {decision} (report {report}, organisation "
                f"{organisation}) has no message to endpoint {endpoint}"
            )
        for kind, source, destination, event, n in result.duplicates:
            self.stdout.write(f"  duplicate: {n} {kind} messages {source} → {destination} {event}")
        for message_id, why in result.unexpected:
            self.stdout.write(f"  unexpected: {message_id} ({why})")
        for message in result.stuck:
            self.stdout.write(f"  stuck: {_describe(message, now)}")
        for message in result.dead:
            self.stdout.write(f"  dead: {_describe(message, now)}")
        for reference in result.unrouted:
            self.stdout.write(
                f"  unrouted: report {reference} (the next `deliver_outbox` sweep routes it)"
            )
