"""Audit changes to two-factor authentication."""

from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.dispatch import receiver

from locus.core.choices import AuditAction


@receiver(authenticator_added)
@receiver(authenticator_removed)
def audit_mfa_change(sender, request, user, authenticator, **kwargs):
    from locus.core.services import audit_record

    audit_record(action=AuditAction.MFA_CHANGED, actor=user, data={"type": authenticator.type})
