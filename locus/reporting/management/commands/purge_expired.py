"""Apply every place's retention periods (locus/reporting/retention.py).

    manage.py purge_expired                      # every place, deactivated ones too
    manage.py purge_expired --place london       # one place
    manage.py purge_expired --dry-run            # count only, change nothing

Prints counts per place, never references or personal data. Safe to run again: a second run
finds nothing to do. Run it daily (docs/operations.md, "Retention and reconciliation").
A deactivated place is purged too: its pages are closed, but the reports it holds must still
go when their time is up.
Without `--place`, it then deletes the library's files that no record names (the library
belongs to no place: `library.files.files_purge_orphans`).
"""

from django.core.management.base import BaseCommand, CommandError

from locus.core.tenancy import place_scope
from locus.library.files import files_purge_orphans
from locus.places.selectors import place_get_by_slug, place_list
from locus.reporting.retention import purge_expired


class Command(BaseCommand):
    help = (
        "Anonymise closed reports past retention, delete evidence past retention and "
        "abandoned staged files, per place; delete stored files no record names."
    )

    def add_arguments(self, parser):
        parser.add_argument("--place", help="Only this place (its slug); default: every place")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be done; change nothing."
        )

    def handle(self, *args, place=None, dry_run=False, **options):
        if place:
            found = place_get_by_slug(place, include_inactive=True)
            if found is None:
                raise CommandError(f"No place with slug '{place}'")
            places = [found]
        else:
            places = list(place_list(include_inactive=True).order_by("slug"))
        prefix = "[dry run] would have: " if dry_run else ""
        for target in places:
            with place_scope(target):
                result = purge_expired(place=target, dry_run=dry_run)
            self.stdout.write(f"{target.slug}: {prefix}{result}")
        if not place:
            orphans = files_purge_orphans(dry_run=dry_run)
            self.stdout.write(f"library: {prefix}{orphans} file(s) without a record deleted")
