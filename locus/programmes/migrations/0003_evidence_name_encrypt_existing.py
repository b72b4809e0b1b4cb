"""Encrypt the names of evidence files stored before `EvidenceFile.original_name` was an
encrypted field (0002 changed only the column's type). Raw SQL, because the field's model
would try to decrypt the plaintext on reading it. A value that is already a token (a row
written after 0002) is left as it is. The reverse decrypts them again, for 0002's reverse."""

from django.db import migrations

from locus.core.crypto import DecryptionError, decrypt_text, encrypt_text


def _rows(connection, table):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, original_name FROM {table} WHERE original_name <> ''"  # noqa: S608
        )
        return cursor.fetchall()


def _update(connection, table, changes):
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET original_name = %s WHERE id = %s",  # noqa: S608
            [(value, pk) for pk, value in changes],
        )


def _is_token(value):
    try:
        decrypt_text(value)
    except DecryptionError:
        return False
    return True


def encrypt_names(apps, schema_editor):
    connection = schema_editor.connection
    table = connection.ops.quote_name(apps.get_model("programmes", "EvidenceFile")._meta.db_table)
    changes = [
        (pk, encrypt_text(value)) for pk, value in _rows(connection, table) if not _is_token(value)
    ]
    _update(connection, table, changes)


def decrypt_names(apps, schema_editor):
    connection = schema_editor.connection
    table = connection.ops.quote_name(apps.get_model("programmes", "EvidenceFile")._meta.db_table)
    changes = [
        (pk, decrypt_text(value)[:200])
        for pk, value in _rows(connection, table)
        if _is_token(value)
    ]
    _update(connection, table, changes)


class Migration(migrations.Migration):
    dependencies = [("programmes", "0002_evidence_name_encrypted")]

    operations = [migrations.RunPython(encrypt_names, decrypt_names)]
