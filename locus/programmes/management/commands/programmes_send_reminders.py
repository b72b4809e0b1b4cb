"""E-mail organisations whose programme results are due (through the outbox). Run daily."""

from django.conf import settings
from django.core.management.base import BaseCommand

from locus.core.tenancy import place_scope
from locus.places.selectors import place_list
from locus.programmes.services import reminders_send


class Command(BaseCommand):
    help = "Remind organisations by e-mail when programme results are due (once per period)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="",
            help="Where links in the e-mails point (default: LOCUS_BASE_URL)",
        )

    def handle(self, *args, base_url="", **options):
        base_url = base_url or getattr(settings, "LOCUS_BASE_URL", "") or ""
        total = 0
        for place in place_list().order_by("slug"):
            with place_scope(place):
                count = reminders_send(place=place, base_url=base_url)
            total += count
            if count:
                self.stdout.write(f"{place.slug}: {count} reminders")
        self.stdout.write(f"{total} reminders queued")
