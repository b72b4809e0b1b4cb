from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_shared_additions_s3"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="language",
            field=models.CharField(blank=True, max_length=15),
        ),
    ]
