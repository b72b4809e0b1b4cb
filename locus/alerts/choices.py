from django.db import models
from django.utils.translation import gettext_lazy as _

# The webhook event of a new alarm (docs/insights.md, "Alerts").
ALERT_EVENT = "insights.alert"


class Axis(models.TextChoices):
    """Which taxonomy axis a series counts: a bias motivation or an incident type."""

    BIAS = "bias", _("Bias motivation")
    INCIDENT_TYPE = "incident_type", _("Incident type")


class AlarmStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
