"""Programmes of the organisations in a place: their theory of change, indicators, results per
period, the simple surveys that measure outcomes, and the evidence behind the results.

Every model is tenant-owned. A programme belongs to one organisation listed in the place; its
indicators, periods, results, files and surveys belong to the same place (checked by the
services, which are the only writers).
"""

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _

from locus.core.dates import short_date
from locus.core.fields import EncryptedTextField
from locus.core.tenancy import TenantModel

from .choices import (
    Frequency,
    IndicatorLevel,
    Measure,
    ProgrammeStatus,
    QuestionDimension,
    QuestionKind,
    ResultSource,
    SurveyPhase,
)

# The theory of change, in the order a person thinks it through and the diagram draws it.
TOC_FIELDS = (
    "problem",
    "activities",
    "outputs",
    "outcomes_short",
    "outcomes_medium",
    "impact",
    "assumptions",
    "risks",
)


def evidence_storage():
    return storages["evidence"]


def _lines(text):
    return [line.strip(" -•\t") for line in (text or "").splitlines() if line.strip(" -•\t")]


# The longest free texts of programmes, the same for the forms and the API (a text saved from a
# page can always be sent back unchanged through the API).
SUMMARY_MAX_LENGTH = 5000
NARRATIVE_MAX_LENGTH = 20000
FUNDERS_MAX = 30
FUNDER_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 5000  # how an indicator is measured, a survey's introduction


class Programme(TenantModel):
    organisation = models.ForeignKey(
        "directory.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="programmes",
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    areas = models.ManyToManyField(
        "places.Area", verbose_name=_("areas"), blank=True, related_name="programmes"
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    budget = models.DecimalField(
        _("budget"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="GBP")
    funders = models.TextField(_("funders"), blank=True, help_text=_("One funder per line."))
    intervention = models.CharField(_("type of intervention"), max_length=40)
    target_groups = models.JSONField(_("target groups"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ProgrammeStatus.choices, default=ProgrammeStatus.ACTIVE
    )
    iati_org_ref = models.CharField(
        _("your organisation's IATI identifier"),
        max_length=60,
        blank=True,
        help_text=_("For example GB-CHC-1234567. Leave empty if you have none."),
    )
    # The theory of change: one item per line.
    problem = models.TextField(_("the problem"), blank=True)
    activities = models.TextField(_("activities"), blank=True)
    outputs = models.TextField(_("outputs"), blank=True)
    outcomes_short = models.TextField(_("short-term outcomes"), blank=True)
    outcomes_medium = models.TextField(_("medium-term outcomes"), blank=True)
    impact = models.TextField(_("impact"), blank=True)
    assumptions = models.TextField(_("assumptions"), blank=True)
    risks = models.TextField(_("risks"), blank=True)
    # The evaluation published to the library (global record), if any.
    library_record = models.ForeignKey(
        "library.Record", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "title", "id"]
        indexes = [models.Index(fields=["place", "organisation"], name="programme_place_org")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="programme_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(budget__isnull=True) | models.Q(budget__gte=0),
                name="programme_budget_not_negative",
            ),
        ]

    def __str__(self):
        return self.title

    def toc_items(self, name):
        return _lines(getattr(self, name))

    @property
    def funder_list(self):
        return _lines(self.funders)

    @property
    def has_theory_of_change(self):
        return any(getattr(self, name).strip() for name in TOC_FIELDS)


class Indicator(TenantModel):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="indicators")
    level = models.CharField(_("level"), max_length=8, choices=IndicatorLevel.choices)
    title = models.CharField(_("indicator"), max_length=300)
    description = models.TextField(_("how it is measured"), blank=True)
    measure = models.CharField(
        _("counted as"), max_length=8, choices=Measure.choices, default=Measure.NUMBER
    )
    unit = models.CharField(_("unit"), max_length=60, blank=True)
    baseline = models.DecimalField(
        _("baseline"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    baseline_year = models.PositiveSmallIntegerField(_("baseline year"), null=True, blank=True)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    ascending = models.BooleanField(
        _("higher is better"),
        default=True,
        help_text=_("Untick when the aim is to bring the number down."),
    )
    frequency = models.CharField(
        _("reported"), max_length=12, choices=Frequency.choices, default=Frequency.QUARTERLY
    )
    by_gender = models.BooleanField(_("broken down by gender"), default=False)
    by_age = models.BooleanField(_("broken down by age band"), default=False)
    by_area = models.BooleanField(_("broken down by area"), default=False)
    # The indicator bank's code when chosen from it (data/indicator_bank.json).
    bank_code = models.CharField(max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["programme", "-level", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(baseline_year__isnull=True)
                | models.Q(baseline_year__gte=1900, baseline_year__lte=2100),
                name="indicator_baseline_year_range",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def dimensions(self):
        return [
            name
            for name, on in (
                ("gender", self.by_gender),
                ("age", self.by_age),
                ("area", self.by_area),
            )
            if on
        ]


class ReportingPeriod(TenantModel):
    """A stretch of the programme the organisation reports results for: the values of every
    indicator, one narrative and the evidence files."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="periods")
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    due = models.DateField(_("results due"))
    narrative = models.TextField(_("what happened in this period"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["programme", "start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="period_end_after_start"
            ),
            models.UniqueConstraint(fields=["programme", "start"], name="period_unique_start"),
        ]

    def __str__(self):
        """ "1 Jan 2026 – 31 Mar 2026", in the reader's language (headings, reports, tables)."""
        return f"{short_date(self.start)} – {short_date(self.end)}"


class Result(TenantModel):
    """The value of one indicator in one period, with its breakdowns."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="results")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="results")
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, null=True, blank=True)
    # {"gender": {"female": 12, …}, "age": {"18_24": 4, …}, "area": {"<area id>": 3, …}}.
    # Survey results keep only groups at or above the survey's minimum count.
    disaggregation = models.JSONField(default=dict, blank=True)
    source = models.CharField(
        max_length=8, choices=ResultSource.choices, default=ResultSource.ENTERED
    )
    respondents = models.PositiveIntegerField(null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "period"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "period"], name="result_unique_period")
        ]

    def __str__(self):
        return f"{self.indicator_id}@{self.period_id}: {self.value}"


class EvidenceFile(TenantModel):
    """A file behind a period's results (attendance sheet, photo, feedback forms). Checked by
    content on upload and stored encrypted, like a report's evidence; its name as uploaded
    ("attendance Amira K.pdf") is encrypted too, as a report's evidence's is."""

    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(storage=evidence_storage, max_length=200)
    original_name = EncryptedTextField(_("file name"))
    mime = models.CharField(max_length=80)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period", "uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class Survey(TenantModel):
    """A short anonymous questionnaire measuring one outcome indicator in one period, before or
    after the activity. Filled in through a public link or on a shared device; it never asks for
    or stores anything that identifies a person."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="surveys")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="surveys")
    phase = models.CharField(
        _("when"), max_length=4, choices=SurveyPhase.choices, default=SurveyPhase.POST
    )
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    token = models.CharField(max_length=32, unique=True, editable=False)
    is_open = models.BooleanField(_("open for answers"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["indicator", "period", "phase", "id"]

    def __str__(self):
        return self.title


class SurveyQuestion(TenantModel):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(_("question"), max_length=300)
    kind = models.CharField(
        _("kind"), max_length=8, choices=QuestionKind.choices, default=QuestionKind.LIKERT
    )
    # Multiple choice: the options (codes of the dimension when it has one).
    options = models.JSONField(default=list, blank=True)
    dimension = models.CharField(
        _("breakdown"), max_length=8, choices=QuestionDimension.choices, blank=True
    )
    # Agree–disagree statements where agreeing is the bad answer ("violence is sometimes
    # justified") count 6 − answer.
    reverse = models.BooleanField(_("disagreeing is the good answer"), default=False)

    class Meta:
        ordering = ["survey", "order", "id"]

    def __str__(self):
        return self.text


class SurveyResponse(TenantModel):
    """One anonymous set of answers: {question id: value}. The day only, no time, no address."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    answers = models.JSONField(default=dict)
    submitted_on = models.DateField()

    class Meta:
        ordering = ["survey", "id"]

    def __str__(self):
        return f"{self.survey_id}#{self.pk}"
