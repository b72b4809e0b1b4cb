"""Forms of the caseworker inbox and case page. They parse and validate input only; the
services decide (and re-check) every change."""

from django import forms
from django.utils.translation import gettext_lazy as _

from locus.places.models import Area
from locus.reporting.taxonomy import taxonomy

from .choices import CaseOutcome, CaseStatus, Verification
from .services import NOTE_MAX_LENGTH


class CaseFilterForm(forms.Form):
    """The inbox filters, read from the query string (a bad value is simply ignored)."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *CaseStatus.choices]
    )
    incident_type = forms.ChoiceField(label=_("What happened"), required=False)
    area = forms.ModelChoiceField(
        label=_("Area"), required=False, queryset=None, empty_label=_("Any area")
    )
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
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


class ActionForm(forms.Form):
    """A workflow step without input (acknowledge, start, reopen)."""


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"), required=False, queryset=None, empty_label=_("Nobody")
    )

    def __init__(self, *args, assignees, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = assignees
        field.label_from_instance = lambda user: user.name or user.email


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Seen only by your organisation. Never shown to the reporter."),
    )


class ClassifyForm(forms.Form):
    verification = forms.ChoiceField(label=_("Verification"), choices=Verification.choices)
    incident_type = forms.ChoiceField(
        label=_("Verified incident type"),
        required=False,
        help_text=_("Leave empty to keep what the reporter chose."),
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


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("Choose an outcome")), *CaseOutcome.choices]
    )
