"""Free texts of the pages have the API's limits, so a text saved from a page can always be
sent back unchanged through the API: too long is an error next to the field, with the text
kept, and the browser is told the limit."""

import pytest

from locus.core.testing.forms import refused
from locus.programmes.forms import IndicatorForm, ProgrammeForm, SurveySettingsForm
from locus.programmes.models import NARRATIVE_MAX_LENGTH, SUMMARY_MAX_LENGTH, TEXT_MAX_LENGTH

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
