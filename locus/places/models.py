from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from locus.core.tenancy import TenantModel

slug_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{1,48}$",
    _("Use 2–49 lower-case letters, digits and hyphens, starting with a letter."),
)
# URL prefixes that can never be a place slug.
RESERVED_SLUGS = {
    "accounts",
    "admin",
    "api",
    "static",
    "media",
    "i18n",
    "network",
    "invitations",
    "library",
    "healthz",
    "staff",
    "jobs",
}


class Network(models.Model):
    """A country or region that rolls its places up (global). Its name is shown in every
    language: `name` is the English one and `names` holds the others ({"fr": "Royaume-Uni",
    …}, like the taxonomy's labels); `label()` picks the one for the language."""

    slug = models.SlugField(unique=True, verbose_name=_("slug"))
    name = models.CharField(_("name"), max_length=120)
    names = models.JSONField(_("name in other languages"), default=dict, blank=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        help_text=_("The country’s two-letter code (ISO 3166-1 alpha-2), e.g. GB or SE."),
    )

    class Meta:
        verbose_name = _("network")
        verbose_name_plural = _("networks")
        ordering = ["name"]

    def __str__(self):
        return self.label()

    def label(self, language=None):
        """The name in `language` (default: the active language), else the English name."""
        code = (language or get_language() or "en").split("-")[0].split("_")[0].lower()
        return (self.names or {}).get(code) or self.name


# The retention job computes "now - days": beyond a date Python can hold (about 740,000 days)
# it would fail for the place, so retention is capped at a hundred years, in the admin too.
MAX_RETENTION_DAYS = 36_500


class Place(models.Model):
    """The tenant: a city or local authority. Everything personal belongs to exactly one place."""

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="places", verbose_name=_("network")
    )
    slug = models.CharField(_("slug"), max_length=49, unique=True, validators=[slug_validator])
    name = models.CharField(_("name"), max_length=120)
    country = models.CharField(
        _("country"),
        max_length=2,
        help_text=_("The country’s two-letter code (ISO 3166-1 alpha-2), e.g. GB or SE."),
    )
    default_language = models.CharField(_("default language"), max_length=8, default="en")
    timezone = models.CharField(_("time zone"), max_length=60, default="Europe/London")
    emergency_number = models.CharField(
        _("emergency number"),
        max_length=20,
        default="112",
        validators=[
            RegexValidator(
                r"^[0-9][0-9 ]{1,19}$",
                message=_("Enter the number people call, in digits, e.g. 999 or 112."),
            )
        ],
        help_text=_(
            "Shown to people who report: “If you are in danger now, call …”. 112 works across "
            "Europe; give the number people know where you are, e.g. 999 in the UK."
        ),
    )
    suppression_threshold = models.PositiveSmallIntegerField(
        _("public statistics suppression threshold"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Public counts below this number are shown as 'fewer than N'."),
    )
    publication_delay_days = models.PositiveSmallIntegerField(
        _("publication delay (days)"),
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=_("Public figures leave out the most recent days (0: publish up to today)."),
    )
    report_retention_days = models.PositiveIntegerField(
        _("report retention (days)"),
        default=6 * 365,
        validators=[MaxValueValidator(MAX_RETENTION_DAYS)],
        help_text=_("Closed reports are anonymised after this many days."),
    )
    evidence_retention_days = models.PositiveIntegerField(
        _("evidence retention (days)"),
        default=2 * 365,
        validators=[MaxValueValidator(MAX_RETENTION_DAYS)],
        help_text=_("Evidence files of closed reports are deleted after this many days."),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(suppression_threshold__gte=1), name="place_threshold_positive"
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        import zoneinfo

        from django.conf import settings
        from django.core.exceptions import ValidationError

        errors = {}
        if self.slug in RESERVED_SLUGS:
            errors["slug"] = _("This address is reserved; choose another.")
        # Both are read on every page of the place (its language, its dates): a value Locus
        # does not know would break the place's pages rather than be ignored.
        if self.default_language not in dict(settings.LANGUAGES):
            errors["default_language"] = _("Choose one of the languages Locus speaks.")
        if self.timezone not in zoneinfo.available_timezones():
            errors["timezone"] = _("Choose a time zone from the list, e.g. Europe/Paris.")
        if errors:
            raise ValidationError(errors)


class Area(TenantModel):
    """A borough, ward or district of a place, with its boundary as GeoJSON (WGS84)."""

    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=40, blank=True)
    geometry = models.JSONField(_("boundary (GeoJSON geometry)"))
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["place", "name"], name="area_unique_name_per_place")
        ]

    def __str__(self):
        return self.name


class AreaIndicator(TenantModel):
    """One context figure of an area for a period (deprivation score, share of young people…),
    imported from CSV (locus/places/indicators.py, docs/insights.md "Context indicators")."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="indicators")
    indicator = models.CharField(_("indicator"), max_length=80)
    # A year ("2021") or a day ("2021-03-21"): sorts in time order as text.
    period = models.CharField(_("year or date"), max_length=10)
    value = models.FloatField(_("value"))
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "-period", "area__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["place", "area", "indicator", "period"],
                name="area_indicator_unique_per_period",
            )
        ]
        indexes = [models.Index(fields=["place", "indicator", "period"])]

    def __str__(self):
        return f"{self.indicator} {self.period}: {self.value}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.area_id and self.area.place_id != self.place_id:
            raise ValidationError({"area": _("The area belongs to another place.")})
