from django.db import migrations, models
from django.db.models.functions import Coalesce
from django.utils import timezone


def last_sign_of_life(apps, schema_editor):
    """Existing jobs: their last known moment. A job left running by a worker that died before
    this migration is then failed by the first sweep, like any other abandoned job."""
    Job = apps.get_model("core", "Job")
    Job._base_manager.update(updated_at=Coalesce("finished_at", "started_at", "created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_job_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="updated_at",
            field=models.DateTimeField(default=timezone.now),
        ),
        migrations.RunPython(last_sign_of_life, migrations.RunPython.noop, elidable=True),
    ]
