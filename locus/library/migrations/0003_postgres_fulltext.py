"""The GIN index of the records' tsvector column on PostgreSQL (docs/library.md). A no-op on
SQLite, where migration 0002's FTS5 table does the work."""

from django.db import migrations

INDEX = "library_record_search_gin"


def create_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON library_record USING gin (search_vector)"
        )


def drop_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("library", "0002_sqlite_fulltext")]

    operations = [migrations.RunPython(create_gin_index, drop_gin_index, elidable=False)]
