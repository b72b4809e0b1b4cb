from django.conf import settings
from django.core.management.base import BaseCommand

from locus.accounts.services import tokens_send_expiry_notices


class Command(BaseCommand):
    help = (
        "E-mail the owner of each API token that expires within a week (once per token), with "
        "a link to the tokens page. Run it daily, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="", help="Address of Locus for the links.")

    def handle(self, *args, **options):
        base_url = options["base_url"] or getattr(settings, "LOCUS_BASE_URL", "")
        count = tokens_send_expiry_notices(base_url=base_url)
        self.stdout.write(self.style.SUCCESS(f"{count} token owners told"))
