"""The dashboard's filters: whatever is typed, either an error next to a field or sane periods."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus.insights.forms import AnnotationForm, DashboardForm
from locus.insights.models import Grain
from locus.insights.rollups import period_start
from locus.insights.selectors import MAX_PERIODS

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 29)
DATES = st.one_of(
    st.none(),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)).map(str),
    st.text(max_size=12),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    grain=st.sampled_from(["", "W", "M", "D", "x"]),
    start=DATES,
    end=DATES,
    bias=st.sampled_from(["", "antisemitism", "anti_black", "nonsense"]),
)
def test_filters_are_either_refused_or_sane(world, in_place, grain, start, end, bias):
    data = {
        k: v for k, v in {"grain": grain, "start": start, "end": end, "bias": bias}.items() if v
    }
    with in_place(world.a.place):
        form = DashboardForm(data, place=world.a.place, language="en", today=TODAY)
        valid = form.is_valid()
        filters = form.filters()
    if not valid:
        assert form.errors and set(form.errors) <= {"grain", "start", "end", "bias"}
    assert filters.start < filters.end
    assert period_start(filters.grain, filters.start) == filters.start
    assert period_start(filters.grain, filters.end) == filters.end
    assert 1 <= filters.length <= MAX_PERIODS[filters.grain]
    if valid and bias:
        assert filters.bias == bias
    if not valid:
        assert filters.grain == Grain.MONTH  # the defaults


@given(
    starts=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 1, 1)),
    days=st.integers(-400, 400),
    text=st.text(max_size=400),
)
@settings(max_examples=100, deadline=None)
def test_annotation_form(starts, days, text):
    from datetime import timedelta

    form = AnnotationForm(
        {"starts_on": starts, "ends_on": starts + timedelta(days=days), "text": text}
    )
    if form.is_valid():
        data = form.cleaned_data
        assert data["starts_on"] <= data["ends_on"] and data["text"].strip()
        assert (data["ends_on"] - data["starts_on"]).days <= 366
        assert data["starts_on"] >= date(2000, 1, 1)
        assert len(data["text"]) <= 300
    else:
        assert set(form.errors) <= {"starts_on", "ends_on", "text"}


@pytest.mark.parametrize(
    "params, field",
    [
        ({"end": "9999-12-31"}, "end"),
        ({"start": "9999-12-01", "end": "9999-12-31"}, "start"),
        ({"start": "1999-12-31"}, "start"),
    ],
)
def test_dates_beyond_the_calendar_are_refused(world, client_for, params, field):
    client = client_for(world.a.users["analyst"])
    for what in ("dashboard", "service"):
        response = client.get(f"/api/v1/places/{world.a.place.slug}/insights/{what}", params)
        assert response.status_code == 422, (what, response.content)
        assert field in response.json()["fields"]
    response = client.get(f"/{world.a.place.slug}/insights/service/", params)
    assert response.status_code == 200 and f'id="id_{field}_error"'.encode() in response.content


@pytest.mark.parametrize("language", ["en", "fr", "de", "sv"])
def test_the_classification_choices_fit_their_filter(world, in_place, language):
    """A select shows its choice on one line: "As the reporter perceived it" (and its French,
    German and Swedish) was cut off in the filter's column, 13rem wide (about 26 characters)."""
    from django.utils import translation

    with translation.override(language), in_place(world.a.place):
        form = DashboardForm(place=world.a.place, language=language, today=TODAY)
        labels = [str(label) for _, label in form.fields["basis"].choices]
    assert len(labels) == 2 and all(len(label) <= 24 for label in labels), labels
