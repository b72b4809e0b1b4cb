from .models import Area, Place


def place_get_by_slug(slug):
    return Place.objects.filter(slug=slug, is_active=True).select_related("network").first()


def place_list():
    return Place.objects.filter(is_active=True).select_related("network")


def area_list(*, place, with_geometry=False):
    """The place's areas by name; boundaries are large, so they are loaded only on request."""
    areas = Area.objects.filter(place=place).order_by("name")
    return areas if with_geometry else areas.defer("geometry")


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
