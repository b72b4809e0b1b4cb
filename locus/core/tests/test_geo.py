"""GeoJSON area parsing: every validation rule with a failing example, the real London file, and
properties that hold for any input (no exception other than ValidationFailed, one outcome per
feature, problems numbered by position)."""

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import shape

from locus.core.errors import ValidationFailed
from locus.core.geo import MAX_POPULATION, load_feature_collection, parse_area_features

LONDON = Path(__file__).resolve().parents[2] / "places" / "demo_data" / "london-boroughs.geojson"

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --- builders ---


def rectangle(lon=-0.1, lat=51.5, width=0.01, height=0.01):
    ring = [
        [lon, lat],
        [lon + width, lat],
        [lon + width, lat + height],
        [lon, lat + height],
        [lon, lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(name="Camden", geometry=None, **properties):
    props = {"name": name, **properties} if name is not None else properties
    return {"type": "Feature", "properties": props, "geometry": geometry or rectangle()}


def collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False)


def only_problem(raw, **kwargs):
    """Parse a one-feature file that must be refused; return the problem's reason."""
    result = parse_area_features(raw, **kwargs)
    assert result.candidates == []
    assert len(result.problems) == 1
    assert result.problems[0].number == 1
    return result.problems[0].reason


def file_error(raw):
    with pytest.raises(ValidationFailed) as info:
        parse_area_features(raw)
    assert info.value.fields["file"], "a file-level error is shown next to the file field"
    return info.value.message


# --- the file as a whole ---


def test_a_valid_feature_becomes_a_candidate_with_plain_json_geometry():
    result = parse_area_features(
        collection(feature(" Camden ", code="E09000007", population=210_000)),
        code_property="code",
        population_property="population",
    )
    assert result.problems == []
    [candidate] = result.candidates
    assert candidate.name == "Camden"  # surrounding space trimmed
    assert candidate.code == "E09000007"
    assert candidate.population == 210_000
    assert candidate.repaired == ""
    assert candidate.geometry == rectangle()
    assert json.loads(json.dumps(candidate.geometry)) == candidate.geometry


def test_bytes_with_a_utf8_bom_are_read():
    raw = "\ufeff".encode() + collection(feature("Malmö")).encode()
    assert [c.name for c in parse_area_features(raw).candidates] == ["Malmö"]


def test_bytes_that_are_not_utf8_are_refused():
    assert (
        file_error(collection(feature("Malmö")).encode("latin-1")) == "The file is not UTF-8 text."
    )


def test_invalid_json_is_refused_with_the_parser_error():
    assert file_error(b'{"type": "FeatureCollection", ').startswith("The file is not valid JSON: ")


def test_deeply_nested_json_is_refused_not_crashing():
    message = file_error("[" * 100_000 + "]" * 100_000)
    assert message.startswith("The file is not valid JSON") or "FeatureCollection" in message


@pytest.mark.parametrize(
    "data",
    [
        [],
        "FeatureCollection",
        {"type": "Feature", "properties": {"name": "x"}, "geometry": rectangle()},
        {"features": [feature()]},
    ],
)
def test_anything_but_a_feature_collection_is_refused(data):
    assert file_error(json.dumps(data)) == "The file must be a GeoJSON FeatureCollection."


@pytest.mark.parametrize("features", [None, [], {"0": feature()}, "features"])
def test_a_collection_without_features_is_refused(features):
    data = {"type": "FeatureCollection"}
    if features is not None:
        data["features"] = features
    assert file_error(json.dumps(data)) == "The FeatureCollection has no features."


def test_load_feature_collection_returns_the_decoded_collection():
    data = load_feature_collection(collection(feature()).encode())
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 1


# --- each feature ---


@pytest.mark.parametrize(
    "item",
    [
        "Camden",
        [1, 2],
        None,
        {"type": "Polygon", "coordinates": rectangle()["coordinates"]},
        {"properties": {"name": "Camden"}, "geometry": rectangle()},
    ],
)
def test_an_item_that_is_not_a_feature_is_a_problem(item):
    assert only_problem(collection(item)) == "This item is not a GeoJSON Feature."


@pytest.mark.parametrize(
    "properties", [{}, {"name": None}, {"name": ""}, {"name": "   "}, None, "x"]
)
def test_a_missing_or_empty_name_is_a_problem(properties):
    raw = collection({"type": "Feature", "properties": properties, "geometry": rectangle()})
    assert only_problem(raw) == "The property 'name' (the area's name) is missing or empty."


def test_the_name_problem_names_the_chosen_property():
    raw = collection(feature("Camden"))
    reason = only_problem(raw, name_property="LAD23NM")
    assert reason == "The property 'LAD23NM' (the area's name) is missing or empty."


def test_the_name_may_come_from_any_property_and_is_turned_into_text():
    raw = collection(
        feature(None, LAD23NM="Hackney"), feature(None, LAD23NM=42, geometry=rectangle(0.1))
    )
    assert [c.name for c in parse_area_features(raw, name_property="LAD23NM").candidates] == [
        "Hackney",
        "42",
    ]


def test_a_name_longer_than_120_characters_is_a_problem():
    assert parse_area_features(collection(feature("x" * 120))).candidates[0].name == "x" * 120
    assert only_problem(collection(feature("x" * 121))) == "The name is longer than 120 characters."


def test_duplicate_names_are_a_problem_ignoring_case_and_naming_the_first():
    result = parse_area_features(
        collection(
            feature("Camden"),
            feature("Hackney", geometry=rectangle(0.1)),
            feature(" CAMDEN", geometry=rectangle(0.2)),
        )
    )
    assert [c.name for c in result.candidates] == ["Camden", "Hackney"]
    [problem] = result.problems
    assert (problem.number, problem.name) == (3, "CAMDEN")
    assert problem.reason == "Duplicate name: feature 1 has the same name."
    assert problem.as_dict() == {"feature": 3, "name": "CAMDEN", "reason": problem.reason}


@pytest.mark.parametrize("geometry", [None, "POLYGON((0 0, 1 0, 1 1, 0 0))", [1, 2]])
def test_a_feature_without_a_geometry_object_is_a_problem(geometry):
    raw = collection({"type": "Feature", "properties": {"name": "Camden"}, "geometry": geometry})
    assert only_problem(raw) == "The feature has no geometry."


@pytest.mark.parametrize(
    "kind", ["Point", "LineString", "MultiLineString", "GeometryCollection", None]
)
def test_only_polygons_and_multipolygons_are_allowed(kind):
    reason = only_problem(collection(feature(geometry={"type": kind, "coordinates": [0, 0]})))
    assert reason == (
        f"Geometry type {kind} is not allowed; areas must be Polygon or MultiPolygon."
    )


def test_multipolygons_are_accepted():
    geometry = {
        "type": "MultiPolygon",
        "coordinates": [rectangle()["coordinates"], rectangle(0.1)["coordinates"]],
    }
    [candidate] = parse_area_features(collection(feature(geometry=geometry))).candidates
    assert candidate.geometry == geometry


@pytest.mark.parametrize(
    "geometry",
    [
        {
            "type": "Polygon",
            "coordinates": [[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51], [-0.1, 51.5]],
        },
        {"type": "Polygon", "coordinates": "0 0, 1 1"},
        {"type": "Polygon"},
        {"type": "MultiPolygon", "coordinates": rectangle()["coordinates"]},
    ],
)
def test_coordinates_nested_wrongly_are_a_problem(geometry):
    reason = only_problem(collection(feature(geometry=geometry)))
    assert reason == f"The coordinates are not nested as a {geometry['type']} needs."


@pytest.mark.parametrize("coordinates", [[], [[]], [[], []]])
def test_a_geometry_without_coordinates_is_a_problem(coordinates):
    reason = only_problem(
        collection(feature(geometry={"type": "Polygon", "coordinates": coordinates}))
    )
    assert reason == "The geometry has no coordinates."


@pytest.mark.parametrize("position", [[-0.1], []])
def test_a_position_that_is_not_a_pair_is_a_problem(position):
    ring = [[-0.1, 51.5], position, [-0.09, 51.51], [-0.1, 51.5]]
    reason = only_problem(collection(feature(geometry={"type": "Polygon", "coordinates": [ring]})))
    assert reason == "A position is not a [longitude, latitude] pair."


@pytest.mark.parametrize("bad", ["-0.1", None, True, [0]])
def test_a_coordinate_that_is_not_a_number_is_a_problem(bad):
    ring = [[-0.1, 51.5], [bad, 51.5], [-0.09, 51.51], [-0.1, 51.5]]
    reason = only_problem(collection(feature(geometry={"type": "Polygon", "coordinates": [ring]})))
    assert reason == "A coordinate is not a number."


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_coordinate_that_is_not_finite_is_a_problem(bad):
    ring = [[-0.1, 51.5], [-0.09, bad], [-0.09, 51.51], [-0.1, 51.5]]
    raw = collection(feature(geometry={"type": "Polygon", "coordinates": [ring]}))  # NaN/Infinity
    assert only_problem(raw) == "A coordinate is not a finite number."


@pytest.mark.parametrize(("lon", "lat"), [(180.5, 51.5), (-181, 51.5), (-0.1, 90.01), (-0.1, -91)])
def test_a_coordinate_outside_wgs84_is_a_problem_naming_it(lon, lat):
    reason = only_problem(collection(feature(geometry=rectangle(lon, lat, 0.0001, 0.0001))))
    assert reason.startswith(
        f"Coordinate ({lon}, {lat}) is outside WGS84 longitude/latitude ranges"
    )
    assert reason.endswith("is the file in another projection?")


def test_a_file_in_british_national_grid_is_refused_feature_by_feature():
    result = parse_area_features(
        collection(
            feature("Camden", geometry=rectangle(528000, 184000, 1000, 1000)),
            feature("Hackney", geometry=rectangle(534000, 185000, 1000, 1000)),
        )
    )
    assert result.candidates == []
    assert [p.number for p in result.problems] == [1, 2]
    assert result.problems[0].reason.startswith("Coordinate (528000, 184000) is outside WGS84")


def test_a_huge_integer_coordinate_is_a_problem_not_a_crash():
    # Regression: math.isfinite() raised OverflowError on ints beyond float range.
    huge = 10**400
    ring = [[-0.1, 51.5], [huge, 51.5], [-0.09, 51.51], [-0.1, 51.5]]
    reason = only_problem(collection(feature(geometry={"type": "Polygon", "coordinates": [ring]})))
    assert reason.startswith("Coordinate (" + str(huge)[:24] + ", 51.5) is outside WGS84")
    assert len(reason) < 200


@pytest.mark.parametrize(
    "ring",
    [
        [[-0.1, 51.5], [-0.09, 51.5]],  # a ring needs four positions
        [[-0.1, 51.5, 0, 0], [-0.09, 51.5, 0, 0], [-0.09, 51.51, 0, 0], [-0.1, 51.5, 0, 0]],  # 4-D
        [[-0.1, 51.5], [-0.09, 51.5, 3], [-0.09, 51.51], [-0.1, 51.5]],  # mixed dimensions
        [[-0.1, 51.5, "x"], [-0.09, 51.5, "x"], [-0.09, 51.51, "x"], [-0.1, 51.5, "x"]],
    ],
)
def test_a_ring_shapely_cannot_read_is_a_problem(ring):
    reason = only_problem(collection(feature(geometry={"type": "Polygon", "coordinates": [ring]})))
    assert reason.startswith("The geometry cannot be read: ")


def test_a_closed_ring_of_three_positions_is_refused():
    ring = [[-0.1, 51.5], [-0.09, 51.5], [-0.1, 51.5]]
    reason = only_problem(collection(feature(geometry={"type": "Polygon", "coordinates": [ring]})))
    assert reason.startswith(
        "The geometry is not valid and cannot be repaired safely: Too few points"
    )


def test_positions_with_an_altitude_are_accepted():
    ring = [[lon, lat, 12.5] for lon, lat in rectangle()["coordinates"][0]]
    result = parse_area_features(
        collection(feature(geometry={"type": "Polygon", "coordinates": [ring]}))
    )
    assert len(result.candidates) == 1


def test_a_code_longer_than_40_characters_is_a_problem():
    ok = parse_area_features(collection(feature(code="C" * 40)), code_property="code")
    assert ok.candidates[0].code == "C" * 40
    reason = only_problem(collection(feature(code="C" * 41)), code_property="code")
    assert reason == "The code is longer than 40 characters."


def test_the_code_is_ignored_unless_a_code_property_is_given():
    [candidate] = parse_area_features(collection(feature(code="C" * 99))).candidates
    assert candidate.code == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (210_000, 210_000),
        (210_000.0, 210_000),
        ("210000", 210_000),
        (" 7 ", 7),
        ("", None),
        (None, None),
        (MAX_POPULATION, MAX_POPULATION),
    ],
)
def test_a_whole_population_of_zero_or_more_is_accepted(value, expected):
    raw = collection(feature(population=value))
    [candidate] = parse_area_features(raw, population_property="population").candidates
    assert candidate.population == expected


@pytest.mark.parametrize(
    "value", [-1, 1.5, "1.5", "many", "1e3", True, [1], {"n": 1}, math.inf, math.nan]
)
def test_a_population_that_is_not_a_whole_number_of_zero_or_more_is_a_problem(value):
    reason = only_problem(collection(feature(population=value)), population_property="population")
    assert reason == "The population must be a whole number of zero or more."


@pytest.mark.parametrize("value", [MAX_POPULATION + 1, 10**30, 10**400])
def test_a_population_too_large_to_store_is_a_problem(value):
    # Regression: these passed validation and then failed on save (PostgreSQL integer range).
    reason = only_problem(collection(feature(population=value)), population_property="population")
    assert reason == f"The population is larger than {MAX_POPULATION}."


def test_the_population_is_ignored_unless_a_population_property_is_given():
    [candidate] = parse_area_features(collection(feature(population=-5))).candidates
    assert candidate.population is None


# --- repairs ---


def test_a_zero_area_spike_is_repaired_and_the_reason_kept():
    # A square with a zero-width spike on its top edge: invalid, but the area is unchanged.
    ring = [[0, 0], [1, 0], [1, 1], [0.5, 1], [0.5, 1.5], [0.5, 1], [0, 1], [0, 0]]
    ring = [[-0.1 + x * 0.01, 51.5 + y * 0.01] for x, y in ring]
    result = parse_area_features(
        collection(feature(geometry={"type": "Polygon", "coordinates": [ring]}))
    )
    assert result.problems == []
    [candidate] = result.candidates
    assert candidate.repaired  # e.g. "Self-intersection[...]" or "Ring Self-intersection[...]"
    repaired = shape(candidate.geometry)
    assert repaired.is_valid
    assert repaired.area == pytest.approx(0.0001, rel=1e-6)


def test_a_polygon_with_a_degenerate_part_is_repaired():
    sliver = [[0.0, 51.0], [0.0, 51.0], [0.0, 51.0], [0.0, 51.0]]
    geometry = {"type": "MultiPolygon", "coordinates": [rectangle()["coordinates"], [sliver]]}
    [candidate] = parse_area_features(collection(feature(geometry=geometry))).candidates
    assert candidate.repaired
    assert shape(candidate.geometry).is_valid


def test_a_bowtie_is_refused_because_the_repair_changes_the_area_too_much():
    ring = [[-0.1, 51.5], [-0.09, 51.51], [-0.09, 51.5], [-0.1, 51.51], [-0.1, 51.5]]
    reason = only_problem(collection(feature(geometry={"type": "Polygon", "coordinates": [ring]})))
    assert reason.startswith(
        "The geometry is not valid and cannot be repaired safely: Self-intersection"
    )


def test_an_overlapping_multipolygon_beyond_one_percent_is_refused():
    geometry = {
        "type": "MultiPolygon",
        "coordinates": [rectangle()["coordinates"], rectangle(-0.095)["coordinates"]],
    }
    reason = only_problem(collection(feature(geometry=geometry)))
    assert reason.startswith("The geometry is not valid and cannot be repaired safely: ")


# --- the real file ---


def test_the_london_file_parses_to_33_boroughs_with_2_repaired():
    result = parse_area_features(LONDON.read_bytes())
    assert result.problems == []
    assert len(result.candidates) == 33
    assert len({c.name for c in result.candidates}) == 33
    repaired = sorted(c.name for c in result.candidates if c.repaired)
    assert repaired == ["Newham", "Richmond upon Thames"]
    assert all(shape(c.geometry).is_valid for c in result.candidates)


# --- properties ---

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)
numbers = st.integers(min_value=-(10**30), max_value=10**30) | st.floats() | st.just(10**400)
positions = st.lists(numbers | json_scalars, min_size=0, max_size=4) | json_values
rings = st.lists(positions, max_size=7) | json_values
polygon_coordinates = st.lists(rings, max_size=3) | json_values
# Closed rings on a coarse grid: often self-intersecting, spiky or degenerate, so the repair path
# (make_valid, collections of polygons and lines) is exercised too.
grid_rings = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 4)).map(
        lambda p: [-0.1 + p[0] * 0.01, 51.5 + p[1] * 0.01]
    ),
    min_size=3,
    max_size=8,
).map(lambda ring: [*ring, ring[0]])
geometries = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.just("Polygon"), "coordinates": st.lists(grid_rings, min_size=1, max_size=2)}
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("MultiPolygon"),
            "coordinates": st.lists(st.lists(grid_rings, min_size=1, max_size=2), max_size=3),
        }
    ),
    st.fixed_dictionaries({"type": st.just("Polygon"), "coordinates": polygon_coordinates}),
    st.fixed_dictionaries(
        {"type": st.just("MultiPolygon"), "coordinates": st.lists(polygon_coordinates, max_size=3)}
    ),
)
feature_like = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "type": st.just("Feature"),
            "properties": st.dictionaries(st.sampled_from(["name", "code", "pop"]), json_scalars)
            | json_values,
            "geometry": geometries,
        }
    ),
)
files = st.one_of(
    json_values.map(json.dumps),
    st.lists(feature_like, max_size=6).map(
        lambda fs: json.dumps({"type": "FeatureCollection", "features": fs})
    ),
)


def _features_in(raw):
    return len(json.loads(raw)["features"])


@PROPERTY_SETTINGS
@given(raw=files, as_bytes=st.booleans())
def test_any_json_either_is_refused_as_a_file_or_gives_one_outcome_per_feature(raw, as_bytes):
    try:
        result = parse_area_features(
            raw.encode() if as_bytes else raw, code_property="code", population_property="pop"
        )
    except ValidationFailed as exc:
        assert exc.message and exc.fields["file"]
        return
    assert len(result.candidates) + len(result.problems) == _features_in(raw)
    for candidate in result.candidates:
        assert candidate.name and len(candidate.name) <= 120 and len(candidate.code) <= 40
        assert candidate.population is None or 0 <= candidate.population <= MAX_POPULATION
        assert shape(candidate.geometry).is_valid


@PROPERTY_SETTINGS
@given(raw=st.binary(max_size=200))
def test_any_bytes_are_refused_or_parsed_never_crash(raw):
    try:
        result = parse_area_features(raw)
    except ValidationFailed as exc:
        assert exc.fields["file"]
    else:
        assert len(result.candidates) + len(result.problems) == _features_in(
            raw.decode("utf-8-sig")
        )


# Rectangles fully inside WGS84: lon + width <= 180 and lat + height <= 90 by construction.
rectangles = st.builds(
    rectangle,
    lon=st.floats(min_value=-180, max_value=170),
    lat=st.floats(min_value=-90, max_value=80),
    width=st.floats(min_value=1e-4, max_value=10),
    height=st.floats(min_value=1e-4, max_value=10),
)


def _multi(rect):
    return {"type": "MultiPolygon", "coordinates": [rect["coordinates"]]}


@PROPERTY_SETTINGS
@given(shapes=st.lists(st.tuples(rectangles, st.booleans()), min_size=1, max_size=8))
def test_valid_rectangles_inside_wgs84_are_all_candidates(shapes):
    features = [
        feature(f"Area {i}", geometry=_multi(r) if multi else r)
        for i, (r, multi) in enumerate(shapes)
    ]
    result = parse_area_features(collection(*features))
    assert result.problems == []
    assert [c.name for c in result.candidates] == [f"Area {i}" for i in range(len(shapes))]
    assert all(c.repaired == "" for c in result.candidates)


outside_lon = st.floats(min_value=180, exclude_min=True, allow_infinity=False) | st.floats(
    max_value=-180, exclude_max=True, allow_infinity=False
)
outside_lat = st.floats(min_value=90, exclude_min=True, allow_infinity=False) | st.floats(
    max_value=-90, exclude_max=True, allow_infinity=False
)
outside_positions = st.one_of(
    st.tuples(outside_lon, st.floats(min_value=-90, max_value=90)),
    st.tuples(st.floats(min_value=-180, max_value=180), outside_lat),
    st.tuples(outside_lon, outside_lat),
    st.tuples(st.integers(min_value=181, max_value=10**50), st.integers(-90, 90)),
)


@PROPERTY_SETTINGS
@given(bad=st.lists(st.tuples(outside_positions, st.integers(0, 3)), min_size=1, max_size=6))
def test_coordinates_outside_wgs84_make_every_feature_a_problem_naming_the_coordinate(bad):
    features = []
    for i, ((lon, lat), corner) in enumerate(bad):
        ring = rectangle()["coordinates"][0]
        ring[corner] = [lon, lat]
        if corner == 0:
            ring[-1] = [lon, lat]
        features.append(feature(f"Area {i}", geometry={"type": "Polygon", "coordinates": [ring]}))
    result = parse_area_features(collection(*features))
    assert result.candidates == []
    assert [p.number for p in result.problems] == list(range(1, len(bad) + 1))
    for problem, ((lon, lat), _corner) in zip(result.problems, bad, strict=True):
        assert problem.reason.startswith(
            f"Coordinate ({str(lon)[:24]}, {str(lat)[:24]}) is outside"
        )


@PROPERTY_SETTINGS
@given(
    layout=st.lists(
        st.sampled_from(["good", "no-name", "point", "outside", "not-a-feature"]),
        min_size=1,
        max_size=10,
    )
)
def test_problems_are_numbered_by_1_based_feature_position(layout):
    makers = {
        "good": lambda i: feature(f"Area {i}", geometry=rectangle(-0.1 + i * 0.02)),
        "no-name": lambda i: feature("", geometry=rectangle(-0.1 + i * 0.02)),
        "point": lambda i: feature(f"Area {i}", geometry={"type": "Point", "coordinates": [0, 0]}),
        "outside": lambda i: feature(f"Area {i}", geometry=rectangle(200)),
        "not-a-feature": lambda i: [i],
    }
    result = parse_area_features(collection(*(makers[kind](i) for i, kind in enumerate(layout))))
    assert [p.number for p in result.problems] == [
        i + 1 for i, kind in enumerate(layout) if kind != "good"
    ]
    assert [c.name for c in result.candidates] == [
        f"Area {i}" for i, kind in enumerate(layout) if kind == "good"
    ]


# --- RFC 7946: rings wound by the right-hand rule ---


def _follows_right_hand_rule(geometry):
    polygons = [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    for rings in polygons:
        polygon = shape({"type": "Polygon", "coordinates": rings})
        if not polygon.exterior.is_ccw or any(ring.is_ccw for ring in polygon.interiors):
            return False
    return True


def test_rings_are_wound_as_rfc_7946_requires():
    """Exterior counterclockwise, holes clockwise ("A linear ring MUST follow the right-hand
    rule"): a clockwise square with a counterclockwise hole comes out the other way round,
    with the same points and area."""
    from locus.core.geo import right_hand_rule

    outer = [[0, 0], [0, 2], [2, 2], [2, 0], [0, 0]]  # clockwise
    hole = [[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 1.5], [0.5, 0.5]]  # counterclockwise
    polygon = {"type": "Polygon", "coordinates": [outer, hole]}
    assert not _follows_right_hand_rule(polygon)
    oriented = right_hand_rule(polygon)
    assert _follows_right_hand_rule(oriented)
    assert oriented["coordinates"] == [outer[::-1], hole[::-1]]
    assert shape(oriented).area == shape(polygon).area == 3
    multi = {"type": "MultiPolygon", "coordinates": [[outer], [hole]]}
    assert _follows_right_hand_rule(right_hand_rule(multi))
    assert right_hand_rule(right_hand_rule(polygon)) == oriented
    assert right_hand_rule(None) is None


def test_the_london_boroughs_are_stored_by_the_right_hand_rule():
    """The published file winds its boroughs clockwise; what Locus stores (and so every
    GeoJSON it writes) follows RFC 7946."""
    raw = LONDON.read_bytes()
    source = json.loads(raw)
    assert not all(_follows_right_hand_rule(f["geometry"]) for f in source["features"])
    result = parse_area_features(raw)
    assert len(result.candidates) == 33
    for candidate in result.candidates:
        assert _follows_right_hand_rule(candidate.geometry), candidate.name


@pytest.mark.django_db
def test_the_migration_rewinds_areas_imported_before(world):
    """Areas stored before imports wound their rings keep their shape, wound by the rule."""
    from importlib import import_module

    from django.apps import apps

    from locus.places.models import Area

    area = world.a.areas[0]
    clockwise = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    Area._base_manager.filter(pk=area.pk).update(geometry=clockwise)
    import_module("locus.places.migrations.0007_areas_right_hand_rule").orient(apps, None)
    stored = Area._base_manager.get(pk=area.pk).geometry
    assert _follows_right_hand_rule(stored)
    assert stored["coordinates"][0] == clockwise["coordinates"][0][::-1]
