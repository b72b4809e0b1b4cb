from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import OrganisationType


class Organisation(models.Model):
    """A council team, charity, police force, company… Global: one organisation may work in
    several places, each through its own listing. Accounts and the directory share this model."""

    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=OrganisationType.choices)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganisationListing(models.Model):
    """An organisation working in a place. Its members see the place's data only through an
    active listing, and only as their role allows. Global (like Membership): listings define
    who may enter a place, so the place switcher reads them across places."""

    place = models.ForeignKey("places.Place", on_delete=models.CASCADE, related_name="listings")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="listings"
    )
    is_active = models.BooleanField(_("active"), default=True)
    manages_place = models.BooleanField(
        _("runs Locus for this place"),
        default=False,
        help_text=_(
            "The city's own team: its administrators manage the place's settings and areas."
        ),
    )
    listed_at = models.DateTimeField(auto_now_add=True)
    # Where "a report reached you" e-mails go (a link only, never personal data).
    inbox_email = models.EmailField(_("inbox e-mail address"), blank=True)
    # The organisation's own handling targets for cases in this place (blank: no target).
    acknowledge_target_hours = models.PositiveIntegerField(
        _("acknowledge within (hours)"), null=True, blank=True
    )
    close_target_days = models.PositiveIntegerField(_("close within (days)"), null=True, blank=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["place", "organisation"], name="listing_unique_per_place"
            )
        ]

    def __str__(self):
        return f"{self.organisation} @ {self.place_id}"

    def clean(self):
        if self.organisation_id is None:
            raise ValidationError({"organisation": _("Choose an organisation.")})
