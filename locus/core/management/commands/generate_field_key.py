"""Print a new random Fernet key for LOCUS_FIELD_KEYS."""

from django.core.management.base import BaseCommand

from locus.core.crypto import generate_key


class Command(BaseCommand):
    help = (
        "Print a new Fernet key for LOCUS_FIELD_KEYS. To rotate, put it first in the list, "
        "run rotate_keys, then drop the old key."
    )

    def handle(self, *args, **options):
        self.stdout.write(generate_key())
