from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from . import indicators

DAYS_CHOICES = [
    ("90", _("the last 3 months")),
    ("182", _("the last 6 months")),
    ("365", _("the last 12 months")),
    ("730", _("the last 2 years")),
]


class ContextForm(forms.Form):
    """Which indicator (and period) to put beside which incident rates."""

    series = forms.ChoiceField(label=_("Indicator"), required=False)
    days = forms.ChoiceField(
        label=_("Incidents over"), choices=DAYS_CHOICES, required=False, initial="365"
    )

    def __init__(self, *args, names=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["series"].choices = [
            (f"{name}|{period}", f"{name} ({period})")
            for name, periods in names
            for period in periods
        ]


class IndicatorUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: area (its code or name), indicator, value, year (or date). "
            "Comma, semicolon or tab separated, UTF-8."
        ),
    )
    skip_invalid = forms.TypedChoiceField(
        label=_("If some rows have problems"),
        choices=[
            ("no", _("Import nothing, so I can fix the file")),
            ("yes", _("Import the good rows and list the others")),
        ],
        initial="no",
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = min(settings.LOCUS_MAX_AREA_UPLOAD, indicators.MAX_BYTES)
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )
        return upload
