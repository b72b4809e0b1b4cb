"""Platform admin: a new place is created with a language and a time zone Locus knows."""

import pytest

from locus.core.testing.factories import NetworkFactory, PlaceFactory
from locus.places.models import Place


def _form(network, **changes):
    return {
        "network": network.pk,
        "slug": "lyon",
        "name": "Lyon",
        "country": "FR",
        "default_language": "fr",
        "timezone": "Europe/Paris",
        "emergency_number": "17",
        "suppression_threshold": "10",
        "publication_delay_days": "0",
        "report_retention_days": "2190",
        "evidence_retention_days": "730",
        "is_active": "on",
        **changes,
    }


def test_a_place_is_added_with_its_language_and_time_zone(platform_admin, db):
    network = NetworkFactory(slug="france", name="France", country="FR")
    page = platform_admin.get("/admin/places/place/add/").content.decode()
    assert '<option value="Europe/Paris">' in page and '<option value="fr">' in page
    response = platform_admin.post("/admin/places/place/add/", _form(network))
    assert response.status_code == 302
    place = Place.objects.get(slug="lyon")
    assert (place.default_language, place.timezone) == ("fr", "Europe/Paris")
    assert place.emergency_number == "17"


@pytest.mark.parametrize(
    ("field", "value"), [("default_language", "french"), ("timezone", "Europe/Lyon")]
)
def test_an_unknown_language_or_time_zone_is_refused(platform_admin, db, field, value):
    network = NetworkFactory(slug="france", name="France", country="FR")
    response = platform_admin.post("/admin/places/place/add/", _form(network, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Place.objects.exists()


def test_the_model_refuses_them_too(db):
    from django.core.exceptions import ValidationError

    network = NetworkFactory(slug="france", name="France", country="FR")
    place = Place(network=network, slug="lyon", name="Lyon", country="FR")
    place.default_language, place.timezone = "fr-FR", "CET+1"
    with pytest.raises(ValidationError) as error:
        place.full_clean()
    assert {"default_language", "timezone"} <= set(error.value.message_dict)


def test_a_network_is_named_in_each_language(platform_admin, db):
    """A network was shown in English in every language ("United Kingdom" on a French page):
    the admin takes its name in French, German and Swedish, and the pages show the one for
    the reader's language, else the English name."""
    from locus.places.models import Network

    response = platform_admin.post(
        "/admin/places/network/add/",
        {
            "name": "United Kingdom",
            "name_fr": " Royaume-Uni ",
            "name_de": "Vereinigtes  Königreich",
            "name_sv": "",
            "slug": "united-kingdom",
            "country": "GB",
        },
    )
    assert response.status_code == 302
    network = Network.objects.get(slug="united-kingdom")
    assert network.names == {"fr": "Royaume-Uni", "de": "Vereinigtes Königreich"}
    assert (
        network.label("fr") == "Royaume-Uni" and network.label("de-at") == "Vereinigtes Königreich"
    )
    assert network.label("sv") == "United Kingdom" and network.label("en") == "United Kingdom"
    page = platform_admin.get(f"/admin/places/network/{network.pk}/change/").content.decode()
    assert 'value="Royaume-Uni"' in page
    PlaceFactory(slug="leeds", name="Leeds", network=network)
    french = platform_admin.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Royaume-Uni" in french and "United Kingdom" not in french
    swedish = platform_admin.get("/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "United Kingdom" in swedish


def test_a_retention_beyond_a_hundred_years_is_refused_in_the_admin_too(platform_admin, db):
    """purge_expired computes "now - days": from about 740,000 days it would fail for the
    place, so the model caps retention (the settings page and the admin alike)."""
    network = NetworkFactory(slug="france", name="France", country="FR")
    response = platform_admin.post(
        "/admin/places/place/add/", _form(network, report_retention_days="1000000")
    )
    assert response.status_code == 200
    assert "report_retention_days" in response.context["adminform"].form.errors
    assert not Place.objects.exists()
