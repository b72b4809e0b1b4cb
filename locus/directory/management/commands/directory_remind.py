from django.conf import settings
from django.core.management.base import BaseCommand

from locus.core.tenancy import place_scope
from locus.directory.services import directory_send_reminders


class Command(BaseCommand):
    help = (
        "E-mail (through the outbox) each organisation whose directory records have not been "
        "checked for the place's period, with a link to its entry (once per period). Run it "
        "daily, e.g. from cron, or enqueue locus.directory.tasks.send_directory_reminders."
    )

    def add_arguments(self, parser):
        parser.add_argument("--place", help="Only this place (its slug); default: every place")
        parser.add_argument("--base-url", default="", help="Address of Locus for the links.")

    def handle(self, *args, **options):
        from locus.places.models import Place

        places = Place.objects.filter(is_active=True)
        if options["place"]:
            places = places.filter(slug=options["place"])
        base_url = options["base_url"] or getattr(settings, "LOCUS_BASE_URL", "")
        total = 0
        for place in places:
            with place_scope(place):
                count = directory_send_reminders(place=place, base_url=base_url)
            total += count
            self.stdout.write(f"{place.slug}: {count} organisations reminded")
        self.stdout.write(self.style.SUCCESS(f"{total} organisations reminded"))
