from django.db import models
from django.utils.translation import gettext_lazy as _


class ProgrammeStatus(models.TextChoices):
    """Where a programme is; the IATI activity status code follows from it (iati.py)."""

    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Running")
    FINISHING = "finishing", _("Finishing")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class IndicatorLevel(models.TextChoices):
    OUTPUT = "output", _("Output")
    OUTCOME = "outcome", _("Outcome")


class Measure(models.TextChoices):
    """How an indicator is counted (IATI's IndicatorMeasure: 1 unit, 2 percentage)."""

    NUMBER = "number", _("Number")
    PERCENT = "percent", _("Percentage")


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Every three months")
    HALF_YEARLY = "half_yearly", _("Every six months")
    YEARLY = "yearly", _("Once a year")


class Gender(models.TextChoices):
    FEMALE = "female", _("Women and girls")
    MALE = "male", _("Men and boys")
    OTHER = "other", _("Another gender")
    NOT_STATED = "not_stated", _("Not stated")


class AgeBand(models.TextChoices):
    UNDER_18 = "under_18", _("Under 18")
    AGE_18_24 = "18_24", _("18–24")
    AGE_25_44 = "25_44", _("25–44")
    AGE_45_64 = "45_64", _("45–64")
    AGE_65_PLUS = "65_plus", _("65 and over")
    NOT_STATED = "not_stated", _("Not stated")


class ResultSource(models.TextChoices):
    ENTERED = "entered", _("Entered by the organisation")
    SURVEY = "survey", _("Computed from a survey")


class SurveyPhase(models.TextChoices):
    PRE = "pre", _("Before the activity")
    POST = "post", _("After the activity")


class QuestionKind(models.TextChoices):
    LIKERT = "likert", _("Agree–disagree scale (1–5)")
    CHOICE = "choice", _("Multiple choice")


class QuestionDimension(models.TextChoices):
    """A multiple-choice question may give the breakdown of the indicator's value."""

    NONE = "", _("No breakdown")
    GENDER = "gender", _("Gender")
    AGE = "age", _("Age band")


# The five points of the agree–disagree scale, weakest first.
LIKERT_CHOICES = [
    (1, _("Strongly disagree")),
    (2, _("Disagree")),
    (3, _("Neither agree nor disagree")),
    (4, _("Agree")),
    (5, _("Strongly agree")),
]

# Disaggregation dimensions: the key in Result.disaggregation and their values.
DIMENSIONS = {"gender": Gender, "age": AgeBand}
# The order breakdowns are read in: as the results form asks for them.
DIMENSION_ORDER = ("gender", "age", "area")


def ordered_breakdown(disaggregation, area_ids=()):
    """[(dimension, [(group, value), …]), …] in the order people read them: gender, age band,
    area; groups in their choices' order ("Under 18" before "18–24"), areas in `area_ids`'
    order, anything unknown last by key. A stored breakdown keeps no order of its own
    (PostgreSQL's jsonb sorts keys by length, a survey's breakdown comes sorted by key), so
    every page, chart and export that lists groups orders them here."""

    def rank(order, key):
        return (0, order.index(key), "") if key in order else (1, 0, str(key))

    rows = []
    for dimension, groups in sorted(
        (disaggregation or {}).items(), key=lambda item: rank(DIMENSION_ORDER, item[0])
    ):
        if dimension == "area":
            order = [str(pk) for pk in area_ids]
        elif dimension in DIMENSIONS:
            order = list(DIMENSIONS[dimension].values)
        else:
            order = []
        items = sorted((groups or {}).items(), key=lambda item: rank(order, str(item[0])))
        rows.append((dimension, items))
    return rows
