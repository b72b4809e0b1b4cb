import hashlib
import math
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import NetworkRole, Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person with an account (staff of an organisation). Residents who report need none."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    # Demo accounts may skip MFA, and only while LOCUS_DEMO_MODE is on.
    is_demo = models.BooleanField(_("demo account"), default=False, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["email"]

    def __str__(self):
        return self.name or self.email

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email


class Membership(models.Model):
    """A user's role in an organisation. Global: the organisation's listings decide the places."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("account")
    )
    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organisation__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="membership_unique_user_org"
            )
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} @ {self.organisation}"


class NetworkMembership(models.Model):
    """A network-level role: aggregates across the network's places, nothing personal."""

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="network_memberships",
        verbose_name=_("account"),
    )
    network = models.ForeignKey(
        "places.Network",
        on_delete=models.CASCADE,
        related_name="members",
        verbose_name=_("network"),
    )
    role = models.CharField(
        _("role"), max_length=20, choices=NetworkRole.choices, default=NetworkRole.VIEWER
    )

    class Meta:
        verbose_name = _("network membership")
        verbose_name_plural = _("network memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "network"], name="network_membership_unique")
        ]

    def __str__(self):
        return f"{self.user} @ {self.network}"


def _hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


class Invitation(models.Model):
    """An e-mailed invitation to join an organisation with a role. Only the hash of the link's
    secret is stored; the link expires."""

    organisation = models.ForeignKey(
        "directory.Organisation",
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("organisation"),
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    secret_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("secret (hashed)")
    )
    invited_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("accepted by"),
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.organisation}"

    @staticmethod
    def hash_secret(secret):
        return _hash_secret(secret)

    @property
    def is_expired(self):
        return timezone.now() >= self.expires_at

    @property
    def is_pending(self):
        return self.accepted_at is None and not self.is_expired


# A token's lifetime, chosen when it is made (days). No "never": a token reaches reports of
# victims of hate, and a forgotten one in an old script should not work for ever.
TOKEN_LIFETIMES = (30, 90, 180, 365)
TOKEN_DEFAULT_LIFETIME = 90
# On the tokens page a token this close to its expiry is flagged, so that its owner makes the
# next one before a system stops working.
TOKEN_EXPIRY_WARNING = timedelta(days=7)


def token_default_expiry():
    return timezone.now() + timedelta(days=TOKEN_DEFAULT_LIFETIME)


class ApiToken(models.Model):
    """A personal API token bound to one membership. Shown once; only its hash is kept. It
    works until `expires_at` (chosen when it is made) unless revoked before."""

    PREFIX = "locus_"

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="tokens", verbose_name=_("membership")
    )
    name = models.CharField(_("name"), max_length=80)
    key_prefix = models.CharField(max_length=16, editable=False, verbose_name=_("key prefix"))
    key_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("key (hashed)")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    expires_at = models.DateTimeField(_("expiry"), default=token_default_expiry)
    # When its owner was e-mailed that it expires soon (once per token: tokens_remind).
    expiry_notice_sent_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("expiry notice sent at")
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def new_secret(cls):
        return cls.PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def hash_secret(secret):
        return _hash_secret(secret)

    def is_expired(self, now=None):
        return (now or timezone.now()) >= self.expires_at

    @property
    def is_active(self):
        """Neither revoked nor expired: it would authenticate (its membership permitting)."""
        return self.revoked_at is None and not self.is_expired()

    @property
    def days_left(self):
        """Whole days until it expires, rounded up (a token made for 90 days has 90 left);
        0 within its last day, None once expired."""
        left = self.expires_at - timezone.now()
        if left <= timedelta(0):
            return None
        return math.ceil(left / timedelta(days=1)) if left >= timedelta(days=1) else 0

    @property
    def expires_soon(self):
        left = self.expires_at - timezone.now()
        return timedelta(0) < left <= TOKEN_EXPIRY_WARNING
