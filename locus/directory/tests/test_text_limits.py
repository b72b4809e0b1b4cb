"""The directory's free texts have the API's limits on its pages too, so a text saved from a
page can always be sent back unchanged through the API."""

import pytest

from locus.core.testing.forms import refused
from locus.directory.forms import OrganisationEntryForm, ServiceForm
from locus.directory.models import DESCRIPTION_MAX_LENGTH, SERVICE_TEXT_MAX_LENGTH

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("description", DESCRIPTION_MAX_LENGTH),
        ("eligibility", SERVICE_TEXT_MAX_LENGTH),
        ("how_to_refer", SERVICE_TEXT_MAX_LENGTH),
    ],
)
def test_service_texts(world, in_place, name, limit):
    data = {"name": "Advice line", name: "x" * (limit + 1)}
    with in_place(world.a.place):
        assert refused(ServiceForm(data, place=world.a.place, language="en"), name, limit)
        data[name] = "x" * limit
        form = ServiceForm(data, place=world.a.place, language="en")
        form.is_valid()
    assert name not in form.errors


def test_organisation_description():
    data = {"name": "Hope", "description": "x" * (DESCRIPTION_MAX_LENGTH + 1)}
    assert refused(OrganisationEntryForm(data), "description", DESCRIPTION_MAX_LENGTH)
