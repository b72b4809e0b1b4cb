from django.core.management.base import BaseCommand

from locus.library.moderation import records_remind_owners


class Command(BaseCommand):
    help = (
        "The library's yearly check: e-mail the organisations whose published records were "
        "not confirmed current for a year (once a year per record). Run it daily, e.g. from "
        "cron, or enqueue the task locus.library.tasks.remind_library_owners."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", default="", help="Address of Locus for the links (default: setting)."
        )

    def handle(self, *args, **options):
        reminded = records_remind_owners(base_url=options["base_url"])
        self.stdout.write(self.style.SUCCESS(f"{len(reminded)} records due for their yearly check"))
