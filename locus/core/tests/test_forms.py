"""core.forms: a tampered list of ids is an error next to its field, never a 500."""

import pytest
from django.urls import reverse

from locus.core.forms import ModelMultipleIdField
from locus.places.models import Area

TAMPERED = ["9" * 25, "-1", "\x00", "２", "1.5", ""]


@pytest.mark.parametrize("value", TAMPERED)
def test_an_id_that_cannot_exist_is_an_invalid_choice(world, in_place, value):
    from django.core.exceptions import ValidationError

    with in_place(world.a.place):
        field = ModelMultipleIdField(queryset=Area.objects.all(), required=False)
        area = world.a.areas[0]
        assert list(field.clean([str(area.pk)])) == [area]
        with pytest.raises(ValidationError) as refused:
            field.clean([str(area.pk), value])
    assert refused.value.code == "invalid_pk_value"


def test_a_service_posted_with_an_area_id_past_the_database_is_refused_at_the_field(world, client):
    """SQLite cannot bind an integer past 2**63: Django's own check (`pk__in`) was a 500."""
    from tests.test_isolation import _dir_organisation

    client.force_login(world.a.users["coordinator"])
    url = reverse(
        "directory:service_new",
        kwargs={"place_slug": "alpha"} | _dir_organisation(world.a),
    )
    response = client.post(
        url, {"name": "Kept service", "service_type": "helpline", "areas": ["9" * 25]}
    )
    assert response.status_code == 422
    assert "areas" in response.context["form"].errors
    assert 'value="Kept service"' in response.content.decode()
