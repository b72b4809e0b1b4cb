import json

from django.utils import timezone

from locus.accounts.services import token_create
from locus.core.tenancy import place_scope

from ..models import Partnership, Service
from .factories import member_of

API = "/api/v1/places"


def bearer(membership):
    _token, secret = token_create(membership=membership, name="t")
    return {"Authorization": f"Bearer {secret}"}


def test_public_services_and_filters(world, directory, client):
    a = world.a
    response = client.get(f"{API}/{a.place.slug}/services")
    assert response.status_code == 200
    assert {s["name"] for s in response.json()} == {
        "Casework",
        "Advocacy",
        "Youth work",
        "Helpline",
    }
    response = client.get(f"{API}/{a.place.slug}/services", {"need": "youth_work", "age": 30})
    assert response.json() == []
    response = client.get(f"{API}/{a.place.slug}/services", {"need": "nope"})
    assert response.status_code == 422 and "need" in response.json()["fields"]
    response = client.get(f"{API}/{a.place.slug}/services", {"area": world.b.areas[0].pk})
    assert response.status_code == 422 and "area" in response.json()["fields"]
    service = directory["services"][0]
    detail = client.get(f"{API}/{a.place.slug}/services/{service.pk}").json()
    assert detail["last_checked_on"] == timezone.localdate().isoformat()
    assert detail["stale"] is False
    assert client.get(f"{API}/{world.b.place.slug}/services/{service.pk}").status_code == 404


def test_service_create_update_delete(world, directory, client):
    a = world.a
    headers = bearer(a.memberships["admin"])
    charity = directory["charity"]
    body = {
        "name": "New line",
        "service_type": "helpline",
        "target_groups": ["everyone"],
        "languages": ["en", "ar"],
        "areas": [a.areas[0].pk],
    }
    path = f"{API}/{a.place.slug}/directory/organisations/{charity.pk}/services"
    created = client.post(path, body, content_type="application/json", headers=headers)
    assert created.status_code == 201, created.content
    service_id = created.json()["id"]
    assert created.json()["areas"] == [a.areas[0].pk]
    bad = client.post(
        path,
        {**body, "service_type": "x", "areas": [world.b.areas[0].pk]},
        content_type="application/json",
        headers=headers,
    )
    assert bad.status_code == 422
    assert "service_type" in bad.json()["fields"] or "areas" in bad.json()["fields"]
    unknown = client.post(
        path, {**body, "colour": "red"}, content_type="application/json", headers=headers
    )
    assert unknown.status_code == 422 and "colour" in unknown.json()["fields"]
    patch_path = f"{API}/{a.place.slug}/directory/services/{service_id}"
    patched = client.patch(
        patch_path, {"min_age": 30, "max_age": 10}, content_type="application/json", headers=headers
    )
    assert patched.status_code == 422 and "max_age" in patched.json()["fields"]
    patched = client.patch(
        patch_path, {"name": "Renamed"}, content_type="application/json", headers=headers
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"
    assert client.delete(patch_path, headers=headers).json() == {"id": service_id, "deleted": True}
    with place_scope(a.place):
        assert not Service.objects.filter(pk=service_id).exists()


def test_editor_token_writes_only_its_own_organisation(world, directory, client):
    a = world.a
    editor = member_of(directory["charity"], "editor", "api-editor@charity.test")
    membership = editor.memberships.get()
    headers = bearer(membership)
    body = {"name": "Mine", "service_type": "helpline", "whole_place": True}
    own = f"{API}/{a.place.slug}/directory/organisations/{directory['charity'].pk}/services"
    other = f"{API}/{a.place.slug}/directory/organisations/{directory['other'].pk}/services"
    assert (
        client.post(own, body, content_type="application/json", headers=headers).status_code == 201
    )
    response = client.post(other, body, content_type="application/json", headers=headers)
    assert response.status_code == 403
    assert (
        client.get(f"{API}/{a.place.slug}/directory/coverage", headers=headers).status_code == 403
    )


def test_partnerships_api(world, directory, client):
    a = world.a
    headers = bearer(a.memberships["coordinator"])
    listed = client.get(f"{API}/{a.place.slug}/directory/partnerships", headers=headers)
    assert listed.status_code == 200 and len(listed.json()) == 2
    path = f"{API}/{a.place.slug}/directory/organisations/{directory['youth'].pk}/partnerships"
    response = client.post(
        f"{path}/{directory['charity'].pk}",
        {"kind": "referral"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201
    again = client.post(
        f"{path}/{directory['charity'].pk}",
        {"kind": "referral"},
        content_type="application/json",
        headers=headers,
    )
    assert again.status_code == 422 and "target" in again.json()["fields"]
    response = client.post(
        f"{path}/{world.b.organisation.pk}",
        {"kind": "referral"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 404
    bad_kind = client.post(
        f"{path}/{directory['other'].pk}",
        {"kind": "friends"},
        content_type="application/json",
        headers=headers,
    )
    assert bad_kind.status_code == 422 and "kind" in bad_kind.json()["fields"]
    with place_scope(a.place):
        assert Partnership.objects.filter(source=directory["youth"]).count() == 1


def test_coverage_and_hsds_api(world, directory, client, django_capture_on_commit_callbacks):
    a = world.a
    headers = bearer(a.memberships["admin"])
    coverage = client.get(f"{API}/{a.place.slug}/directory/coverage", headers=headers).json()
    north = next(r for r in coverage["rows"] if r["area_id"] == directory["north"].pk)
    victim = next(c for c in north["cells"] if c["service_type"] == "victim_support")
    assert victim["providers"] == 2 and victim["overlap_groups"] == ["muslim_people"]
    bad = client.get(
        f"{API}/{a.place.slug}/directory/coverage", {"target_group": "x"}, headers=headers
    )
    assert bad.status_code == 422
    export = client.get(f"{API}/{a.place.slug}/directory/hsds", headers=headers)
    assert export.status_code == 200
    data = export.json()
    assert len(data["services"]) == 4
    # What the API answers (after its response schema) is HSDS too, formats included.
    from ..hsds import validation

    for kind, objects in (("organization", data["organizations"]), ("service", data["services"])):
        for obj in objects:
            assert validation.errors(kind, obj, strict=True) == [], obj
    with place_scope(a.place):
        Service.objects.filter(place=a.place).delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{API}/{a.place.slug}/directory/hsds/import",
            {"data": data, "mode": "nothing"},
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    job = client.get(f"{API}/{a.place.slug}/jobs/{job_id}", headers=headers).json()
    assert job["status"] == "succeeded" and job["result"]["created"] == 4
    with place_scope(a.place):
        assert Service.objects.filter(place=a.place).count() == 4
    neither = client.post(
        f"{API}/{a.place.slug}/directory/hsds/import",
        {"mode": "nothing"},
        content_type="application/json",
        headers=headers,
    )
    assert neither.status_code == 422
    unreadable = client.post(
        f"{API}/{a.place.slug}/directory/hsds/import",
        {"data": 42},
        content_type="application/json",
        headers=headers,
    )
    assert unreadable.status_code == 422
    csv = client.post(
        f"{API}/{a.place.slug}/directory/hsds/import",
        {"csv": {"units.csv": "id\n1\n"}},
        content_type="application/json",
        headers=headers,
    )
    assert csv.status_code == 422 and json.loads(csv.content)["fields"]


def test_api_lists_have_a_query_budget(world, directory, client, django_assert_max_num_queries):
    from .factories import listed_organisation, make_partnership, make_service

    a = world.a
    headers = bearer(a.memberships["admin"])
    urls = [
        f"{API}/{a.place.slug}/services",
        f"{API}/{a.place.slug}/organisations",
        f"{API}/{a.place.slug}/directory/partnerships",
        f"{API}/{a.place.slug}/directory/coverage",
        f"{API}/{a.place.slug}/directory/hsds",
    ]
    counts = {}
    for url in urls:
        with django_assert_max_num_queries(40) as captured:
            assert client.get(url, headers=headers).status_code == 200
        counts[url] = len(captured.captured_queries)
    for index in range(6):
        organisation = listed_organisation(a.place, f"More {index}")
        make_service(a.place, organisation, areas=a.areas, name=f"More {index}")
        make_partnership(a.place, organisation, directory["charity"])
    for url, count in counts.items():
        with django_assert_max_num_queries(count):
            assert client.get(url, headers=headers).status_code == 200


def test_organisation_entry_update(world, directory, client):
    a = world.a
    headers = bearer(a.memberships["coordinator"])
    path = f"{API}/{a.place.slug}/directory/organisations/{directory['charity'].pk}"
    response = client.patch(
        path, {"website": "not a url"}, content_type="application/json", headers=headers
    )
    assert response.status_code == 422 and "website" in response.json()["fields"]
    response = client.patch(
        path, {"email": "hello@charity.example"}, content_type="application/json", headers=headers
    )
    assert response.status_code == 200 and response.json()["email"] == "hello@charity.example"
    other = f"{API}/{a.place.slug}/directory/organisations/{world.b.organisation.pk}"
    response = client.patch(other, {"name": "x"}, content_type="application/json", headers=headers)
    assert response.status_code == 404


def test_an_area_id_beyond_the_database_is_a_422_not_an_overflow(world, directory, client):
    a = world.a
    headers = bearer(a.memberships["admin"])
    path = f"{API}/{a.place.slug}/directory/organisations/{directory['charity'].pk}/services"
    body = {"name": "Line", "service_type": "helpline", "areas": [2**95, 5]}
    created = client.post(path, body, content_type="application/json", headers=headers)
    assert created.status_code == 422
    assert any(key.startswith("areas") for key in created.json()["fields"])
    service = directory["services"][0]
    patched = client.patch(
        f"{API}/{a.place.slug}/directory/services/{service.pk}",
        {"areas": [-(2**70)]},
        content_type="application/json",
        headers=headers,
    )
    assert patched.status_code == 422
    assert any(key.startswith("areas") for key in patched.json()["fields"])


def test_text_with_a_control_character_is_a_422_naming_the_field(world, directory, client):
    """PostgreSQL refuses NUL in text: every text field of the write bodies is checked first
    (it used to be a 500 there, and stored as typed on SQLite). Line breaks stay allowed."""
    a = world.a
    headers = bearer(a.memberships["admin"])
    charity, service = directory["charity"], directory["services"][0]
    base = f"{API}/{a.place.slug}/directory"
    writes = [
        ("post", f"{base}/organisations/{charity.pk}/services", {"service_type": "helpline"}),
        ("patch", f"{base}/services/{service.pk}", {}),
    ]
    for method, path, body in writes:
        for field in ("name", "description", "eligibility", "how_to_refer", "phone", "cost"):
            response = getattr(client, method)(
                path,
                {"name": "Line", **body, field: "a\x00b"},
                content_type="application/json",
                headers=headers,
            )
            assert response.status_code == 422, (method, field)
            assert list(response.json()["fields"]) == [field], response.json()
        response = getattr(client, method)(
            path,
            {"name": "Line", **body, "target_groups": ["everyone\x00"]},
            content_type="application/json",
            headers=headers,
        )
        assert list(response.json()["fields"]) == ["target_groups"], response.json()
    for field in ("name", "description", "phone"):
        response = client.patch(
            f"{base}/organisations/{charity.pk}",
            {field: "a\x07b"},
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 422 and list(response.json()["fields"]) == [field]
    response = client.post(
        f"{base}/organisations/{directory['youth'].pk}/partnerships/{charity.pk}",
        {"kind": "referral", "description": "a\x00b"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 422 and list(response.json()["fields"]) == ["description"]
    with place_scope(a.place):
        stored = [s.name + s.description + s.phone for s in Service.objects.all()]
        stored += [p.description for p in Partnership.objects.all()]
    assert not any("\x00" in text for text in stored)
    response = client.patch(
        f"{base}/services/{service.pk}",
        {"description": "Two lines\nand\ta tab"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200 and response.json()["description"] == "Two lines\nand\ta tab"
