"""Backups (locus/core/backup.py): a restore drill on the copy — the report is in it and its
encrypted account still decrypts, its evidence file is there byte for byte — and a tampered,
truncated or incomplete backup does not check out."""

import json
import os
import shutil
import sqlite3
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from locus.core.backup import MANIFEST, POSTGRES_FILE, SQLITE_FILE, backup_verify
from locus.core.crypto import decrypt_text
from locus.core.tenancy import place_scope
from locus.reporting.models import Evidence, Report
from locus.reporting.services import evidence_stage, report_submit
from locus.reporting.tests.conftest import DATA, jpeg

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump reads only committed rows


@pytest.fixture
def submitted(world):
    place = world.a.place
    with place_scope(place):
        evidence_stage(place=place, uploaded=jpeg(), staged_token="backup-token")
        report = report_submit(place=place, data=dict(DATA), staged_token="backup-token").report
        evidence = Evidence.objects.get(report=report)
    return report, evidence


def make_backup(destination, *extra):
    out = StringIO()
    call_command("backup", str(destination), *extra, stdout=out)
    (path,) = sorted(destination.glob("locus-backup-*"))[-1:]
    return path, out.getvalue()


def test_backup_holds_the_report_and_its_evidence(submitted, tmp_path):
    report, evidence = submitted
    path, output = make_backup(tmp_path)

    assert "checked" in output
    assert report.reference not in output  # counts, never data
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["migrations"]["reporting"].startswith("0")
    assert backup_verify(path=path) == []
    stored = [name for name in manifest["files"] if name.endswith(evidence.file.name)]
    assert len(stored) == 1
    # The evidence stays encrypted in the backup, exactly as on disk.
    with evidence.file.storage.open(evidence.file.name, "rb") as original:
        plaintext = original.read()  # the storage decrypts
    on_disk = Path(evidence.file.storage.path(evidence.file.name)).read_bytes()
    assert (path / stored[0]).read_bytes() == on_disk
    assert plaintext.startswith(b"\xff\xd8") and b"\xff\xd8" not in on_disk
    if connection.vendor == "sqlite":
        copy = sqlite3.connect(path / SQLITE_FILE)
        (token,) = copy.execute(
            f"SELECT account FROM {Report._meta.db_table} WHERE reference = ?",  # noqa: S608
            [report.reference],
        ).fetchone()
        copy.close()
        assert decrypt_text(token) == DATA["account"]
        assert manifest["database"]["counts"]["reporting.Report"] >= 1
    else:
        assert (path / POSTGRES_FILE).stat().st_size > 0


def test_a_changed_or_missing_file_is_found(submitted, tmp_path):
    path, _output = make_backup(tmp_path)
    database = path / (SQLITE_FILE if connection.vendor == "sqlite" else POSTGRES_FILE)
    stored = next(file for file in (path / "files").rglob("*") if file.is_file())

    stored.write_bytes(stored.read_bytes() + b"x")
    (path / "files" / "stray.txt").write_text("not from the backup")
    problems = backup_verify(path=path)
    assert any(problem.startswith("changed since the backup") for problem in problems)
    assert "not in the manifest: files/stray.txt" in problems

    stored.unlink()
    database.write_bytes(database.read_bytes()[:4096])  # truncated
    problems = backup_verify(path=path)
    assert any(problem.startswith("missing: files/") for problem in problems)
    assert any(SQLITE_FILE in problem or POSTGRES_FILE in problem for problem in problems)
    with pytest.raises(CommandError, match="does not check out"):
        call_command("backup", verify=str(path), stdout=StringIO(), stderr=StringIO())


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_row_counts_recorded_in_the_manifest_are_checked(submitted, tmp_path):
    path, _output = make_backup(tmp_path)
    manifest = json.loads((path / MANIFEST).read_text())
    copy = sqlite3.connect(path / SQLITE_FILE)
    copy.execute(f"DELETE FROM {Evidence._meta.db_table}")  # noqa: S608
    copy.commit()
    copy.close()
    manifest["files"][SQLITE_FILE] = _sha256_of(path / SQLITE_FILE)
    (path / MANIFEST).write_text(json.dumps(manifest))
    assert backup_verify(path=path) == ["reporting.Evidence: 0 rows in the copy, 1 recorded"]


def test_keep_removes_only_older_backups(submitted, tmp_path):
    older = tmp_path / "locus-backup-20200101T000000Z"
    older.mkdir()
    (older / MANIFEST).write_text("{}")
    unrelated = tmp_path / "locus-backup-notes"  # no manifest: not ours, left alone
    unrelated.mkdir()
    path, output = make_backup(tmp_path, "--keep", "1")
    assert not older.exists()
    assert unrelated.exists() and path.exists()
    assert f"Removed the older backup {older}" in output


def test_bad_arguments_and_a_failed_copy_say_why(submitted, tmp_path, monkeypatch):
    with pytest.raises(CommandError, match="--keep must be at least 1"):
        call_command("backup", str(tmp_path), "--keep", "0", stdout=StringIO())
    errors = StringIO()
    with pytest.raises(CommandError, match="does not check out"):
        call_command("backup", verify=str(tmp_path), stdout=StringIO(), stderr=errors)
    assert "manifest.json cannot be read" in errors.getvalue()

    inside = Path(Evidence._meta.get_field("file").storage.location) / "backups"
    with pytest.raises(CommandError, match="inside the evidence storage"):
        call_command("backup", str(inside), stdout=StringIO())

    def broken_copy(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(shutil, "copytree", broken_copy)
    with pytest.raises(CommandError, match="No space left on device"):
        call_command("backup", str(tmp_path / "out"), stdout=StringIO())
    assert list((tmp_path / "out").iterdir()) == []  # the partial backup is gone


def _sha256_of(file):
    import hashlib

    return hashlib.sha256(file.read_bytes()).hexdigest()


def test_a_copy_that_is_not_locus_or_a_bad_manifest_is_a_problem_not_a_crash(submitted, tmp_path):
    """`backup --verify` lists what is wrong instead of failing with a traceback: a database
    that SQLite reads but that lacks Locus's tables, a manifest that is not one."""
    path, _output = make_backup(tmp_path)
    manifest = json.loads((path / MANIFEST).read_text())
    if connection.vendor == "sqlite":
        database = path / SQLITE_FILE
        database.unlink()
        other = sqlite3.connect(database)
        other.execute("CREATE TABLE notes (body TEXT)")
        other.commit()
        other.close()
        manifest["files"][SQLITE_FILE] = _sha256_of(database)
        (path / MANIFEST).write_text(json.dumps(manifest))
        (problem,) = backup_verify(path=path)
        assert problem.startswith(f"{SQLITE_FILE} cannot be counted")
    (path / MANIFEST).write_text(json.dumps(["not", "a", "manifest"]))
    assert backup_verify(path=path) == [f"{MANIFEST} is not the manifest of a backup"]
    with pytest.raises(CommandError, match="does not check out"):
        call_command("backup", verify=str(path), stdout=StringIO(), stderr=StringIO())


def test_a_file_deleted_while_the_backup_runs_is_left_out(submitted, tmp_path, monkeypatch):
    """Safe while Locus serves: evidence erased (or a staged file purged) between listing its
    directory and copying it does not fail the backup."""
    _report, evidence = submitted
    on_disk = Path(evidence.file.storage.path(evidence.file.name))
    real_copy = shutil.copy2

    def deleted_meanwhile(source, target, **kwargs):
        if Path(source) == on_disk:
            on_disk.unlink()
        return real_copy(source, target, **kwargs)

    monkeypatch.setattr(shutil, "copy2", deleted_meanwhile)
    path, output = make_backup(tmp_path)
    assert "checked" in output
    manifest = json.loads((path / MANIFEST).read_text())
    assert not any(name.endswith(evidence.file.name) for name in manifest["files"])
    assert backup_verify(path=path) == []


def test_backup_and_key_rotation_see_the_same_storages():
    """One discovery of storages (locus.core.storage.storages_in_use): the backup copies every
    encrypted storage that rotate_keys re-encrypts, and the media; never the static files."""
    from django.conf import settings

    from locus.core.backup import file_storages
    from locus.core.management.commands.rotate_keys import encrypted_storages

    found = file_storages()
    assert {"default", "evidence"} <= set(found) and "staticfiles" not in found
    assert {str(location) for location in found.values()} >= {
        str(storage.location) for storage in encrypted_storages()
    }
    assert str(found["evidence"]) == str(settings.STORAGES["evidence"]["OPTIONS"]["location"])


def test_pg_dump_connects_as_django_does(monkeypatch):
    """Host, port, user, password and TLS options of DATABASE_URL reach pg_dump through libpq's
    environment variables; what Django leaves empty stays as inherited."""
    from locus.core.backup import _postgres_environment

    for name in [name for name in os.environ if name.startswith("PG")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PGAPPNAME", "inherited")
    database = {
        "NAME": "locus",
        "HOST": "db.internal",
        "PORT": 6543,
        "USER": "locus",
        "PASSWORD": "secret",
        "OPTIONS": {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/ca.pem"},
    }
    environment = _postgres_environment(database)
    assert {name: environment[name] for name in environment if name.startswith("PG")} == {
        "PGAPPNAME": "inherited",
        "PGHOST": "db.internal",
        "PGPORT": "6543",
        "PGUSER": "locus",
        "PGPASSWORD": "secret",
        "PGDATABASE": "locus",
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": "/etc/ssl/ca.pem",
    }
    environment = _postgres_environment({"NAME": "locus", "HOST": "", "OPTIONS": {}})
    assert "PGHOST" not in environment and "PGSSLMODE" not in environment
