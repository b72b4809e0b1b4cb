"""Backups: a consistent copy of the database and of every stored file, with a manifest that
lets the copy be checked later (docs/operations.md, "Backups and restore").

A backup is a directory `locus-backup-<UTC time>` holding:
- `database.sqlite3` (SQLite's online backup: one consistent snapshot, taken while Locus keeps
  serving) or `database.dump` (PostgreSQL, `pg_dump --format=custom`);
- `files/<storage>/…`: the files of every file-system storage (evidence stays encrypted, as it
  is on disk);
- `manifest.json`: when, which database, the SHA-256 of every file in the backup, and (SQLite)
  the row counts of the tables that matter, read from the copy itself.

The database is copied before the files: a file is written before the row that names it is
committed, so every file the copy names is already on disk when the files are copied (unless it
is deleted meanwhile, by erasure or retention: it is then left out, not an error). The keys
(`LOCUS_FIELD_KEYS`) are not in the backup, on purpose: keep them elsewhere.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.apps import apps
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from locus.core.storage import storages_in_use

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"
FILES_DIR = "files"
# Tables whose row counts the manifest records (SQLite): what a restore drill compares.
COUNTED_MODELS = (
    "reporting.Report",
    "reporting.Evidence",
    "reporting.ConsentChange",
    "cases.Case",
    "cases.RoutingDecision",
    "outbox.OutboxMessage",
    "core.AuditEvent",
)


class BackupFailed(Exception):
    """The backup could not be made or does not check out; the message says why."""


@dataclass
class Backup:
    path: Path
    manifest: dict = field(default_factory=dict)

    @property
    def files(self):
        return len(self.manifest.get("files", {}))


def file_storages():
    """{name: location} of every file-system storage that holds uploaded files
    (`locus.core.storage.storages_in_use`: the same files `manage.py rotate_keys` sees)."""
    return {name: Path(storage.location) for name, storage in storages_in_use().items()}


def backup_create(*, destination, now=None):
    """Write a backup under `destination` (created if needed) and check it. Returns the
    `Backup`; raises `BackupFailed` (and removes the partial directory) when anything fails."""
    now = now or datetime.now(UTC)
    destination = Path(destination).resolve()
    for name, location in file_storages().items():
        if destination.is_relative_to(location.resolve()):
            raise BackupFailed(f"{destination} is inside the {name} storage it would copy.")
    path = destination / f"locus-backup-{now:%Y%m%dT%H%M%SZ}"
    if path.exists():
        raise BackupFailed(f"{path} already exists.")
    path.mkdir(parents=True, mode=0o700)
    try:
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "database": _copy_database(path),
            "migrations": _latest_migrations(),
        }
        _copy_files(path)
        manifest["files"] = {
            str(file.relative_to(path)): _sha256(file)
            for file in sorted(path.rglob("*"))
            if file.is_file()
        }
        (path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        os.chmod(path / MANIFEST, 0o600)
        problems = backup_verify(path=path)
        if problems:
            raise BackupFailed("; ".join(problems))
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return Backup(path=path, manifest=manifest)


def backup_verify(*, path):
    """Problems found in the backup at `path` (empty when it checks out): every file the
    manifest lists is there with its hash and no other file is; the database copy is readable
    (SQLite: `integrity_check` and the recorded row counts; PostgreSQL: `pg_restore --list`)."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        return [f"{MANIFEST} cannot be read: {exc}"]
    if not isinstance(manifest, dict) or not all(
        isinstance(manifest.get(key, {}), dict) for key in ("files", "database")
    ):
        return [f"{MANIFEST} is not the manifest of a backup"]
    problems = []
    listed = manifest.get("files", {})
    present = {
        str(file.relative_to(path))
        for file in path.rglob("*")
        if file.is_file() and file.name != MANIFEST
    }
    for name in sorted(set(listed) - present):
        problems.append(f"missing: {name}")
    for name in sorted(present - set(listed)):
        problems.append(f"not in the manifest: {name}")
    for name in sorted(set(listed) & present):
        if _sha256(path / name) != listed[name]:
            problems.append(f"changed since the backup: {name}")
    database = manifest.get("database", {})
    if database.get("vendor") == "sqlite":
        problems += _check_sqlite_copy(path / SQLITE_FILE, database.get("counts", {}))
    elif database.get("vendor") == "postgresql":
        problems += _check_postgres_dump(path / POSTGRES_FILE)
    else:
        problems.append(f"unknown database in the manifest: {database.get('vendor')!r}")
    return problems


# --- the database --------------------------------------------------------------------------


def _copy_database(path):
    if connection.vendor == "sqlite":
        return _copy_sqlite(path / SQLITE_FILE)
    if connection.vendor == "postgresql":
        return _dump_postgres(path / POSTGRES_FILE)
    raise BackupFailed(f"Backups of {connection.vendor} databases are not supported.")


def _copy_sqlite(target):
    """SQLite's online backup API, in one step: a consistent snapshot of the whole database,
    while other processes keep reading and writing (WAL)."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
    os.chmod(target, 0o600)
    return {"vendor": "sqlite", "file": SQLITE_FILE, "counts": _sqlite_counts(target)}


def _sqlite_counts(target):
    copy = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        return {
            label: copy.execute(
                f'SELECT count(*) FROM "{apps.get_model(label)._meta.db_table}"'  # noqa: S608
            ).fetchone()[0]
            for label in COUNTED_MODELS
        }
    finally:
        copy.close()


def _check_sqlite_copy(target, counts):
    try:
        copy = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [f"{SQLITE_FILE} cannot be opened: {exc}"]
    try:
        (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        return [f"{SQLITE_FILE} is not a readable database: {exc}"]
    finally:
        copy.close()
    if verdict != "ok":
        return [f"{SQLITE_FILE} fails SQLite's integrity check: {verdict}"]
    if not isinstance(counts, dict):
        return [f"{MANIFEST} records no row counts"]
    try:
        found = _sqlite_counts(target)
    except sqlite3.Error as exc:  # a readable database, but not Locus's (a table is missing)
        return [f"{SQLITE_FILE} cannot be counted: {exc}"]
    return [
        f"{label}: {found.get(label)} rows in the copy, {expected} recorded"
        for label, expected in sorted(counts.items())
        if found.get(label) != expected
    ]


# Connection options of DATABASES["default"]["OPTIONS"] (e.g. ?sslmode=require in
# DATABASE_URL) that libpq also reads from the environment.
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}


def _postgres_environment(database):
    """pg_dump's connection settings from Django's (`database`: a connection's settings_dict),
    the password through the environment. What Django leaves empty libpq takes from the
    inherited PG* variables, as Django's own connection (through libpq) does."""
    options = database.get("OPTIONS") or {}
    variables = {
        "PGHOST": database.get("HOST") or "",
        "PGPORT": str(database.get("PORT") or ""),
        "PGUSER": database.get("USER") or "",
        "PGPASSWORD": database.get("PASSWORD") or "",
        "PGDATABASE": database["NAME"],
    } | {variable: str(options.get(option) or "") for option, variable in _LIBPQ_OPTIONS.items()}
    return os.environ | {name: value for name, value in variables.items() if value}


def _run(command, what):
    try:
        return subprocess.run(  # noqa: S603 - a fixed program, arguments from our settings
            command,
            env=_postgres_environment(connection.settings_dict),
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise BackupFailed(
            f"{command[0]} was not found: install PostgreSQL's client programs to {what}."
        ) from exc


def _dump_postgres(target):
    result = _run(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"],
        "back up PostgreSQL",
    )
    if result.returncode:
        raise BackupFailed(f"pg_dump failed: {result.stderr.strip()[:500]}")
    os.chmod(target, 0o600)
    return {"vendor": "postgresql", "file": POSTGRES_FILE}


def _check_postgres_dump(target):
    try:
        result = _run(["pg_restore", "--list", str(target)], "check a PostgreSQL backup")
    except BackupFailed as exc:  # pg_restore is not installed: the check cannot be made
        return [str(exc)]
    if result.returncode:
        return [f"{POSTGRES_FILE} cannot be read by pg_restore: {result.stderr.strip()[:500]}"]
    if f"TABLE DATA public {apps.get_model('reporting.Report')._meta.db_table}" not in (
        result.stdout
    ):
        return [f"{POSTGRES_FILE} holds no reports table"]
    return []


def _latest_migrations():
    """The last applied migration of each app: what a restore must migrate forward from."""
    latest = {}
    for app, name in MigrationRecorder.Migration.objects.order_by("app", "name").values_list(
        "app", "name"
    ):
        latest[app] = name
    return latest


# --- files ---------------------------------------------------------------------------------


def _copy_files(path):
    for name, location in sorted(file_storages().items()):
        if location.is_dir():
            shutil.copytree(
                location, path / FILES_DIR / name, symlinks=False, copy_function=_copy_present
            )


def _copy_present(source, target):
    """`shutil.copy2`, but a file deleted after its directory was listed (a staged file purged,
    evidence erased while the backup runs) is left out instead of failing the whole backup."""
    try:
        shutil.copy2(source, target)
    except FileNotFoundError:
        if os.path.exists(source):
            raise  # the target's directory is gone: a real failure
    return target


def _sha256(file):
    with open(file, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
