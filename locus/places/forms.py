from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .models import MAX_RETENTION_DAYS, Place


def timezone_choices():
    import zoneinfo

    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class PlaceSettingsForm(forms.ModelForm):
    """What the city's administrators may change about their place."""

    class Meta:
        model = Place
        fields = [
            "name",
            "default_language",
            "timezone",
            "emergency_number",
            "suppression_threshold",
            "publication_delay_days",
            "report_retention_days",
            "evidence_retention_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_language"] = forms.ChoiceField(
            label=_("Default language"),
            choices=settings.LANGUAGES,
            help_text=_("Used when a visitor has not chosen a language."),
        )
        self.fields["timezone"] = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)
        self.fields["report_retention_days"].min_value = 30
        self.fields["report_retention_days"].widget.attrs["min"] = 30
        # The model's cap (MAX_RETENTION_DAYS), also as the input's maximum.
        for name in ("report_retention_days", "evidence_retention_days"):
            field = self.fields[name]
            field.max_value = MAX_RETENTION_DAYS
            field.validators.append(MaxValueValidator(MAX_RETENTION_DAYS))
            field.widget.attrs["max"] = MAX_RETENTION_DAYS

    def clean_report_retention_days(self):
        days = self.cleaned_data["report_retention_days"]
        if days < 30:
            raise forms.ValidationError(_("Keep reports for at least 30 days."))
        return days

    def clean(self):
        data = super().clean()
        report, evidence = data.get("report_retention_days"), data.get("evidence_retention_days")
        if report is not None and evidence is not None and evidence > report:
            self.add_error(
                "evidence_retention_days",
                _("Evidence cannot be kept longer than the report it belongs to."),
            )
        return data


class AreaUploadForm(forms.Form):
    file = forms.FileField(
        label=_("GeoJSON file"),
        help_text=_(
            "A FeatureCollection of Polygon or MultiPolygon features in WGS84 (EPSG:4326)."
        ),
    )
    name_property = forms.CharField(
        label=_("Name property"),
        initial="name",
        max_length=60,
        help_text=_("The feature property that holds each area's name."),
    )
    # No "(optional)" in the labels: includes/form.html marks every optional field itself.
    code_property = forms.CharField(label=_("Code property"), required=False, max_length=60)
    population_property = forms.CharField(
        label=_("Population property"), required=False, max_length=60
    )
    skip_invalid = forms.TypedChoiceField(
        label=_("If some features are invalid"),
        choices=[
            ("no", _("Import nothing, so I can fix the file")),
            ("yes", _("Import the valid features and list the others")),
        ],
        initial="no",
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.LOCUS_MAX_AREA_UPLOAD:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s.")
                % {
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(settings.LOCUS_MAX_AREA_UPLOAD),
                }
            )
        return upload
