"""Free texts of the pages have the API's limits, so a text saved from a page can always be
sent back unchanged through the API: too long is an error next to the field, with the text
kept, and the browser is told the limit."""

import pytest

from locus.core.testing.forms import refused
from locus.programmes.forms import IndicatorForm, ProgrammeForm, SurveySettingsForm
from locus.programmes.models import (
    FUNDER_MAX_LENGTH,
    FUNDERS_MAX,
    NARRATIVE_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    Programme,
)

pytestmark = pytest.mark.django_db


def test_programme_summary(world, in_place):
    data = {"title": "Bystander training", "summary": "x" * (SUMMARY_MAX_LENGTH + 1)}
    with in_place(world.a.place):
        form = ProgrammeForm(data, place=world.a.place, language="en")
        assert refused(form, "summary", SUMMARY_MAX_LENGTH)


def test_indicator_description_and_survey_introduction():
    form = IndicatorForm({"description": "x" * (TEXT_MAX_LENGTH + 1)})
    assert refused(form, "description", TEXT_MAX_LENGTH)
    form = SurveySettingsForm({"title": "After", "intro": "x" * (TEXT_MAX_LENGTH + 1)})
    assert refused(form, "intro", TEXT_MAX_LENGTH)


def test_results_narrative():
    from locus.programmes.forms import ResultsForm

    data = {"narrative": "x" * (NARRATIVE_MAX_LENGTH + 1)}
    form = ResultsForm(data, indicators=[], areas=[], results={})
    assert refused(form, "narrative", NARRATIVE_MAX_LENGTH)


def _programme_form(world, funders):
    data = {
        "title": "Bystander training",
        "start_date": "2026-01-01",
        "end_date": "2026-06-30",
        "intervention": "education",
        "currency": "GBP",
        "status": "active",
        "funders": funders,
    }
    return ProgrammeForm(data, place=world.a.place, language="en")


def test_programme_funders_are_checked_line_by_line(world, in_place):
    """The API takes FUNDERS_MAX funders of FUNDER_MAX_LENGTH characters; a box well under the
    total length with one line too long was saved, and the API then refused it back."""
    long_line = "x" * (FUNDER_MAX_LENGTH + 1)
    funders = f"A Trust\n\n{long_line}\nB Fund"
    assert len(funders) < ProgrammeForm.base_fields["funders"].max_length
    with in_place(world.a.place):
        form = _programme_form(world, funders)
        assert not form.is_valid()
        assert list(form.errors) == ["funders"]
        message = form.errors["funders"][0]
        assert "Line 3 " in message and str(FUNDER_MAX_LENGTH) in message
        assert form["funders"].value() == funders
        assert _programme_form(world, f"A Trust\n{'x' * FUNDER_MAX_LENGTH}").is_valid()


def test_programme_funders_are_at_most_the_apis_number(world, in_place):
    with in_place(world.a.place):
        at_most = "\n\n".join(f"Funder {n}" for n in range(FUNDERS_MAX))
        assert _programme_form(world, at_most).is_valid()
        funders = at_most + "\nOne more"
        form = _programme_form(world, funders)
        assert not form.is_valid()
        assert list(form.errors) == ["funders"]
        assert str(FUNDERS_MAX) in form.errors["funders"][0]
        assert str(FUNDERS_MAX + 1) in form.errors["funders"][0]
        assert form["funders"].value() == funders


def test_programme_page_shows_the_funders_error_next_to_the_field(world, client, in_place):
    client.force_login(world.a.users["editor"])
    funders = "A Trust\n" + "y" * (FUNDER_MAX_LENGTH + 1)
    response = client.post(
        "/alpha/programmes/new/",
        {
            "title": "Youth voices",
            "start_date": "2026-01-01",
            "end_date": "2026-06-30",
            "intervention": "education",
            "currency": "GBP",
            "status": "active",
            "funders": funders,
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Line 2 is longer than 200 characters" in body
    assert funders in body  # kept, in the box
    with in_place(world.a.place):
        assert not Programme.objects.filter(title="Youth voices").exists()
