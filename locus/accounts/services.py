"""Writes for accounts: memberships, roles, invitations, API tokens. Each change is audited."""

import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from locus.core.choices import AuditAction
from locus.core.errors import PermissionDenied, ValidationFailed
from locus.core.services import audit_record

from . import selectors
from .models import (
    TOKEN_DEFAULT_LIFETIME,
    TOKEN_EXPIRY_WARNING,
    TOKEN_LIFETIMES,
    ApiToken,
    Invitation,
    Membership,
    User,
)
from .policies import Capability, can_manage_membership, role_can, role_requires_mfa


@transaction.atomic
def membership_create(*, user, organisation, role, actor=None):
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"role": role}
    )
    if not created and (membership.role != role or not membership.is_active):
        old = membership.role
        membership.role = role
        membership.is_active = True
        membership.save(update_fields=["role", "is_active"])
        audit_record(
            action=AuditAction.ROLE_CHANGED,
            actor=actor,
            target=membership,
            data={"from": old, "to": role},
        )
    elif created:
        audit_record(
            action=AuditAction.MEMBERSHIP_CREATED,
            actor=actor,
            target=membership,
            data={"role": role},
        )
    return membership


@transaction.atomic
def membership_change_role(*, actor_membership, membership, role, place=None):
    if not can_manage_membership(actor_membership, membership):
        raise PermissionDenied(_("You cannot change this member's role."))
    if membership.pk == actor_membership.pk and role != membership.role:
        raise ValidationFailed(
            _("You cannot change your own role; ask another administrator."),
            fields={"role": [_("You cannot change your own role.")]},
        )
    old = membership.role
    if old != role:
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            action=AuditAction.ROLE_CHANGED,
            actor=actor_membership.user,
            place=place,
            target=membership,
            data={"from": old, "to": role},
        )
    return membership


@transaction.atomic
def invitation_create(*, actor_membership, email, role, place=None, accept_url_builder):
    """An administrator invites someone to their own organisation. Returns (invitation, link)."""
    if not role_can(actor_membership.role, Capability.MANAGE_MEMBERS):
        raise PermissionDenied(_("You cannot invite people to this organisation."))
    return invitation_send(
        organisation=actor_membership.organisation,
        email=email,
        role=role,
        invited_by=actor_membership.user,
        place=place,
        accept_url_builder=accept_url_builder,
    )


@transaction.atomic
def invitation_send(
    *, organisation, email, role, invited_by, place=None, language=None, accept_url_builder
):
    """Create an invitation to `organisation` and e-mail its link; returns (invitation, link).
    Callers check who may invite: `invitation_create` (an organisation's administrator) and the
    platform admin, which invites an organisation's first administrator (it has no membership
    to invite through). `language`: the e-mail's language (default: the active one)."""
    email = email.strip().lower()
    if selectors.is_active_member(organisation=organisation, email=email):
        raise ValidationFailed(
            _("This person is already a member."),
            fields={
                "email": [_("This person is already a member of %(org)s.") % {"org": organisation}]
            },
        )
    secret = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        secret_hash=Invitation.hash_secret(secret),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.LOCUS_INVITATION_DAYS),
    )
    link = accept_url_builder(secret)
    context = {"invitation": invitation, "link": link, "needs_mfa": role_requires_mfa(role)}
    # The expiry in words, at the place's local time, in the reader's language.
    zone = selectors.organisation_zone(organisation=organisation)
    with translation.override(language or translation.get_language()), timezone.override(zone):
        subject = _("You are invited to join %(org)s on Locus") % {"org": organisation}
        message = render_to_string("accounts/email/invitation.txt", context)
    transaction.on_commit(
        lambda: send_mail(subject=subject, message=message, from_email=None, recipient_list=[email])
    )
    audit_record(
        action=AuditAction.INVITATION_SENT,
        actor=invited_by,
        place=place,
        target=invitation,
        data={"role": role},
    )
    return invitation, link


@transaction.atomic
def invitation_withdraw(*, actor_membership, invitation, place=None):
    """Take back a pending invitation (sent to a wrong address, or the person left): its link
    stops working at once, as if it had expired; the audit log keeps who withdrew it."""
    if not role_can(actor_membership.role, Capability.MANAGE_MEMBERS):
        raise PermissionDenied(_("You cannot withdraw invitations of this organisation."))
    if invitation.organisation_id != actor_membership.organisation_id:
        raise PermissionDenied(_("You cannot withdraw invitations of this organisation."))
    now = timezone.now()
    withdrawn = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    if withdrawn:
        audit_record(
            action=AuditAction.INVITATION_WITHDRAWN,
            actor=actor_membership.user,
            place=place,
            target=invitation,
            data={"role": invitation.role},
        )
    return bool(withdrawn)


@transaction.atomic
def invitation_accept(*, invitation, user=None, password=None, name=""):
    """Accept an invitation: an existing account joins; otherwise one is created."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationFailed(_("This invitation has already been used."), code="invitation_used")
    if invitation.is_expired:
        raise ValidationFailed(
            _("This invitation has expired; ask for a new one."), code="invitation_expired"
        )
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ValidationFailed(
                _("An account with this e-mail address exists: sign in first, then open the link."),
                code="account_exists",
            )
        user = User.objects.create_user(invitation.email, password, name=name)
    elif user.email.lower() != invitation.email.lower():
        raise ValidationFailed(
            _("This invitation was sent to another e-mail address."), code="wrong_account"
        )
    membership = membership_create(
        user=user,
        organisation=invitation.organisation,
        role=invitation.role,
        actor=invitation.invited_by,
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(action=AuditAction.INVITATION_ACCEPTED, actor=user, target=invitation)
    return membership


@transaction.atomic
def token_create(*, membership, name, lifetime_days=TOKEN_DEFAULT_LIFETIME):
    """Create a token that works for `lifetime_days` (one of TOKEN_LIFETIMES) and return
    (token, secret). The secret is never stored or shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(
            _("Give the token a name."), fields={"name": [_("This field is required.")]}
        )
    if lifetime_days not in TOKEN_LIFETIMES:
        raise ValidationFailed(
            _("Choose how long the token works."),
            fields={"lifetime": [_("Choose one of the lifetimes offered.")]},
        )
    if not role_can(membership.role, Capability.USE_API):
        raise PermissionDenied(_("Your role cannot use the API."))
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        membership=membership,
        name=name[:80],
        key_prefix=secret[: len(ApiToken.PREFIX) + 4],
        key_hash=ApiToken.hash_secret(secret),
        expires_at=timezone.now() + timedelta(days=lifetime_days),
    )
    audit_record(
        action=AuditAction.TOKEN_CREATED,
        actor=membership.user,
        target=token,
        data={"lifetime_days": lifetime_days, "expires_at": token.expires_at.isoformat()},
    )
    return token, secret


@transaction.atomic
def token_revoke(*, token, actor):
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action=AuditAction.TOKEN_REVOKED, actor=actor, target=token)
    return token


def tokens_send_expiry_notices(*, now=None, base_url=""):
    """E-mail each working token's owner once, TOKEN_EXPIRY_WARNING before it expires, with a
    link to the tokens page: a script or a partner's system using it would otherwise stop on
    401 `token_expired` without warning. Returns the number of notices sent."""
    now = now or timezone.now()
    sent = 0
    for token in selectors.tokens_expiring(within=TOKEN_EXPIRY_WARNING, now=now):
        with transaction.atomic():
            # Claimed first: two runs at once send one notice.
            claimed = ApiToken.objects.filter(pk=token.pk, expiry_notice_sent_at=None).update(
                expiry_notice_sent_at=now
            )
            if claimed:
                _send_token_expiry_notice(token, base_url=base_url)
                sent += 1
    return sent


def _send_token_expiry_notice(token, *, base_url):
    """In the language and time zone of the place the organisation works in first."""
    membership = token.membership
    listing = selectors.organisation_home_listing(organisation=membership.organisation)
    place = listing.place if listing else None
    language = place.default_language if place else settings.LANGUAGE_CODE
    zone = zoneinfo.ZoneInfo(place.timezone if place else settings.TIME_ZONE)
    link = base_url + reverse("accounts:tokens", args=[place.slug]) if place else ""
    context = {
        "token": token,
        "organisation": membership.organisation,
        "expires_at": timezone.localtime(token.expires_at, zone),
        "link": link,
    }
    with translation.override(language):
        subject = _("Your Locus API token “%(name)s” expires soon") % {"name": token.name}
        message = render_to_string("accounts/email/token_expiry.txt", context)
    address = membership.user.email
    transaction.on_commit(
        lambda: send_mail(
            subject=subject, message=message, from_email=None, recipient_list=[address]
        )
    )


def token_mark_used(*, token, place=None):
    """Note the use (at most once a minute per token, to keep the audit log readable)."""
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < timedelta(minutes=1):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    audit_record(
        action=AuditAction.TOKEN_USED, actor=token.membership.user, place=place, target=token
    )
