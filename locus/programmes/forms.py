"""Forms: parse and show what was typed; the services hold the rules and raise errors that the
views put back next to the fields."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from locus.core.forms import ModelMultipleIdField
from locus.library.vocabulary import vocabulary
from locus.places.models import Area

from .bank import bank
from .choices import (
    DIMENSIONS,
    LIKERT_CHOICES,
    Frequency,
    IndicatorLevel,
    Measure,
    ProgrammeStatus,
    QuestionDimension,
    QuestionKind,
    SurveyPhase,
)
from .models import (
    FUNDER_MAX_LENGTH,
    FUNDERS_MAX,
    NARRATIVE_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    TEXT_MAX_LENGTH,
)
from .services import CURRENCIES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProgrammeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=SUMMARY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the programme does, for whom, in two or three sentences."),
    )
    start_date = forms.DateField(label=_("Start date"), widget=DATE)
    end_date = forms.DateField(label=_("End date"), widget=DATE)
    areas = ModelMultipleIdField(
        label=_("Areas"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    intervention = forms.ChoiceField(label=_("Type of intervention"))
    target_groups = forms.MultipleChoiceField(
        label=_("Target groups"), required=False, widget=forms.CheckboxSelectMultiple
    )
    budget = forms.DecimalField(
        label=_("Budget"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in CURRENCIES])
    funders = forms.CharField(
        label=_("Funders"),
        required=False,
        max_length=FUNDERS_MAX * (FUNDER_MAX_LENGTH + 1),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One funder per line."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=ProgrammeStatus.choices)
    iati_org_ref = forms.CharField(
        label=_("Your organisation's IATI identifier"),
        required=False,
        max_length=60,
        help_text=_("For example GB-CHC-1234567. Leave empty if you have none."),
    )

    def __init__(self, *args, place, language, **kwargs):
        super().__init__(*args, **kwargs)
        vocab = vocabulary()
        self.fields["areas"].queryset = Area.objects.filter(place=place).order_by("name")
        self.fields["intervention"].choices = [("", "—")] + vocab.choices("intervention", language)
        self.fields["target_groups"].choices = vocab.choices("target_group", language)

    def clean_funders(self):
        """The API's limits line by line (FUNDERS_MAX funders of FUNDER_MAX_LENGTH characters),
        so that funders saved from the page can be sent back unchanged through the API. Lines
        are counted as the person sees them in the box."""
        text = self.cleaned_data["funders"]
        numbered = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
        numbered = [(n, line) for n, line in numbered if line]
        errors = []
        too_long = [str(n) for n, line in numbered if len(line) > FUNDER_MAX_LENGTH]
        if too_long:
            errors.append(
                ngettext(
                    "Line %(lines)s is longer than %(limit)s characters: one funder per line.",
                    "Lines %(lines)s are longer than %(limit)s characters: one funder per line.",
                    len(too_long),
                )
                % {"lines": ", ".join(too_long), "limit": FUNDER_MAX_LENGTH}
            )
        if len(numbered) > FUNDERS_MAX:
            errors.append(
                _("At most %(limit)s funders, one per line (there are %(count)s).")
                % {"limit": FUNDERS_MAX, "count": len(numbered)}
            )
        if errors:
            raise forms.ValidationError(errors)
        return text


# The guided theory of change: each part with the question that helps a person fill it in.
TOC_PROMPTS = {
    "problem": _("What problem in your area does the programme address, and for whom?"),
    "activities": _("What will you do? One activity per line."),
    "outputs": _("What will the activities directly produce (sessions held, people trained)?"),
    "outcomes_short": _("What will change for participants soon after (knowledge, attitudes)?"),
    "outcomes_medium": _("What will change later (behaviour, relationships, reporting)?"),
    "impact": _("What lasting change in the community are you contributing to?"),
    "assumptions": _("What must hold true for one step to lead to the next?"),
    "risks": _("What could get in the way, and how will you respond?"),
}


class TheoryOfChangeForm(forms.Form):
    problem = forms.CharField(label=_("The problem"), required=False)
    activities = forms.CharField(label=_("Activities"), required=False)
    outputs = forms.CharField(label=_("Outputs"), required=False)
    outcomes_short = forms.CharField(label=_("Short-term outcomes"), required=False)
    outcomes_medium = forms.CharField(label=_("Medium-term outcomes"), required=False)
    impact = forms.CharField(label=_("Impact"), required=False)
    assumptions = forms.CharField(label=_("Assumptions"), required=False)
    risks = forms.CharField(label=_("Risks"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget = forms.Textarea(attrs={"rows": 3})
            field.help_text = TOC_PROMPTS[name]
            field.strip = False


class IndicatorForm(forms.Form):
    bank_code = forms.ChoiceField(
        label=_("From the indicator bank"),
        required=False,
        help_text=_("Choose a published measure, or leave empty and write your own."),
    )
    level = forms.ChoiceField(label=_("Level"), choices=IndicatorLevel.choices)
    title = forms.CharField(label=_("Indicator"), max_length=300, required=False)
    description = forms.CharField(
        label=_("How it is measured"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    measure = forms.ChoiceField(label=_("Counted as"), choices=Measure.choices)
    unit = forms.CharField(
        label=_("Unit"),
        required=False,
        max_length=60,
        help_text=_("For example: people, sessions, score 1–5."),
    )
    baseline = forms.DecimalField(label=_("Baseline"), required=False, decimal_places=2)
    baseline_year = forms.IntegerField(
        label=_("Baseline year"), required=False, min_value=1900, max_value=2100
    )
    target = forms.DecimalField(label=_("Target"), decimal_places=2)
    ascending = forms.BooleanField(label=_("Higher is better"), required=False, initial=True)
    frequency = forms.ChoiceField(label=_("Reported"), choices=Frequency.choices)
    by_gender = forms.BooleanField(label=_("Broken down by gender"), required=False)
    by_age = forms.BooleanField(label=_("Broken down by age band"), required=False)
    by_area = forms.BooleanField(label=_("Broken down by area"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank_code"].choices = [("", _("— write a new indicator —"))] + [
            (m.code, m.title) for m in bank()
        ]
        for name in ("baseline", "target"):  # "70", not the column's "70.00"
            self.initial[name] = _as_typed(self.initial.get(name))


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DATE)
    end = forms.DateField(label=_("To"), widget=DATE)
    due = forms.DateField(
        label=_("Results due"),
        required=False,
        widget=DATE,
        help_text=_("Leave empty for two weeks after the end."),
    )


def _as_typed(value):
    """A stored figure as a person types it ("180", "61.5"): the field showed the column's two
    decimal places ("180.00") for a count of people."""
    if value is None:
        return None
    value = Decimal(str(value))
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


class ResultsForm(forms.Form):
    """One value (and its breakdowns and comment) per indicator, the narrative, and whether the
    period is now reported. Field names: value_<id>, comment_<id>, b_<id>_<dimension>_<group>."""

    narrative = forms.CharField(
        label=_("What happened in this period"),
        required=False,
        max_length=NARRATIVE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What went well, what did not, what you learned. No names of participants."),
    )
    submit = forms.BooleanField(
        label=_("These results are complete: mark the period as reported"), required=False
    )

    def __init__(self, *args, indicators, areas, results, reported=False, **kwargs):
        super().__init__(*args, **kwargs)
        # The box shows whether the period is reported; unticking it reopens the period.
        self.fields["submit"].initial = reported
        if reported:
            self.fields["submit"].help_text = _(
                "The period is reported. Untick the box to reopen it for changes."
            )
        self.rows = []
        for indicator in indicators:
            result = results.get(indicator.pk)
            locked = result is not None and result.source == "survey"
            value = forms.DecimalField(
                label=_("Value"),
                required=False,
                decimal_places=2,
                max_digits=14,
                initial=_as_typed(result.value) if result else None,
                disabled=locked,
            )
            self.fields[f"value_{indicator.pk}"] = value
            self.fields[f"comment_{indicator.pk}"] = forms.CharField(
                label=_("Comment"),
                required=False,
                max_length=500,
                initial=result.comment if result else "",
            )
            breakdown = []
            for dimension in indicator.dimensions:
                groups = (
                    [(str(a.pk), a.name) for a in areas]
                    if dimension == "area"
                    else list(DIMENSIONS[dimension].choices)
                )
                stored = (result.disaggregation or {}).get(dimension, {}) if result else {}
                names = []
                for group, label in groups:
                    name = f"b_{indicator.pk}_{dimension}_{group}"
                    self.fields[name] = forms.DecimalField(
                        label=label,
                        required=False,
                        min_value=0,
                        decimal_places=2,
                        max_digits=14,
                        initial=_as_typed(stored.get(str(group))),
                        disabled=locked,
                    )
                    names.append(name)
                breakdown.append((dimension, names))
            self.rows.append(
                {
                    "indicator": indicator,
                    "result": result,
                    "locked": locked,
                    "value": f"value_{indicator.pk}",
                    "comment": f"comment_{indicator.pk}",
                    "breakdown": breakdown,
                }
            )

    def bound_rows(self):
        """The rows with bound fields, for the template."""
        return [
            {
                **row,
                "value_field": self[row["value"]],
                "comment_field": self[row["comment"]],
                "breakdown_fields": [
                    (dimension, [self[name] for name in names])
                    for dimension, names in row["breakdown"]
                ],
            }
            for row in self.rows
        ]

    def values(self):
        """{indicator id: {"value", "disaggregation", "comment"}} for results_report."""
        data = self.cleaned_data
        values = {}
        for row in self.rows:
            if row["locked"]:
                values[row["indicator"].pk] = {"comment": data.get(row["comment"])}
                continue
            breakdown = {}
            for dimension, names in row["breakdown"]:
                groups = {}
                for name in names:
                    if data.get(name) is not None:
                        groups[name.split(f"_{dimension}_", 1)[1]] = data[name]
                if groups:
                    breakdown[dimension] = groups
            values[row["indicator"].pk] = {
                "value": data.get(row["value"]),
                "disaggregation": breakdown,
                "comment": data.get(row["comment"]),
            }
        return values


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label=_("Add an evidence file"),
        help_text=_("A PDF, a photo or a plain text file: attendance sheets, photos, feedback."),
        error_messages={"required": _("Choose a file.")},
    )


class SurveyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    period = forms.TypedChoiceField(label=_("Period"), coerce=int)
    phase = forms.ChoiceField(label=_("When"), choices=SurveyPhase.choices)
    intro = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown above the questions. Say that answers are anonymous."),
    )

    def __init__(self, *args, periods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(p.pk, str(p)) for p in periods]


class SurveySettingsForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    intro = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_open = forms.BooleanField(label=_("Open for answers"), required=False)


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("Question"), max_length=300)
    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Multiple choice: one option per line."),
    )
    dimension = forms.ChoiceField(
        label=_("Breakdown"), required=False, choices=QuestionDimension.choices
    )
    reverse = forms.BooleanField(
        label=_("Disagreeing is the good answer"),
        required=False,
        help_text=_("For statements like 'violence is sometimes justified'."),
    )

    def question(self):
        data = self.cleaned_data
        return {
            "text": data["text"],
            "kind": data["kind"],
            "options": [line.strip() for line in data["options"].splitlines() if line.strip()],
            "dimension": data["dimension"],
            "reverse": data["reverse"],
        }


def option_label(question, option):
    if question.dimension in DIMENSIONS:
        return dict(DIMENSIONS[question.dimension].choices).get(option, option)
    return option


class SurveyAnswerForm(forms.Form):
    """The public questionnaire: one radio group per question, none required."""

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        for question in questions:
            if question.kind == QuestionKind.LIKERT:
                choices = [(str(value), label) for value, label in LIKERT_CHOICES]
            else:
                choices = [(option, option_label(question, option)) for option in question.options]
            self.fields[f"q{question.pk}"] = forms.ChoiceField(
                label=question.text,
                required=False,
                choices=choices,
                widget=forms.RadioSelect,
            )

    def answers(self):
        return {
            name[1:]: value for name, value in self.cleaned_data.items() if value not in ("", None)
        }
