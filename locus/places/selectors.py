import copy
import threading
import time

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from .models import Area, Network, Place


def place_get_by_slug(slug, *, include_inactive=False):
    """The active place with this slug; with `include_inactive`, a deactivated one too (for
    duties that outlive a place's service, such as retention)."""
    places = Place.objects.filter(slug=slug)
    if not include_inactive:
        places = places.filter(is_active=True)
    return places.select_related("network").first()


_places = {}  # slug → (monotonic deadline, Place or None)
_places_lock = threading.Lock()


def place_for_url(slug):
    """The active place a URL names, remembered in this process for
    `LOCUS_PLACE_CACHE_SECONDS`: every place page and API call needs it and places rarely
    change. A change is seen at once by the process that made it and by the others within
    those seconds. Each caller gets its own copy, so a view changing it changes nothing else."""
    ttl = settings.LOCUS_PLACE_CACHE_SECONDS
    if not ttl:
        return place_get_by_slug(slug)
    now = time.monotonic()
    cached = _places.get(slug)
    if cached is None or cached[0] <= now:
        place = place_get_by_slug(slug)
        with _places_lock:
            _places[slug] = cached = (now + ttl, place)
    return copy.copy(cached[1])


def _forget_places(**kwargs):
    with _places_lock:
        _places.clear()


for _model in (Place, Network):
    post_save.connect(_forget_places, sender=_model, dispatch_uid=f"forget-places-{_model}")
    post_delete.connect(_forget_places, sender=_model, dispatch_uid=f"forget-places-d-{_model}")


def place_list(*, include_inactive=False):
    """Active places; with `include_inactive`, every place (as `place_get_by_slug`)."""
    places = Place.objects.all() if include_inactive else Place.objects.filter(is_active=True)
    return places.select_related("network")


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


def place_setup_steps(*, place, membership, area_count):
    """What a new place's own team has still to do before Locus works for it, for the staff
    home of a person who may do it: names of the steps not done yet, in the order of
    docs/getting-started.md. Empty once the place is set up (a colleague invited counts). One
    or two queries per step a person may take, none for the others."""
    from locus.accounts.policies import Capability, membership_can
    from locus.accounts.selectors import organisation_members, pending_invitations
    from locus.cases.selectors import routing_rule_list
    from locus.directory.selectors import organisation_list

    steps = []
    if membership_can(membership, Capability.MANAGE_AREAS) and not area_count:
        steps.append("areas")
    if membership_can(membership, Capability.MANAGE_MEMBERS) and not (
        organisation_members(organisation=membership.organisation)
        .filter(is_active=True)
        .exclude(pk=membership.pk)
        .exists()
        or pending_invitations(organisation=membership.organisation).exists()
    ):
        steps.append("members")
    if (
        membership_can(membership, Capability.MANAGE_DIRECTORY)
        and not organisation_list(place=place).exclude(pk=membership.organisation_id).exists()
    ):
        steps.append("partners")
    if (
        membership_can(membership, Capability.MANAGE_ROUTING)
        and not routing_rule_list(place, active_only=True).exists()
    ):
        steps.append("routing")
    return steps
