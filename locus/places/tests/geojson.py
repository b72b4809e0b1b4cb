"""Small GeoJSON builders for the area-import tests (not a test module)."""

import json

LON, LAT = -0.1, 51.5  # the two-place world's place A (Alphaville) sits here


def square(lon=LON, lat=LAT, size=0.01):
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(name, geometry=None, **properties):
    return {
        "type": "Feature",
        "properties": {"name": name, **properties},
        "geometry": geometry or square(),
    }


def bad_feature(name="Nowhere"):
    """A feature refused by validation: its coordinates are in British National Grid metres."""
    return feature(name, square(530000, 180000, 1000))


def collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def boroughs(count, *, prefix="Borough", **properties):
    return [
        feature(f"{prefix} {i}", square(LON + i * 0.02, LAT), **properties) for i in range(count)
    ]
