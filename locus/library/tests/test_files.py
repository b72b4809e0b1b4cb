"""Files of library records: upload (pages and API), extraction in the worker, full-text search
of words found only in a file, hostile files failing their job (never the request), and who
may add, see, download and remove files. Runs on SQLite and PostgreSQL."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from locus.accounts.services import token_create
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.library import files, services
from locus.library.choices import RecordStatus
from locus.library.models import FileStatus, Record, RecordFile
from locus.library.selectors import SearchParams, record_search

from . import pdf_samples
from .factories import make_record

pytestmark = pytest.mark.django_db

WORD = "zygomorphic"  # appears only in the uploaded file


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.LOCUS_LIBRARY_EXTRACTION = {"timeout_seconds": 30}
    return tmp_path


@pytest.fixture
def published(world):
    return make_record(title="Youth mentoring evaluation", organisation=world.a.organisation)


@pytest.fixture
def draft(world):
    return make_record(
        title="Draft toolkit", status=RecordStatus.DRAFT, organisation=world.a.organisation
    )


def pdf_upload(text=f"The {WORD} approach to community resilience", name="report.pdf"):
    return SimpleUploadedFile(name, pdf_samples.text_pdf([text]), "application/pdf")


def found(query):
    return [hit.record.pk for hit in record_search(SearchParams(q=query), language="en").hits]


def add_url(record):
    return f"/library/{record.pk}/files/add/"


def test_words_only_in_a_file_are_found_after_extraction(
    client, world, published, django_capture_on_commit_callbacks
):
    assert found(WORD) == []
    client.force_login(world.a.users["editor"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add_url(published), {"file": pdf_upload()})
    assert response.status_code == 302
    stored = RecordFile.objects.get(record=published)
    assert stored.status == FileStatus.EXTRACTED, stored.error
    assert WORD in stored.text and stored.language == "en" and stored.pages == 1
    assert len(stored.sha256) == 64 and stored.size > 0
    assert found(WORD) == [published.pk]
    # A later change of the record re-indexes it with its files' text.
    services.record_update(record=published, data={"year": 2020})
    assert found(WORD) == [published.pk]
    assert AuditEvent.objects.filter(action=AuditAction.LIBRARY_FILE_ADDED).count() == 1
    # Removing the file removes its words from the index.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/library/{published.pk}/files/{stored.pk}/remove/")
    assert not RecordFile.objects.filter(pk=stored.pk).exists()
    assert found(WORD) == []


def test_a_plain_text_file_is_indexed_with_its_language(
    world, published, django_capture_on_commit_callbacks
):
    text = (
        "Programmet arbetade med skolor och fritidsgårdar för att stärka motståndskraften mot "
        "extremistisk rekrytering, och utvärderingen mätte attityderna före och efter. "
        "Fritidsledarnas erfarenheter"
    )
    upload = SimpleUploadedFile("rapport.txt", text.encode(), "text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        file = files.file_add(record=published, uploaded=upload, actor=world.a.users["editor"])
    file.refresh_from_db()
    assert file.status == FileStatus.EXTRACTED and file.language == "sv"
    assert found("fritidsgårdar") == [published.pk]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (pdf_samples.truncated_pdf(), "broken"),
        (pdf_samples.garbage_pdf(), "broken"),
        (pdf_samples.encrypted_pdf(), "encrypted"),
        (pdf_samples.bomb_pdf(), "limit"),
        (pdf_samples.many_pages_pdf(), "too_many_pages"),
        (pdf_samples.image_only_pdf(), "no_text"),
    ],
    ids=["truncated", "garbage", "encrypted", "bomb", "many-pages", "no-text"],
)
def test_a_hostile_pdf_fails_its_job_not_the_request(
    client, world, published, django_capture_on_commit_callbacks, data, code
):
    editor = world.a.users["editor"]
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            add_url(published), {"file": SimpleUploadedFile("bad.pdf", data, "application/pdf")}
        )
    assert response.status_code == 302
    file = RecordFile.objects.get(record=published)
    assert file.status == FileStatus.FAILED and file.error.startswith(code)
    assert file.text == ""
    page = client.get(f"/library/{published.pk}/").content.decode()
    assert "Text extraction failed" in page
    assert str(files.ERROR_MESSAGES[code]).split("(")[0].split("%")[0][:40] in page.replace(
        "&#x27;", "'"
    ).replace("&quot;", '"')
    # The public sees the file, not the problem.
    client.logout()
    public = client.get(f"/library/{published.pk}/").content.decode()
    assert "bad.pdf" in public and "Text extraction failed" not in public


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.png", None, "Only PDF documents and plain-text files"),
        ("page.html", b"<!doctype html><html><script>x</script></html>", "Web pages (HTML)"),
        ("legacy.txt", "Résumé en français".encode("latin-1"), "UTF-8"),
        ("empty.pdf", b"", "The file is empty."),
    ],
)
def test_refused_files_are_shown_next_to_the_field(client, world, published, name, data, message):
    if data is None:
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (4, 4)).save(buffer, "PNG")
        data = buffer.getvalue()
    client.force_login(world.a.users["editor"])
    response = client.post(add_url(published), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 422
    html = response.content.decode().replace("&#x27;", "'")
    assert 'id="id_file_error"' in html and message in html
    assert not RecordFile.objects.exists()


def test_size_cap_duplicates_and_a_missing_file(client, world, published, settings):
    client.force_login(world.a.users["editor"])
    response = client.post(add_url(published), {})
    assert response.status_code == 422 and "Choose a file to upload." in response.content.decode()
    client.post(add_url(published), {"file": pdf_upload()})
    response = client.post(add_url(published), {"file": pdf_upload()})
    assert response.status_code == 422
    assert "already attached" in response.content.decode()
    settings.LOCUS_LIBRARY_MAX_FILE_BYTES = 200
    response = client.post(add_url(published), {"file": pdf_upload("other words")})
    assert response.status_code == 422 and "larger than" in response.content.decode()
    assert RecordFile.objects.count() == 1


# --- who may do what -------------------------------------------------------------------------


def _noting(depth, step, function):
    """`function`, noting how many transactions are open when it runs."""
    from django.db import connection

    def wrapper(*args, **kwargs):
        depth.append((step, len(connection.atomic_blocks)))
        return function(*args, **kwargs)

    return wrapper


def _media_files(media):
    return sorted(p for p in media.rglob("*") if p.is_file())


def test_a_file_is_checked_and_written_outside_any_transaction(world, published, monkeypatch):
    """A PDF of up to 25 MB is read for scripts and embedded files: on SQLite a transaction
    holds the writers' queue, which every report submission waits for, so only the caps and
    the row are written in one."""
    from django.core.files.storage import default_storage
    from django.db import connection

    depth = []

    class Storage:
        def __getattr__(self, name):
            return getattr(default_storage, name)

        save = staticmethod(_noting(depth, "write", default_storage.save))

    monkeypatch.setattr(files, "inspect_upload", _noting(depth, "check", files.inspect_upload))
    monkeypatch.setattr(files, "default_storage", Storage())
    monkeypatch.setattr(RecordFile, "save", _noting(depth, "row", RecordFile.save))
    outside = len(connection.atomic_blocks)  # the test's own transaction

    files.file_add(
        record=published, uploaded=pdf_upload(), actor=world.a.users["editor"], rights=None
    )

    assert depth == [("check", outside), ("write", outside), ("row", outside + 1)]


def test_a_file_whose_row_fails_leaves_no_file(world, published, monkeypatch, media):
    from django.db import OperationalError

    def locked(self, *args, **kwargs):
        raise OperationalError("database is locked")

    before = _media_files(media)
    monkeypatch.setattr(RecordFile, "save", locked)
    with pytest.raises(OperationalError):
        files.file_add(record=published, uploaded=pdf_upload(), actor=world.a.users["editor"])
    assert _media_files(media) == before
    assert not RecordFile.objects.exists()


def test_the_same_file_added_meanwhile_is_refused_with_the_row_and_not_kept(
    world, published, monkeypatch, media
):
    """Two uploads of one file at once: both pass the first check; the one that comes second
    to the row's transaction is refused there, and its stored copy deleted."""
    editor = world.a.users["editor"]
    check = files.inspect_upload
    first = []

    def meanwhile(uploaded, **kwargs):
        checked = check(uploaded, **kwargs)
        monkeypatch.setattr(files, "inspect_upload", check)  # the other upload, all through
        first.append(files.file_add(record=published, uploaded=pdf_upload(), actor=editor))
        return checked

    monkeypatch.setattr(files, "inspect_upload", meanwhile)
    with pytest.raises(files.ValidationFailed) as refused:
        files.file_add(record=published, uploaded=pdf_upload(), actor=editor)
    assert "already attached" in refused.value.fields["file"][0]
    assert _media_files(media) == [media / first[0].file.name]
    assert RecordFile.objects.get() == first[0]


def test_a_deleted_record_takes_its_stored_files_once_the_deletion_commits(
    world, published, media, django_capture_on_commit_callbacks
):
    """The platform admin deletes records (`services.record_delete`); the files' rows go by
    cascade, and their bytes used to stay in storage for ever."""
    from django.db import transaction

    editor = world.a.users["editor"]
    first = _add_file(published, editor, django_capture_on_commit_callbacks, "One")
    second = _add_file(published, editor, django_capture_on_commit_callbacks, "Two")
    stored = [media / first.file.name, media / second.file.name]
    assert _media_files(media) == sorted(stored)

    # A deletion rolled back keeps the record, its rows and its files.
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.record_delete(record=Record.objects.get(pk=published.pk))
        raise RuntimeError("the admin's transaction failed")
    assert RecordFile.objects.filter(record=published).count() == 2
    assert _media_files(media) == sorted(stored)

    with django_capture_on_commit_callbacks(execute=True):
        services.record_delete(record=Record.objects.get(pk=published.pk))
    assert not RecordFile.objects.exists()
    assert _media_files(media) == []


def test_files_no_record_names_are_purged_once_older_than_the_ttl(
    world, published, media, settings, django_capture_on_commit_callbacks
):
    """A process killed between writing a library file and committing its row leaves a file
    nobody can reach. `purge_expired` deletes such files once they are older than the TTL;
    young ones (their row may be about to commit) and named ones stay."""
    import os
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.utils import timezone

    old = (timezone.now() - settings.LOCUS_STAGED_EVIDENCE_TTL - timedelta(hours=1)).timestamp()
    named = _add_file(published, world.a.users["editor"], django_capture_on_commit_callbacks)
    orphan = default_storage.save(f"library/{published.pk}/orphan.pdf", ContentFile(b"%PDF-"))
    deep = default_storage.save("library/2026/11/orphan.txt", ContentFile(b"text"))
    young = default_storage.save(f"library/{published.pk}/young.pdf", ContentFile(b"%PDF-"))
    for name in (named.file.name, orphan, deep):
        os.utime(media / name, (old, old))

    assert files.files_purge_orphans(dry_run=True) == 2
    assert (media / orphan).exists() and (media / deep).exists()
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert "library: 2 file(s) without a record deleted" in out.getvalue()

    assert _media_files(media) == sorted([media / named.file.name, media / young])
    assert files.files_purge_orphans() == 0


def test_a_file_whose_extraction_cannot_be_queued_is_saved_and_can_be_read_again(
    client, world, published, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    """Queuing the extraction runs after the upload's commit: when it fails the file is saved
    (no error page), waits for extraction, and once it has waited JOB_STALL its managers get
    "Read the text again", which queues it anew."""
    import logging
    from datetime import timedelta

    from django.db import OperationalError
    from django.utils import timezone

    from locus.core.services import JOB_STALL
    from locus.library import file_tasks

    class Unavailable:
        name = "extract_record_file"

        def enqueue(self, **kwargs):
            raise OperationalError("database is locked")

    monkeypatch.setattr(file_tasks, "extract_record_file", Unavailable())
    client.force_login(world.a.users["editor"])
    with (
        caplog.at_level(logging.WARNING, logger="locus.core.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(add_url(published), {"file": pdf_upload()})
    assert response.status_code == 302
    assert "could not queue extract_record_file" in caplog.text
    stored = RecordFile.objects.get(record=published)
    assert stored.status == FileStatus.PENDING
    retry = f"/library/{published.pk}/files/{stored.pk}/retry/"
    assert retry not in client.get(f"/library/{published.pk}/").content.decode()  # young
    monkeypatch.undo()

    RecordFile.objects.filter(pk=stored.pk).update(
        uploaded_at=timezone.now() - JOB_STALL - timedelta(seconds=1)
    )
    assert retry in client.get(f"/library/{published.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(retry).status_code == 302
    stored.refresh_from_db()
    assert stored.status == FileStatus.EXTRACTED and WORD in stored.text


def _add_file(record, user, captured, text="Public words"):
    with captured(execute=True):
        return files.file_add(record=record, uploaded=pdf_upload(text, name="a.pdf"), actor=user)


def test_permissions_on_a_published_record(
    client, world, published, django_capture_on_commit_callbacks
):
    file = _add_file(published, world.a.users["editor"], django_capture_on_commit_callbacks)
    download = f"/library/{published.pk}/files/{file.pk}/"
    # Anyone downloads a published record's files.
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    # Adding and removing: sign in first; then editors only (the organisation's own members
    # add files to drafts only, since a published record's files are public at once).
    assert client.get(add_url(published)).status_code == 302
    assert client.post(f"/library/{published.pk}/files/{file.pk}/remove/").status_code == 302
    assert RecordFile.objects.filter(pk=file.pk).exists()
    for user in (world.a.users["member"], world.b.users["admin"]):
        client.force_login(user)
        assert client.get(add_url(published)).status_code == 403
        assert client.post(f"/library/{published.pk}/files/{file.pk}/remove/").status_code == 403
        assert client.post(f"/library/{published.pk}/files/{file.pk}/retry/").status_code == 403
    assert RecordFile.objects.filter(pk=file.pk).exists()
    client.force_login(world.b.users["editor"])  # an editor of any place's organisation
    assert client.get(add_url(published)).status_code == 200


def test_permissions_on_a_draft(
    client, world, draft, published, django_capture_on_commit_callbacks
):
    file = _add_file(draft, world.a.users["editor"], django_capture_on_commit_callbacks)
    download = f"/library/{draft.pk}/files/{file.pk}/"
    # Not published: unknown to the public and to other organisations (404, as if missing).
    assert client.get(download).status_code == 404
    client.force_login(world.b.users["admin"])
    assert client.get(download).status_code == 404
    assert client.get(add_url(draft)).status_code == 404
    assert client.post(f"/library/{draft.pk}/files/{file.pk}/remove/").status_code == 404
    # The contributing organisation's members see it and may add files.
    member = world.a.users["member"]
    client.force_login(member)
    response = client.get(download)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add_url(draft), {"file": pdf_upload("Member words", "m.pdf")})
    assert response.status_code == 302
    # A file of another record through this record's address: 404.
    other = _add_file(published, world.a.users["editor"], django_capture_on_commit_callbacks)
    assert client.get(f"/library/{draft.pk}/files/{other.pk}/").status_code == 404
    assert client.post(f"/library/{draft.pk}/files/{other.pk}/remove/").status_code == 404
    assert client.get("/library/999999/files/add/").status_code == 404


def test_record_page_query_count_does_not_grow_with_files(
    client, world, published, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    editor = world.a.users["editor"]
    _add_file(published, editor, django_capture_on_commit_callbacks, text="one")
    client.force_login(editor)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(f"/library/{published.pk}/")
    for number in range(6):
        _add_file(published, editor, django_capture_on_commit_callbacks, text=f"file {number}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(f"/library/{published.pk}/")
    assert response.content.decode().count("/files/") >= 7


# --- API ---------------------------------------------------------------------------------------


API = "/api/v1/library/records"


def bearer(membership):
    _token, secret = token_create(membership=membership, name="files")
    return {"Authorization": f"Bearer {secret}"}


def test_api_upload_and_list(client, world, published, draft, django_capture_on_commit_callbacks):
    url = f"{API}/{published.pk}/files"
    editor = bearer(world.a.memberships["editor"])
    response = client.post(url, {"file": pdf_upload()})
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"
    caseworker = bearer(world.a.memberships["caseworker"])
    response = client.post(url, {"file": pdf_upload()}, headers=caseworker)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    response = client.post(
        url, {"file": SimpleUploadedFile("x.txt", b"\x00\x01binary")}, headers=editor
    )
    assert response.status_code == 422 and list(response.json()["fields"]) == ["file"]
    response = client.post(url, {}, headers=editor)
    assert response.status_code == 422 and "file" in response.json()["fields"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": pdf_upload()}, headers=editor)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["name"] == "report.pdf"
    listing = client.get(url).json()
    assert listing["can_add"] is False
    assert [(f["name"], f["status"], f["language"]) for f in listing["files"]] == [
        ("report.pdf", "extracted", "en")
    ]
    assert listing["files"][0]["problem"] is None
    assert client.get(listing["files"][0]["download_url"]).status_code == 200
    # A draft: 404 for the public and for a token of another organisation; listed for editors.
    draft_url = f"{API}/{draft.pk}/files"
    assert client.get(draft_url).status_code == 404
    assert client.get(draft_url, headers=bearer(world.b.memberships["editor"])).status_code == 200
    assert (
        client.get(draft_url, headers=bearer(world.b.memberships["caseworker"])).status_code == 404
    )
    assert client.get(f"{API}/999999/files").status_code == 404
    assert (
        client.post(f"{API}/999999/files", {"file": pdf_upload()}, headers=editor).status_code
        == 404
    )


def test_demo_files_are_attached_read_and_found(world):
    services.library_load_demo()
    assert files.library_files_load_demo() == 2
    assert files.library_files_load_demo() == 0  # idempotent
    stored = {file.original_name: file for file in RecordFile.objects.all()}
    assert {name: (f.status, f.language) for name, f in stored.items()} == {
        "reading-notes-shared-endeavour-call-three.pdf": (FileStatus.EXTRACTED, "en"),
        "lasanteckningar-sou-2016-92.txt": (FileStatus.EXTRACTED, "sv"),
    }
    sef = stored["reading-notes-shared-endeavour-call-three.pdf"].record
    assert sef.pk in found("questionnaire")  # a word only in the demo file
