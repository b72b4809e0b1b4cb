from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportStatus(models.TextChoices):
    """What the reporter sees. Cases (one per receiving organisation) carry the detail."""

    RECEIVED = "received", _("Received")
    WITH_ORGANISATIONS = "with_organisations", _("With the organisations handling it")
    CLOSED = "closed", _("Closed")


class ReporterRole(models.TextChoices):
    VICTIM = "victim", _("It happened to me")
    WITNESS = "witness", _("I saw it happen")
    ON_BEHALF = "on_behalf", _("I am reporting for someone else")
    FOUND_ONLINE = "found_online", _("I found it online")


class SupportWanted(models.TextChoices):
    EMOTIONAL = "emotional", _("Someone to talk to")
    PRACTICAL = "practical", _("Practical help (for example housing, school or work)")
    LEGAL = "legal", _("Advice on my rights or the law")
    SAFETY = "safety", _("Help to feel safe")
    CONTENT_REMOVAL = "content_removal", _("Help to get content removed")


class ConsentLevel(models.TextChoices):
    """How far a report may travel. Each level includes the ones before it in `CONSENT_ORDER`
    only where stated in the routing module; the flags on Report are the source of truth."""

    RECORD_ONLY = "record_only", _("Record it only (counted in statistics, shared with nobody)")
    POLICE_ANONYMISED = "police_anonymised", _("Share it with the police without my details")
    POLICE_WITH_CONTACT = "police_with_contact", _("Send it to the police with my contact details")
    SUPPORT_CONTACT = "support_contact", _("Let a support organisation contact me")
