"""PostgreSQL's search documents move from a column of the record to a narrow table of their
own, GIN-indexed (docs/library.md, "PostgreSQL: tsvector and GIN"): a search reads the row of
every match, and a narrow row is read faster. The vectors are copied, not rebuilt. On SQLite
the new table stays empty (FTS5 does the work) and the dropped column was never used."""

import django.db.models.deletion
from django.db import migrations, models

import locus.library.models

INDEX = "library_recordtsvector_gin"


def copy_vectors(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "INSERT INTO library_recordtsvector (record_id, search_vector) "
        "SELECT id, search_vector FROM library_record WHERE search_vector IS NOT NULL"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON library_recordtsvector USING gin (search_vector)"
    )


def copy_vectors_back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "UPDATE library_record r SET search_vector = v.search_vector "
        "FROM library_recordtsvector v WHERE v.record_id = r.id"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS library_record_search_gin ON library_record "
        "USING gin (search_vector)"
    )


class Migration(migrations.Migration):
    dependencies = [("library", "0006_search_generation")]

    operations = [
        migrations.CreateModel(
            name="RecordTsvector",
            fields=[
                (
                    "record",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="library.record",
                    ),
                ),
                ("search_vector", locus.library.models.SearchVectorField(editable=False)),
            ],
        ),
        # Backwards, RemoveField's reverse brings the column back before the vectors return.
        migrations.RunPython(copy_vectors, copy_vectors_back, elidable=False),
        migrations.RemoveField(model_name="record", name="search_vector"),
    ]
