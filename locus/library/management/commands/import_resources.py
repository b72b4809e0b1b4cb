from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from locus.library.imports import ImportRejected
from locus.library.services import records_import


class Command(BaseCommand):
    help = (
        "Import library resources from a CSV file (docs/library.md). Idempotent: rows are "
        "matched to records by web address, so re-running updates and never duplicates. All "
        "or nothing unless --skip-invalid; every problem is reported with its line and column."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid rows even when some rows are not valid.",
        )

    def handle(self, *args, **options):
        path = options["file"]
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        try:
            summary = records_import(
                raw=raw, filename=path.name, skip_invalid=options["skip_invalid"]
            )
        except ImportRejected as exc:
            for problem in exc.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(exc.message) from None
        for problem in summary["problems"]:
            self.stderr.write(
                f"  skipped: line {problem['line']}, {problem['column'] or '-'}: "
                f"{problem['message']}"
            )
        for warning in summary["warnings"]:
            self.stderr.write(
                f"  note: line {warning['line']}, {warning['column'] or '-'}: {warning['message']}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{path.name}: {summary['created']} created, {summary['updated']} updated, "
                f"{summary['unchanged']} unchanged, {summary['skipped']} skipped; "
                f"links changed on {summary['links_changed']}"
            )
        )
