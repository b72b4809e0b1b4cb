"""A JSON body with a lone surrogate escape is a 422 naming the field, on every endpoint,
before any endpoint stores it (SQLite cannot encode it; PostgreSQL refuses it)."""

import pytest

from locus.api.unpaired import unpaired_surrogate_path

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/places/{slug}/reports"


def test_the_path_of_the_first_lone_surrogate():
    assert unpaired_surrogate_path({"a": "ok", "b": [1, {"c": "x\ud800y"}]}) == ("b", 1, "c")
    assert unpaired_surrogate_path({"emoji": "\U0001f600", "n": 3, "none": None}) is None
    assert unpaired_surrogate_path(["\udfff"]) == (0,)
    assert unpaired_surrogate_path({"k\ud800": 1}) == ("k\ud800",)


def test_a_public_submission_with_a_lone_surrogate_is_a_422_naming_the_field(client, world):
    body = '{"account": "They shouted \\ud800 at me", "incident_types": ["assault"]}'
    response = client.post(
        REPORTS.format(slug=world.a.place.slug), body, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["fields"]) == ["account"]


def test_an_emoji_written_as_a_pair_of_escapes_is_not_refused(client, world):
    body = '{"account": "\\ud83d\\ude00", "unknown_field": 1}'
    response = client.post(
        REPORTS.format(slug=world.a.place.slug), body, content_type="application/json"
    )
    assert response.status_code == 422
    assert "account" not in response.json()["fields"]  # the endpoint's own validation answered


def test_staff_endpoints_are_covered_too(client, world):
    from locus.accounts.services import token_create

    _token, secret = token_create(membership=world.a.memberships["coordinator"], name="t")
    response = client.post(
        "/api/v1/library/records",
        '{"title": "\\udc00", "type": "guide"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["title"]
