"""Tokens expire. Tokens made before have none: each gets 90 days from the upgrade (the default
lifetime of a new token), so that no integration stops at once and its owner has time to see
the warning on the tokens page and make a new one (docs/api.md, "Expiry and revocation")."""

from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone

import locus.accounts.models

EXISTING_TOKENS_LIFETIME = timedelta(days=90)


def date_existing_tokens(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(
        expires_at=timezone.now() + EXISTING_TOKENS_LIFETIME
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(date_existing_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                default=locus.accounts.models.token_default_expiry, verbose_name="expiry"
            ),
        ),
    ]
