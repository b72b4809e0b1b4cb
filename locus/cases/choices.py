from django.db import models
from django.utils.translation import gettext_lazy as _


class ShareLevel(models.TextChoices):
    """How much of a report an organisation receives (see docs/routing.md)."""

    FULL = "full", _("The full report")
    ANONYMISED = "anonymised", _("The report without the reporter's details")
    CONTENT_ONLY = "content_only", _("Only the public online content")


class ShareReason(models.TextChoices):
    """Why a destination was, or was not, sent the report. Stable codes: stored on every
    routing decision and turned into a sentence for the reporter's receipt."""

    PLACE_TEAM = "place_team", _("The team that runs Locus in this place")
    POLICE_WITH_CONTACT = "police_with_contact", _("Consent to share with the police, with contact")
    POLICE_ANONYMISED = "police_anonymised", _("Consent to share with the police, anonymised")
    SUPPORT_CONTACT = "support_contact", _("Consent to be contacted by support organisations")
    PUBLIC_CONTENT = "public_content", _("Public online content only")
    NO_POLICE_CONSENT = "no_police_consent", _("No consent to share with the police")
    NO_SUPPORT_CONSENT = "no_support_consent", _("No consent to be contacted for support")
    NOT_ONLINE_CONTENT = "not_online_content", _("Not about public online content")
    NO_CONTENT_URL = "no_content_url", _("No address of the online content")
    NOT_LISTED = "not_listed", _("The organisation does not work in this place")
    UNKNOWN_TYPE = "unknown_type", _("Unknown type of organisation")
    HANDED_ON = "handed_on", _("Handed on by the organisation that received the report")


# The keys a rule's `conditions` may hold (docs/routing.md). Every key is optional; the given
# keys must all match (AND); the values of one key are alternatives (OR).
CONDITION_KEYS = (
    "incident_type",
    "bias",
    "setting",
    "platform",
    "area",
    "online",
    "language",
    "consent",
)
# Condition keys whose values are taxonomy codes of the axis of the same name.
TAXONOMY_CONDITION_KEYS = ("incident_type", "bias", "setting", "platform")
CONSENT_CONDITIONS = ("police_anonymised", "police_with_contact", "support_contact")

ROUTED_EVENT = "report.routed"


class CaseStatus(models.TextChoices):
    """Where an organisation is with the report it received. Allowed moves: CASE_TRANSITIONS."""

    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    HANDED_ON = "handed_on", _("Handed on")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.ACKNOWLEDGED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.HANDED_ON,
)

# Workflow step → (the statuses it may start from, the status it leads to).
CASE_TRANSITIONS = {
    "acknowledge": ((CaseStatus.NEW,), CaseStatus.ACKNOWLEDGED),
    "start": ((CaseStatus.NEW, CaseStatus.ACKNOWLEDGED), CaseStatus.IN_PROGRESS),
    "close": (OPEN_STATUSES, CaseStatus.CLOSED),
    "reopen": ((CaseStatus.CLOSED,), CaseStatus.IN_PROGRESS),
}


class CaseOutcome(models.TextChoices):
    """How a case ended, recorded when it is closed. Stable codes (counted in insights)."""

    SUPPORTED = "supported", _("The person was supported")
    REFERRED_TO_POLICE = "referred_to_police", _("Referred to the police")
    CONTENT_REMOVED = "content_removed", _("The content was removed")
    CHARGED = "charged", _("Someone was charged")
    NO_FURTHER_ACTION = "no_further_action", _("No further action")
    NOT_HATE_RELATED = "not_hate_related", _("Not related to hate")
    OTHER = "other", _("Other outcome")


class Verification(models.TextChoices):
    """What staff found the report to be, once they looked at it."""

    UNVERIFIED = "unverified", _("Not verified yet")
    VERIFIED = "verified", _("Verified")
    DUPLICATE = "duplicate", _("A duplicate of another report")
    NOT_HATE_RELATED = "not_hate_related", _("Not related to hate")


class CaseEventKind(models.TextChoices):
    """One line of a case's timeline. Events hold codes and ids, never personal data."""

    CREATED = "created", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    STARTED = "started", _("Work started")
    ASSIGNED = "assigned", _("Assigned")
    UNASSIGNED = "unassigned", _("Unassigned")
    NOTE_ADDED = "note_added", _("Note added")
    CLASSIFIED = "classified", _("Classified")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    HANDED_ON = "handed_on", _("Handed on")
    HAND_ON_RECEIVED = "hand_on_received", _("Received from another organisation")
    MERGED = "merged", _("Merged")
    SPLIT = "split", _("Split off")
    MESSAGE_SENT = "message_sent", _("Message sent to the reporter")
    MESSAGE_RECEIVED = "message_received", _("Message from the reporter")
    CONSENT_CHANGED = "consent_changed", _("The reporter changed their consent")
    INFO_ADDED = "info_added", _("The reporter added information")
    REPORT_ERASED = "report_erased", _("The reporter had their personal data erased")


class MessageDirection(models.TextChoices):
    """Which way a message between a reporter and a handling organisation went."""

    TO_REPORTER = "to_reporter", _("To the reporter")
    FROM_REPORTER = "from_reporter", _("From the reporter")
