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
