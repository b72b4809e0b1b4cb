from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from locus.core.forms import ModelMultipleIdField
from locus.places.models import Area
from locus.reporting.taxonomy import taxonomy

from .choices import AlarmStatus


class SubscriptionForm(forms.Form):
    """An organisation's alert subscription. Nothing ticked in a group means all of it."""

    areas = ModelMultipleIdField(
        label=_("Areas"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every area."),
    )
    bias = forms.MultipleChoiceField(
        label=_("Bias motivations"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked here and under incident types: every category."),
    )
    incident_types = forms.MultipleChoiceField(
        label=_("Incident types"), required=False, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(
        label=_("Send alerts to my organisation"), required=False, initial=True
    )

    def __init__(self, *args, place, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language()
        current = taxonomy()
        self.fields["areas"].queryset = Area.objects.filter(place=place).order_by("name")
        self.fields["bias"].choices = current.choices("bias", language)
        self.fields["incident_types"].choices = current.choices("incident_type", language)


class AlarmFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *AlarmStatus.choices],
    )
    area = forms.ModelChoiceField(
        label=_("Area"),
        queryset=None,
        required=False,
        empty_label=_("Every area and the whole place"),
    )

    def __init__(self, *args, place, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.filter(place=place).order_by("name")
