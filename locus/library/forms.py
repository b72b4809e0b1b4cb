"""The library's search form, read from the query string (GET: the page works without
JavaScript and every search has its own address)."""

from datetime import date

from django import forms
from django.conf.locale import LANG_INFO
from django.utils.translation import gettext_lazy as _

from locus.core.ids import parse_id

from .choices import EVIDENCE_NOT_RATED, EvidenceLevel, ResourceType, SearchSort
from .models import YEAR_MIN
from .search import MAX_QUERY_LENGTH
from .selectors import FACET_AXES, FACET_NAMES, PAGE_SIZE, SearchParams
from .vocabulary import vocabulary


def facet_choices(name):
    """Every value a facet may take (the codes; pages label them with the counts)."""
    if name == "type":
        return list(ResourceType.values)
    if name == "language":
        return ["mul", *sorted(code for code in LANG_INFO if len(code) == 2)]
    if name == "evidence_level":
        return [*EvidenceLevel.values, EVIDENCE_NOT_RATED]
    if name == "year":
        return [str(year) for year in range(YEAR_MIN, date.today().year + 2)]
    return vocabulary().codes(FACET_AXES[name])


class FacetField(forms.MultipleChoiceField):
    """Several values of one facet; the error names the values that are not known."""

    default_error_messages = {
        "invalid_choice": _("%(value)s is not one of the values you can filter on."),
    }

    def __init__(self, name, **kwargs):
        self.facet = name
        super().__init__(required=False, **kwargs)
        self.choices = [(code, code) for code in facet_choices(name)]


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the library"),
        required=False,
        max_length=MAX_QUERY_LENGTH,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        help_text=_(
            "Words in titles, summaries, authors and publishers. "
            "Use “quotes” for a phrase and a minus sign to leave a word out."
        ),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=SearchSort.choices, initial=""
    )
    year_from = forms.IntegerField(
        label=_("From year"), required=False, min_value=YEAR_MIN, max_value=2100
    )
    year_to = forms.IntegerField(
        label=_("To year"), required=False, min_value=YEAR_MIN, max_value=2100
    )
    # Not a field the person fills in: a page number that is not one (a hand-edited or stale
    # link) shows the first page, and one past the end the last (record_search clamps it),
    # as Django's Paginator.get_page does on the other paged lists. It answered 422 with no
    # message to see. The JSON API keeps its 422 naming `page`.
    page = forms.CharField(required=False, max_length=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in FACET_NAMES:
            self.fields[name] = FacetField(name)

    def clean_page(self):
        return parse_id(self.cleaned_data.get("page")) or 1

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("year_from"), cleaned.get("year_to")
        if first is not None and last is not None and first > last:
            self.add_error("year_to", _("The last year must not be before the first."))
        return cleaned

    def params(self, *, page_size=PAGE_SIZE):
        """What the person asked for, without the parts in error (they are shown next to their
        fields and left out of the search)."""
        data = self.cleaned_data if self.is_bound else {}
        return SearchParams(
            q=data.get("q") or "",
            filters={name: list(data.get(name) or []) for name in FACET_NAMES if data.get(name)},
            year_from=data.get("year_from"),
            year_to=data.get("year_to"),
            sort=data.get("sort") or "",
            page=data.get("page") or 1,
            page_size=page_size,
        )
