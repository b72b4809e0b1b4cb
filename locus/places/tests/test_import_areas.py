"""`manage.py import_areas`: all or nothing by default, --skip-invalid, idempotent re-runs, clear
errors, and never a write to another place."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from locus.core.choices import AuditAction
from locus.core.geo import MAX_POPULATION
from locus.core.models import AuditEvent
from locus.places.models import Area

from .geojson import bad_feature, boroughs, collection, feature, square

LONDON = Path(__file__).resolve().parents[1] / "demo_data" / "london-boroughs.geojson"


def run(place_slug, path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_areas", "--place", place_slug, str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(place_slug, path, *args):
    err = StringIO()
    with pytest.raises(CommandError) as info:
        call_command(
            "import_areas", "--place", place_slug, str(path), *args, stdout=StringIO(), stderr=err
        )
    return str(info.value), err.getvalue()


def areas_of(place, in_place):
    with in_place(place):
        return {a.name: a for a in Area.objects.all()}


def snapshot(place, in_place):
    return {
        name: (a.pk, a.code, a.population, a.geometry, a.updated_at)
        for name, a in areas_of(place, in_place).items()
    }


@pytest.fixture
def geojson(tmp_path):
    def write(*features, name="areas.geojson"):
        path = tmp_path / name
        path.write_bytes(collection(*features))
        return path

    return write


def test_import_creates_areas_and_reports_counts(world, geojson, in_place):
    path = geojson(feature("Camden", code="E09000007", pop=210_000), *boroughs(2))
    out, err = run("alpha", path, "--code-property", "code", "--population-property", "pop")
    assert out.strip() == "alpha: 3 areas created, 0 updated, 0 skipped"
    assert err == ""
    areas = areas_of(world.a.place, in_place)
    assert set(areas) == {
        "Alphaville North",
        "Alphaville South",
        "Camden",
        "Borough 0",
        "Borough 1",
    }
    assert (areas["Camden"].code, areas["Camden"].population) == ("E09000007", 210_000)
    assert areas["Camden"].geometry == square()
    event = AuditEvent.objects.get(action=AuditAction.AREAS_IMPORTED)
    assert event.place == world.a.place
    assert event.data == {"created": 3, "updated": 0}


def test_the_name_property_can_be_chosen(world, geojson, in_place):
    path = geojson({"type": "Feature", "properties": {"LAD23NM": "Hackney"}, "geometry": square()})
    out, _err = run("alpha", path, "--name-property", "LAD23NM")
    assert "1 areas created" in out
    assert "Hackney" in areas_of(world.a.place, in_place)


def test_one_bad_feature_imports_nothing_and_lists_every_problem(world, geojson, in_place):
    before = snapshot(world.a.place, in_place)
    path = geojson(*boroughs(2), bad_feature("Grid One"), feature("", square(0.5, 51.5)))
    message, err = run_failing("alpha", path)
    assert message == "2 features are invalid, so nothing was imported."
    assert "Feature 3 (Grid One): Coordinate (530000, 180000) is outside WGS84" in err
    assert "Feature 4 (): The property 'name' (the area's name) is missing or empty." in err
    assert snapshot(world.a.place, in_place) == before
    assert not AuditEvent.objects.filter(action=AuditAction.AREAS_IMPORTED).exists()


def test_skip_invalid_imports_the_good_features_and_lists_the_others(world, geojson, in_place):
    path = geojson(*boroughs(2), bad_feature("Grid One"))
    out, err = run("alpha", path, "--skip-invalid")
    assert out.strip() == "alpha: 2 areas created, 0 updated, 1 skipped"
    assert "Feature 3 (Grid One): Coordinate (530000, 180000)" in err
    areas = areas_of(world.a.place, in_place)
    assert {"Borough 0", "Borough 1"} <= set(areas)
    assert "Grid One" not in areas


def test_skip_invalid_with_no_valid_feature_is_an_error(world, geojson, in_place):
    before = snapshot(world.a.place, in_place)
    message, _err = run_failing("alpha", geojson(bad_feature()), "--skip-invalid")
    assert message == "No valid feature to import."
    assert snapshot(world.a.place, in_place) == before


def test_rerunning_updates_instead_of_duplicating(world, geojson, in_place):
    path = geojson(*boroughs(3, pop=100))
    run("alpha", path, "--population-property", "pop")
    first = areas_of(world.a.place, in_place)

    path = geojson(*boroughs(2, pop=200), feature("borough 2", square(1.0, 52.0), pop=300))
    out, _err = run("alpha", path, "--population-property", "pop")
    assert out.strip() == "alpha: 0 areas created, 3 updated, 0 skipped"
    second = areas_of(world.a.place, in_place)
    assert set(second) == set(first)  # the same rows; names match ignoring case
    assert {name: a.pk for name, a in second.items()} == {name: a.pk for name, a in first.items()}
    assert second["Borough 2"].population == 300
    assert second["Borough 2"].geometry == square(1.0, 52.0)

    out, _err = run("alpha", path, "--population-property", "pop")
    assert out.strip() == "alpha: 0 areas created, 3 updated, 0 skipped"
    assert len(areas_of(world.a.place, in_place)) == len(first)


def test_the_largest_allowed_population_is_stored(world, geojson, in_place):
    run("alpha", geojson(feature("Big", pop=MAX_POPULATION)), "--population-property", "pop")
    assert areas_of(world.a.place, in_place)["Big"].population == MAX_POPULATION


def test_a_population_too_large_to_store_is_reported_not_crashing(world, geojson, in_place):
    message, err = run_failing(
        "alpha", geojson(feature("Big", pop=MAX_POPULATION + 1)), "--population-property", "pop"
    )
    assert message == "1 feature is invalid, so nothing was imported."
    assert "Feature 1 (Big): The population is larger than" in err


def test_a_missing_population_keeps_the_known_one(world, geojson, in_place):
    run("alpha", geojson(feature("Camden", pop=5)), "--population-property", "pop")
    run("alpha", geojson(feature("Camden")), "--population-property", "pop")
    assert areas_of(world.a.place, in_place)["Camden"].population == 5


def test_the_london_file_imports_33_boroughs_reporting_the_repairs(world, in_place):
    out, err = run("alpha", LONDON)
    assert out.strip() == "alpha: 33 areas created, 0 updated, 0 skipped"
    assert "Newham: the boundary was repaired" in err
    assert "Richmond upon Thames: the boundary was repaired" in err
    assert len(areas_of(world.a.place, in_place)) == 33 + 2


def test_importing_into_one_place_never_touches_the_other(world, geojson, in_place):
    before_b = snapshot(world.b.place, in_place)
    # Same names as place B's areas: they become new areas of place A, not updates of B's.
    path = geojson(
        feature("Betastad North", square(-0.1, 51.5)), feature("Betastad South", square(-0.1, 51.6))
    )
    out, _err = run("alpha", path)
    assert "2 areas created, 0 updated" in out
    run("alpha", path)  # and again, as an update
    assert snapshot(world.b.place, in_place) == before_b
    assert {"Betastad North", "Betastad South"} <= set(areas_of(world.a.place, in_place))


@pytest.mark.parametrize("slug", ["nowhere", ""])
def test_an_unknown_place_is_an_error(world, geojson, slug, in_place):
    before = snapshot(world.a.place, in_place)
    message, _err = run_failing(slug, geojson(*boroughs(1)))
    assert message == f"No active place with slug '{slug}'"
    assert snapshot(world.a.place, in_place) == before


def test_an_inactive_place_is_an_error(world, geojson):
    world.a.place.is_active = False
    world.a.place.save()
    message, _err = run_failing("alpha", geojson(*boroughs(1)))
    assert message == "No active place with slug 'alpha'"


def test_a_missing_file_is_an_error(world, tmp_path):
    message, _err = run_failing("alpha", tmp_path / "missing.geojson")
    assert message.startswith("Cannot read ")
    assert "missing.geojson" in message and "No such file" in message


def test_a_directory_is_an_error(world, tmp_path):
    message, _err = run_failing("alpha", tmp_path)
    assert message.startswith("Cannot read ")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfe not utf-8", "The file is not UTF-8 text."),
        (b"<kml></kml>", "The file is not valid JSON: "),
        (b'{"type": "Topology"}', "The file must be a GeoJSON FeatureCollection."),
        (
            b'{"type": "FeatureCollection", "features": []}',
            "The FeatureCollection has no features.",
        ),
    ],
)
def test_a_file_that_is_not_a_feature_collection_is_an_error(
    world, tmp_path, content, expected, in_place
):
    before = snapshot(world.a.place, in_place)
    path = tmp_path / "areas.geojson"
    path.write_bytes(content)
    message, _err = run_failing("alpha", path)
    assert message.startswith(expected)
    assert snapshot(world.a.place, in_place) == before
