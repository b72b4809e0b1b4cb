"""Wind the stored area boundaries as RFC 7946 requires of GeoJSON (exterior rings
counterclockwise, holes clockwise): imports do so from now on (locus.core.geo.right_hand_rule);
areas imported before keep the file's winding otherwise (data migration; the same shapes, so
nothing to undo)."""

from django.db import migrations
from django.utils import timezone


def orient(apps, schema_editor):
    from locus.core.geo import right_hand_rule

    Area = apps.get_model("places", "Area")
    now = timezone.now()
    for area in Area._base_manager.only("pk", "geometry").iterator(chunk_size=100):
        oriented = right_hand_rule(area.geometry)
        if oriented != area.geometry:
            # updated_at moves so that the cached FeatureCollection (keyed by it) is rebuilt.
            Area._base_manager.filter(pk=area.pk).update(geometry=oriented, updated_at=now)


class Migration(migrations.Migration):
    dependencies = [("places", "0006_retention_cap")]

    operations = [migrations.RunPython(orient, migrations.RunPython.noop)]
