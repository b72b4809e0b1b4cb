"""Back up the database and every stored file into one directory, then check it.

    manage.py backup                          # into $LOCUS_VAR_DIR/backups
    manage.py backup /mnt/backups --keep 14   # and keep only the 14 newest there
    manage.py backup --verify /mnt/backups/locus-backup-20261129T020000Z

Safe while Locus is serving. Prints the backup's path and counts, never data. Exit status 1
when the backup cannot be made or a verified backup does not check out. Run it daily and keep
the copies on another machine; the encryption keys are not in it (docs/operations.md,
"Backups and restore").
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from locus.core.backup import MANIFEST, BackupFailed, backup_create, backup_verify


class Command(BaseCommand):
    help = "Back up the database and the stored files (evidence stays encrypted), and check it."

    def add_arguments(self, parser):
        parser.add_argument(
            "destination",
            nargs="?",
            help="Directory to write the backup into (default: $LOCUS_VAR_DIR/backups).",
        )
        parser.add_argument(
            "--keep",
            type=int,
            help="After a good backup, delete all but this many newest backups in the directory.",
        )
        parser.add_argument(
            "--verify", metavar="BACKUP", help="Check an existing backup instead of making one."
        )

    def handle(self, *args, destination=None, keep=None, verify=None, **options):
        if verify:
            self._verify(Path(verify))
            return
        if keep is not None and keep < 1:
            raise CommandError("--keep must be at least 1.")
        destination = Path(destination) if destination else settings.VAR_DIR / "backups"
        try:
            backup = backup_create(destination=destination)
        except (BackupFailed, OSError) as exc:
            raise CommandError(f"Backup failed: {exc}") from exc
        counts = backup.manifest["database"].get("counts", {})
        summary = ", ".join(f"{label} {count}" for label, count in sorted(counts.items()))
        self.stdout.write(f"Backup written and checked: {backup.path} ({backup.files} files)")
        if summary:
            self.stdout.write(f"Rows: {summary}")
        if keep:
            for old in self._older_backups(destination, keep):
                shutil.rmtree(old)
                self.stdout.write(f"Removed the older backup {old}")

    def _verify(self, path):
        problems = backup_verify(path=path)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            plural = "s" if len(problems) > 1 else ""
            raise CommandError(f"{path} does not check out ({len(problems)} problem{plural}).")
        self.stdout.write(f"{path} checks out.")

    @staticmethod
    def _older_backups(destination, keep):
        """Backups in `destination` beyond the `keep` newest (names sort by time); only
        directories this command made, recognised by their name and manifest."""
        backups = sorted(
            path
            for path in destination.glob("locus-backup-*")
            if path.is_dir() and (path / MANIFEST).is_file()
        )
        return backups[:-keep]
