from .models import Area, Place


def place_get_by_slug(slug):
    return Place.objects.filter(slug=slug, is_active=True).select_related("network").first()


def place_list():
    return Place.objects.filter(is_active=True).select_related("network")


def area_list(*, place, with_geometry=False):
    """The place's areas by name; boundaries are large, so they are loaded only on request."""
    areas = Area.objects.filter(place=place).order_by("name")
    return areas if with_geometry else areas.defer("geometry")


def areas_geojson_text(*, place):
    """The FeatureCollection as JSON text, cached per place until an area changes (the key
    carries the place id, the count and the latest change)."""
    import json

    from django.core.cache import cache
    from django.db.models import Count, Max

    stamp = Area.objects.filter(place=place).aggregate(n=Count("id"), last=Max("updated_at"))
    last = stamp["last"].isoformat() if stamp["last"] else "none"
    key = f"place:{place.pk}:areas-geojson:{stamp['n']}:{last}"
    text = cache.get(key)
    if text is None:
        text = json.dumps(areas_feature_collection(place=place), separators=(",", ":"))
        cache.set(key, text, timeout=24 * 3600)
    return text


def areas_feature_collection(*, place):
    """The place's areas as a GeoJSON FeatureCollection."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": area.pk,
                "properties": {"name": area.name, "code": area.code, "population": area.population},
                "geometry": area.geometry,
            }
            for area in area_list(place=place, with_geometry=True)
        ],
    }
