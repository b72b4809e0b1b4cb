from pathlib import Path

from django.core.management.base import CommandError

from locus.core.errors import ValidationFailed
from locus.core.management.base import PlaceCommand
from locus.places.services import areas_import_from_file


class Command(PlaceCommand):
    help = (
        "Import a place's areas from a GeoJSON FeatureCollection (WGS84 Polygons/MultiPolygons). "
        "All or nothing unless --skip-invalid; every bad feature is reported."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file", type=Path)
        parser.add_argument("--name-property", default="name")
        parser.add_argument("--code-property", default="")
        parser.add_argument("--population-property", default="")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid features even when some are invalid.",
        )

    def handle_place(self, place, *args, **options):
        path = options["file"]
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        try:
            summary = areas_import_from_file(
                place=place,
                raw=raw,
                name_property=options["name_property"],
                code_property=options["code_property"],
                population_property=options["population_property"],
                skip_invalid=options["skip_invalid"],
                log=lambda message, level="info": self.stderr.write(f"  {message}"),
            )
        except ValidationFailed as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{place.slug}: {summary['created']} areas created, {summary['updated']} updated, "
                f"{summary['skipped']} skipped"
            )
        )
