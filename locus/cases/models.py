"""Routing: a place's rules saying which organisations receive which reports, and the stored
decision for every destination of every report (sent or not, and why).

Cases (one per receiving organisation, with an inbox and statuses) build on these decisions.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from locus.core.fields import EncryptedTextField
from locus.core.tenancy import TenantModel

from .choices import (
    CONDITION_KEYS,
    CONSENT_CONDITIONS,
    TAXONOMY_CONDITION_KEYS,
    CaseEventKind,
    CaseOutcome,
    CaseStatus,
    MessageDirection,
    ShareLevel,
    ShareReason,
    Verification,
)


class RoutingRule(TenantModel):
    """One rule of a place: when a report matches `conditions`, send it to `destinations`
    (each only as far as the reporter's consent allows, see policies.share_for).

    Invariants: conditions use known keys, current taxonomy codes and this place's areas
    (`clean()`); a fallback rule has no conditions; destinations are organisations actively
    listed in this place (`validate_destinations`, called by the services).
    """

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    is_fallback = models.BooleanField(
        _("fallback"),
        default=False,
        help_text=_("Used only when no other rule matched a report."),
    )
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    destinations = models.ManyToManyField(
        "directory.Organisation", related_name="+", blank=True, verbose_name=_("destinations")
    )
    stop = models.BooleanField(
        _("stop here"),
        default=False,
        help_text=_("When this rule matches, later rules are not looked at."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["place", "position"])]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = conditions_errors(self.conditions, place_id=self.place_id)
        errors += conditions_conflicts(self.conditions)
        if self.is_fallback and self.conditions:
            errors.append(_("A fallback rule has no conditions: it applies when no rule matched."))
        if errors:
            raise ValidationError({"conditions": errors})


def conditions_errors(conditions, *, place_id):
    """Every problem with a rule's conditions, as messages for the person editing it."""
    from locus.places.models import Area
    from locus.reporting.taxonomy import taxonomy

    if not isinstance(conditions, dict):
        return [_("The conditions must be an object.")]
    errors = []
    vocabulary = taxonomy()
    for key in sorted(set(conditions) - set(CONDITION_KEYS)):
        errors.append(_("Unknown condition: %(key)s") % {"key": key})
    for key in (*TAXONOMY_CONDITION_KEYS, "language", "consent", "area"):
        values = conditions.get(key)
        if values is None:
            continue
        if not isinstance(values, list):
            errors.append(_("The condition %(key)s must be a list.") % {"key": key})
            continue
        for value in values:
            if key in TAXONOMY_CONDITION_KEYS:
                known = isinstance(value, str) and vocabulary.has(key, value)
            elif key == "language":
                known = value in {code for code, _name in settings.LANGUAGES}
            elif key == "consent":
                known = value in CONSENT_CONDITIONS
            else:
                known = isinstance(value, int) and not isinstance(value, bool)
            if not known:
                errors.append(
                    _("Unknown value for %(key)s: %(value)s") % {"key": key, "value": value}
                )
    areas = [v for v in conditions.get("area") or [] if isinstance(v, int)]
    if areas:
        found = set(
            Area.objects.filter(place_id=place_id, pk__in=areas).values_list("pk", flat=True)
        )
        for missing in sorted(set(areas) - found):
            errors.append(_("Unknown area: %(value)s") % {"value": missing})
    online = conditions.get("online")
    if online is not None and not isinstance(online, bool):
        errors.append(_("The condition online must be true, false or empty."))
    return errors


def conditions_conflicts(conditions):
    """Messages for conditions that can never all match together: "only offline reports" with
    only online types of incident (or only online settings), or "only online reports" with only
    offline types and only offline settings (a report is online when its type or its setting
    is). Such a rule would silently never apply, so it is refused rather than saved."""
    from django.utils.translation import get_language

    from locus.reporting.taxonomy import taxonomy

    if not isinstance(conditions, dict) or not isinstance(conditions.get("online"), bool):
        return []
    vocabulary = taxonomy()
    language = get_language() or settings.LANGUAGE_CODE
    chosen = {}  # axis -> the known values named, when every named value is known
    for axis in ("incident_type", "setting"):
        codes = conditions.get(axis)
        if (
            isinstance(codes, list)
            and codes
            and all(isinstance(code, str) and vocabulary.has(axis, code) for code in codes)
        ):
            chosen[axis] = [vocabulary.get(axis, code) for code in codes]

    def labels(values):
        return ", ".join(value.label(language) for value in values)

    errors = []
    if conditions["online"] is False:
        if "incident_type" in chosen and all(v.online for v in chosen["incident_type"]):
            errors.append(
                _(
                    "This rule could never match: it asks for offline reports only, but every "
                    "type of incident it names is online (%(values)s)."
                )
                % {"values": labels(chosen["incident_type"])}
            )
        if "setting" in chosen and all(v.online for v in chosen["setting"]):
            errors.append(
                _(
                    "This rule could never match: it asks for offline reports only, but every "
                    "setting it names is online (%(values)s)."
                )
                % {"values": labels(chosen["setting"])}
            )
    elif (
        len(chosen) == 2
        and not any(v.online for v in chosen["incident_type"])
        and not any(v.online for v in chosen["setting"])
    ):
        errors.append(
            _(
                "This rule could never match: it asks for online reports only, but every type "
                "of incident and every setting it names is offline."
            )
        )
    return errors


def validate_destinations(*, place, organisations):
    """Raise ValidationError unless every organisation is actively listed in the place."""
    from locus.directory.models import OrganisationListing

    ids = {organisation.pk for organisation in organisations}
    listed = set(
        OrganisationListing.objects.filter(
            place=place, organisation_id__in=ids, is_active=True
        ).values_list("organisation_id", flat=True)
    )
    unlisted = sorted(o.name for o in organisations if o.pk not in listed)
    if unlisted:
        raise ValidationError(
            {
                "destinations": [
                    _("%(name)s does not work in this place.") % {"name": name} for name in unlisted
                ]
            }
        )


class RoutingRun(TenantModel):
    """That a report was routed, once: the marker that makes routing idempotent even when no
    destination matched (the unique report guards against a concurrent second routing)."""

    report = models.OneToOneField(
        "reporting.Report", on_delete=models.CASCADE, related_name="routing_run"
    )
    routed_at = models.DateTimeField(default=timezone.now)
    # The ids of the rules that matched, in order (rules may be edited or deleted later).
    matched_rules = models.JSONField(default=list, blank=True)
    sent_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-routed_at", "-id"]

    def __str__(self):
        return f"{self.report_id} @ {self.routed_at:%Y-%m-%d %H:%M}"


class RoutingDecision(TenantModel):
    """Where one report went, or did not go, and why. One per (report, organisation).

    `explanation` is structured (rule id and name, the conditions that matched, other rules
    that also named this organisation, the consent reason) and holds no personal data.
    """

    report = models.ForeignKey(
        "reporting.Report", on_delete=models.CASCADE, related_name="routing_decisions"
    )
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    rule = models.ForeignKey(
        RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    sent = models.BooleanField(default=False)
    level = models.CharField(max_length=20, choices=ShareLevel.choices, blank=True)
    with_contact = models.BooleanField(default=False)
    reason = models.CharField(max_length=30, choices=ShareReason.choices)
    explanation = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "organisation"], name="routing_decision_unique_per_org"
            ),
            models.CheckConstraint(
                condition=models.Q(sent=True) | models.Q(with_contact=False, level=""),
                name="routing_decision_unsent_shares_nothing",
            ),
        ]

    def __str__(self):
        return f"{self.report_id} → {self.organisation_id} ({'sent' if self.sent else 'not sent'})"


class Case(TenantModel):
    """One organisation's handling of one report it was sent: created for every sent routing
    decision, in the routing transaction.

    What the organisation may see of the report is fixed by `decision` (its level and whether
    contact details were shared), never by the case. Staff classification (verified incident
    type and bias, ideology) lives here, apart from what the reporter perceived; codes are read
    in `taxonomy_version`.

    Invariants (database): one case per (report, organisation); a closed case has an outcome
    and a closing time, an open one has neither.
    """

    report = models.ForeignKey("reporting.Report", on_delete=models.CASCADE, related_name="cases")
    organisation = models.ForeignKey(
        "directory.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    decision = models.OneToOneField(RoutingDecision, on_delete=models.CASCADE, related_name="case")
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW
    )
    outcome = models.CharField(_("outcome"), max_length=30, choices=CaseOutcome.choices, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    verification = models.CharField(
        _("verification"),
        max_length=20,
        choices=Verification.choices,
        default=Verification.UNVERIFIED,
    )
    verified_incident_type = models.CharField(
        _("verified incident type"), max_length=40, blank=True
    )
    verified_bias = models.JSONField(_("verified bias"), default=list, blank=True)
    ideology = models.CharField(_("ideology"), max_length=40, blank=True)
    taxonomy_version = models.CharField(max_length=20, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # The case of the organisation that handed this report on to this one (hand-on).
    handed_on_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="handed_on_to"
    )
    # A duplicate merged into another case of the same organisation (undone by a split).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_cases"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "organisation"], name="case_unique_per_report_org"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status=CaseStatus.CLOSED, closed_at__isnull=False)
                    & ~models.Q(outcome="")
                )
                | (
                    ~models.Q(status=CaseStatus.CLOSED)
                    & models.Q(closed_at__isnull=True, outcome="")
                ),
                name="case_closed_has_outcome",
            ),
        ]
        indexes = [
            models.Index(fields=["place", "organisation", "status"]),
            models.Index(fields=["place", "created_at"]),
        ]

    def __str__(self):
        return f"{self.report_id} @ {self.organisation_id} ({self.status})"

    @property
    def is_closed(self):
        return self.status == CaseStatus.CLOSED

    @property
    def incident_type(self):
        """The verified incident type when staff gave one, else what the reporter chose."""
        return self.verified_incident_type or self.report.incident_type

    def clean(self):
        super().clean()
        errors = {}
        if self.report_id and self.report.place_id != self.place_id:
            errors["report"] = _("The report belongs to another place.")
        if self.decision_id and (
            self.decision.place_id != self.place_id
            or self.decision.report_id != self.report_id
            or self.decision.organisation_id != self.organisation_id
            or not self.decision.sent
        ):
            errors["decision"] = _("The case must come from a decision that sent this report.")
        if errors:
            raise ValidationError(errors)


class CaseNote(TenantModel):
    """An internal note of the organisation handling the case (never shown to the reporter
    or to other organisations). Encrypted: notes often repeat personal details."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = EncryptedTextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"note {self.pk} on case {self.case_id}"


class CaseEvent(TenantModel):
    """One step of a case's timeline. `data` holds codes and ids only, never personal data."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=CaseEventKind.choices)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"])]

    def __str__(self):
        return f"{self.case_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class CaseMessage(TenantModel):
    """A message between the reporter and one organisation handling their report. The
    organisation learns nothing of who the reporter is from the thread; the body is encrypted."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=20, choices=MessageDirection.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = EncryptedTextField(_("message"))
    at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"])]

    def __str__(self):
        return f"{self.direction} message {self.pk} on case {self.case_id}"
