"""Give every existing organisation its own HSDS identifier (data migration)."""

import uuid

from django.db import migrations


def fill(apps, schema_editor):
    Organisation = apps.get_model("directory", "Organisation")
    for organisation in Organisation.objects.filter(hsds_id__isnull=True).only("pk"):
        Organisation.objects.filter(pk=organisation.pk).update(hsds_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("directory", "0005_services_partnerships")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
