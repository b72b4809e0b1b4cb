from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    COORDINATOR = "coordinator", _("Coordinator")
    CASEWORKER = "caseworker", _("Caseworker")
    ANALYST = "analyst", _("Analyst")
    EDITOR = "editor", _("Editor")
    MEMBER = "member", _("Member")


class NetworkRole(models.TextChoices):
    VIEWER = "viewer", _("Network viewer (aggregates only)")
