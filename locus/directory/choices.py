from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationType(models.TextChoices):
    LOCAL_AUTHORITY = "local_authority", _("Local authority team")
    POLICE = "police", _("Police")
    CSO = "cso", _("Civil-society organisation")
    VICTIM_SUPPORT = "victim_support", _("Victim support")
    SCHOOL = "school", _("School or university")
    HEALTH = "health", _("Health service")
    FAITH_GROUP = "faith_group", _("Faith group")
    COMPANY = "company", _("Company or platform")
    NATIONAL_BODY = "national_body", _("National body")


class ServiceStatus(models.TextChoices):
    """HSDS 3.1 service status."""

    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    TEMPORARILY_CLOSED = "temporarily closed", _("Temporarily closed")
    DEFUNCT = "defunct", _("No longer offered")


class PartnershipKind(models.TextChoices):
    FUNDING = "funding", _("Funds")
    REFERRAL = "referral", _("Refers people to")
    DELIVERY = "delivery", _("Delivers together with")
    DATA_SHARING = "data_sharing", _("Shares data with")
