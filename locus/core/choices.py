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
    CASE_HANDED_ON = "case_handed_on", _("Case handed on")
    CASE_MERGED = "case_merged", _("Cases merged")
    CASE_SPLIT = "case_split", _("Case split off")
    CASE_MESSAGE_SENT = "case_message_sent", _("Message sent to a reporter")
    CASE_TARGETS_CHANGED = "case_targets_changed", _("Case handling targets changed")
    REPORT_FOLLOWED_UP = "report_followed_up", _("Report opened by its reporter")
    REPORT_COPY_DOWNLOADED = "report_copy_downloaded", _("Copy of a report's data downloaded")
    REPORT_ERASED = "report_erased", _("Report erased at the reporter's request")
    REPORT_REROUTED = "report_rerouted", _("Report routed again after a consent change")
    WEBHOOK_ENDPOINT_CHANGED = "webhook_endpoint_changed", _("Webhook endpoint changed")
