"""Writes for reports: stage evidence, submit a report, change consent.

A report is committed in one transaction; the follow-up code leaves this module exactly once,
in the return value of `report_submit`, and only its keyed hash is stored.
"""

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from locus.core.errors import ValidationFailed
from locus.core.files import check_total, inspect_upload
from locus.core.storage import opaque_name

from . import references
from .models import ConsentChange, Evidence, Report
from .taxonomy import taxonomy

MAX_FILES_PER_REPORT = 10


@dataclass(frozen=True)
class SubmittedReport:
    report: Report
    followup_code: str  # shown once, never stored


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


@transaction.atomic
def evidence_stage(*, place, uploaded, staged_token):
    """Check and store one uploaded file before the report exists, so it survives a form
    error. Raises ValidationFailed with a message for the person."""
    staged = Evidence.objects.filter(place=place, staged_token=staged_token, report=None)
    if staged.count() >= MAX_FILES_PER_REPORT:
        raise ValidationFailed(
            _("A report can carry at most %(count)s files.") % {"count": MAX_FILES_PER_REPORT},
            fields={"files": [_("Too many files.")]},
        )
    checked = inspect_upload(uploaded)
    check_total([*staged.values_list("size", flat=True), checked.size])
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
    evidence.save()
    return evidence


def evidence_staged(*, place, staged_token):
    if not staged_token:
        return Evidence.objects.none()
    return Evidence.objects.filter(place=place, staged_token=staged_token, report=None)


@transaction.atomic
def evidence_unstage(*, place, staged_token, evidence_id):
    """Remove a staged file the person no longer wants to send."""
    evidence = (
        evidence_staged(place=place, staged_token=staged_token).filter(pk=evidence_id).first()
    )
    if evidence is not None:
        evidence.file.delete(save=False)
        evidence.delete()


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


@transaction.atomic
def report_submit(*, place, data, staged_token="", language="en"):
    """Create a report from cleaned data (see forms/API schema) and attach its staged files.

    `data` keys: incident_type, occurred_on, occurred_approx, ongoing, area (Area or None),
    location_text, setting, platform, content_url, bias, account, reporter_role,
    support_wanted, already_reported, police_reference, consent_police_anonymised,
    consent_police_with_contact, consent_support_contact, contact (dict or None),
    wants_email_updates.
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
    code = references.new_followup_code()
    report = Report(
        place=place,
        followup_code_hash=references.hash_code(code),
        taxonomy_version=vocabulary.version,
        language=language,
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
    _save_with_unique_reference(report)
    staged = list(evidence_staged(place=place, staged_token=staged_token))
    for evidence in staged:
        evidence.report = report
        evidence.staged_token = ""
    Evidence.objects.bulk_update(staged, ["report", "staged_token"])
    ConsentChange.objects.create(place=place, report=report, consent=_consent_of(report))
    # Routed in this transaction, so decisions and outbox rows commit with the report. Imported
    # here: locus.cases imports reporting.
    from locus.cases.services import report_route

    report_route(report=report)
    return SubmittedReport(report=report, followup_code=code)


def _save_with_unique_reference(report, attempts=5):
    for _attempt in range(attempts):
        report.reference = references.new_reference()
        try:
            with transaction.atomic():
                report.save()
            return
        except IntegrityError:
            continue  # 40 bits: a clash is rare; try another
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
    if police_with_contact and not report.contact:
        raise ValidationFailed(
            _("To send your contact details to the police, first add a way to reach you."),
            fields={"consent": [_("No contact details given.")]},
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
    return report


def evidence_purge_stale(*, place, older_than=None):
    """Delete staged files never attached to a report (the form was abandoned)."""
    cutoff = timezone.now() - (older_than or settings.LOCUS_STAGED_EVIDENCE_TTL)
    stale = Evidence.objects.filter(place=place, report=None, received_at__lt=cutoff)
    count = 0
    for evidence in stale:
        evidence.file.delete(save=False)
        evidence.delete()
        count += 1
    return count
