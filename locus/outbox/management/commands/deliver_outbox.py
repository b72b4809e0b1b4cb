"""Deliver every due outbox message of every place: once (for cron) or in a loop (a sidecar).
Each sweep first routes any report whose routing task was lost or failed, so that its
messages exist before delivery, fails any watched job (an import) left running by a worker that
died, and starts any whose task was lost or could not be queued. It also deletes the rate
limits' counts whose time is over.

manage.py deliver_outbox              # one sweep, then exit
manage.py deliver_outbox --loop 15    # sweep every 15 seconds until SIGTERM/SIGINT
"""

import signal
from threading import Event

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from locus.core.ratelimit import purge_expired_counts
from locus.outbox.sweep import BATCH_SIZE, outbox_deliver_due


class Command(BaseCommand):
    help = "Deliver due outbox messages (webhooks and e-mails) across all places."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="Keep running, sweeping every SECONDS, until stopped (SIGTERM or Ctrl-C).",
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, loop=None, batch_size=BATCH_SIZE, **options):
        if loop is not None and loop <= 0:
            raise CommandError("--loop takes a positive number of seconds")
        if loop is None:
            self._sweep(batch_size, quiet=False)
            return
        stop = Event()
        previous = {
            signum: signal.signal(signum, lambda *_: stop.set())
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        self.stdout.write(f"Delivering the outbox every {loop:g} s; stop with SIGTERM or Ctrl-C.")
        try:
            while not stop.is_set():
                close_old_connections()
                self._sweep(batch_size, quiet=True)
                stop.wait(loop)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write("Stopped.")

    def _sweep(self, batch_size, *, quiet):
        from locus.cases.tasks import route_pending_everywhere
        from locus.core.tasks import fail_abandoned_jobs_everywhere, start_stalled_jobs_everywhere

        routed = route_pending_everywhere.call()
        if routed:
            self.stdout.write(f"Routed late: {', '.join(f'{s} {n}' for s, n in routed.items())}")
        abandoned = fail_abandoned_jobs_everywhere.call()
        if abandoned:
            self.stdout.write(
                "Jobs failed, their worker stopped: "
                + ", ".join(f"{s} {n}" for s, n in abandoned.items())
            )
        started = start_stalled_jobs_everywhere.call()
        if started:
            self.stdout.write(
                f"Jobs started late: {', '.join(f'{s} {n}' for s, n in started.items())}"
            )
        purge_expired_counts()
        counts = outbox_deliver_due(batch_size=batch_size)
        if counts or not quiet:
            summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
            self.stdout.write(f"Outbox sweep: {summary or 'nothing due'}")
