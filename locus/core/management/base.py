"""Base for commands that work inside one place (`--place SLUG`)."""

from django.core.management.base import BaseCommand, CommandError

from locus.core.tenancy import place_scope


class PlaceCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--place", required=True, help="The place's slug, e.g. london")

    def handle(self, *args, **options):
        from locus.places.selectors import place_get_by_slug

        slug = options.pop("place")
        place = place_get_by_slug(slug)
        if place is None:
            raise CommandError(f"No active place with slug '{slug}'")
        with place_scope(place):
            return self.handle_place(place, *args, **options)

    def handle_place(self, place, *args, **options):
        """The command's work, with `place` active; each command defines it."""
        raise NotImplementedError
