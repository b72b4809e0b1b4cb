"""Audit sign-ins and sign-outs."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .choices import AuditAction


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    from .services import audit_record

    audit_record(action=AuditAction.LOGIN, actor=user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    from .services import audit_record

    if user is not None:
        audit_record(action=AuditAction.LOGOUT, actor=user)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    from .services import audit_record

    # The attempted address is not stored: it may belong to someone else.
    audit_record(action=AuditAction.LOGIN_FAILED)
