"""Forms of the caseworker inbox and case page. They parse and validate input only; the
services decide (and re-check) every change."""

from datetime import datetime

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from locus.core.idempotency import idempotency_token_field
from locus.places.models import Area
from locus.reporting.taxonomy import taxonomy

from .choices import CaseOutcome, CaseStatus, Verification
from .services import MESSAGE_MAX_LENGTH, NOTE_MAX_LENGTH, TARGET_DAYS_MAX, TARGET_HOURS_MAX

# A select of taxonomy labels wraps a long choice instead of cutting it off (locus.css,
# .select-wrap): incident types run to 50 characters in German, wider than a phone.
WRAP = forms.Select(attrs={"class": "select-wrap"})


class CaseFilterForm(forms.Form):
    """The inbox filters, read from the query string (a bad value is simply ignored)."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *CaseStatus.choices]
    )
    incident_type = forms.ChoiceField(label=_("What happened"), required=False, widget=WRAP)
    area = forms.ModelChoiceField(
        label=_("Area"), required=False, queryset=None, empty_label=_("Any area")
    )
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    # What needs doing first: "due" puts the most overdue on top (selectors.case_list).
    order = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("due", _("Due soonest first (most overdue on top)")),
        ],
    )
    # One group of reports of the same online content (Report.content_key), from its link.
    group = forms.CharField(
        required=False,
        widget=forms.HiddenInput,
        validators=[RegexValidator(r"^[0-9a-f]{64}$")],
    )
    scope = forms.ChoiceField(
        label=_("Cases of"),
        required=False,
        choices=[("", _("My organisation")), ("all", _("Every organisation in this place"))],
    )

    def __init__(self, *args, place, membership, language, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incident_type"].choices = [
            ("", _("Any type")),
            *taxonomy().choices("incident_type", language),
        ]
        self.fields["area"].queryset = Area.objects.filter(place=place).order_by("name")
        if not getattr(membership, "manages_place", False):
            del self.fields["scope"]


class CasePageForm(forms.Form):
    """A form of the case page: its hidden token makes a double click (or a resent page) do
    the work once (`form_idempotency` in the view)."""

    idempotency_token = idempotency_token_field()


class PageOpenedInput(forms.HiddenInput):
    """A hidden input holding the time the page is rendered, even in a bound form: once the
    person has seen the case as it is now (the form re-shown after a conflict), saving again
    goes ahead."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, timezone.now().isoformat(), attrs)


class SeenForm(CasePageForm):
    """A case-page form that changes what another caseworker may be changing too: `seen` is
    when the page was opened, so the service can refuse to overwrite unseen a change made
    since (`seen` None — missing or not a time — checks nothing)."""

    seen = forms.CharField(required=False, widget=PageOpenedInput)

    def clean_seen(self):
        try:
            seen = datetime.fromisoformat(self.cleaned_data["seen"])
        except ValueError:
            return None
        return seen if timezone.is_aware(seen) else None


class ActionForm(CasePageForm):
    """A workflow step without input (acknowledge, start, reopen)."""


class AssignForm(SeenForm):
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"), required=False, queryset=None, empty_label=_("Nobody")
    )

    def __init__(self, *args, assignees, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = assignees
        field.label_from_instance = lambda user: user.name or user.email


class NoteForm(CasePageForm):
    body = forms.CharField(
        label=_("Internal note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Seen only by your organisation. Never shown to the reporter."),
    )


class ClassifyForm(SeenForm):
    # The three selects look alike; the incident types and ideologies are long in German.
    verification = forms.ChoiceField(
        label=_("Verification"), choices=Verification.choices, widget=WRAP
    )
    incident_type = forms.ChoiceField(
        label=_("Verified incident type"),
        required=False,
        help_text=_("Leave empty to keep what the reporter chose."),
        widget=WRAP,
    )
    bias = forms.MultipleChoiceField(
        label=_("Verified bias"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to keep what the reporter chose."),
    )
    ideology = forms.ChoiceField(
        label=_("Ideology"),
        required=False,
        help_text=_("Staff only: the ideology apparent in the incident, never a person's."),
        widget=WRAP,
    )

    def __init__(self, *args, language, **kwargs):
        super().__init__(*args, **kwargs)
        vocabulary = taxonomy()
        self.fields["incident_type"].choices = [
            ("", _("As reported")),
            *vocabulary.choices("incident_type", language),
        ]
        self.fields["bias"].choices = vocabulary.choices("bias", language)
        self.fields["ideology"].choices = [
            ("", _("Not given")),
            *vocabulary.choices("ideology", language),
        ]


class CloseForm(CasePageForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("", _("Choose an outcome")), *CaseOutcome.choices],
        error_messages={"required": _("Choose an outcome.")},
    )


class HandOnForm(CasePageForm):
    organisation = forms.ModelChoiceField(
        label=_("Hand the report on to"),
        queryset=None,
        empty_label=_("Choose an organisation"),
        help_text=_(
            "Only as far as the reporter's consent allows: if it does not allow this "
            "organisation, nothing is sent and you are told why."
        ),
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class MergeForm(CasePageForm):
    into = forms.CharField(
        label=_("Reference of the report to merge this case into"),
        max_length=40,
        help_text=_("A case of your organisation. This case then counts as its duplicate."),
    )

    def clean_into(self):
        return self.cleaned_data["into"].strip().upper()


class MessageForm(CasePageForm):
    body = forms.CharField(
        label=_("Message to the reporter"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "The reporter reads it on the follow-up page, with their reference and code. They "
            "stay anonymous to you unless they chose to share their contact details."
        ),
    )


class TargetsForm(forms.Form):
    acknowledge_target_hours = forms.IntegerField(
        label=_("Acknowledge a new case within (hours)"),
        required=False,
        min_value=1,
        max_value=TARGET_HOURS_MAX,
        help_text=_("Leave empty for no target."),
    )
    close_target_days = forms.IntegerField(
        label=_("Close a case within (days)"),
        required=False,
        min_value=1,
        max_value=TARGET_DAYS_MAX,
        help_text=_("Leave empty for no target."),
    )


STATS_PERIODS = (30, 90, 365)


class StatsPeriodForm(forms.Form):
    """The period of the handling figures on the inbox (a bad value falls back to 90 days)."""

    period = forms.TypedChoiceField(
        label=_("Handling figures for"),
        required=False,
        coerce=int,
        empty_value=90,
        choices=[
            (30, _("the last 30 days")),
            (90, _("the last 90 days")),
            (365, _("the last 365 days")),
        ],
    )
