import json
from pathlib import Path

from django.core.management.base import CommandError

from locus.core.management.base import PlaceCommand
from locus.directory.hsds.export import export_csv_package, export_metadata, export_place


class Command(PlaceCommand):
    help = (
        "Write the place's directory as Open Referral HSDS 3.1 JSON: organizations.json, "
        "services.json (arrays of objects valid against the official schemas) and base.json; "
        "with --format csv, the tabular package (organizations.csv, services.csv…) instead."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--output", type=Path, required=True, help="A directory to write to")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle_place(self, place, *args, **options):
        output = Path(options["output"])
        try:
            output.mkdir(parents=True, exist_ok=True)
            data = export_place(place)
            if options["format"] == "csv":
                for name, text in export_csv_package(place).items():
                    (output / name).write_text(text, encoding="utf-8")
            documents = [("base.json", export_metadata(place))]
            if options["format"] == "json":
                documents += [
                    ("organizations.json", data["organizations"]),
                    ("services.json", data["services"]),
                ]
            for name, content in documents:
                (output / name).write_text(
                    json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
                )
        except OSError as exc:
            raise CommandError(f"Cannot write to {output}: {exc.strerror}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{place.slug}: {len(data['organizations'])} organisations and "
                f"{len(data['services'])} services written to {output}"
            )
        )
