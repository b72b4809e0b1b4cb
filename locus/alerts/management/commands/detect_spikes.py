"""Judge the last week that has ended (or every week since a date) for unusual rises, store
the alarms and tell the subscribers (docs/insights.md, "Alerts").

    manage.py detect_spikes                              # every active place, last week
    manage.py detect_spikes --place london               # one place
    manage.py detect_spikes --place london --since 2026-01-05   # back-fill week by week
    manage.py detect_spikes --enqueue                    # hand the run to the task worker

Prints counts per week, never anything of a report. Safe to run again: alarms are stored once
per series and week, and their messages are queued once. Run it weekly (Monday morning).
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from locus.alerts.services import detection_run, detection_run_since
from locus.core.errors import ValidationFailed
from locus.core.tenancy import place_scope
from locus.places.selectors import place_get_by_slug, place_list


class Command(BaseCommand):
    help = "Detect unusual weekly rises of incidents per area and category; alert subscribers."

    def add_arguments(self, parser):
        parser.add_argument("--place", help="Only this place (its slug); default: every place")
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the run as a task for the worker (db_worker) instead of running it here.",
        )
        parser.add_argument(
            "--since",
            help="Judge every week from the one holding this date (YYYY-MM-DD) to the last one.",
        )

    def handle(self, *args, place=None, since=None, enqueue=False, **options):
        if since:
            try:
                since = date.fromisoformat(since)
            except ValueError:
                raise CommandError("--since takes a date, YYYY-MM-DD") from None
        if place:
            found = place_get_by_slug(place)
            if found is None:
                raise CommandError(f"No active place with slug '{place}'")
            places = [found]
        else:
            places = list(place_list().order_by("slug"))
        if enqueue:
            from locus.alerts.tasks import detect_spikes, detect_spikes_all

            if place:
                result = detect_spikes.enqueue(
                    place_id=places[0].pk, since=since.isoformat() if since else None
                )
            elif since:
                raise CommandError("--since with --enqueue needs --place")
            else:
                result = detect_spikes_all.enqueue()
            self.stdout.write(f"Queued task {result.id}")
            return
        for target in places:
            with place_scope(target):
                try:
                    if since:
                        summaries = detection_run_since(place=target, since=since)
                    else:
                        summaries = [detection_run(place=target)]
                except ValidationFailed as exc:
                    raise CommandError(f"{target.slug}: {exc.message}") from None
            for summary in summaries:
                self.stdout.write(f"{target.slug}: {summary.line()}")
