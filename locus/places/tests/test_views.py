"""The staff area-import UI (upload → watched job), the job pages, the public place home, and
query budgets that do not grow with the number of rows."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from locus.core.choices import JobStatus
from locus.core.models import Job
from locus.core.services import job_create
from locus.core.testing.factories import AreaFactory, UserFactory
from locus.places.models import Area
from locus.places.services import AREA_IMPORT_JOB

from .geojson import bad_feature, boroughs, collection, feature, square


def areas_url(place):
    return reverse("places:areas", kwargs={"place_slug": place.slug})


def upload(raw, name="boroughs.geojson"):
    return SimpleUploadedFile(name, raw, content_type="application/geo+json")


def form_data(raw, **overrides):
    return {
        "file": upload(raw),
        "name_property": "name",
        "code_property": "",
        "population_property": "",
        "skip_invalid": "no",
        **overrides,
    }


def area_names(place, in_place):
    with in_place(place):
        return set(Area.objects.values_list("name", flat=True))


def jobs_of(place, in_place):
    with in_place(place):
        return list(Job.objects.all())


def field_errors(html, field):
    """The text of the error list rendered inside the field's own block (includes/form.html)."""
    for block in html.split('<div class="field')[1:]:
        if f'name="{field}"' in block:
            match = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', block, re.S)
            return match.group(1) if match else ""
    raise AssertionError(f"no field {field} in the page")


@pytest.fixture
def admin_a(world, client_for):
    return client_for(world.a.users["admin"])


@pytest.fixture
def post_upload(admin_a, world, django_capture_on_commit_callbacks):
    """POST an upload to place A as its admin and run the queued job (ImmediateBackend)."""

    def post(data, **extra):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = admin_a.post(areas_url(world.a.place), data, **extra)
        return response, callbacks

    return post


def finished_job(response, place, in_place):
    with in_place(place):
        job_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
        return Job.objects.get(pk=job_id)


# --- upload → job ---


def test_the_admin_sees_the_form_and_the_areas_of_this_place_only(admin_a, world):
    response = admin_a.get(areas_url(world.a.place))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert "Alphaville North" in html and "Alphaville South" in html
    assert "Betastad" not in html


def test_optional_fields_are_marked_optional_once(admin_a, world):
    html = admin_a.get(areas_url(world.a.place)).content.decode()
    for field in ("code_property", "population_property"):
        label = re.search(rf'<label for="id_{field}">(.*?)</label>', html, re.S).group(1)
        text = re.sub(r"<[^>]+>", "", label)
        assert text.lower().count("optional") == 1, text


def test_a_valid_upload_redirects_to_the_job_that_imported_the_areas(
    admin_a, post_upload, world, in_place
):
    raw = collection(feature("Camden", code="E09000007", pop="210000"), *boroughs(2))
    response, callbacks = post_upload(
        form_data(raw, code_property="code", population_property="pop")
    )

    assert response.status_code == 302
    assert len(callbacks) == 1  # the task was enqueued on commit, not before
    job = finished_job(response, world.a.place, in_place)
    assert response["Location"] == reverse(
        "places:job", kwargs={"place_slug": "alpha", "job_id": job.pk}
    )
    assert job.kind == AREA_IMPORT_JOB
    assert job.title == "Import areas from boroughs.geojson"
    assert job.created_by == world.a.users["admin"]
    assert job.status == JobStatus.SUCCEEDED
    assert job.progress == 100
    assert job.started_at and job.finished_at
    assert job.payload == ""  # the upload is not kept once the job has run
    assert job.result == {"created": 3, "updated": 0, "skipped": 0, "problems": []}
    assert [line["message"] for line in job.log] == [
        "Reading the file.",
        "Imported: 3 new, 0 updated, 0 skipped.",
    ]
    assert area_names(world.a.place, in_place) == {
        "Alphaville North",
        "Alphaville South",
        "Camden",
        "Borough 0",
        "Borough 1",
    }
    with in_place(world.a.place):
        camden = Area.objects.get(name="Camden")
    assert (camden.code, camden.population, camden.geometry) == ("E09000007", 210_000, square())

    page = admin_a.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Succeeded" in html and "3 new, 0 updated, 0 skipped." in html
    assert "The import has started; this page follows it." in html
    assert "hx-get" not in html  # a finished job is not polled


def test_an_import_whose_task_cannot_be_queued_is_saved_shown_queued_and_swept(
    admin_a, post_upload, world, in_place, monkeypatch, caplog
):
    """The job's task is queued after the commit; when that fails (the queue's table locked,
    the database gone for a moment) the job is already saved: the person is taken to its page,
    which says it is queued, and the sweep (deliver_outbox) starts it once it has waited
    JOB_STALL. The task, if it turns up after all, finds the job claimed and does nothing."""
    import io
    import logging
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import OperationalError
    from django.utils import timezone

    from locus.core.services import JOB_STALL, jobs_start_stalled
    from locus.places import tasks

    real = tasks.run_area_import

    class Unavailable:
        name = "run_area_import"

        def enqueue(self, **kwargs):
            raise OperationalError("database is locked")

    monkeypatch.setattr(tasks, "run_area_import", Unavailable())
    with caplog.at_level(logging.WARNING, logger="locus.core.tasks"):
        response, callbacks = post_upload(form_data(collection(*boroughs(2))))

    assert response.status_code == 302 and len(callbacks) == 1
    assert "could not queue run_area_import" in caplog.text
    job = finished_job(response, world.a.place, in_place)
    assert job.status == JobStatus.QUEUED
    page = admin_a.get(response["Location"]).content.decode()
    assert "Queued" in page and "Waiting for the worker" in page
    monkeypatch.undo()

    with in_place(world.a.place):  # not before it has waited JOB_STALL
        assert jobs_start_stalled(place=world.a.place) == 0
    with in_place(world.a.place):
        Job.objects.filter(pk=job.pk).update(
            created_at=timezone.now() - JOB_STALL - timedelta(seconds=1)
        )
    out = io.StringIO()
    call_command("deliver_outbox", stdout=out)
    assert f"Jobs started late: {world.a.place.slug} 1" in out.getvalue()

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result["created"] == 2
    assert {"Borough 0", "Borough 1"} <= area_names(world.a.place, in_place)
    log = list(job.log)
    real.call(place_id=world.a.place.pk, job_id=job.pk)  # the lost task, late after all
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.log == log
    with in_place(world.a.place):
        assert jobs_start_stalled(place=world.a.place) == 0


def test_a_reupload_updates_the_existing_areas(post_upload, world, in_place):
    raw = collection(feature("alphaville north", square(0.5, 51.0)), *boroughs(1))
    response, _callbacks = post_upload(form_data(raw))
    job = finished_job(response, world.a.place, in_place)
    assert job.result["created"] == 1 and job.result["updated"] == 1
    with in_place(world.a.place):
        assert Area.objects.get(name="Alphaville North").geometry == square(0.5, 51.0)
    assert area_names(world.b.place, in_place) == {"Betastad North", "Betastad South"}


def test_invalid_json_is_refused_next_to_the_file_field_keeping_what_was_typed(
    post_upload, world, in_place
):
    data = form_data(
        b'{"type": "FeatureCollection", "features": [',
        name_property="LAD23NM",
        code_property="LAD23CD",
        skip_invalid="yes",
    )
    response, callbacks = post_upload(data)
    assert response.status_code == 422
    assert callbacks == []
    html = response.content.decode()
    assert "The file is not valid JSON" in field_errors(html, "file")
    assert 'value="LAD23NM"' in html and 'value="LAD23CD"' in html
    assert re.search(r'<input[^>]*value="yes"[^>]*checked', html)
    assert jobs_of(world.a.place, in_place) == []
    assert area_names(world.a.place, in_place) == {"Alphaville North", "Alphaville South"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"type": "Feature"}', "The file must be a GeoJSON FeatureCollection."),
        (
            b'{"type": "FeatureCollection", "features": []}',
            "The FeatureCollection has no features.",
        ),
        (b"\xff\xfe\x00", "The file is not UTF-8 text."),
    ],
)
def test_a_file_that_is_not_a_feature_collection_is_refused_before_queueing(
    post_upload, world, in_place, raw, message
):
    response, _callbacks = post_upload(form_data(raw))
    assert response.status_code == 422
    assert message in field_errors(response.content.decode(), "file")
    assert jobs_of(world.a.place, in_place) == []


def test_missing_file_and_name_property_are_errors_next_to_their_fields(admin_a, world, in_place):
    response = admin_a.post(
        areas_url(world.a.place), {"name_property": "", "code_property": "CODE"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert field_errors(html, "file") and field_errors(html, "name_property")
    assert 'value="CODE"' in html
    assert jobs_of(world.a.place, in_place) == []


def test_a_file_over_the_size_limit_is_refused(post_upload, world, in_place, settings):
    settings.LOCUS_MAX_AREA_UPLOAD = 100
    response, _callbacks = post_upload(form_data(collection(*boroughs(3)), name_property="NAME"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "the limit is 100\xa0bytes" in field_errors(html, "file")
    assert 'value="NAME"' in html
    assert jobs_of(world.a.place, in_place) == []


def test_bad_features_with_import_nothing_fail_the_job_and_list_each_one(
    admin_a, post_upload, world, in_place
):
    raw = collection(
        *boroughs(2),
        bad_feature("Grid One"),
        feature("Point", {"type": "Point", "coordinates": [0, 0]}),
    )
    response, _callbacks = post_upload(form_data(raw, skip_invalid="no"))
    assert response.status_code == 302
    job = finished_job(response, world.a.place, in_place)
    assert job.status == JobStatus.FAILED
    assert job.result["code"] == "invalid_features"
    assert job.result["message"] == "2 features are invalid, so nothing was imported."
    errors = [line["message"] for line in job.log if line["level"] == "error"]
    assert any(
        m.startswith("Feature 3 (Grid One): Coordinate (530000, 180000) is outside") for m in errors
    )
    assert (
        "Feature 4 (Point): Geometry type Point is not allowed; "
        "areas must be Polygon or MultiPolygon." in errors
    )
    assert area_names(world.a.place, in_place) == {"Alphaville North", "Alphaville South"}

    html = admin_a.get(response["Location"]).content.decode()
    assert "Failed" in html
    assert "2 features are invalid, so nothing was imported." in html
    assert "Feature 3 (Grid One)" in html and "Feature 4 (Point)" in html


def test_bad_features_with_import_the_valid_ones_import_the_rest(post_upload, world, in_place):
    raw = collection(*boroughs(2), bad_feature("Grid One"))
    response, _callbacks = post_upload(form_data(raw, skip_invalid="yes"))
    job = finished_job(response, world.a.place, in_place)
    assert job.status == JobStatus.SUCCEEDED
    assert (job.result["created"], job.result["updated"], job.result["skipped"]) == (2, 0, 1)
    assert [p["feature"] for p in job.result["problems"]] == [3]
    assert any(line["message"].startswith("Feature 3 (Grid One)") for line in job.log)
    assert area_names(world.a.place, in_place) == {
        "Alphaville North",
        "Alphaville South",
        "Borough 0",
        "Borough 1",
    }


def test_only_admins_may_upload(world, client_for, in_place, django_capture_on_commit_callbacks):
    client = client_for(world.a.users["coordinator"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(areas_url(world.a.place), form_data(collection(*boroughs(1))))
    assert response.status_code == 403
    assert jobs_of(world.a.place, in_place) == []


def test_an_admin_cannot_upload_into_another_place(admin_a, world, in_place):
    response = admin_a.post(areas_url(world.b.place), form_data(collection(*boroughs(1))))
    assert response.status_code == 404
    assert jobs_of(world.b.place, in_place) == []
    assert area_names(world.b.place, in_place) == {"Betastad North", "Betastad South"}


# --- the job page ---


def _queued_job(place, in_place):
    with in_place(place):
        return job_create(place=place, kind=AREA_IMPORT_JOB, title="Import areas from x.geojson")


def test_the_job_page_polls_while_the_job_is_not_finished(admin_a, world, in_place):
    job = _queued_job(world.a.place, in_place)
    html = admin_a.get(reverse("places:job", args=["alpha", job.pk])).content.decode()
    assert "<h1>Import areas from x.geojson</h1>" in html
    assert "hx-get" in html and "Waiting for the worker" in html


def test_the_htmx_request_gets_only_the_status_section(admin_a, world, in_place):
    job = _queued_job(world.a.place, in_place)
    response = admin_a.get(
        reverse("places:job", args=["alpha", job.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode().strip()
    assert html.startswith('<section id="job-status"')
    assert html.endswith("</section>")
    assert html.count("<section") == 1
    assert "<html" not in html and "<h1>" not in html and "All jobs" not in html
    assert "Queued" in html


def test_the_job_page_announces_its_state_from_a_region_that_is_never_replaced(
    admin_a, world, in_place
):
    """The polled section is replaced whole, and a live region swapped in whole is not announced
    (nor should the whole log be read out every second): the live region sits outside it, and
    the section carries only the state to copy there (locus.js)."""
    job = _queued_job(world.a.place, in_place)
    url = reverse("places:job", args=["alpha", job.pk])
    html = admin_a.get(url).content.decode()
    region = html.index('<p id="job-announcement" class="visually-hidden" role="status"></p>')
    assert region < html.index('<section id="job-status"')
    partial = admin_a.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "aria-live" not in partial and 'id="job-announcement"' not in partial
    assert 'data-announce-to="job-announcement"' in partial
    assert 'data-announce="Queued"' in partial


def test_a_job_of_another_place_is_not_found(admin_a, world, in_place):
    job = _queued_job(world.b.place, in_place)
    assert admin_a.get(reverse("places:job", args=["alpha", job.pk])).status_code == 404
    response = admin_a.get(
        reverse("places:job", args=["alpha", job.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 404


def test_the_jobs_list_shows_this_place_only(admin_a, world, in_place):
    _queued_job(world.a.place, in_place)
    with in_place(world.b.place):
        job_create(place=world.b.place, kind="x", title="Betastad secret job")
    html = admin_a.get(reverse("places:jobs", args=["alpha"])).content.decode()
    assert "Import areas from x.geojson" in html
    assert "Betastad secret job" not in html


def test_jobs_are_the_place_teams(world, client_for, in_place):
    """A partner starts no import, and the team's jobs (their logs, who started them) are not
    its business: a partner's administrator gets 403 on the pages and the API, and no job on
    its staff home; so does a team member whose role does not see jobs."""
    from locus.accounts.services import token_create
    from locus.core.testing.world import partner_member

    job = _queued_job(world.a.place, in_place)
    partner = partner_member(world.a, "admin")
    client = client_for(partner.user)
    assert client.get(reverse("places:jobs", args=["alpha"])).status_code == 403
    assert client.get(reverse("places:job", args=["alpha", job.pk])).status_code == 403
    home = client.get(reverse("places:staff_home", args=["alpha"])).content.decode()
    assert "Import areas from x.geojson" not in home
    assert reverse("places:jobs", args=["alpha"]) not in home
    _token, secret = token_create(membership=partner, name="partner")
    response = client.get(
        f"/api/v1/places/alpha/jobs/{job.pk}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 403
    caseworker = client_for(world.a.users["caseworker"])
    home = caseworker.get(reverse("places:staff_home", args=["alpha"])).content.decode()
    assert "Import areas from x.geojson" not in home
    team = client_for(world.a.users["coordinator"])
    home = team.get(reverse("places:staff_home", args=["alpha"])).content.decode()
    assert "Import areas from x.geojson" in home


# --- the public place home ---


def test_the_place_home_lists_its_areas_and_not_the_other_place(client, world):
    html = client.get(reverse("places:home", args=["alpha"])).content.decode()
    assert "Alphaville North" in html and "Alphaville South" in html
    assert "Betastad" not in html
    html = client.get(reverse("places:home", args=["beta"])).content.decode()
    assert "Betastad North" in html and "Alphaville" not in html


def test_imported_areas_appear_on_the_place_home(client, post_upload, world):
    post_upload(form_data(collection(*boroughs(2, prefix="Ward"))))
    client.logout()
    html = client.get(reverse("places:home", args=["alpha"])).content.decode()
    assert "Ward 0" in html and "Ward 1" in html
    assert "Ward 0" not in client.get(reverse("places:home", args=["beta"])).content.decode()


# --- query budgets ---

PAGE_QUERY_BUDGET = 12


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _add_areas(place, count, in_place):
    with in_place(place):
        start = Area.objects.count()
        for i in range(start, start + count):
            AreaFactory(place=place, name=f"Extra {i}", population=i)


def _add_jobs(place, count, in_place):
    with in_place(place):
        start = Job.objects.count()
        for i in range(start, start + count):
            user = UserFactory()
            job = job_create(place=place, kind=AREA_IMPORT_JOB, title=f"Job {i}", created_by=user)
            job.status = [JobStatus.QUEUED, JobStatus.SUCCEEDED, JobStatus.FAILED][i % 3]
            job.save()


@pytest.mark.parametrize(
    ("url_name", "add_rows"),
    [
        ("places:areas", _add_areas),
        ("places:home", _add_areas),
        ("places:jobs", _add_jobs),
        ("places:staff_home", _add_jobs),
    ],
)
def test_list_pages_have_a_query_budget_independent_of_the_rows(
    admin_a, world, in_place, django_assert_max_num_queries, url_name, add_rows
):
    url = reverse(url_name, args=["alpha"])
    admin_a.get(url)  # warm up: session, caches and content types
    add_rows(world.a.place, 3, in_place)
    few = _count_queries(admin_a, url)
    add_rows(world.a.place, 27, in_place)
    with django_assert_max_num_queries(PAGE_QUERY_BUDGET):
        many_html = admin_a.get(url).content.decode()
    assert _count_queries(admin_a, url) == few
    assert ("Extra 31" in many_html) or ("Job 29" in many_html)  # the newest rows are shown


def test_the_place_home_links_to_support_open_data_and_the_showcase(client, world):
    html = client.get(reverse("places:home", args=["alpha"])).content.decode()
    assert reverse("directory:public", args=["alpha"]) in html
    assert reverse("insights_data:open_data", args=["alpha"]) in html
    assert reverse("library:showcase", args=["alpha"]) in html
