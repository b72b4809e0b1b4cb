"""Platform admin edits go through the services: validated, versioned and re-indexed."""

import json
import re

import pytest

from locus.accounts.models import User
from locus.core.testing.world import enable_totp
from locus.library.models import Record
from locus.library.selectors import SearchParams, record_search
from locus.library.services import FIELDS, record_values

from .factories import make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = User.objects.create_superuser("root@example.org", "pw-for-tests-only")
    enable_totp(user)  # the platform administration asks for a second factor
    client.force_login(user)
    return client


def form_data(record, **changes):
    data = {}
    for name, value in {**record_values(record), **changes}.items():
        if name == "organisation":
            data[name] = value.pk if value else ""
        elif isinstance(value, list):
            data[name] = json.dumps(value)
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else value
    data = {key: value for key, value in data.items() if key in FIELDS}
    # The read-only inlines' management forms, as the page sends them.
    versions = list(record.versions.values_list("pk", flat=True))
    data.update({"links_out-TOTAL_FORMS": 0, "links_out-INITIAL_FORMS": 0})
    data.update({"versions-TOTAL_FORMS": len(versions), "versions-INITIAL_FORMS": len(versions)})
    for index, pk in enumerate(versions):
        data[f"versions-{index}-id"] = pk
        data[f"versions-{index}-record"] = record.pk
    return data


def test_an_admin_edit_is_versioned_and_indexed(admin_client):
    record = make_record(title="Old admin title", year=2019)
    url = f"/admin/library/record/{record.pk}/change/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, form_data(record, title="New admin title"))
    assert response.status_code == 302, response.content.decode()[:2000]
    record = Record.objects.get(pk=record.pk)
    assert record.title == "New admin title"
    latest = record.versions.order_by("-number").first()
    assert (latest.number, latest.changed_fields) == (2, ["title"])
    assert latest.actor.email == "root@example.org"
    hits = record_search(SearchParams(q="admin"), language="en").hits
    assert [hit.record.title for hit in hits] == ["New admin title"]


def test_an_invalid_admin_edit_is_shown_on_the_form(admin_client):
    record = make_record(title="Guide")
    url = f"/admin/library/record/{record.pk}/change/"
    response = admin_client.post(url, form_data(record, topics=["nope"], training_format="online"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown code: nope" in html
    assert "Only training resources have a duration, format and level." in html
    assert Record.objects.get(pk=record.pk).versions.count() == 1


def test_the_admin_pages_read_in_the_readers_language(admin_client):
    """A German operator reads the record's versions (which fields changed, by name) and the
    jobs' filters in German, not the models' attribute names."""
    from django.conf import settings

    from locus.library.services import record_update

    record = make_record()
    record_update(record=record, data={"title": "Ein Leitfaden"})
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    page = admin_client.get(f"/admin/library/record/{record.pk}/change/").content.decode()
    assert "Versionen des Eintrags" in page and "Geänderte Felder" in page
    assert re.search(r'class="field-changed">\s*<p>Titel</p>', page)
    assert "Changed fields" not in page and '["title"]' not in page
    jobs = admin_client.get("/admin/core/job/").content.decode()
    assert "Nach Art des Auftrags" in jobs and "kind" not in jobs.lower().split("<body")[1]
