"""Spike alarms and who wants to hear about them (docs/insights.md, "Alerts").

An `Alarm` is one unusual week of one series (an area × category, or the whole place × a
category), found by a detection run; it holds the figures that make it unusual and nothing
about any report. An `AlertSubscription` says which alarms an organisation wants, by area and
by category; new alarms reach it through the outbox (an e-mail with a link, a webhook event).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from locus.core.tenancy import TenantModel

from .choices import AlarmStatus, Axis


class AlertSubscription(TenantModel):
    """One organisation's wish to receive a place's alarms. No areas: every area; no bias and
    no incident types: every category. Alarms of the whole place reach every subscription whose
    categories match, whatever its areas (a city-wide rise concerns every area)."""

    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    areas = models.ManyToManyField(
        "places.Area", blank=True, related_name="+", verbose_name=_("areas")
    )
    bias = models.JSONField(_("bias motivations"), default=list, blank=True)
    incident_types = models.JSONField(_("incident types"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["place", "organisation"], name="alert_subscription_unique_per_org"
            )
        ]

    def __str__(self):
        return f"{self.organisation_id} @ {self.place_id}"

    @property
    def all_categories(self):
        return not self.bias and not self.incident_types


class Alarm(TenantModel):
    """An unusual week of one series. One row per (series, week): running the detection again
    over the same week finds the row and changes nothing."""

    week = models.DateField(_("week"), help_text=_("The Monday of the week judged."))
    series_key = models.CharField(max_length=120, editable=False)
    area = models.ForeignKey(
        "places.Area",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("area"),
    )
    axis = models.CharField(_("axis"), max_length=20, choices=Axis.choices)
    category = models.CharField(_("category"), max_length=40)
    method = models.CharField(_("method"), max_length=30)
    observed = models.PositiveIntegerField(_("observed"))
    expected = models.FloatField(_("expected"))
    upper_bound = models.FloatField(_("upper bound"))
    p_value = models.FloatField(_("p-value"))
    q_value = models.FloatField(_("q-value"))
    score = models.FloatField(_("score"))
    # Raw reports behind the incidents of the week (the report pressure).
    reports = models.PositiveIntegerField(_("reports"), default=0)
    series_judged = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=AlarmStatus.choices, default=AlarmStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-week", "q_value", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["place", "series_key", "week"], name="alarm_unique_per_series_week"
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True)
                | models.Q(status="closed", closed_at__isnull=False),
                name="alarm_closed_has_time",
            ),
        ]
        indexes = [models.Index(fields=["place", "status", "-week"])]

    def __str__(self):
        return f"{self.series_key} {self.week}"

    def clean(self):
        super().clean()
        if self.area_id and self.area.place_id != self.place_id:
            raise ValidationError({"area": _("The area belongs to another place.")})


class DetectionRun(TenantModel):
    """One run of the detection over one week of a place: how much was judged, what it found."""

    week = models.DateField()
    ran_at = models.DateTimeField(default=timezone.now)
    series = models.PositiveIntegerField(default=0)
    method = models.CharField(max_length=30, blank=True)
    flagged = models.PositiveIntegerField(default=0)
    alarms = models.PositiveIntegerField(default=0)
    new_alarms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-ran_at", "-id"]

    def __str__(self):
        return f"{self.place_id} {self.week}"
