import json
from pathlib import Path

from django.core.management.base import CommandError

from locus.core.errors import ValidationFailed
from locus.core.management.base import PlaceCommand
from locus.directory.hsds.apply import apply_import
from locus.directory.hsds.importer import Problem, parse_csv_package, parse_text


class Command(PlaceCommand):
    help = (
        "Import Open Referral HSDS 3.1 data into the place's directory: a JSON file, a "
        "directory holding organizations.json / services.json (as export_hsds writes), or "
        "the CSV tabular package (a directory with organizations.csv, services.csv…). Every "
        "bad row is reported with its row number and reasons. By default the good rows are "
        "imported; --all-or-nothing imports nothing when any row is bad."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="Import nothing when any row is not valid.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check only; write nothing.")

    def _parse(self, path):
        if path.is_dir():
            csv_files = {p.name: p.read_text(encoding="utf-8-sig") for p in path.glob("*.csv")}
            if csv_files:
                return parse_csv_package(csv_files)
            bundle = {}
            for name in ("organizations", "services"):
                file = path / f"{name}.json"
                if file.exists():
                    bundle[name] = json.loads(file.read_text(encoding="utf-8"))
            if not bundle:
                raise CommandError(f"{path} holds no CSV package and no organizations.json")
            return parse_text(json.dumps(bundle))
        return parse_text(path.read_text(encoding="utf-8-sig"), filename=path.name)

    def handle_place(self, place, *args, **options):
        try:
            parsed = self._parse(Path(options["path"]))
        except OSError as exc:
            raise CommandError(f"Cannot read {options['path']}: {exc.strerror}") from None
        except (ValidationFailed, ValueError) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from None
        mode = "nothing" if options["all_or_nothing"] else "good_rows"
        if options["dry_run"]:
            from django.db import transaction

            with transaction.atomic():
                summary = apply_import(place=place, parsed=parsed, mode=mode)
                transaction.set_rollback(True)
        else:
            summary = apply_import(place=place, parsed=parsed, mode=mode)
        for problem in summary["problems"]:
            self.stderr.write(f"  {Problem(**problem)}")
        for warning in summary["warnings"]:
            self.stderr.write(f"  warning: {warning}")
        if not summary["imported"]:
            raise CommandError(f"{summary['skipped']} rows are not valid, so nothing was imported.")
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            self.style.SUCCESS(
                f"{place.slug}: {summary['created']} created, {summary['updated']} updated, "
                f"{summary['skipped']} skipped ({verb} imported)"
            )
        )
