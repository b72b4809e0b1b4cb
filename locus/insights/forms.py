"""Forms of the insights pages: the dashboard filters (a GET form, so every view is a link),
the service page's period, and annotations. They parse and validate; services decide."""

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from locus.places.models import Area
from locus.reporting.taxonomy import taxonomy

from .models import ANNOTATION_TEXT_MAX, Annotation, Basis, Grain
from .rollups import period_after, period_start
from .selectors import DEFAULT_PERIODS, MAX_PERIODS, DashboardFilters, default_filters

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def _check_range(form, data, *names):
    """Dates from 2000 to 2099: figures older than the service or beyond the calendar's
    arithmetic (a year after 9999) are refused next to their field."""
    for name in names:
        value = data.get(name)
        if value and value < EARLIEST:
            form.add_error(name, _("Choose a date from 2000 on."))
        elif value and value > LATEST:
            form.add_error(name, _("Choose a date before 2100."))


# The filters' selects wrap a long choice instead of cutting it off (locus.css, .select-wrap):
# taxonomy labels are long, and the filters look alike.
WRAP = forms.Select(attrs={"class": "select-wrap"})


class DashboardForm(forms.Form):
    """The dashboard's filters. Dates are snapped to whole weeks (Monday) or months."""

    grain = forms.ChoiceField(
        label=_("Count by"),
        choices=[(Grain.MONTH, Grain.MONTH.label), (Grain.WEEK, Grain.WEEK.label)],
        required=False,
        widget=WRAP,
    )
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The first week or month shown (default: a year ago)."),
    )
    end = forms.DateField(
        label=_("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last week or month shown (default: this one)."),
    )
    area = forms.ModelChoiceField(
        label=_("Area"), required=False, queryset=None, empty_label=_("Every area"), widget=WRAP
    )
    bias = forms.ChoiceField(label=_("Bias motivation"), required=False, widget=WRAP)
    incident_type = forms.ChoiceField(label=_("What happened"), required=False, widget=WRAP)
    setting = forms.ChoiceField(label=_("Setting"), required=False, widget=WRAP)
    # Short words: a filter's select shows its choice on one line, and "As the reporter
    # perceived it" was cut off in every language; the summary under the filters says it whole.
    basis = forms.ChoiceField(
        label=_("Classification"),
        choices=[
            (Basis.PERCEIVED, _("As reported")),
            (Basis.VERIFIED, _("As verified by staff")),
        ],
        required=False,
        widget=WRAP,
    )

    # Taxonomy filters: their labels are long (de), so they get two columns (insights.css).
    wide_fields = ("bias", "incident_type", "setting")

    def __init__(self, *args, place, language, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        tax = taxonomy()
        self.fields["area"].queryset = Area.objects.filter(place=place).order_by("name")
        # Sub-values in option groups rather than indented: a long label that wraps (the
        # filters' selects wrap, insights.css) stays under its group, every line of it.
        self.fields["bias"].choices = [
            ("", _("Every bias motivation")),
            *tax.choices("bias", language, grouped=True),
        ]
        self.fields["incident_type"].choices = [
            ("", _("All hate incidents")),
            *tax.choices("incident_type", language),
        ]
        self.fields["setting"].choices = [
            ("", _("Every setting")),
            *tax.choices("setting", language),
        ]

    def clean(self):
        data = super().clean()
        grain = data.get("grain") or Grain.MONTH
        start, end = data.get("start"), data.get("end")
        _check_range(self, data, "start", "end")
        if start and end and end < start:
            self.add_error("end", _("The end cannot be before the start."))
        if self.errors:
            return data
        filters = self._filters(data, grain)
        if filters.length < 1:  # a start after the default end (this period)
            self.add_error("start", _("The start cannot be after the end."))
        elif filters.length > MAX_PERIODS[grain]:
            self.add_error(
                "start",
                _("Choose at most %(count)s weeks or months.") % {"count": MAX_PERIODS[grain]},
            )
        return data

    def _filters(self, data, grain) -> DashboardFilters:
        defaults = default_filters(self.today, grain)
        start, end = data.get("start"), data.get("end")
        last = period_start(grain, end) if end else period_after(grain, defaults.end, -1)
        first = (
            period_start(grain, start)
            if start
            else period_after(grain, last, -(DEFAULT_PERIODS[grain] - 1))
        )
        area = data.get("area")
        return DashboardFilters(
            grain=grain,
            start=first,
            end=period_after(grain, last),
            area_id=area.pk if area else None,
            bias=data.get("bias") or "",
            incident_type=data.get("incident_type") or "",
            setting=data.get("setting") or "",
            basis=data.get("basis") or Basis.PERCEIVED,
        )

    def filters(self) -> DashboardFilters:
        """The filters chosen, or the defaults when the form has errors."""
        if self.is_valid():
            return self._filters(self.cleaned_data, self.cleaned_data.get("grain") or Grain.MONTH)
        return default_filters(self.today)


class ServicePeriodForm(forms.Form):
    """The service page's period: the reports received from one day to another."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        _check_range(self, data, "start", "end")
        if self.errors:
            return data
        end = end or self.today
        if start and end < start:
            self.add_error(
                "end" if data.get("end") else "start", _("The end cannot be before the start.")
            )
        elif start and (end - start).days > 3 * 366:
            self.add_error("start", _("Choose at most three years."))
        return data

    def period(self) -> tuple[date, date]:
        """(first day, last day): by default the last 365 days."""
        end = self.today
        start = end - timedelta(days=364)
        if self.is_valid():
            end = self.cleaned_data.get("end") or end
            start = self.cleaned_data.get("start") or (end - timedelta(days=364))
        return start, end


class AnnotationForm(forms.ModelForm):
    class Meta:
        model = Annotation
        fields = ["starts_on", "ends_on", "text"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "text": forms.TextInput(attrs={"maxlength": ANNOTATION_TEXT_MAX}),
        }
        help_texts = {
            "text": _("A short description of the event, shown on every chart (no personal data)."),
        }

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        _check_range(self, data, "starts_on", "ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The end cannot be before the start."))
        if starts_on and ends_on and (ends_on - starts_on).days > 366:
            self.add_error("ends_on", _("An annotation covers at most a year."))
        text = (data.get("text") or "").strip()
        if "text" in data and not text:
            self.add_error("text", _("This field is required."))
        data["text"] = text
        return data
