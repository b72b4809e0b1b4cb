"""Insights: trigger-event annotations and the roll-up of incident counts the dashboard reads.

The roll-up (`PeriodCount`) is derived data: it can be rebuilt from reports and cases at any
time (`manage.py insights_rollup --place … --rebuild`) and is kept current incrementally by
`locus.insights.rollups` (see docs/insights.md, "The dashboard's roll-up").
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from locus.core.tenancy import TenantModel

ANNOTATION_TEXT_MAX = 300


class Annotation(TenantModel):
    """A trigger event (or anything that explains a change) drawn on every chart of the place:
    a date range and a short text. Written by the place team; never personal data."""

    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    text = models.CharField(_("what happened"), max_length=ANNOTATION_TEXT_MAX)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="annotation_ends_after_start",
            )
        ]

    def __str__(self):
        return f"{self.starts_on}–{self.ends_on}: {self.text[:40]}"

    def clean(self):
        super().clean()
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The end cannot be before the start.")})


class Grain(models.TextChoices):
    WEEK = "W", _("Week")
    MONTH = "M", _("Month")


class Basis(models.TextChoices):
    """Whose classification is counted: what the reporter perceived (every report), or what
    staff verified (only reports a case verified, with the verified type and bias)."""

    PERCEIVED = "p", _("As the reporter perceived it")
    VERIFIED = "v", _("As staff verified it")


class PeriodCount(TenantModel):
    """Incidents and reports of one period (an ISO week from its Monday, or a calendar month
    from its first day) in one area (None: no area given), for one cut of the taxonomy.

    A cube, so that every filter of the dashboard reads rows as they are and never sums over a
    dimension it did not ask about: `bias` "" is every incident (counted once however many
    bias motivations it has), `incident_type` "" is the hate incidents (the taxonomy's rule:
    suspicious activity and the other separately counted types stay out), `setting` "" is every
    setting. `incidents` counts a group of reports of the same online content once (in the
    period and with the classification of its first report); `reports` counts every report
    (the report pressure)."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    basis = models.CharField(max_length=1, choices=Basis.choices)
    period = models.DateField()
    area = models.ForeignKey(
        "places.Area", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    bias = models.CharField(max_length=40, blank=True)
    incident_type = models.CharField(max_length=40, blank=True)
    setting = models.CharField(max_length=40, blank=True)
    incidents = models.PositiveIntegerField(default=0)
    reports = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["place", "grain", "basis", "incident_type", "setting", "bias", "period"],
                name="insights_cut_period",
            ),
            models.Index(fields=["place", "grain", "period"], name="insights_grain_period"),
        ]

    def __str__(self):
        return f"{self.grain}{self.period} {self.area_id} {self.bias}/{self.incident_type}"


class RollupState(TenantModel):
    """How far the roll-up of a place has read: the last report and case event seen. Anything
    newer makes its periods dirty (`rollups.rollup_refresh`). `built_at` is None until the first
    full build."""

    report_mark = models.BigIntegerField(default=0)
    event_mark = models.BigIntegerField(default=0)
    built_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["place"], name="insights_one_state")]

    def __str__(self):
        return f"rollup state {self.place_id}"
