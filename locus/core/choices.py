from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOGOUT = "logout", _("Signed out")
    MEMBERSHIP_CREATED = "membership_created", _("Membership created")
    ROLE_CHANGED = "role_changed", _("Role changed")
    MEMBERSHIP_ENDED = "membership_ended", _("Membership ended")
    INVITATION_SENT = "invitation_sent", _("Invitation sent")
    INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    TOKEN_USED = "token_used", _("API token used")
    AREAS_IMPORTED = "areas_imported", _("Areas imported")
    PLACE_SETTINGS_CHANGED = "place_settings_changed", _("Place settings changed")
    MFA_CHANGED = "mfa_changed", _("Two-factor authentication changed")
    ROUTING_RULE_CHANGED = "routing_rule_changed", _("Routing rule changed")
    REPORT_ROUTED = "report_routed", _("Report routed")
    CASE_VIEWED = "case_viewed", _("Case viewed")
    CASE_UPDATED = "case_updated", _("Case updated")
    EVIDENCE_DOWNLOADED = "evidence_downloaded", _("Evidence downloaded")
