from django.core.management.base import BaseCommand

from locus.library.services import search_reindex


class Command(BaseCommand):
    help = (
        "Rebuild the library's facet rows and full-text index (FTS5 on SQLite, tsvector on "
        "PostgreSQL) from the records, e.g. after restoring a database."
    )

    def handle(self, *args, **options):
        count = search_reindex()
        self.stdout.write(self.style.SUCCESS(f"{count} records indexed"))
