"""The library's worker tasks. Library records are network-wide, so these tasks take ids and
run outside any place."""

from django.tasks import task


@task()
def extract_record_file(*, file_id):
    """Read one uploaded file's text within the limits and re-index its record (files.py).
    A hostile or broken file fails here, with its reason stored on the file."""
    from .files import file_extract

    return file_extract(file_id=file_id)
