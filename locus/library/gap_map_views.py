"""The evidence-and-gap map page and its CSV (public, network-wide). One GET form of filters:
the page works without JavaScript and every map has its own address."""

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .choices import EVIDENCE_DESCRIPTIONS, EVIDENCE_NOT_RATED, EVIDENCE_RANK, EvidenceLevel
from .forms import FacetField
from .gap_map import FILTER_FACETS, MapFilters, evidence_gap_map, gap_map_csv
from .models import YEAR_MIN
from .selectors import facet_label, value_label


class MapFilterForm(forms.Form):
    year_from = forms.IntegerField(
        label=_("From year"), required=False, min_value=YEAR_MIN, max_value=2100
    )
    year_to = forms.IntegerField(
        label=_("To year"), required=False, min_value=YEAR_MIN, max_value=2100
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language()
        for name in FILTER_FACETS:
            field = FacetField(name, label=facet_label(name))
            field.choices = [
                (code, value_label(name, code, language)) for code, _label in field.choices
            ]
            field.widget = forms.SelectMultiple(attrs={"size": 6})
            field.widget.choices = field.choices
            self.fields[name] = field

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("year_from"), cleaned.get("year_to")
        if first is not None and last is not None and first > last:
            self.add_error("year_to", _("The last year must not be before the first."))
        return cleaned

    def filters(self):
        """What was asked, without the parts in error (shown next to their fields)."""
        data = self.cleaned_data if self.is_bound else {}
        return MapFilters(
            facets={name: list(data.get(name) or []) for name in FILTER_FACETS if data.get(name)},
            year_from=data.get("year_from"),
            year_to=data.get("year_to"),
        )


def _map_for(request):
    form = MapFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    return form, valid, evidence_gap_map(form.filters(), language=get_language())


def evidence_map(request):
    """Intervention types × outcomes, with the number of records and the strength of their
    evidence in each cell; a click opens the matching records in the search."""
    form, valid, gap_map = _map_for(request)
    levels = [
        {
            "code": level.value,
            "label": level.label,
            "rank": EVIDENCE_RANK[level],
            "description": EVIDENCE_DESCRIPTIONS[level],
        }
        for level in EvidenceLevel
    ]
    context = {
        "form": form,
        "map": gap_map,
        "levels": levels,
        "not_rated": EVIDENCE_NOT_RATED,
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "library/map.html", context, status=200 if valid else 422)


def evidence_map_csv(request):
    form, valid, gap_map = _map_for(request)
    if not valid:
        return HttpResponse(
            "\n".join(f"{name}: {'; '.join(errors)}" for name, errors in form.errors.items()),
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(gap_map_csv(gap_map), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="library-evidence-gap-map.csv"'
    return response
