"""Encryption at rest: crypto helpers, encrypted model fields, encrypted file storage, rotation."""

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test import override_settings
from django.test.utils import isolate_apps

from locus.core import crypto
from locus.core.crypto import DecryptionError
from locus.core.fields import EncryptedJSONField, EncryptedTextField
from locus.core.management.commands import rotate_keys
from locus.core.storage import EncryptedFileSystemStorage, opaque_name
from locus.core.tenancy import TenantModel, place_scope
from locus.core.testing.factories import PlaceFactory
from locus.places.models import Place

ROOT = Path(__file__).resolve().parents[3]
K1, K2, K_OTHER = (Fernet.generate_key().decode() for _ in range(3))
ACCOUNT = "Он кричал на нас у остановки — Åsa, 東京, 🏳️‍🌈"
LOCATION = {"lat": 51.5072, "lon": -0.1276, "note": "bei der Haltestelle", "tags": ["bus", 7]}

# Models for these tests only: registered in an isolated app registry so that the model
# registry (tests/test_tenancy.py) and migrations never see them; their tables are created below.
with isolate_apps("locus.core") as test_apps:
    test_apps.register_model("places", Place)  # so that PlaceSecret's foreign key resolves

    class Secret(models.Model):
        account = EncryptedTextField(blank=True, default="")
        contact = EncryptedTextField(null=True, blank=True)
        location = EncryptedJSONField(null=True, blank=True)

        class Meta:
            app_label = "core"
            db_table = "core_test_crypto_secret"

        def __str__(self):
            return f"secret {self.pk}"

    class PlaceSecret(TenantModel):
        """Tenant-owned, like the reporting module's models: rotation must cover every place."""

        account = EncryptedTextField(blank=True, default="")

        class Meta:
            app_label = "core"
            db_table = "core_test_crypto_placesecret"

        def __str__(self):
            return f"place secret {self.pk}"


def encrypted_fields(model):
    return [
        f for f in model._meta.local_concrete_fields if isinstance(f, rotate_keys.ENCRYPTED_FIELDS)
    ]


@pytest.fixture(scope="module")
def secret_table(django_db_setup, django_db_blocker):
    # Created outside the per-test transaction (SQLite cannot change its schema inside one).
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.create_model(Secret)
        editor.create_model(PlaceSecret)
    yield Secret
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.delete_model(PlaceSecret)
        editor.delete_model(Secret)


@pytest.fixture
def secrets(secret_table, db):
    return Secret


def raw_row(pk):
    table = connection.ops.quote_name(Secret._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT account, contact, location FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()


def write_raw(pk, column, value):
    table = connection.ops.quote_name(Secret._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


# Helpers


def test_text_and_bytes_round_trip():
    token = crypto.encrypt_text(ACCOUNT)
    assert ACCOUNT not in token and token.isascii()
    assert crypto.decrypt_text(token) == ACCOUNT
    assert crypto.encrypt_text(ACCOUNT) != token  # randomised
    assert crypto.decrypt_text(crypto.encrypt_text("")) == ""
    data = bytes(range(256)) * 4
    assert crypto.decrypt_bytes(crypto.encrypt_bytes(data)) == data


def test_unknown_key_or_tampering_raises_a_clear_error():
    with override_settings(LOCUS_FIELD_KEYS=[K_OTHER]):
        foreign = crypto.encrypt_text("secret")
    with pytest.raises(DecryptionError, match="no key in LOCUS_FIELD_KEYS matches"):
        crypto.decrypt_text(foreign)
    token = crypto.encrypt_text("secret")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    for bad in (tampered, "not a token", "ünïcode"):
        with pytest.raises(DecryptionError):
            crypto.decrypt_text(bad)
    assert issubclass(DecryptionError, RuntimeError)


def test_keys_are_read_per_call_and_rotate_token_keeps_the_type():
    with override_settings(LOCUS_FIELD_KEYS=[K1]):
        token = crypto.encrypt_text("hello")
        assert crypto.is_current(token)
    with override_settings(LOCUS_FIELD_KEYS=[K2, K1]):
        assert crypto.decrypt_text(token) == "hello"
        assert not crypto.is_current(token)
        rotated = crypto.rotate_token(token)
        assert isinstance(rotated, str) and crypto.is_current(rotated)
        assert isinstance(crypto.rotate_token(token.encode()), bytes)
    with override_settings(LOCUS_FIELD_KEYS=[K2]):
        assert crypto.decrypt_text(rotated) == "hello"
        with pytest.raises(DecryptionError):
            crypto.decrypt_text(token)


def test_generate_key_and_command(capsys):
    Fernet(crypto.generate_key())
    call_command("generate_field_key")
    Fernet(capsys.readouterr().out.strip())


# Fields


def test_fields_round_trip_and_the_column_holds_ciphertext(secrets):
    row = secrets.objects.create(account=ACCOUNT, contact="+44 7700 900123", location=LOCATION)
    row = secrets.objects.get(pk=row.pk)
    assert (row.account, row.contact, row.location) == (ACCOUNT, "+44 7700 900123", LOCATION)

    account, contact, location = raw_row(row.pk)
    for raw, plain in ((account, ACCOUNT), (contact, "900123"), (location, "Haltestelle")):
        assert plain not in raw and "Åsa" not in raw
        crypto.decrypt_text(raw)  # a real token
    secrets.objects.filter(pk=row.pk).update(contact="changed", location=[1])
    assert secrets.objects.values_list("contact", "location").get(pk=row.pk) == ("changed", [1])
    assert "changed" not in raw_row(row.pk)[1]


@pytest.mark.parametrize("value", [[1, "zwei", None], "text", 0, 3.5, True, {}, {"a": {"b": []}}])
def test_json_field_round_trips_any_json_value(secrets, value):
    row = secrets.objects.create(location=value)
    assert secrets.objects.get(pk=row.pk).location == value


def test_empty_values_are_stored_unencrypted(secrets):
    row = secrets.objects.create()
    assert raw_row(row.pk) == ("", None, None)
    row = secrets.objects.get(pk=row.pk)
    assert (row.account, row.contact, row.location) == ("", None, None)


def test_only_emptiness_lookups_are_allowed(secrets):
    empty = secrets.objects.create()
    full = secrets.objects.create(account="x", contact="y", location={"k": 1})
    assert list(secrets.objects.filter(account="")) == [empty]
    assert list(secrets.objects.exclude(account="")) == [full]
    assert list(secrets.objects.filter(contact__isnull=True)) == [empty]
    assert list(secrets.objects.filter(location__isnull=False)) == [full]
    for query in (
        {"account": "x"},
        {"account__icontains": "x"},
        {"contact__in": ["y"]},
        {"contact__startswith": "y"},
        {"location": {"k": 1}},
        {"location__k": 1},
    ):
        with pytest.raises(FieldError, match="is encrypted"):
            list(secrets.objects.filter(**query))


def test_a_value_no_key_decrypts_raises_naming_the_field(secrets):
    row = secrets.objects.create(account="kept")
    with override_settings(LOCUS_FIELD_KEYS=[K_OTHER]):
        write_raw(row.pk, "account", crypto.encrypt_text("from elsewhere"))
    with pytest.raises(DecryptionError, match=r"core\.Secret\.account"):
        secrets.objects.get(pk=row.pk)


def test_fields_deconstruct_for_migrations_and_refuse_indexes():
    for cls in (EncryptedTextField, EncryptedJSONField):
        name, path, args, kwargs = cls(null=True).deconstruct()
        assert path == f"locus.core.fields.{cls.__name__}" and kwargs == {"null": True}
    with isolate_apps("locus.core"):

        class Indexed(models.Model):
            value = EncryptedTextField(unique=True)

            class Meta:
                app_label = "core"

            def __str__(self):
                return "indexed"

        assert [e.id for e in Indexed._meta.get_field("value").check()] == ["locus.E101"]


# Files


def test_storage_round_trips_and_the_disk_holds_ciphertext(tmp_path):
    storage = EncryptedFileSystemStorage(location=tmp_path)
    plaintext = b"%PDF-1.7 witness statement: " + "Åsa".encode() + bytes(range(256))
    name = storage.save(opaque_name(prefix="place-7"), ContentFile(plaintext))
    assert name.startswith("place-7/") and len(Path(name).name) == 32

    on_disk = (tmp_path / name).read_bytes()
    assert plaintext not in on_disk and b"witness" not in on_disk
    assert crypto.decrypt_bytes(on_disk) == plaintext
    assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600

    with storage.open(name) as handle:
        assert handle.read() == plaintext
    assert storage.size(name) == len(plaintext)
    with pytest.raises(ValueError, match="read-only"):
        storage.open(name, "wb")
    with pytest.raises(ValueError, match="no URL"):
        storage.url(name)

    upload = SimpleUploadedFile("My name is Åsa.jpg", b"\xff\xd8photo", content_type="image/jpeg")
    other = storage.save(opaque_name(suffix=".jpg"), upload)
    assert "Åsa" not in other and storage.open(other).read() == b"\xff\xd8photo"
    assert EncryptedFileSystemStorage(location=tmp_path).deconstruct()[0] == (
        "locus.core.storage.EncryptedFileSystemStorage"
    )


@pytest.mark.django_db
def test_a_file_is_deleted_once_its_rows_deletion_commits_and_a_failure_is_only_logged(
    tmp_path, django_capture_on_commit_callbacks, caplog
):
    """`delete_on_commit`: nothing is deleted while the transaction may still roll back, then
    the file goes; a file that cannot be deleted after the commit is logged (by its opaque
    name), never raised: the change is committed, and the orphan purge deletes it later."""
    from django.db import transaction

    from locus.core.storage import delete_on_commit

    storage = EncryptedFileSystemStorage(location=tmp_path)
    name = storage.save(opaque_name(prefix="place-7"), ContentFile(b"statement"))

    with pytest.raises(RuntimeError), transaction.atomic():
        delete_on_commit(storage, name)
        raise RuntimeError("rolled back")
    assert storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        delete_on_commit(storage, name)
        assert storage.exists(name)
    assert not storage.exists(name)

    other = storage.save(opaque_name(prefix="place-7"), ContentFile(b"statement"))

    def refuse(path):
        raise PermissionError("read-only file system")

    storage.delete = refuse
    with django_capture_on_commit_callbacks(execute=True):
        delete_on_commit(storage, other)
    assert f"storage: {other} could not be deleted" in caplog.text


# Rotation


def run_rotate(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=err)
    return out.getvalue()


@pytest.fixture
def rotation_world(secrets, tmp_path, monkeypatch):
    """rotate_keys sees the test models and one encrypted storage in tmp_path — and only that
    storage, so that a test run never touches encrypted files of a real installation."""
    discovered = rotate_keys.encrypted_models
    monkeypatch.setattr(
        rotate_keys,
        "encrypted_models",
        lambda: discovered() + [(m, encrypted_fields(m)) for m in (Secret, PlaceSecret)],
    )
    storage = EncryptedFileSystemStorage(location=tmp_path / "evidence")
    monkeypatch.setattr(rotate_keys, "encrypted_storages", lambda: [storage])
    return storage


def test_encrypted_storages_are_found_in_the_storages_setting(tmp_path):
    stores = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "locus.core.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    with override_settings(STORAGES=stores):
        locations = [storage.location for storage in rotate_keys.encrypted_storages()]
    assert str(tmp_path) in locations


def test_rotation_to_a_new_key_then_dropping_the_old_one(rotation_world):
    storage = rotation_world
    with override_settings(LOCUS_FIELD_KEYS=[K1]):
        rows = [
            Secret.objects.create(account=f"account {i}", contact="", location={"i": i})
            for i in range(5)
        ]
        Secret.objects.create()  # nothing to encrypt
        places = PlaceFactory.create_batch(2)
        for place in places:
            with place_scope(place):
                PlaceSecret.objects.create(account=f"in {place.slug}")
        names = [
            storage.save(opaque_name(prefix="p"), ContentFile(f"file {i}".encode()))
            for i in range(3)
        ]
        before = {row.pk: raw_row(row.pk) for row in rows}

    with override_settings(LOCUS_FIELD_KEYS=[K2, K1]):
        # Old values still readable with the new key in front.
        assert Secret.objects.get(pk=rows[0].pk).account == "account 0"
        assert storage.open(names[0]).read() == b"file 0"

        out = run_rotate("--dry-run")
        assert "core.Secret: 5 of 6 rows would be re-encrypted (10 values)" in out
        assert "core.PlaceSecret: 2 of 2 rows would be re-encrypted (2 values)" in out
        assert "3 of 3 would be re-encrypted" in out
        assert {row.pk: raw_row(row.pk) for row in rows} == before

        out = run_rotate("--batch-size", "2")
        assert "core.Secret: 5 of 6 rows re-encrypted (10 values)" in out
        assert "core.PlaceSecret: 2 of 2 rows re-encrypted (2 values)" in out  # every place
        assert "3 of 3 re-encrypted" in out
        for row in rows:
            account, contact, location = raw_row(row.pk)
            assert account != before[row.pk][0] and crypto.is_current(account)
            assert contact == ""
        out = run_rotate()  # idempotent
        assert "core.Secret: 0 of 6 rows re-encrypted (0 values)" in out
        assert "0 of 3 re-encrypted" in out

    with override_settings(LOCUS_FIELD_KEYS=[K2]):
        assert [
            (r.account, r.location)
            for r in Secret.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk")
        ] == [(f"account {i}", {"i": i}) for i in range(5)]
        assert [storage.open(name).read() for name in names] == [b"file 0", b"file 1", b"file 2"]
        for place in places:
            with place_scope(place):
                assert PlaceSecret.objects.get().account == f"in {place.slug}"


class Stopped(BaseException):
    """The process stopped there (a kill or ^C): not an Exception, so nothing in the command
    catches it. Not KeyboardInterrupt itself, which pytest and its plugins treat as the user's."""


@pytest.mark.parametrize("stop_at", ["second batch", "second file"])
def test_a_rotation_stopped_halfway_leaves_everything_readable_and_a_rerun_finishes(
    rotation_world, monkeypatch, stop_at
):
    """Killed (here: a BaseException) between two batches, or between two files: every value and
    file is still readable with the keys in place (new first, old kept), none is left half
    written, and running it again finishes the job."""
    storage = rotation_world
    with override_settings(LOCUS_FIELD_KEYS=[K1]):
        rows = [Secret.objects.create(account=f"account {i}") for i in range(4)]
        names = [
            storage.save(opaque_name(prefix="p"), ContentFile(f"file {i}".encode()))
            for i in range(3)
        ]

    calls, real_replace_file = [], rotate_keys._replace_file
    if stop_at == "second batch":
        real = rotate_keys.rotate_token

        def rotate_token(token):
            calls.append(token)
            if len(calls) == 3:  # the first value of the second batch of two
                raise Stopped
            return real(token)

        monkeypatch.setattr(rotate_keys, "rotate_token", rotate_token)
    else:
        real = rotate_keys._replace_file

        def replace_file(path, content):
            calls.append(path)
            if len(calls) == 2:
                raise Stopped
            return real(path, content)

        monkeypatch.setattr(rotate_keys, "_replace_file", replace_file)

    with override_settings(LOCUS_FIELD_KEYS=[K2, K1]):
        with pytest.raises(Stopped):
            run_rotate("--batch-size", "2")
        assert [Secret.objects.get(pk=r.pk).account for r in rows] == [
            f"account {i}" for i in range(4)
        ]
        assert [storage.open(name).read() for name in names] == [b"file 0", b"file 1", b"file 2"]
        assert not any(p.name.startswith(rotate_keys.TEMP_PREFIX) for p in storage_files(storage))
        # Run again (the fixture's own patches stay: it shows the test models and storage).
        monkeypatch.setattr(rotate_keys, "rotate_token", crypto.rotate_token)
        monkeypatch.setattr(rotate_keys, "_replace_file", real_replace_file)
        run_rotate()

    with override_settings(LOCUS_FIELD_KEYS=[K2]):  # the old key can go now
        assert [Secret.objects.get(pk=r.pk).account for r in rows] == [
            f"account {i}" for i in range(4)
        ]
        assert [storage.open(name).read() for name in names] == [b"file 0", b"file 1", b"file 2"]


def storage_files(storage):
    return [p for p in Path(storage.location).rglob("*") if p.is_file()]


def test_rotation_reports_what_no_key_decrypts_and_fails(rotation_world):
    good = Secret.objects.create(account="fine")
    lost = Secret.objects.create(account="lost")
    with override_settings(LOCUS_FIELD_KEYS=[K_OTHER]):
        write_raw(lost.pk, "account", crypto.encrypt_text("lost"))
    unreadable = raw_row(lost.pk)
    with override_settings(LOCUS_FIELD_KEYS=[K2, *settings.LOCUS_FIELD_KEYS]):
        with pytest.raises(CommandError, match="1 values or files could not be decrypted"):
            run_rotate()
        assert crypto.is_current(raw_row(good.pk)[0])
    assert raw_row(lost.pk) == unreadable  # left as it was


# Settings


def _settings_import(env_changes, drop=()):
    env = {k: v for k, v in os.environ.items() if k not in drop} | env_changes
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_field_keys_fails_fast(tmp_path):
    production = {
        "LOCUS_ENV": "production",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789abcdef",
        "ALLOWED_HOSTS": "x.org",
        "LOCUS_VAR_DIR": str(tmp_path),
    }
    result = _settings_import(production, drop={"LOCUS_FIELD_KEYS"})
    assert result.returncode != 0
    assert "LOCUS_FIELD_KEYS must be set in production" in result.stderr

    result = _settings_import(production | {"LOCUS_FIELD_KEYS": f"{K1},not-a-key"})
    assert result.returncode != 0
    assert "LOCUS_FIELD_KEYS: key 2 is not a Fernet key" in result.stderr
    assert "not-a-key" not in result.stderr

    assert _settings_import(production | {"LOCUS_FIELD_KEYS": f"{K2},{K1}"}).returncode == 0
