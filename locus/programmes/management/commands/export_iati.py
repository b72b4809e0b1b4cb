"""Write a place's programmes as an IATI 2.03 activities file (docs/programmes.md)."""

from pathlib import Path

from django.core.management.base import CommandError

from locus.core.management.base import PlaceCommand
from locus.programmes import iati
from locus.programmes.selectors import place_programmes_for_export


class Command(PlaceCommand):
    help = "Write the place's programmes as IATI 2.03 activities (XML)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--output", required=True, help="The file to write, e.g. london.xml")
        parser.add_argument(
            "--language", default="en", choices=["en", "fr", "de", "sv"], help="Labels' language"
        )

    def handle_place(self, place, *args, output, language="en", **options):
        programmes = place_programmes_for_export(place)
        if not programmes:
            raise CommandError(f"{place.slug} has no programme: an IATI file needs at least one")
        content = iati.activities_xml(programmes, language=language)
        Path(output).write_bytes(content)
        self.stdout.write(f"Wrote {len(programmes)} activities to {output}")
