"""Forms of the directory. They parse and offer the choices; the services decide and re-check
everything (a form error and a service error both end up next to their field)."""

from django import forms
from django.core import validators
from django.utils.translation import gettext_lazy as _

from locus.core.forms import ModelMultipleIdField
from locus.places.selectors import area_list

from .choices import PartnershipKind, ServiceStatus
from .models import DESCRIPTION_MAX_LENGTH, SERVICE_TEXT_MAX_LENGTH, Organisation, Service
from .selectors import organisation_list
from .vocabulary import vocabulary


def _label(axis, language):
    return vocabulary().axis_label(axis, language)


def _limit_length(field, limit):
    """Give a model form's text field (a TextField has no length of its own) the limit the
    API has: checked on the server and announced to the browser."""
    field.max_length = limit
    field.validators.append(validators.MaxLengthValidator(limit))
    field.widget.attrs["maxlength"] = str(limit)


def _inbox_field():
    return forms.EmailField(
        label=_("Inbox e-mail address"),
        required=False,
        help_text=_(
            "Where Locus says that a report reached this organisation here (a link, never the "
            "report). Not shown to the public."
        ),
    )


class OrganisationEntryForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "description", "website", "email", "phone"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, listing=None, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_length(self.fields["description"], DESCRIPTION_MAX_LENGTH)
        self.fields["inbox_email"] = _inbox_field()
        if listing is not None:
            self.fields["inbox_email"].initial = listing.inbox_email


class OrganisationNewForm(forms.ModelForm):
    """A partner organisation added to the place's directory by its coordinators."""

    class Meta:
        model = Organisation
        fields = ["name", "type", "description", "website", "email", "phone"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_length(self.fields["description"], DESCRIPTION_MAX_LENGTH)
        self.fields["inbox_email"] = _inbox_field()


class ServiceForm(forms.ModelForm):
    service_type = forms.ChoiceField()
    target_groups = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    languages = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    areas = ModelMultipleIdField(
        label=_("Areas served"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty and tick “serves the whole place” when it is open to everyone."),
    )

    class Meta:
        model = Service
        fields = [
            "name",
            "description",
            "service_type",
            "status",
            "target_groups",
            "min_age",
            "max_age",
            "languages",
            "whole_place",
            "areas",
            "eligibility",
            "how_to_refer",
            "email",
            "phone",
            "url",
            "opening_hours",
            "cost",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "eligibility": forms.Textarea(attrs={"rows": 2}),
            "how_to_refer": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, place, language, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_length(self.fields["description"], DESCRIPTION_MAX_LENGTH)
        _limit_length(self.fields["eligibility"], SERVICE_TEXT_MAX_LENGTH)
        _limit_length(self.fields["how_to_refer"], SERVICE_TEXT_MAX_LENGTH)
        words = vocabulary()
        self.fields["service_type"].label = _label("service_type", language)
        self.fields["service_type"].choices = [
            ("", _("Choose…")),
            *words.choices("service_type", language),
        ]
        self.fields["target_groups"].label = _label("target_group", language)
        self.fields["target_groups"].choices = words.choices("target_group", language)
        self.fields["languages"].label = _("Languages it is offered in")
        self.fields["languages"].choices = words.choices("language", language)
        self.fields["status"].choices = ServiceStatus.choices
        self.fields["areas"].queryset = area_list(place=place)
        if self.instance.pk:
            self.initial["areas"] = [a.pk for a in self.instance.areas.all()]

    def clean(self):
        data = super().clean()
        if not data.get("whole_place") and not data.get("areas") and "areas" not in self.errors:
            self.add_error("areas", _("Choose the areas served, or tick the whole place."))
        return data

    def service_fields(self):
        data = dict(self.cleaned_data)
        data.pop("areas", None)
        return data


class PartnershipForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of partnership"), choices=PartnershipKind.choices)
    target = forms.ModelChoiceField(
        label=_("Partner organisation"), queryset=None, empty_label=_("Choose an organisation")
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)

    def __init__(self, *args, place, source, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = organisation_list(place=place).exclude(pk=source.pk)


class CoverageFilterForm(forms.Form):
    """The coverage filters (a GET form: a view can be shared as a link)."""

    target_group = forms.ChoiceField(required=False)
    language = forms.ChoiceField(required=False)
    age = forms.IntegerField(label=_("Age"), required=False, min_value=0, max_value=120)
    type = forms.ChoiceField(label=_("Map of"), required=False)

    def __init__(self, *args, language, **kwargs):
        super().__init__(*args, **kwargs)
        words = vocabulary()
        self.fields["target_group"].label = _label("target_group", language)
        # Each filter its own "any": one word for all read "Alla / Alla" in Swedish beside the
        # group "Everyone", and "Tous" beside a feminine "Langue" in French.
        self.fields["target_group"].choices = [
            ("", _("Any group")),
            *words.choices("target_group", language),
        ]
        self.fields["language"].label = _label("language", language)
        self.fields["language"].choices = [
            ("", _("Any language")),
            *words.choices("language", language),
        ]
        self.fields["type"].choices = words.choices("service_type", language)


class ServiceSearchForm(forms.Form):
    """The public directory's search (GET)."""

    need = forms.ChoiceField(label=_("What kind of help"), required=False)
    area = forms.ModelChoiceField(
        label=_("Where you live"), queryset=None, required=False, empty_label=_("Any area")
    )
    language = forms.ChoiceField(required=False)
    group = forms.ChoiceField(required=False)
    age = forms.IntegerField(label=_("Age"), required=False, min_value=0, max_value=120)

    def __init__(self, *args, place, language, **kwargs):
        super().__init__(*args, **kwargs)
        words = vocabulary()
        self.fields["need"].choices = [
            ("", _("Any kind of help")),
            *words.choices("service_type", language),
        ]
        self.fields["area"].queryset = area_list(place=place)
        self.fields["language"].label = _label("language", language)
        self.fields["language"].choices = [
            ("", _("Any language")),
            *words.choices("language", language),
        ]
        self.fields["group"].label = _label("target_group", language)
        self.fields["group"].choices = [
            ("", _("Any group")),
            *words.choices("target_group", language),
        ]


class DirectorySettingsForm(forms.Form):
    check_every_days = forms.IntegerField(
        label=_("Check every (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Empty: the installation's default."),
    )


IMPORT_MODES = [
    ("good_rows", _("Import the good rows and list the others")),
    ("nothing", _("Import nothing if any row is not valid")),
]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("HSDS file"),
        help_text=_(
            "HSDS 3.1 JSON, or the CSV tabular package as a ZIP file (organizations.csv, "
            "services.csv…) or a single CSV file."
        ),
    )
    mode = forms.ChoiceField(
        label=_("When some rows are not valid"),
        choices=IMPORT_MODES,
        initial="good_rows",
        widget=forms.RadioSelect,
    )
