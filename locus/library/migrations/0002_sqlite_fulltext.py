"""The FTS5 table of the library's search on SQLite (docs/library.md). A no-op on PostgreSQL,
where migration 0003 indexes the records' tsvector column instead."""

from django.db import migrations

FTS_TABLE = "library_record_fts"
CREATE_SQL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "title, summary, authors, publisher, body, "
    "tokenize = 'porter unicode61 remove_diacritics 2')"
)


def create_fts_table(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE_SQL)


def drop_fts_table(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("library", "0001_records")]

    operations = [migrations.RunPython(create_fts_table, drop_fts_table, elidable=False)]
