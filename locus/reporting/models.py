"""Reports from residents and their evidence. Everything a reporter wrote in their own words,
where it happened, their contact details and their files are encrypted at rest."""

from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from locus.core.fields import EncryptedJSONField, EncryptedTextField
from locus.core.tenancy import TenantModel

from .choices import ReporterRole, ReportStatus


def evidence_storage():
    return storages["evidence"]


class Report(TenantModel):
    """One resident's report, as they perceived it. Staff classification lives on cases."""

    reference = models.CharField(max_length=9, editable=False)
    followup_code_hash = models.CharField(max_length=64, editable=False)
    taxonomy_version = models.CharField(max_length=20)
    language = models.CharField(max_length=8)
    status = models.CharField(
        max_length=20, choices=ReportStatus.choices, default=ReportStatus.RECEIVED
    )
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)

    incident_type = models.CharField(_("what happened"), max_length=40)
    occurred_on = models.DateField(_("when it happened"), null=True, blank=True)
    occurred_approx = models.BooleanField(_("the date is approximate"), default=False)
    ongoing = models.BooleanField(_("it is still happening"), default=False)

    area = models.ForeignKey(
        "places.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    location_text = EncryptedTextField(_("where, in your words"), blank=True)
    setting = models.CharField(_("setting"), max_length=40, blank=True)
    platform = models.CharField(_("platform"), max_length=40, blank=True)
    # The address of public online content: needed to group many reports of the same post.
    content_url = models.URLField(_("address of the content"), max_length=2000, blank=True)
    content_key = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    bias = models.JSONField(_("who was targeted"), default=list, blank=True)
    account = EncryptedTextField(_("what happened, in your words"), blank=True)
    reporter_role = models.CharField(max_length=20, choices=ReporterRole.choices)
    support_wanted = models.JSONField(default=list, blank=True)
    already_reported = models.JSONField(default=list, blank=True)
    police_reference = EncryptedTextField(blank=True)

    consent_police_anonymised = models.BooleanField(default=False)
    consent_police_with_contact = models.BooleanField(default=False)
    consent_support_contact = models.BooleanField(default=False)
    contact = EncryptedJSONField(null=True, blank=True)
    wants_email_updates = models.BooleanField(default=False)

    closed_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["place", "reference"], name="report_unique_reference")
        ]
        indexes = [
            models.Index(fields=["place", "submitted_at"]),
            models.Index(fields=["place", "incident_type"]),
        ]

    def __str__(self):
        return self.reference

    @property
    def consent_level(self):
        """The widest sharing the reporter allowed, for display."""
        if self.consent_police_with_contact:
            return "police_with_contact"
        if self.consent_police_anonymised:
            return "police_anonymised"
        return "record_only"


class Evidence(TenantModel):
    """A file given with a report. Stored encrypted under an opaque name; images are re-encoded
    without metadata before they are stored. Staged (report empty) until the report is sent, so
    a form error never loses an uploaded file."""

    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    staged_token = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    file = models.FileField(storage=evidence_storage, max_length=200)
    kind = models.CharField(max_length=10)
    mime = models.CharField(max_length=80)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = EncryptedTextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self):
        return f"{self.kind} {self.sha256[:12]}"


class ConsentChange(TenantModel):
    """Every change of consent, by the reporter (follow-up) or at submission."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="consent_changes")
    at = models.DateTimeField(default=timezone.now)
    consent = models.JSONField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.report_id} @ {self.at:%Y-%m-%d}"
