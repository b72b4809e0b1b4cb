"""Library work for the task worker (global: the library belongs to no place)."""

from django.tasks import task


@task()
def embed_library_records(*, record_ids):
    """Embed (or re-embed) these records for cross-language search; skips those whose text
    has not changed. Returns how many were embedded."""
    from .search.embeddings import embed_records

    return embed_records(record_ids)


@task()
def remind_library_owners():
    """The yearly check: remind the owners of published records not checked for a year."""
    from .moderation import records_remind_owners

    return len(records_remind_owners())
