from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _


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
