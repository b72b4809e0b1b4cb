"""Reads for contribution and moderation: whose organisations a person acts for, their
organisation's records with the latest review step, and the editors' queue."""

from dataclasses import dataclass

from django.db.models import Prefetch

from locus.accounts.models import Membership
from locus.directory.models import Organisation

from .choices import RecordStatus
from .models import Record, RecordReview, ReviewAction
from .moderation import records_due_for_check

QUEUE_LIMIT = 200
MINE_LIMIT = 500


def user_organisations(user):
    """The organisations the person is an active member of (any role), by name."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        pk__in=Membership.objects.filter(user=user, is_active=True).values("organisation_id")
    ).order_by("name", "pk")


def user_organisation_ids(user, *, membership=None):
    """With `membership` (an API token's), its organisation alone."""
    if membership is not None:
        return {membership.organisation_id}
    return set(user_organisations(user).values_list("pk", flat=True))


def _with_reviews(queryset):
    return queryset.select_related("organisation", "created_by").prefetch_related(
        Prefetch(
            "reviews",
            queryset=RecordReview.objects.select_related("actor").order_by("-created_at", "-id"),
            to_attr="review_steps",
        )
    )


@dataclass
class OwnedRecord:
    record: Record
    latest: RecordReview | None  # the latest review step (with the editor's comment)
    due_for_check: bool


def organisation_records(organisation_ids):
    """Every record of these organisations, drafts first, with its latest review step.
    A fixed number of queries."""
    records = list(
        _with_reviews(Record.objects.filter(organisation_id__in=list(organisation_ids))).order_by(
            "status", "-updated_at", "pk"
        )[:MINE_LIMIT]
    )
    due = set(
        records_due_for_check()
        .filter(pk__in=[record.pk for record in records])
        .values_list("pk", flat=True)
    ) | {
        record.pk
        for record in records
        if record.status == RecordStatus.PUBLISHED and record.check_reminded_at is not None
    }
    order = {RecordStatus.DRAFT: 0, RecordStatus.IN_REVIEW: 1, RecordStatus.PUBLISHED: 2}
    records.sort(key=lambda record: order.get(record.status, 3))
    return [
        OwnedRecord(
            record=record,
            latest=record.review_steps[0] if record.review_steps else None,
            due_for_check=record.pk in due,
        )
        for record in records
    ]


@dataclass
class QueuedRecord:
    record: Record
    submitted: RecordReview | None
    history: list  # earlier review steps, newest first


def review_queue():
    """Records waiting for an editor, the longest-waiting first. A fixed number of queries."""
    records = list(
        _with_reviews(Record.objects.filter(status=RecordStatus.IN_REVIEW)).order_by(
            "updated_at", "pk"
        )[:QUEUE_LIMIT]
    )
    rows = []
    for record in records:
        submitted = next(
            (step for step in record.review_steps if step.action == ReviewAction.SUBMITTED), None
        )
        rows.append(QueuedRecord(record=record, submitted=submitted, history=record.review_steps))
    rows.sort(key=lambda row: row.submitted.created_at if row.submitted else row.record.updated_at)
    return rows


def record_review_steps(record):
    return list(RecordReview.objects.filter(record=record).select_related("actor"))
