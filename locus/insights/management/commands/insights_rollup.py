"""Bring a place's insights roll-up up to date, or rebuild it (schedule `--rebuild` nightly:
it also forgets reports erased since they were counted)."""

import time

from locus.core.management.base import PlaceCommand
from locus.insights.services import rollup_rebuild, rollup_refresh


class Command(PlaceCommand):
    help = "Refresh (or, with --rebuild, recompute) the insights roll-up of a place."
    allow_all = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--rebuild", action="store_true", help="Recompute everything.")

    def handle_place(self, place, *args, rebuild=False, **options):
        started = time.perf_counter()
        if rebuild:
            rows = rollup_rebuild(place=place)
            self.stdout.write(f"{place.slug}: roll-up rebuilt, {rows} rows")
        else:
            done = rollup_refresh(place=place)
            self.stdout.write(f"{place.slug}: {done or 'already up to date'}")
        self.stdout.write(f"in {time.perf_counter() - started:.2f} s")
