"""Base for commands that work inside one place (`--place SLUG`), or, for commands that allow it
(`allow_all = True`), in every active place in turn (`--all`), each in its own scope."""

from django.core.management.base import BaseCommand, CommandError

from locus.core.tenancy import place_scope


class PlaceCommand(BaseCommand):
    allow_all = False

    def add_arguments(self, parser):
        if not self.allow_all:
            parser.add_argument("--place", required=True, help="The place's slug, e.g. london")
            return
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--place", help="The place's slug, e.g. london")
        which.add_argument("--all", action="store_true", help="Every active place, one by one")

    def handle(self, *args, **options):
        from locus.places.models import Place
        from locus.places.selectors import place_get_by_slug

        slug = options.pop("place")
        if options.pop("all", False):
            for place in Place.objects.filter(is_active=True).order_by("slug"):
                with place_scope(place):
                    self.handle_place(place, *args, **options)
            return None
        place = place_get_by_slug(slug)
        if place is None:
            raise CommandError(f"No active place with slug '{slug}'")
        with place_scope(place):
            return self.handle_place(place, *args, **options)

    def handle_place(self, place, *args, **options):
        """The command's work, with `place` active; each command defines it."""
        raise NotImplementedError
