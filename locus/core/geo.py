"""GeoJSON parsing and validation for area boundaries (WGS84, no PostGIS needed)."""

import json
import math
import unicodedata
from dataclasses import dataclass, field
from itertools import pairwise

from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.validation import explain_validity, make_valid

from .errors import ValidationFailed

AREA_GEOMETRY_TYPES = {"Polygon", "MultiPolygon"}
# The largest value Area.population (a PositiveIntegerField) holds on every database.
MAX_POPULATION = 2_147_483_647


@dataclass
class AreaCandidate:
    name: str
    geometry: dict
    code: str = ""
    population: int | None = None
    repaired: str = ""  # why the geometry was repaired, if it was


@dataclass
class FeatureProblem:
    number: int  # 1-based position of the feature in the file
    name: str
    reason: str

    def as_dict(self):
        return {"feature": self.number, "name": self.name, "reason": self.reason}


@dataclass
class AreaParseResult:
    candidates: list[AreaCandidate] = field(default_factory=list)
    problems: list[FeatureProblem] = field(default_factory=list)


def load_feature_collection(raw):
    """Decode bytes/str into a FeatureCollection dict or raise ValidationFailed on the file."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(
                _("The file is not UTF-8 text."), fields={"file": [_("Not UTF-8.")]}
            ) from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        message = _("The file is not valid JSON: %(error)s") % {"error": str(exc)[:200]}
        raise ValidationFailed(message, fields={"file": [message]}) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        message = _("The file must be a GeoJSON FeatureCollection.")
        raise ValidationFailed(message, fields={"file": [message]})
    if not isinstance(data.get("features"), list) or not data["features"]:
        message = _("The FeatureCollection has no features.")
        raise ValidationFailed(message, fields={"file": [message]})
    return data


def _positions(coords, depth):
    """Yield every [lon, lat] position of a Polygon (depth 2) or MultiPolygon (depth 3)."""
    if not isinstance(coords, list):
        raise ValueError
    if depth == 0:
        yield coords
        return
    for item in coords:
        yield from _positions(item, depth - 1)


def _check_positions(geometry):
    depth = 2 if geometry["type"] == "Polygon" else 3
    try:
        positions = list(_positions(geometry.get("coordinates"), depth))
    except (ValueError, RecursionError):
        return _("The coordinates are not nested as a %(type)s needs.") % {"type": geometry["type"]}
    if not positions:
        return _("The geometry has no coordinates.")
    for position in positions:
        if not isinstance(position, list) or len(position) < 2:
            return _("A position is not a [longitude, latitude] pair.")
        lon, lat = position[0], position[1]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
            return _("A coordinate is not a number.")
        # Ints are always finite (and math.isfinite overflows on a huge one).
        if not all(isinstance(v, int) or math.isfinite(v) for v in (lon, lat)):
            return _("A coordinate is not a finite number.")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return _(
                "Coordinate (%(lon)s, %(lat)s) is outside WGS84 longitude/latitude ranges; "
                "is the file in another projection?"
            ) % {"lon": str(lon)[:24], "lat": str(lat)[:24]}
    return None


def _check_geometry(geometry):
    if not isinstance(geometry, dict):
        return _("The feature has no geometry.")
    if geometry.get("type") not in AREA_GEOMETRY_TYPES:
        return _(
            "Geometry type %(type)s is not allowed; areas must be Polygon or MultiPolygon."
        ) % {"type": str(geometry.get("type"))[:40]}
    problem = _check_positions(geometry)
    if problem:
        return problem
    try:
        shp = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        return _("The geometry cannot be read: %(error)s") % {"error": str(exc)[:120]}
    if shp.is_empty:
        return _("The geometry is empty.")
    return None


# A repair may change the area by at most this share; beyond it the feature is refused.
MAX_REPAIR_AREA_CHANGE = 0.01


def _repair(geometry):
    """Return (geometry, note). Small topology faults common in published boundary files (a
    self-touching ring, a degenerate sliver) are repaired when the area barely changes."""
    shp = shape(geometry)
    if shp.is_valid:
        return geometry, ""
    reason = explain_validity(shp)[:120]
    fixed = make_valid(shp)
    if fixed.geom_type == "GeometryCollection":
        parts = [g for g in fixed.geoms if isinstance(g, Polygon | MultiPolygon)]
        fixed = (
            MultiPolygon([p for g in parts for p in getattr(g, "geoms", [g])]) if parts else None
        )
    if fixed is None or fixed.is_empty or not isinstance(fixed, Polygon | MultiPolygon):
        return None, reason
    original_area = abs(shp.area) or 1e-12
    if abs(fixed.area - original_area) / original_area > MAX_REPAIR_AREA_CHANGE:
        return None, reason
    return mapping(fixed), reason


def _text_property(properties, key, max_length):
    value = properties.get(key) if key else None
    if value is None:
        return ""
    return str(value).strip()[: max_length + 1]


def _storable_text(text):
    """False for text a database cannot store or a person cannot read: control characters
    (NUL among them) and lone surrogates."""
    return not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def _signed_area(ring):
    """Twice the signed area of a ring (shoelace): positive when counterclockwise."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in pairwise(ring))


def _orient_polygon(rings):
    """Exterior ring counterclockwise, holes clockwise."""
    oriented = []
    for index, ring in enumerate(rings):
        counterclockwise = _signed_area(ring) >= 0
        oriented.append(ring if counterclockwise == (index == 0) else list(reversed(ring)))
    return oriented


def right_hand_rule(geometry):
    """A Polygon or MultiPolygon with its rings wound as RFC 7946 §3.1.6 requires of GeoJSON
    we write ("exterior rings are counterclockwise, and holes are clockwise"); published
    boundary files often wind them the other way (the London boroughs do). Same shape, same
    points; other geometries unchanged."""
    if not isinstance(geometry, dict):
        return geometry
    if geometry.get("type") == "Polygon":
        return {**geometry, "coordinates": _orient_polygon(geometry["coordinates"])}
    if geometry.get("type") == "MultiPolygon":
        return {
            **geometry,
            "coordinates": [_orient_polygon(polygon) for polygon in geometry["coordinates"]],
        }
    return geometry


def _plain(geometry):
    """Tuples (from shapely's mapping) to lists, so the geometry is plain JSON."""
    return json.loads(json.dumps(geometry))


def parse_area_features(raw, *, name_property="name", code_property="", population_property=""):
    """Validate every feature and return the good ones and a problem per bad one.

    Raises ValidationFailed only when the file as a whole cannot be read.
    """
    data = load_feature_collection(raw)
    result = AreaParseResult()
    seen = {}
    for number, feature in enumerate(data["features"], start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            result.problems.append(
                FeatureProblem(number, "", _("This item is not a GeoJSON Feature."))
            )
            continue
        properties = (
            feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        )
        name = _text_property(properties, name_property, 120)
        problem = None
        population = None
        if not name:
            problem = _("The property '%(property)s' (the area's name) is missing or empty.") % {
                "property": name_property
            }
        elif len(name) > 120:
            problem = _("The name is longer than 120 characters.")
        elif not _storable_text(name):
            problem = _("The name contains control characters or invalid Unicode.")
        elif name.casefold() in seen:
            problem = _("Duplicate name: feature %(first)s has the same name.") % {
                "first": seen[name.casefold()]
            }
        else:
            problem = _check_geometry(feature.get("geometry"))
        code = _text_property(properties, code_property, 40)
        if not problem and len(code) > 40:
            problem = _("The code is longer than 40 characters.")
        if not problem and not _storable_text(code):
            problem = _("The code contains control characters or invalid Unicode.")
        if (
            not problem
            and population_property
            and properties.get(population_property) not in (None, "")
        ):
            raw_population = properties[population_property]
            try:
                if isinstance(raw_population, bool):
                    raise ValueError
                population = int(raw_population)
                # int() refuses "1.5" but truncates 1.5; huge ints are compared exactly, not as
                # floats (float() overflows or rounds them).
                if population < 0 or (
                    isinstance(raw_population, float) and population != raw_population
                ):
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                problem = _("The population must be a whole number of zero or more.")
            else:
                if population > MAX_POPULATION:
                    problem = _("The population is larger than %(max)s.") % {"max": MAX_POPULATION}
        if name and name.casefold() not in seen:
            seen[name.casefold()] = number
        if problem:
            result.problems.append(FeatureProblem(number, name[:120], problem))
            continue
        geometry, repair_reason = _repair(feature["geometry"])
        if geometry is None:
            result.problems.append(
                FeatureProblem(
                    number,
                    name,
                    _("The geometry is not valid and cannot be repaired safely: %(reason)s")
                    % {"reason": repair_reason},
                )
            )
            continue
        result.candidates.append(
            AreaCandidate(
                name=name,
                code=code,
                population=population,
                geometry=right_hand_rule(_plain(geometry)),
                repaired=repair_reason,
            )
        )
    return result
