"""Writes for reports: stage evidence, submit a report, change consent, and the reporter's
follow-up: messages to the organisations, additions, the audit of a copy, erasure.

A report is committed in one transaction; the follow-up code leaves this module exactly once,
in the return value of `report_submit`, and only its keyed hash is stored.
"""

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from locus.core.choices import AuditAction
from locus.core.errors import ApplicationError, ValidationFailed
from locus.core.files import check_total, inspect_upload
from locus.core.services import audit_record
from locus.core.storage import delete_on_commit, opaque_name
from locus.outbox.services import outbox_enqueue_email, outbox_enqueue_event

from . import intake, references
from .models import ConsentChange, Evidence, Report
from .taxonomy import taxonomy

MAX_FILES_PER_REPORT = 10


@dataclass(frozen=True)
class SubmittedReport:
    report: Report
    followup_code: str  # shown once, never stored
    routed: bool = False  # routing already ran (a synchronous task backend), else it is queued
    replay: object = None  # with an idempotency key used before: the first response (Replay)


def content_key(url):
    """One key for every way of writing the same public address (scheme, case of the host,
    trailing slash, fragment, tracking parameters), so reports of one post can be grouped."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    query = "&".join(
        sorted(
            p
            for p in parts.query.split("&")
            if p and not p.lower().startswith(("utm_", "fbclid", "igshid", "si="))
        )
    )
    path = parts.path.rstrip("/") or "/"
    canonical = urlunsplit(("https", host, path, query, ""))
    return hashlib.sha256(canonical.encode()).hexdigest()


def evidence_stage(*, place, uploaded, staged_token):
    """Check and store one uploaded file before the report exists, so it survives a form
    error. Raises ValidationFailed with a message for the person.

    The file is checked (images re-encoded: a fifth of a second for a phone photo, more for
    HEIC) and written before any transaction: on SQLite a transaction holds the writers'
    queue, which every report submission waits for. Only the caps and the row are written in
    one (`_store_staged`)."""

    def check_caps(new):
        staged = Evidence.objects.filter(place=place, staged_token=staged_token, report=None)
        sizes = list(staged.values_list("size", flat=True))
        if len(sizes) + len(new) > MAX_FILES_PER_REPORT:
            raise ValidationFailed(
                _("A report can carry at most %(count)s files.") % {"count": MAX_FILES_PER_REPORT},
                fields={"files": [_("Too many files.")]},
            )
        check_total([*sizes, *new])

    check_caps([0])
    checked = inspect_upload(uploaded)
    check_caps([checked.size])
    return _store_staged(
        place=place, staged_token=staged_token, checked=checked, check_caps=check_caps
    )


class StagedEvidenceExpired(ValidationFailed):
    """A staged file the person chose was deleted before it could be attached: it waited past
    LOCUS_STAGED_EVIDENCE_TTL and `evidence_purge_stale` removed it. Raised inside the
    attaching transaction, so nothing of the submission or addition is saved; the person is
    asked to choose the file again, with everything else they entered kept."""

    code = "evidence_expired"

    def __init__(self):
        super().__init__(
            _("A file you chose earlier was deleted before it was sent."),
            fields={
                "files": [
                    _(
                        "A file you chose earlier was deleted because it was not sent in time "
                        "(for your privacy, files are kept only for a while before they are "
                        "sent). Choose it again: everything else you entered is kept."
                    )
                ]
            },
        )


def _attach_staged(*, place, staged_token, evidence_ids, report):
    """Attach the staged files `evidence_ids` to `report`, in the caller's transaction, with
    one UPDATE that still requires each to be staged. `evidence_purge_stale` deletes a row
    only while it is staged, so whichever comes first wins: a file attached first stays with
    the report; a file purged first is missing here, and StagedEvidenceExpired rolls the
    caller's transaction back instead of the report silently going without it."""
    ids = set(evidence_ids)
    if not ids:
        return 0
    attached = Evidence.objects.filter(
        place=place, staged_token=staged_token, report=None, pk__in=ids
    ).update(report=report, staged_token="")
    if attached != len(ids):
        raise StagedEvidenceExpired()
    return attached


def evidence_staged(*, place, staged_token):
    if not staged_token:
        return Evidence.objects.none()
    return Evidence.objects.filter(place=place, staged_token=staged_token, report=None)


@transaction.atomic
def evidence_unstage(*, place, staged_token, evidence_id):
    """Remove a staged file the person no longer wants to send: the row now, the stored file
    once that is committed (a rolled-back removal never leaves a row without its file)."""
    evidence = (
        evidence_staged(place=place, staged_token=staged_token).filter(pk=evidence_id).first()
    )
    if evidence is not None:
        storage, name = evidence.file.storage, evidence.file.name
        evidence.delete()
        delete_on_commit(storage, name)


def evidence_discard_staged(*, place, staged_token):
    """Remove every file staged under `staged_token` and not sent (e.g. files chosen for an
    addition to a report whose data the reporter then had erased). Returns how many."""
    ids = list(evidence_staged(place=place, staged_token=staged_token).values_list("pk", flat=True))
    for evidence_id in ids:
        evidence_unstage(place=place, staged_token=staged_token, evidence_id=evidence_id)
    return len(ids)


def _validate_codes(data, vocabulary):
    errors = {}
    if not vocabulary.has("incident_type", data["incident_type"]):
        errors["incident_type"] = [_("Choose what happened.")]
    for code in data.get("bias", []):
        if not vocabulary.has("bias", code):
            errors.setdefault("bias", []).append(_("Unknown choice: %(code)s") % {"code": code})
    for axis in ("setting", "platform"):
        code = data.get(axis) or ""
        if code and not vocabulary.has(axis, code):
            errors[axis] = [_("Unknown choice: %(code)s") % {"code": code}]
    if errors:
        raise ValidationFailed(_("Some answers are not valid."), fields=errors)


@dataclass(frozen=True)
class IdempotentResponse:
    """How a submission carrying an idempotency key records its response: `claim` (an
    `InlineClaim`) and `respond(report) -> (status, body)`, the response to replay, built from
    the report before it is written (its reference is chosen first)."""

    claim: object
    respond: object


def report_submit(
    *,
    place,
    data,
    staged_token="",
    staged_ids=None,
    language="en",
    idempotency=None,
    also_write=None,
):
    """Create a report from cleaned data (see forms/API schema) and attach its staged files:
    those of `staged_ids` (the files the person saw listed when they pressed Send), or when it
    is None every file staged under `staged_token`. A listed file that is no longer staged
    (deleted for its age) raises StagedEvidenceExpired and nothing is saved.

    `data` keys: incident_type, occurred_on, occurred_approx, ongoing, area (Area or None),
    location_text, setting, platform, content_url, bias, account, reporter_role,
    support_wanted, already_reported, police_reference, consent_police_anonymised,
    consent_police_with_contact, consent_support_contact, contact (dict or None),
    wants_email_updates.

    The intake hot path (docs/operations.md, "Intake"): everything is checked, encrypted and
    built first; then one short transaction writes the idempotency key (when given, completed,
    with the response to replay), the report, its consent record, its staged files and its
    routing task, each with one statement and no savepoint, so the report is never
    acknowledged without its consent record and its task. Returns a `SubmittedReport`; with
    `idempotency`, a key already used for this request gives `SubmittedReport.replay` (the
    first response) instead, another request a 422 and one still in flight a 409.

    `also_write`, when given, is called inside the transaction, after the rows: one more
    statement of it (the request's rate count, `DeferredCount.write_in_transaction`), so
    that it is committed with the report, not in a transaction of its own.
    """
    vocabulary = taxonomy()
    _validate_codes(data, vocabulary)
    area = data.get("area")
    if area is not None and area.place_id != place.pk:
        raise ValidationFailed(
            _("Choose an area of this place."), fields={"area": [_("Unknown area.")]}
        )
    contact = data.get("contact") or None
    if data.get("consent_police_with_contact") and not contact:
        raise ValidationFailed(
            _("To send your contact details to the police, give at least one way to reach you."),
            fields={"contact_email": [_("Give an e-mail address or a phone number.")]},
        )
    now = timezone.now()
    code = references.new_followup_code()
    report = Report(
        place=place,
        followup_code_hash=references.hash_code(code),
        taxonomy_version=vocabulary.version,
        language=language,
        submitted_at=now,
        incident_type=data["incident_type"],
        occurred_on=data.get("occurred_on"),
        occurred_approx=bool(data.get("occurred_approx")),
        ongoing=bool(data.get("ongoing")),
        area=area,
        location_text=data.get("location_text", ""),
        setting=data.get("setting", ""),
        platform=data.get("platform", ""),
        content_url=data.get("content_url", ""),
        content_key=content_key(data.get("content_url", "")),
        bias=sorted(set(data.get("bias", []))),
        account=data.get("account", ""),
        reporter_role=data["reporter_role"],
        support_wanted=sorted(set(data.get("support_wanted", []))),
        already_reported=sorted(set(data.get("already_reported", []))),
        police_reference=data.get("police_reference", ""),
        consent_police_anonymised=bool(data.get("consent_police_anonymised"))
        or bool(data.get("consent_police_with_contact")),
        consent_police_with_contact=bool(data.get("consent_police_with_contact")),
        consent_support_contact=bool(data.get("consent_support_contact")),
        contact=contact,
        wants_email_updates=bool(data.get("wants_email_updates")) and bool(contact),
    )
    consent = ConsentChange(place=place, at=now, consent=_consent_of(report))
    claim = idempotency.claim if idempotency is not None else None
    for _attempt in range(5):
        report.reference = references.new_reference()
        # Converted and encrypted before the transaction: on SQLite the writers' queue is held
        # only for the statements (locus/core/sqlite).
        values = intake.REPORT.values(report, transaction.get_connection())
        if claim is not None:
            status, body = idempotency.respond(report)
            claim.prepare(status=status, body=body, now=now)
        try:
            with transaction.atomic():
                if claim is not None:
                    claim.record()
                intake.REPORT.insert(report, values=values)
                consent.report_id = report.pk
                intake.CONSENT.insert(consent, returning=False)
                if staged_ids is not None:
                    _attach_staged(
                        place=place,
                        staged_token=staged_token,
                        evidence_ids=staged_ids,
                        report=report,
                    )
                elif staged_token:
                    Evidence.objects.filter(
                        place=place, staged_token=staged_token, report=None
                    ).update(report=report, staged_token="")
                routed = intake.enqueue_routing(report=report, now=now)
                if also_write is not None:
                    also_write()
            return SubmittedReport(report=report, followup_code=code, routed=routed)
        except IntegrityError:
            report.pk = None
            if claim is not None and not claim.recorded:  # the key was there first
                replay = claim.outcome()
                if replay is not None:
                    return SubmittedReport(report=None, followup_code=None, replay=replay)
                continue  # the key was forgotten meanwhile: go ahead
            if not Report.objects.filter(place=place, reference=report.reference).exists():
                raise
            # 40 bits: a clash of references is rare; try another
    raise RuntimeError("Could not allocate a unique report reference")


def _consent_of(report):
    return {
        "police_anonymised": report.consent_police_anonymised,
        "police_with_contact": report.consent_police_with_contact,
        "support_contact": report.consent_support_contact,
    }


@transaction.atomic
def report_change_consent(*, report, police_anonymised, police_with_contact, support_contact):
    """The reporter widens or narrows consent from the follow-up page; every change is kept."""
    _check_not_erased(report)
    if police_with_contact and not report.contact:
        raise ValidationFailed(
            _("Your report has no contact details, so it cannot be sent to the police with them."),
            fields={
                "consent": [
                    _(
                        "Your report has no contact details, so it cannot be sent with them. You "
                        "can share it with the police without your name, or send a new report "
                        "with your contact details."
                    )
                ]
            },
        )
    report.consent_police_anonymised = bool(police_anonymised or police_with_contact)
    report.consent_police_with_contact = bool(police_with_contact)
    report.consent_support_contact = bool(support_contact)
    report.save(
        update_fields=[
            "consent_police_anonymised",
            "consent_police_with_contact",
            "consent_support_contact",
        ]
    )
    ConsentChange.objects.create(place=report.place, report=report, consent=_consent_of(report))
    # Where the report went follows the new consent (docs/routing.md, "Consent changes").
    from locus.cases.services import report_consent_applied

    report_consent_applied(report=report)
    return report


def evidence_purge_stale(*, place, older_than=None):
    """Delete staged files never attached to a report (the form was abandoned).

    A late Send may attach one at this very moment, so each row goes first, by a DELETE that
    still requires it to be staged (one statement, committed on its own): if the Send's
    UPDATE (`_attach_staged`) came first, the DELETE removes nothing and the file stays with
    the report; if the DELETE came first, the Send finds the file missing and asks for it
    again. The file is deleted only when its row was: a process killed in between leaves a
    file no record names, which `retention.evidence_purge_orphans` deletes."""
    cutoff = timezone.now() - (older_than or settings.LOCUS_STAGED_EVIDENCE_TTL)
    stale = Evidence.objects.filter(place=place, report=None, received_at__lt=cutoff)
    count = 0
    for evidence in stale.only("pk", "file"):
        removed, _kinds = Evidence.objects.filter(
            place=place, pk=evidence.pk, report=None, received_at__lt=cutoff
        ).delete()
        if removed:
            delete_on_commit(evidence.file.storage, evidence.file.name)
            count += 1
    return count


# --- follow-up: messages, additions, a copy, erasure (docs/reporting.md) --------------------
#
# The reporter acts with their reference and code (the views and the API check them); these
# services take the report they opened. Whatever reaches an organisation from here goes to its
# cases of the report, and anything that leaves Locus (e-mail, webhooks) carries no personal
# data: a neutral sentence and a link to the case in Locus, where access is checked and audited.

MESSAGE_MAX_LENGTH = 5_000
ADDITION_MAX_LENGTH = 10_000
ERASED_EVENT = "report.erased"
MESSAGE_EVENT = "report.message_received"
ADDITION_EVENT = "report.info_added"


class ReportErased(ApplicationError):
    """The reporter had the report's personal data erased: nothing more can be done with it."""

    status = 410
    code = "report_erased"


def _check_not_erased(report):
    if report.anonymised_at is not None:
        raise ReportErased(
            _("The personal data of this report has been erased. Nothing more can be done with it.")
        )


def _clean_text(text, *, field, max_length, required=True):
    text = (text or "").strip()
    if required and not text:
        raise ValidationFailed(
            _("Write your message first."), fields={field: [_("This field is required.")]}
        )
    if len(text) > max_length:
        raise ValidationFailed(
            _("The text is too long."),
            fields={field: [_("Keep it under %(limit)s characters.") % {"limit": max_length}]},
        )
    return text


def _handling_cases(report):
    """The cases of the report that organisations work on (a case merged into another one of
    the same organisation is worked on there), oldest first."""
    from locus.cases.models import Case

    return (
        Case.objects.filter(place_id=report.place_id, report=report, merged_into__isnull=True)
        .select_related("organisation", "decision")
        .order_by("created_at", "id")
    )


def _reads_report(case):
    """Whether the case's organisation was sent the report itself (not only public content)."""
    from locus.cases.choices import ShareLevel

    return case.decision.level in (ShareLevel.FULL, ShareLevel.ANONYMISED)


def _notify_inbox(*, case, event_type, source, base_url, subject, sentence):
    """An e-mail to the organisation's inbox address in this place, if it has one: a neutral
    sentence and the link to the case. Never the message, never anything about the reporter."""
    from locus.cases.services import absolute_link, staff_case_path
    from locus.directory.models import OrganisationListing

    place = case.place
    listing = OrganisationListing.objects.filter(
        place=place, organisation_id=case.organisation_id, is_active=True
    ).first()
    if listing is None or not listing.inbox_email:
        return None
    link = absolute_link(staff_case_path(place=place, case=case), base_url)
    with translation.override(place.default_language or settings.LANGUAGE_CODE):
        subject_text = str(subject) % {"case": case.pk}
        sentence_text = str(sentence) % {"case": case.pk, "place": place.name}
    body = f"{sentence_text}\n\n{link}\n"
    return outbox_enqueue_email(
        place=place,
        to=listing.inbox_email,
        subject=subject_text,
        body=body,
        source=source,
        event_type=event_type,
    )


@transaction.atomic
def report_message_send(*, report, case, body, base_url=""):
    """The reporter writes to one organisation handling their report.

    Creates a FROM_REPORTER message on that organisation's case, a MESSAGE_RECEIVED event
    (the message id only) and, in this transaction, an e-mail to the organisation's inbox
    address carrying only a link to the case (absolute under `base_url`, the address the
    request came in on). Not to an organisation that received only the public online content:
    it knows nothing about the reporter and cannot write to them either."""
    from locus.cases.choices import CaseEventKind, MessageDirection
    from locus.cases.models import CaseEvent, CaseMessage

    _check_not_erased(report)
    if case is None or not _handling_cases(report).filter(pk=case.pk).exists():
        raise ValidationFailed(
            _("Choose one of the organisations handling your report."),
            fields={"case": [_("Unknown organisation for this report.")]},
        )
    if not _reads_report(case):
        raise ValidationFailed(
            _(
                "This organisation received only the address of the online content, not your "
                "report: it cannot exchange messages with you."
            ),
            code="not_allowed",
            fields={"case": [_("This organisation does not take messages about your report.")]},
        )
    body = _clean_text(body, field="body", max_length=MESSAGE_MAX_LENGTH)
    message = CaseMessage.objects.create(
        place_id=report.place_id,
        case=case,
        direction=MessageDirection.FROM_REPORTER,
        body=body,
    )
    CaseEvent.objects.create(
        place_id=report.place_id,
        case=case,
        kind=CaseEventKind.MESSAGE_RECEIVED,
        data={"message": message.pk},
        at=message.at,
    )
    _notify_inbox(
        case=case,
        event_type=MESSAGE_EVENT,
        source=message,
        base_url=base_url,
        subject=gettext_lazy("Locus: a new message on case %(case)s"),
        sentence=gettext_lazy(
            "The person who reported case %(case)s in %(place)s sent your organisation a "
            "message. Read it in Locus:"
        ),
    )
    return message


def report_messages_mark_read(*, report, messages, now=None) -> int:
    """Mark the organisations' messages the reporter has just been shown as read."""
    from locus.cases.choices import MessageDirection
    from locus.cases.models import CaseMessage

    ids = [
        m.pk for m in messages if m.direction == MessageDirection.TO_REPORTER and m.read_at is None
    ]
    if not ids:
        return 0
    return CaseMessage.objects.filter(
        place_id=report.place_id, case__report=report, pk__in=ids, read_at__isnull=True
    ).update(read_at=now or timezone.now())


def _store_staged(*, place, staged_token, checked, check_caps):
    """Write the checked file (encrypted), then, in one short transaction, check the caps
    again (`check_caps([size])`: other files may have been staged meanwhile) and insert its
    row. If the row is not committed the file is deleted again, so a refusal or a failed write
    leaves no file behind (a process killed in between leaves one, which `purge_expired`
    deletes: `retention.evidence_purge_orphans`)."""
    evidence = Evidence(
        place=place,
        staged_token=staged_token,
        kind=checked.kind,
        mime=checked.mime,
        size=checked.size,
        sha256=checked.sha256,
        original_name=checked.original_name,
        received_at=checked.received_at,
    )
    evidence.file.save(
        opaque_name(prefix=f"place-{place.pk}", suffix=f".{checked.extension}"),
        ContentFile(checked.content),
        save=False,
    )
    try:
        with transaction.atomic():
            check_caps([checked.size])
            evidence.save()
    except BaseException:
        evidence.file.storage.delete(evidence.file.name)
        raise
    return evidence


def _check_caps(*, attached, staged, new=()):
    """The per-report caps (number of files, total size) over the files the report already
    has, the ones staged for this addition and the new one."""
    if len(attached) + len(staged) + len(new) > MAX_FILES_PER_REPORT:
        raise ValidationFailed(
            _("A report can carry at most %(count)s files.") % {"count": MAX_FILES_PER_REPORT},
            fields={"files": [_("Too many files.")]},
        )
    check_total([*attached, *staged, *new])


def report_evidence_stage(*, report, uploaded, staged_token):
    """Check and stage one file the reporter adds after sending, so that a form error never
    loses it. The per-report caps count the files the report already has. As at submission
    (`evidence_stage`), the file is checked and written outside any transaction."""
    _check_not_erased(report)
    place = report.place

    def check_caps(new):
        attached = list(
            Evidence.objects.filter(place=place, report=report).values_list("size", flat=True)
        )
        staged = list(
            evidence_staged(place=place, staged_token=staged_token).values_list("size", flat=True)
        )
        _check_caps(attached=attached, staged=staged, new=new)

    check_caps([0])
    checked = inspect_upload(uploaded)
    check_caps([checked.size])
    return _store_staged(
        place=place, staged_token=staged_token, checked=checked, check_caps=check_caps
    )


@dataclass(frozen=True)
class Addition:
    evidence: list  # the files attached to the report
    messages: list  # one FROM_REPORTER message per organisation that reads the report
    cases: list  # every handling case (each got an INFO_ADDED event)


@transaction.atomic
def report_add_information(
    *, report, text="", staged_token="", staged_ids=None, base_url=""
) -> Addition:
    """The reporter adds to their report after sending it: a text and/or files.

    Files (staged with `report_evidence_stage`: those of `staged_ids`, the ones the person
    saw listed or just sent, or when it is None every file staged under `staged_token`) are
    attached to the report, with their SHA-256 and time of receipt (chain of custody), within
    the per-report caps. A listed file that is no longer staged (deleted for its age) raises
    StagedEvidenceExpired and nothing is added. The text goes, as a message from the reporter,
    to every handling organisation that was sent the report itself (not to those that
    received only public online content: the reporter did not agree to share their words
    with them). Every handling case gets an INFO_ADDED event (ids only) and
    those organisations an e-mail with a link."""
    from locus.cases.choices import CaseEventKind, MessageDirection
    from locus.cases.models import CaseEvent, CaseMessage

    report = Report.objects.select_for_update().get(place_id=report.place_id, pk=report.pk)
    _check_not_erased(report)
    place = report.place
    text = _clean_text(text, field="text", max_length=ADDITION_MAX_LENGTH, required=False)
    staged = list(evidence_staged(place=place, staged_token=staged_token))
    if staged_ids is not None:
        wanted = set(staged_ids)
        staged = [evidence for evidence in staged if evidence.pk in wanted]
        if len(staged) != len(wanted):
            raise StagedEvidenceExpired()
    if not text and not staged:
        raise ValidationFailed(
            _("Write what you want to add, or choose a file."),
            fields={"text": [_("Write something or choose a file.")]},
        )
    cases = list(_handling_cases(report))
    readers = [case for case in cases if _reads_report(case)]
    if text and not readers:
        raise ValidationFailed(
            _("No organisation is handling your report yet, so nobody could read this text."),
            fields={
                "text": [
                    _(
                        "No organisation is handling your report yet. You can still add "
                        "files: they are kept with your report."
                    )
                ]
            },
        )
    attached = list(
        Evidence.objects.filter(place=place, report=report).values_list("size", flat=True)
    )
    _check_caps(attached=attached, staged=[e.size for e in staged])
    # Conditional: a file purged since it was read above is noticed, not lost silently.
    _attach_staged(
        place=place,
        staged_token=staged_token,
        evidence_ids=[e.pk for e in staged],
        report=report,
    )
    for evidence in staged:
        evidence.report = report
        evidence.staged_token = ""

    now = timezone.now()
    messages = {}
    if text:
        for case in readers:
            messages[case.pk] = CaseMessage.objects.create(
                place_id=place.pk,
                case=case,
                direction=MessageDirection.FROM_REPORTER,
                body=text,
                at=now,
            )
    evidence_ids = [e.pk for e in staged]
    for case in cases:
        message = messages.get(case.pk)
        CaseEvent.objects.create(
            place_id=place.pk,
            case=case,
            kind=CaseEventKind.INFO_ADDED,
            data={"message": message.pk if message else None, "evidence": evidence_ids},
            at=now,
        )
        if _reads_report(case):
            _notify_inbox(
                case=case,
                event_type=ADDITION_EVENT,
                source=message or staged[0],
                base_url=base_url,
                subject=gettext_lazy("Locus: new information on case %(case)s"),
                sentence=gettext_lazy(
                    "The person who reported case %(case)s in %(place)s added information or "
                    "files. See it in Locus:"
                ),
            )
    return Addition(evidence=staged, messages=list(messages.values()), cases=cases)


def _notify_erasure(*, report, case, base_url):
    from locus.cases.services import staff_case_path

    outbox_enqueue_event(
        place=report.place,
        organisation=case.organisation,
        event_type=ERASED_EVENT,
        payload={
            "report": report.reference,
            "case": case.pk,
            "link": staff_case_path(place=report.place, case=case),
        },
        source=case,
    )
    _notify_inbox(
        case=case,
        event_type=ERASED_EVENT,
        source=case,
        base_url=base_url,
        subject=gettext_lazy("Locus: case %(case)s was erased at the reporter's request"),
        sentence=gettext_lazy(
            "The person who reported case %(case)s in %(place)s asked for their personal data "
            "to be erased, and it has been. The case stays open until you close it. See it in "
            "Locus:"
        ),
    )


@dataclass(frozen=True)
class Erasure:
    report: Report
    files_deleted: int
    cases: list


@transaction.atomic
def report_erase(*, report, now=None, base_url="") -> Erasure:
    """Erase the reporter's personal data now, at their request (by reference and code).

    The same anonymisation as retention (`retention.strip_personal_data`): the account, the
    location in their words, contact details, police reference, message bodies, case notes and
    evidence files go; what statistics count (incident type, bias, area, dates to the month…)
    stays. The follow-up code's hash is kept, so the reporter is told it was done. Erasure
    withdraws every consent to share (a ConsentChange is kept). Nothing is closed silently:
    every case of the report gets a REPORT_ERASED event (the consent now, the number of files
    deleted), so its caseworkers see why the account is gone, and each
    organisation a `report.erased` webhook event and an e-mail (no personal data), in this
    transaction. Audited as REPORT_ERASED (ids and counts only)."""
    from locus.cases.choices import CaseEventKind
    from locus.cases.models import Case, CaseEvent

    from .retention import strip_personal_data

    now = now or timezone.now()
    report = Report.objects.select_for_update().get(place_id=report.place_id, pk=report.pk)
    _check_not_erased(report)
    place = report.place
    files = strip_personal_data(place=place, report=report, now=now, keep_followup_code=True)
    report.consent_police_anonymised = False
    report.consent_police_with_contact = False
    report.consent_support_contact = False
    report.save(
        update_fields=[
            "consent_police_anonymised",
            "consent_police_with_contact",
            "consent_support_contact",
        ]
    )
    consent = _consent_of(report)
    ConsentChange.objects.create(place=place, report=report, consent=consent, at=now)
    cases = list(
        Case.objects.filter(place=place, report=report)
        .select_related("organisation")
        .order_by("created_at", "id")
    )
    for case in cases:
        CaseEvent.objects.create(
            place=place,
            case=case,
            kind=CaseEventKind.REPORT_ERASED,
            data={"consent": consent, "files_deleted": files},
            at=now,
        )
        _notify_erasure(report=report, case=case, base_url=base_url)
    audit_record(
        action=AuditAction.REPORT_ERASED,
        place=place,
        target=report,
        data={"cases": [case.pk for case in cases], "files_deleted": files},
    )
    return Erasure(report=report, files_deleted=files, cases=cases)


def report_record_followup(*, report, channel, view="status") -> None:
    """Audit that the reporter opened their report (`channel`: web or api). No personal data:
    the report is the target, the reference is not secret on its own."""
    audit_record(
        action=AuditAction.REPORT_FOLLOWED_UP,
        place=report.place,
        target=report,
        data={"reference": report.reference, "channel": channel, "view": view},
    )


def report_record_copy(*, report, channel, file_format) -> None:
    """Audit that the reporter downloaded (or displayed) the copy of their data."""
    audit_record(
        action=AuditAction.REPORT_COPY_DOWNLOADED,
        place=report.place,
        target=report,
        data={"reference": report.reference, "channel": channel, "format": file_format},
    )
