import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from locus.core.tenancy import TenantModel

from .choices import OrganisationType, PartnershipKind, ServiceStatus
from .vocabulary import vocabulary

# The longest free texts the directory keeps, the same for its forms and its API (a text saved
# from a page can always be sent back unchanged through the API).
DESCRIPTION_MAX_LENGTH = 10000
SERVICE_TEXT_MAX_LENGTH = 5000  # who can use it, how to refer


class Organisation(models.Model):
    """A council team, charity, police force, company… Global: one organisation may work in
    several places, each through its own listing. Accounts and the directory share this model."""

    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=OrganisationType.choices)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("public e-mail address"), blank=True)
    phone = models.CharField(_("public phone number"), max_length=40, blank=True)
    # The organisation's stable identifier in HSDS exports (and the key of re-imports).
    hsds_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("HSDS ID")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganisationListing(models.Model):
    """An organisation working in a place. Its members see the place's data only through an
    active listing, and only as their role allows. Global (like Membership): listings define
    who may enter a place, so the place switcher reads them across places."""

    place = models.ForeignKey(
        "places.Place", on_delete=models.CASCADE, related_name="listings", verbose_name=_("place")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="listings",
        verbose_name=_("organisation"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    manages_place = models.BooleanField(
        _("runs Locus for this place"),
        default=False,
        help_text=_(
            "The city's own team: its administrators manage the place's settings and areas."
        ),
    )
    listed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("listed at"))
    # Where "a report reached you" e-mails go (a link only, never personal data).
    inbox_email = models.EmailField(_("inbox e-mail address"), blank=True)
    # The organisation's own handling targets for cases in this place (blank: no target).
    acknowledge_target_hours = models.PositiveIntegerField(
        _("acknowledge within (hours)"), null=True, blank=True
    )
    close_target_days = models.PositiveIntegerField(_("close within (days)"), null=True, blank=True)
    # Directory upkeep: when the entry was last confirmed as right, and the last reminder.
    last_checked_on = models.DateField(_("last checked"), null=True, blank=True)
    reminded_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("reminded at")
    )

    class Meta:
        verbose_name = _("organisation listing")
        verbose_name_plural = _("organisation listings")
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["place", "organisation"], name="listing_unique_per_place"
            )
        ]

    def __str__(self):
        return f"{self.organisation} @ {self.place_id}"

    def clean(self):
        # An organisation not saved yet counts (the admin adds one with its listings): its id
        # comes when it is saved, just before the listing is.
        if self.organisation_id is None and not OrganisationListing.organisation.is_cached(self):
            raise ValidationError({"organisation": _("Choose an organisation.")})


class Service(TenantModel):
    """What an organisation offers in a place, for whom, where and how to get it (aligned with
    the Open Referral HSDS 3.1 `service`). Codes come from the directory vocabulary."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="services"
    )
    hsds_id = models.UUIDField(default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    service_type = models.CharField(_("type of service"), max_length=40)
    status = models.CharField(
        _("status"), max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE
    )
    target_groups = models.JSONField(_("who it is for"), default=list, blank=True)
    min_age = models.PositiveSmallIntegerField(
        _("minimum age"), null=True, blank=True, validators=[MaxValueValidator(120)]
    )
    max_age = models.PositiveSmallIntegerField(
        _("maximum age"), null=True, blank=True, validators=[MaxValueValidator(120)]
    )
    languages = models.JSONField(_("languages"), default=list, blank=True)
    whole_place = models.BooleanField(
        _("serves the whole place"),
        default=False,
        help_text=_("Tick when the service is open to people from every area."),
    )
    areas = models.ManyToManyField("places.Area", blank=True, related_name="+")
    eligibility = models.TextField(_("who can use it"), blank=True)
    how_to_refer = models.TextField(_("how to refer or get in touch"), blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone number"), max_length=40, blank=True)
    url = models.URLField(_("web page"), blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=300, blank=True)
    cost = models.CharField(
        _("cost"), max_length=300, blank=True, help_text=_("Leave empty when it is free.")
    )
    last_checked_on = models.DateField(_("last checked"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["place", "service_type"])]
        constraints = [
            models.UniqueConstraint(fields=["place", "hsds_id"], name="service_hsds_id_per_place"),
            models.CheckConstraint(
                condition=models.Q(min_age__isnull=True)
                | models.Q(max_age__isnull=True)
                | models.Q(min_age__lte=models.F("max_age")),
                name="service_age_range_ordered",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        words = vocabulary()
        if self.service_type and not words.has("service_type", self.service_type):
            errors["service_type"] = [_("Choose a type of service.")]
        for field in ("target_groups", "languages"):
            axis = "target_group" if field == "target_groups" else "language"
            values = self.__dict__.get(field) or []
            if not isinstance(values, list) or any(
                not isinstance(v, str) or not words.has(axis, v) for v in values
            ):
                errors[field] = [_("Unknown choice.")]
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            errors["max_age"] = [_("The maximum age must not be below the minimum age.")]
        if errors:
            raise ValidationError(errors)


class Partnership(TenantModel):
    """A working relation between two organisations in a place: one funds, refers to, delivers
    for or shares data with the other. Directed: `source` → `target`."""

    source = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=PartnershipKind.choices)
    description = models.CharField(_("description"), max_length=300, blank=True)
    last_checked_on = models.DateField(_("last checked"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source__name", "target__name", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["place", "source", "target", "kind"], name="partnership_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="partnership_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.source} → {self.target} ({self.kind})"

    def clean(self):
        if self.source_id and self.source_id == self.target_id:
            raise ValidationError({"target": _("Choose another organisation.")})


class DirectorySettings(TenantModel):
    """A place's directory upkeep: after how many days a record counts as stale (empty: the
    installation's LOCUS_DIRECTORY_CHECK_DAYS)."""

    check_every_days = models.PositiveSmallIntegerField(
        _("check every (days)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(3650)],
        help_text=_("Owners are reminded when their records have not been checked for this long."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["place"], name="directory_settings_one_per_place")
        ]
