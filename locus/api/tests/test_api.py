"""The JSON API at /api/v1/: each endpoint's happy path, its one error shape, who may call it,
and that a place never sees another place's objects through it."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from locus.accounts.services import token_create, token_revoke
from locus.core.choices import AuditAction, JobStatus
from locus.core.models import AuditEvent, Job
from locus.core.services import job_create
from locus.core.testing import RATE_COUNT_QUERIES
from locus.core.testing.factories import (
    AreaFactory,
    MembershipFactory,
    OrganisationFactory,
    square,
)
from locus.core.testing.world import enable_totp, partner_member
from locus.directory.services import organisation_list_in_place
from locus.places.models import Area

API = "/api/v1"


# --- helpers -------------------------------------------------------------------------------


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def secret_for(membership, name="test"):
    _token, secret = token_create(membership=membership, name=name)
    return secret


def assert_error(response, status, code=None):
    """The one error shape: {"message", "code", "fields"} and nothing else."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "code", "fields"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    assert all(isinstance(v, list) and v for v in body["fields"].values()), body
    if code is not None:
        assert body["code"] == code, body
    if status == 401:  # RFC 9110: a 401 names the scheme that would work
        assert response["WWW-Authenticate"].startswith('Bearer realm="Locus API"')
    return body


def feature(name, geometry, **properties):
    return {"type": "Feature", "properties": {"name": name, **properties}, "geometry": geometry}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def post_import(client, place_slug, body, **headers):
    return client.post(
        f"{API}/places/{place_slug}/areas/import",
        body,
        content_type="application/json",
        headers=headers,
    )


def make_job(place_world, in_place):
    with in_place(place_world.place):
        return job_create(place=place_world.place, kind="test", title="Test job")


@pytest.fixture
def alpha_admin(world):
    return bearer(secret_for(world.a.memberships["admin"]))


# --- authentication: 401 -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer locus_not-a-real-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "bearer"},
    ],
    ids=["none", "unknown", "empty", "basic", "no-secret"],
)
def test_me_without_valid_credentials_is_401(client, world, headers):
    assert_error(client.get(f"{API}/me", headers=headers), 401, "unauthorized")


def test_401_tells_how_to_authenticate(client, world):
    """The challenge names the scheme; a token that was sent but does not work is an
    `invalid_token` (RFC 6750), and the message says where tokens are made."""
    body = assert_error(client.get(f"{API}/me"), 401, "unauthorized")
    assert "Authorization" in body["message"] and "/staff/tokens/" in body["message"]
    assert client.get(f"{API}/me")["WWW-Authenticate"] == 'Bearer realm="Locus API"'
    response = client.get(f"{API}/me", headers=bearer("locus_wrong"))
    assert response["WWW-Authenticate"] == 'Bearer realm="Locus API", error="invalid_token"'


def test_revoked_token_is_401(client, world):
    membership = world.a.memberships["admin"]
    token, secret = token_create(membership=membership, name="soon revoked")
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200
    token_revoke(token=token, actor=membership.user)
    assert_error(client.get(f"{API}/me", headers=bearer(secret)), 401, "unauthorized")


def test_token_of_an_ended_membership_or_a_role_without_api_is_401(client, world):
    membership = world.a.memberships["editor"]
    secret = secret_for(membership)
    membership.role = "member"  # members may not use the API
    membership.save()
    assert_error(client.get(f"{API}/me", headers=bearer(secret)), 401)
    membership.role = "editor"
    membership.is_active = False
    membership.save()
    assert_error(client.get(f"{API}/me", headers=bearer(secret)), 401)


def test_token_of_a_deactivated_user_is_401(client, world):
    membership = world.a.memberships["admin"]
    secret = secret_for(membership)
    membership.user.is_active = False
    membership.user.save()
    assert_error(client.get(f"{API}/me", headers=bearer(secret)), 401)


class TestTokenOfAnOwnerWithoutMfa:
    """A role that can see personal data must use two-factor authentication: once the owner
    switches it off, their token stops working (401 saying why), as the staff pages send the
    same person to set it up; set up again, the token works again."""

    def test_token_stops_while_the_owner_has_no_mfa(self, client, world):
        membership = world.a.memberships["caseworker"]
        secret = secret_for(membership)
        cases_url = f"{API}/places/alpha/cases"
        assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200
        assert client.get(cases_url, headers=bearer(secret)).status_code == 200
        AuditEvent.objects.filter(action=AuditAction.TOKEN_USED).delete()
        Authenticator.objects.filter(user=membership.user).delete()  # MFA switched off
        for url in (f"{API}/me", cases_url):
            body = assert_error(client.get(url, headers=bearer(secret)), 401, "mfa_required")
            assert "two-factor" in body["message"]
        assert not AuditEvent.objects.filter(action=AuditAction.TOKEN_USED).exists()
        # The staff pages answer the same person the same way: set up MFA first.
        client.force_login(membership.user)
        response = client.get(reverse("places:staff_home", args=["alpha"]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_activate_totp"))
        client.logout()
        enable_totp(membership.user)
        assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200

    def test_roles_without_personal_data_keep_their_token(self, client, world):
        membership = world.a.memberships["analyst"]
        secret = secret_for(membership)
        Authenticator.objects.filter(user=membership.user).delete()
        assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200

    def test_a_token_bound_to_a_role_without_personal_data_works_as_the_staff_pages_do(
        self, client, world
    ):
        """The rule follows the token's membership, like the staff pages follow the membership
        acting in the place: an analyst elsewhere needs no MFA for that work."""
        user = world.a.users["admin"]
        other = OrganisationFactory(name="Partner charity")
        organisation_list_in_place(organisation=other, place=world.a.place)
        analyst = MembershipFactory(user=user, organisation=other, role="analyst")
        analyst_secret, admin_secret = secret_for(analyst), secret_for(world.a.memberships["admin"])
        Authenticator.objects.filter(user=user).delete()
        assert client.get(f"{API}/me", headers=bearer(analyst_secret)).status_code == 200
        assert_error(client.get(f"{API}/me", headers=bearer(admin_secret)), 401, "mfa_required")

    def test_demo_accounts_keep_their_token_only_in_demo_mode(self, client, world, settings):
        membership = world.a.memberships["admin"]
        membership.user.is_demo = True
        membership.user.save()
        Authenticator.objects.filter(user=membership.user).delete()
        secret = secret_for(membership)
        settings.LOCUS_DEMO_MODE = True
        assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200
        settings.LOCUS_DEMO_MODE = False
        assert_error(client.get(f"{API}/me", headers=bearer(secret)), 401, "mfa_required")


def test_write_without_credentials_is_401_not_a_csrf_403(world):
    client = Client(enforce_csrf_checks=True)
    assert_error(post_import(client, "alpha", {}), 401, "unauthorized")
    response = post_import(client, "alpha", {}, Authorization="Bearer locus_wrong")
    assert_error(response, 401, "unauthorized")


def test_session_write_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.a.users["admin"])
    body = collection(feature("New", square(-0.1, 51.4)))
    error = assert_error(post_import(client, "alpha", {"geojson": body}), 403, "csrf_failed")
    assert "X-CSRFToken" in error["message"]  # not ninja's bare "CSRF check Failed"


# --- /me -----------------------------------------------------------------------------------


def test_me_with_a_token_shows_only_the_token_membership(client, world):
    membership = world.a.memberships["analyst"]
    response = client.get(f"{API}/me", headers=bearer(secret_for(membership)))
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == membership.user.email
    assert body["token_membership_id"] == membership.pk
    assert body["contexts"] == [
        {
            "membership_id": membership.pk,
            "organisation_id": world.a.organisation.pk,
            "organisation": world.a.organisation.name,
            "role": "analyst",
            "role_label": "Analyst",
            "place": "alpha",
        }
    ]


def test_me_with_a_session(client_for, world):
    client = client_for(world.b.users["coordinator"])
    body = client.get(f"{API}/me").json()
    assert body["token_membership_id"] is None
    assert [c["place"] for c in body["contexts"]] == ["beta"]


def test_using_a_token_is_audited(client, world, in_place):
    membership = world.a.memberships["admin"]
    token, secret = token_create(membership=membership, name="audited")
    job = make_job(world.a, in_place)
    assert not AuditEvent.objects.filter(action=AuditAction.TOKEN_USED).exists()
    response = client.get(f"{API}/places/alpha/jobs/{job.pk}", headers=bearer(secret))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.TOKEN_USED)
    assert event.actor == membership.user
    assert event.place == world.a.place
    assert event.target_id == str(token.pk)


# --- public place endpoints ----------------------------------------------------------------


def test_places_list(client, world):
    response = client.get(f"{API}/places")
    assert response.status_code == 200
    by_slug = {p["slug"]: p for p in response.json()}
    assert set(by_slug) == {"alpha", "beta"}
    assert by_slug["alpha"]["name"] == "Alphaville"
    assert by_slug["beta"]["network"] == "net-se"


def test_place_detail(client, world):
    response = client.get(f"{API}/places/beta")
    assert response.status_code == 200
    assert response.json()["country"] == "SE"
    assert response.json()["emergency_number"] == "112"  # unless the place sets another


@pytest.mark.parametrize(
    "path",
    ["", "/areas", "/organisations", "/organisations/1", "/jobs/1", "/areas/import"],
)
def test_unknown_place_is_404(client, world, alpha_admin, path):
    url = f"{API}/places/nowhere{path}"
    if path.endswith("import"):
        response = client.post(url, {}, content_type="application/json", headers=alpha_admin)
    else:
        response = client.get(url, headers=alpha_admin)
    assert_error(response, 404, "not_found")


def test_place_areas_is_geojson_of_this_place_only(client, world):
    response = client.get(f"{API}/places/alpha/areas")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert sorted(f["properties"]["name"] for f in body["features"]) == [
        "Alphaville North",
        "Alphaville South",
    ]
    assert all(
        f["type"] == "Feature" and f["geometry"]["type"] == "Polygon" for f in body["features"]
    )


def test_organisations_list_and_detail(client, world):
    response = client.get(f"{API}/places/alpha/organisations")
    assert response.status_code == 200
    assert [o["name"] for o in response.json()] == ["Alphaville Council"]
    org = world.a.organisation
    response = client.get(f"{API}/places/alpha/organisations/{org.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "id": org.pk,
        "name": org.name,
        "type": org.type,
        "website": org.website,
        "description": org.description,
        "email": org.email,
        "phone": org.phone,
        "hsds_id": str(org.hsds_id),
    }


@pytest.mark.parametrize("organisation_id", ["other-place", "unlisted", "missing"])
def test_organisation_not_listed_in_the_place_is_404(client, world, organisation_id):
    ids = {
        "other-place": world.b.organisation.pk,
        "unlisted": OrganisationFactory(name="Nowhere Trust").pk,
        "missing": 999_999,
    }
    response = client.get(f"{API}/places/alpha/organisations/{ids[organisation_id]}")
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("bad_id", ["abc", "0", "-3", str(2**63), "1.5"])
def test_bad_ids_in_the_path_are_422_naming_the_parameter(client, world, alpha_admin, bad_id):
    body = assert_error(client.get(f"{API}/places/alpha/organisations/{bad_id}"), 422)
    assert list(body["fields"]) == ["organisation_id"]
    body = assert_error(client.get(f"{API}/places/alpha/jobs/{bad_id}", headers=alpha_admin), 422)
    assert list(body["fields"]) == ["job_id"]


@pytest.mark.parametrize(
    ("lang", "not_found", "invalid", "no_place"),
    [
        ("en", "Not found.", "The request is not valid.", "No such place."),
        ("fr", "Introuvable.", "La requête n’est pas valide.", "Ce territoire n’existe pas."),
        ("de", "Nicht gefunden.", "Die Anfrage ist ungültig.", "Diese Kommune gibt es nicht."),
        ("sv", "Hittades inte.", "Begäran är ogiltig.", "Kommunen finns inte."),
    ],
)
def test_the_apis_own_messages_are_in_the_requests_language(
    client, world, lang, not_found, invalid, no_place
):
    """docs/api.md: `message` is for a person, in the request's language; the generic 404 and
    422 of the error shape too, not only the messages of each endpoint."""
    headers = {"Accept-Language": lang}
    cases = [
        (f"{API}/places/alpha/organisations/999999", 404, not_found),  # Http404 in a view
        (f"{API}/no/such/address", 404, not_found),  # no operation at all
        (f"{API}/places/alpha/organisations/abc", 422, invalid),  # ninja's validation
        (f"{API}/places/nowhere/areas", 404, no_place),  # the place middleware
    ]
    for url, status, message in cases:
        assert assert_error(client.get(url, headers=headers), status)["message"] == message, url


# --- jobs ----------------------------------------------------------------------------------


def test_job_detail(client, world, in_place):
    job = make_job(world.a, in_place)
    secret = secret_for(world.a.memberships["analyst"])
    response = client.get(f"{API}/places/alpha/jobs/{job.pk}", headers=bearer(secret))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["kind"]) == (job.pk, "queued", "test")


def test_a_jobs_log_times_are_written_as_every_other_time(client, world, in_place):
    """ISO 8601 in UTC with `Z`, as `created_at` (ninja's form), and typed date-time in the
    OpenAPI document: the log line's `at` was a plain string with `+00:00`."""
    from locus.core.services import job_log

    job = make_job(world.a, in_place)
    with in_place(world.a.place):
        job_log(job=job, message="Reading the file.")
    secret = secret_for(world.a.memberships["analyst"])
    body = client.get(f"{API}/places/alpha/jobs/{job.pk}", headers=bearer(secret)).json()
    [line] = body["log"]
    shape = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z"
    assert re.fullmatch(shape, body["created_at"]), body["created_at"]
    assert re.fullmatch(shape, line["at"]), line["at"]
    schema = client.get(f"{API}/openapi.json").json()["components"]["schemas"]["JobLogLine"]
    assert schema["properties"]["at"]["format"] == "date-time"


@pytest.mark.parametrize("role", ["editor", "caseworker"])
def test_job_detail_for_a_role_without_jobs_is_403(client, world, in_place, role):
    job = make_job(world.a, in_place)
    secret = secret_for(world.a.memberships[role])
    response = client.get(f"{API}/places/alpha/jobs/{job.pk}", headers=bearer(secret))
    assert_error(response, 403, "forbidden")


def test_other_places_job_through_own_place_url_is_404(client, world, in_place, alpha_admin):
    job_b = make_job(world.b, in_place)
    response = client.get(f"{API}/places/alpha/jobs/{job_b.pk}", headers=alpha_admin)
    assert_error(response, 404, "not_found")


def test_token_of_place_a_gets_404_on_place_b_staff_endpoints(client, world, in_place, alpha_admin):
    job_b = make_job(world.b, in_place)
    assert_error(client.get(f"{API}/places/beta/jobs/{job_b.pk}", headers=alpha_admin), 404)
    body = {"geojson": collection(feature("Intruder", square(13.0, 55.5)))}
    assert_error(post_import(client, "beta", body, **alpha_admin), 404, "not_found")
    with in_place(world.b.place):
        assert not Area.objects.filter(name="Intruder").exists()


def test_token_acts_only_through_its_own_membership(client, world, in_place):
    """A user admin in A's council and member of a council listed in B: their A token does not
    open B's staff endpoints, even though the user has business in B."""
    from locus.core.testing.factories import MembershipFactory

    user = world.a.users["admin"]
    MembershipFactory(user=user, organisation=world.b.organisation, role="admin")
    secret = secret_for(world.a.memberships["admin"])
    job_b = make_job(world.b, in_place)
    response = client.get(f"{API}/places/beta/jobs/{job_b.pk}", headers=bearer(secret))
    assert_error(response, 404)


# --- areas import --------------------------------------------------------------------------


def test_areas_import_creates_areas_through_a_job(
    client, world, in_place, alpha_admin, django_capture_on_commit_callbacks
):
    body = {
        "geojson": collection(
            feature("Riverside", square(-0.2, 51.4), ons="E01", pop=1200),
            feature("Alphaville North", square(-0.1, 51.5, size=0.02)),  # updates the existing
        ),
        "code_property": "ons",
        "population_property": "pop",
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_import(client, "alpha", body, **alpha_admin)
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["kind"] == "areas.import" and job["status"] == "queued"
    assert len(callbacks) == 1

    with in_place(world.a.place):
        riverside = Area.objects.get(name="Riverside")
        assert (riverside.code, riverside.population) == ("E01", 1200)
        assert Area.objects.count() == 3

    followed = client.get(f"{API}/places/alpha/jobs/{job['id']}", headers=alpha_admin).json()
    assert followed["status"] == JobStatus.SUCCEEDED
    assert followed["progress"] == 100
    assert followed["result"]["created"] == 1 and followed["result"]["updated"] == 1
    assert followed["finished_at"] is not None
    assert [line["level"] for line in followed["log"]].count("error") == 0


@pytest.mark.parametrize("role", ["coordinator", "analyst", "editor", "caseworker"])
def test_areas_import_for_a_role_without_areas_is_403(client, world, role):
    secret = secret_for(world.a.memberships[role])
    body = {"geojson": collection(feature("X", square(-0.2, 51.4)))}
    assert_error(post_import(client, "alpha", body, **bearer(secret)), 403, "forbidden")


def test_areas_import_as_a_member_session_is_403(client_for, world):
    client = client_for(world.a.users["member"])
    body = {"geojson": collection(feature("X", square(-0.2, 51.4)))}
    assert_error(post_import(client, "alpha", body), 403, "forbidden")


def test_areas_import_with_an_admin_session(client_for, world, in_place):
    client = client_for(world.a.users["admin"])
    body = {"geojson": collection(feature("By session", square(-0.2, 51.4)))}
    response = post_import(client, "alpha", body)
    assert response.status_code == 202
    with in_place(world.a.place):
        assert Job.objects.filter(pk=response.json()["id"]).exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"geojson"}),
        ({"name_property": "name"}, {"geojson"}),
        ({"geojson": "not an object", "skip_invalid": "perhaps"}, {"geojson", "skip_invalid"}),
        ({"geojson": {"type": "Feature", "features": []}}, {"geojson.type", "geojson.features"}),
        ({"geojson": {"type": "FeatureCollection"}}, {"geojson.features"}),
        (
            {"geojson": {"type": "FeatureCollection", "features": [1, "x"]}},
            {"geojson.features.0", "geojson.features.1"},
        ),
        (
            {"geojson": collection(feature("A", square(0, 0))), "name_property": ""},
            {"name_property"},
        ),
        (
            {"geojson": collection(feature("A", square(0, 0))), "code_property": "c\x00de"},
            {"code_property"},
        ),
    ],
    ids=[
        "empty",
        "no-geojson",
        "wrong-types",
        "not-a-collection",
        "no-features",
        "features-not-objects",
        "empty-name-property",
        "control-character",
    ],
)
def test_areas_import_bad_body_is_422_naming_each_field(client, world, alpha_admin, body, fields):
    response = post_import(client, "alpha", body, **alpha_admin)
    error = assert_error(response, 422, "validation_error")
    assert set(error["fields"]) == fields


def test_areas_import_body_that_is_not_json_is_400(client, world, alpha_admin):
    response = client.post(
        f"{API}/places/alpha/areas/import",
        "{not json",
        content_type="application/json",
        headers=alpha_admin,
    )
    assert_error(response, 400, "bad_request")


def test_areas_import_with_no_body_is_422(client, world, alpha_admin):
    response = client.post(
        f"{API}/places/alpha/areas/import", "", content_type="application/json", headers=alpha_admin
    )
    error = assert_error(response, 422, "validation_error")
    assert list(error["fields"]) == ["non_field"]


BAD_FEATURES = collection(
    feature("Good", square(-0.2, 51.4)),
    feature("Pointy", {"type": "Point", "coordinates": [-0.2, 51.4]}),
    {"type": "Feature", "properties": {}, "geometry": square(-0.3, 51.4)},  # no name
    feature("Projected", square(530000, 180000)),
)


def test_invalid_features_refuse_the_import_and_name_each_one(client, world, in_place, alpha_admin):
    response = post_import(client, "alpha", {"geojson": BAD_FEATURES}, **alpha_admin)
    error = assert_error(response, 422, "invalid_features")
    assert set(error["fields"]) == {
        "geojson.features.1",
        "geojson.features.2",
        "geojson.features.3",
    }
    assert "Point" in error["fields"]["geojson.features.1"][0]
    assert "name" in error["fields"]["geojson.features.2"][0]
    assert "projection" in error["fields"]["geojson.features.3"][0]
    assert "3" in error["message"]
    with in_place(world.a.place):
        assert not Job.objects.exists()
        assert not Area.objects.filter(name="Good").exists()


def test_invalid_features_skipped_on_request_and_listed_in_the_job(
    client, world, in_place, alpha_admin, django_capture_on_commit_callbacks
):
    body = {"geojson": BAD_FEATURES, "skip_invalid": True}
    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(client, "alpha", body, **alpha_admin)
    assert response.status_code == 202
    job = client.get(f"{API}/places/alpha/jobs/{response.json()['id']}", headers=alpha_admin).json()
    assert job["status"] == "succeeded"
    assert job["result"]["created"] == 1 and job["result"]["skipped"] == 3
    assert [p["feature"] for p in job["result"]["problems"]] == [2, 3, 4]
    assert sum(line["level"] == "error" for line in job["log"]) == 3
    with in_place(world.a.place):
        assert Area.objects.filter(name="Good").exists()


def test_nothing_valid_to_import_is_422_even_when_skipping(client, world, alpha_admin):
    body = {"geojson": collection(BAD_FEATURES["features"][1]), "skip_invalid": True}
    error = assert_error(post_import(client, "alpha", body, **alpha_admin), 422, "invalid_features")
    assert set(error["fields"]) == {"geojson.features.0"}


# --- query budgets: list endpoints do not grow with rows -----------------------------------


def _more_rows(world, in_place, n):
    with in_place(world.a.place):
        for i in range(n):
            AreaFactory(
                place=world.a.place, name=f"Extra {i}", geometry=square(-0.3, 51.3 + i / 100)
            )
            organisation_list_in_place(
                organisation=OrganisationFactory(name=f"Extra org {i}"), place=world.a.place
            )


@pytest.mark.parametrize("extra_rows", [0, 12])
@pytest.mark.parametrize(
    ("path", "budget"),
    [("/places", 1), ("/places/alpha/areas", 3), ("/places/alpha/organisations", 2)],
)
def test_list_query_budget(
    client, world, in_place, django_assert_max_num_queries, extra_rows, path, budget
):
    _more_rows(world, in_place, extra_rows)
    with django_assert_max_num_queries(budget):
        response = client.get(f"{API}{path}")
    assert response.status_code == 200
    if path.endswith("areas"):
        assert len(response.json()["features"]) == 2 + extra_rows


@pytest.mark.parametrize("extra_rows", [0, 12])
def test_me_query_budget(client, world, in_place, django_assert_max_num_queries, extra_rows):
    secret = secret_for(world.a.memberships["admin"])
    _more_rows(world, in_place, extra_rows)
    # token lookup, last-used update, audit event, contexts (listings, memberships), the
    # token's rate limit
    with django_assert_max_num_queries(5 + RATE_COUNT_QUERIES):
        assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200


# --- addresses and methods the API does not have -------------------------------------------


@pytest.mark.parametrize("path", ["/", "/nope", "/places/", "/places/alpha/nope"])
def test_unknown_api_address_is_a_json_404(client, world, path):
    assert_error(client.get(f"{API}{path}"), 404, "not_found")


def test_wrong_method_is_a_json_405(client, world):
    response = client.delete(f"{API}/places")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


def test_post_to_an_unknown_api_address_is_a_json_404_not_a_csrf_403(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"{API}/places/Not%20a%20slug/areas/import", {}, "application/json")
    assert_error(response, 404, "not_found")


# --- what Django answers itself is in the error shape too ----------------------------------


@pytest.mark.parametrize(
    "path", ["/places/alpha/services", "/library/records", "/places/alpha/cases"]
)
def test_too_many_query_parameters_is_a_json_400(client, world, alpha_admin, path):
    """Django refuses more than DATA_UPLOAD_MAX_NUMBER_FIELDS parameters (SuspiciousOperation):
    its HTML 400 page before; the API's error shape now."""
    query = "&".join(f"p{i}=1" for i in range(1200))
    assert_error(client.get(f"{API}{path}?{query}", headers=alpha_admin), 400, "bad_request")


def test_an_unexpected_error_is_a_json_500_that_tells_nothing_of_it(
    world, alpha_admin, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr("locus.accounts.api.selectors.user_contexts", broken)
    client = Client(raise_request_exception=False)
    response = client.get(f"{API}/me", headers=alpha_admin)
    body = assert_error(response, 500, "server_error")
    assert "secret detail" not in response.content.decode()
    assert body["fields"] == {}


@pytest.mark.parametrize("handler", ["bad_request", "permission_denied", "server_error"])
def test_the_error_pages_stay_pages_outside_the_api(rf, world, handler):
    from locus.core import views

    call = getattr(views, handler)
    args = () if handler == "server_error" else (None,)
    page = call(rf.get("/alpha/"), *args)
    assert page["Content-Type"].startswith("text/html")
    api_answer = call(rf.get(f"{API}/places/alpha/cases"), *args)
    assert api_answer.status_code == page.status_code
    assert set(json.loads(api_answer.content)) == {"message", "code", "fields"}


# --- the isolation battery for every staff endpoint (QUALITY.md) ---------------------------


@dataclass
class EndpointCase:
    """One staff endpoint: `{place}` and `{object}` in the path are filled per place world."""

    operation_id: str
    method: str
    path: str
    allowed_role: str
    denied_role: str
    objects: Callable | None = None  # (place_world, in_place) -> object id
    body: dict | None = None
    ok_status: int = 200

    def url(self, place_world, object_id=None):
        return f"{API}{self.path}".format(place=place_world.place.slug, object=object_id)

    def call(self, client, url, headers):
        if self.method in ("post", "patch", "put"):
            send = getattr(client, self.method)
            return send(url, self.body, content_type="application/json", headers=headers)
        return getattr(client, self.method)(url, headers=headers)


def _team_case(place_world, in_place):
    from locus.cases.tests.factories import team_case

    return team_case(place_world).pk


def _closed_case(place_world, in_place):
    from locus.cases.tests.factories import closed_team_case

    return closed_team_case(place_world).pk


def _merged(place_world, in_place):
    from locus.cases.tests.factories import merged_team_case

    return merged_team_case(place_world).pk


def _hand_on(place_world, in_place):
    from locus.cases.tests.factories import support_organisation, team_case

    case, organisation = team_case(place_world), support_organisation(place_world)
    return f"{case.pk}/hand-on/{organisation.pk}"


def _merge(place_world, in_place):
    from locus.cases.tests.factories import another_team_case, team_case

    into = team_case(place_world)
    return f"{another_team_case(place_world).pk}/merge/{into.pk}"


def _routing_rule(place_world, in_place):
    from locus.cases.services import routing_rule_save

    with in_place(place_world.place):
        return routing_rule_save(
            place=place_world.place, actor=None, name="Battery", destinations=[]
        ).pk


def _webhook_endpoint(place_world, in_place):
    from locus.outbox.services import webhook_endpoint_create

    with in_place(place_world.place):
        endpoint, _secret = webhook_endpoint_create(
            place=place_world.place,
            organisation=place_world.organisation,
            url="https://hooks.example.org/battery",
        )
    return endpoint.pk


def _dead_webhook_message(place_world, in_place):
    from django.db import transaction

    from locus.outbox.models import OutboxMessage
    from locus.outbox.services import outbox_enqueue_webhook

    endpoint_id = _webhook_endpoint(place_world, in_place)
    with in_place(place_world.place):
        with transaction.atomic():
            message = outbox_enqueue_webhook(
                place=place_world.place,
                endpoint=OutboxMessage.endpoint.field.related_model.objects.get(pk=endpoint_id),
                event_type="report.routed",
                payload={},
            )
        OutboxMessage.objects.filter(pk=message.pk).update(status="dead")
    return f"{endpoint_id}/messages/{message.message_id}"


STAFF_ENDPOINTS = [
    EndpointCase(
        "locus_places_api_place_areas_import",
        "post",
        "/places/{place}/areas/import",
        allowed_role="admin",
        denied_role="coordinator",
        body={"geojson": collection(feature("Battery", square(-0.2, 51.4)))},
        ok_status=202,
    ),
    EndpointCase(
        "locus_places_api_place_job",
        "get",
        "/places/{place}/jobs/{object}",
        allowed_role="analyst",
        denied_role="editor",
        objects=lambda place_world, in_place: make_job(place_world, in_place).pk,
    ),
    # Cases (locus/cases/api.py). `{object}` is a case id, or a path naming two objects.
    *[
        EndpointCase(
            f"locus_cases_api_{name}",
            method,
            "/places/{place}/cases" + suffix,
            allowed_role=allowed,
            denied_role=denied,
            objects=objects,
            body=body,
            ok_status=ok,
        )
        for name, method, suffix, allowed, denied, objects, body, ok in (
            ("case_list", "get", "", "caseworker", "analyst", None, None, 200),
            ("case_stats", "get", "/stats", "coordinator", "editor", None, None, 200),
            ("case_targets_get", "get", "/targets", "admin", "caseworker", None, None, 200),
            (
                "case_targets_set",
                "post",
                "/targets",
                "admin",
                "coordinator",
                None,
                {"acknowledge_target_hours": 24, "close_target_days": None},
                200,
            ),
            ("case_detail", "get", "/{object}", "caseworker", "analyst", _team_case, None, 200),
            (
                "case_acknowledge",
                "post",
                "/{object}/acknowledge",
                "caseworker",
                "analyst",
                _team_case,
                {},
                200,
            ),
            ("case_start", "post", "/{object}/start", "admin", "editor", _team_case, {}, 200),
            (
                "case_close",
                "post",
                "/{object}/close",
                "caseworker",
                "editor",
                _team_case,
                {"outcome": "supported"},
                200,
            ),
            (
                "case_reopen",
                "post",
                "/{object}/reopen",
                "coordinator",
                "analyst",
                _closed_case,
                {},
                200,
            ),
            (
                "case_assign",
                "post",
                "/{object}/assign",
                "caseworker",
                "analyst",
                _team_case,
                {"assignee": None},
                200,
            ),
            (
                "case_classify",
                "post",
                "/{object}/classify",
                "caseworker",
                "editor",
                _team_case,
                {"verification": "verified"},
                200,
            ),
            (
                "case_note",
                "post",
                "/{object}/notes",
                "caseworker",
                "analyst",
                _team_case,
                {"body": "Called back."},
                201,
            ),
            (
                "case_message",
                "post",
                "/{object}/messages",
                "caseworker",
                "analyst",
                _team_case,
                {"body": "Thank you for your report."},
                201,
            ),
            ("case_hand_on", "post", "/{object}", "caseworker", "analyst", _hand_on, {}, 200),
            ("case_merge", "post", "/{object}", "caseworker", "analyst", _merge, {}, 200),
            ("case_split", "post", "/{object}/split", "caseworker", "analyst", _merged, {}, 200),
        )
    ],
    # Routing rules (locus/cases/rules_api.py): the place team's coordinators and admins.
    *[
        EndpointCase(
            f"locus_cases_rules_api_{name}",
            method,
            "/places/{place}/routing" + suffix,
            allowed_role=allowed,
            denied_role=denied,
            objects=objects,
            body=body,
            ok_status=ok,
        )
        for name, method, suffix, allowed, denied, objects, body, ok in (
            ("rules_list", "get", "/rules", "coordinator", "caseworker", None, None, 200),
            (
                "rules_create",
                "post",
                "/rules",
                "admin",
                "analyst",
                None,
                {"name": "Battery", "destinations": [], "stop": True},
                201,
            ),
            (
                "rules_get",
                "get",
                "/rules/{object}",
                "coordinator",
                "editor",
                _routing_rule,
                None,
                200,
            ),
            (
                "rules_update",
                "patch",
                "/rules/{object}",
                "coordinator",
                "caseworker",
                _routing_rule,
                {"name": "Renamed"},
                200,
            ),
            (
                "rules_delete",
                "delete",
                "/rules/{object}",
                "admin",
                "caseworker",
                _routing_rule,
                None,
                200,
            ),
            (
                "rules_reorder",
                "post",
                "/rules/reorder",
                "coordinator",
                "analyst",
                None,
                {"order": []},
                200,
            ),
            (
                "routing_preview",
                "post",
                "/preview",
                "coordinator",
                "caseworker",
                None,
                {"sample": {"incident_type": "threat"}},
                200,
            ),
        )
    ],
    # Webhook endpoints (locus/outbox/api.py): administrators.
    *[
        EndpointCase(
            f"locus_outbox_api_{name}",
            method,
            "/places/{place}/webhooks" + suffix,
            allowed_role="admin",
            denied_role=denied,
            objects=objects,
            body=body,
            ok_status=ok,
        )
        for name, method, suffix, denied, objects, body, ok in (
            ("webhooks_list", "get", "", "coordinator", None, None, 200),
            (
                "webhooks_create",
                "post",
                "",
                "caseworker",
                None,
                {"url": "https://h.example.org/"},
                201,
            ),
            ("webhooks_get", "get", "/{object}", "coordinator", _webhook_endpoint, None, 200),
            (
                "webhooks_update",
                "patch",
                "/{object}",
                "analyst",
                _webhook_endpoint,
                {"is_active": False},
                200,
            ),
            (
                "webhooks_rotate_secret",
                "post",
                "/{object}/rotate-secret",
                "coordinator",
                _webhook_endpoint,
                {},
                200,
            ),
            (
                "webhooks_test",
                "post",
                "/{object}/test",
                "coordinator",
                _webhook_endpoint,
                {},
                201,
            ),
            (
                "webhooks_messages",
                "get",
                "/{object}/messages",
                "editor",
                _webhook_endpoint,
                None,
                200,
            ),
            (
                "webhooks_message_retry",
                "post",
                "/{object}/retry",
                "coordinator",
                _dead_webhook_message,
                {},
                200,
            ),
        )
    ],
]


# Programmes (locus/programmes/api.py). `{object}` is a programme id, or a path of ids.
def _programme_data(place_world, in_place):
    from locus.programmes.tests.factories import full_programme

    return full_programme(place_world)


def _programme_id(place_world, in_place):
    return _programme_data(place_world, in_place)["programme"].pk


def _programme_period_path(place_world, in_place):
    data = _programme_data(place_world, in_place)
    return f"{data['programme'].pk}/periods/{data['period'].pk}"


STAFF_ENDPOINTS += [
    EndpointCase(
        "locus_programmes_api_programme_list",
        "get",
        "/places/{place}/programmes",
        allowed_role="editor",
        denied_role="analyst",
    ),
    EndpointCase(
        "locus_programmes_api_programme_create",
        "post",
        "/places/{place}/programmes",
        allowed_role="coordinator",
        denied_role="analyst",
        body={
            "title": "Battery",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "intervention": "education",
        },
        ok_status=201,
    ),
    EndpointCase(
        "locus_programmes_api_programme_portfolio",
        "get",
        "/places/{place}/programmes/portfolio",
        allowed_role="analyst",
        denied_role="editor",
    ),
    EndpointCase(
        "locus_programmes_api_programme_iati",
        "get",
        "/places/{place}/programmes/iati?programme={object}",
        allowed_role="coordinator",
        denied_role="editor",
        objects=_programme_id,
    ),
    EndpointCase(
        "locus_programmes_api_programme_detail",
        "get",
        "/places/{place}/programmes/{object}",
        allowed_role="editor",
        denied_role="caseworker",
        objects=_programme_id,
    ),
    EndpointCase(
        "locus_programmes_api_programme_results",
        "post",
        "/places/{place}/programmes/{object}/results",
        allowed_role="editor",
        denied_role="analyst",
        objects=_programme_period_path,
        body={"results": [], "narrative": "Went well.", "submit": False},
    ),
    # Insights (locus/insights/api.py): aggregate figures for everyone who may read insights.
    EndpointCase(
        "locus_insights_api_insights_dashboard",
        "get",
        "/places/{place}/insights/dashboard",
        allowed_role="caseworker",
        denied_role="editor",
    ),
    EndpointCase(
        "locus_insights_api_insights_service",
        "get",
        "/places/{place}/insights/service",
        allowed_role="analyst",
        denied_role="editor",
    ),
    EndpointCase(
        "locus_insights_api_insights_annotations",
        "get",
        "/places/{place}/insights/annotations",
        allowed_role="coordinator",
        denied_role="editor",
    ),
]


# Alerts and context indicators (locus/alerts/api.py, locus/places/indicator_api.py).
def _alarm_id(place_world, in_place):
    from datetime import date

    from locus.alerts.models import Alarm

    with in_place(place_world.place):
        alarm, _created = Alarm.objects.get_or_create(
            place=place_world.place,
            week=date(2026, 3, 2),
            series_key="place|bias:antisemitism",
            defaults={
                "axis": "bias",
                "category": "antisemitism",
                "method": "ears",
                "observed": 30,
                "expected": 5.0,
                "upper_bound": 14.0,
                "p_value": 0.0001,
                "q_value": 0.001,
                "score": 2.5,
            },
        )
    return alarm.pk


STAFF_ENDPOINTS += [
    EndpointCase(
        f"locus_{module}_{name}",
        method,
        path,
        allowed_role=allowed,
        denied_role=denied,
        objects=objects,
        body=body,
        ok_status=ok,
    )
    for module, name, method, path, allowed, denied, objects, body, ok in (
        ("alerts_api", "alarm_list", "get", "/places/{place}/alerts", "caseworker", "editor")
        + (None, None, 200),
        ("alerts_api", "alarm_get", "get", "/places/{place}/alerts/{object}", "analyst")
        + ("editor", _alarm_id, None, 200),
        ("alerts_api", "alarm_series", "get", "/places/{place}/alerts/{object}/series")
        + ("caseworker", "editor", _alarm_id, None, 200),
        ("alerts_api", "alarm_close", "post", "/places/{place}/alerts/{object}/close")
        + ("coordinator", "caseworker", _alarm_id, {}, 200),
        ("alerts_api", "subscription_get", "get", "/places/{place}/alert-subscription")
        + ("caseworker", "analyst", None, None, 200),
        ("alerts_api", "subscription_set", "put", "/places/{place}/alert-subscription")
        + ("coordinator", "analyst", None, {"bias": ["antisemitism"]}, 200),
        ("alerts_api", "subscription_delete", "delete", "/places/{place}/alert-subscription")
        + ("admin", "editor", None, None, 200),
        ("places_indicator_api", "indicator_list", "get", "/places/{place}/indicators")
        + ("analyst", "editor", None, None, 200),
        ("places_indicator_api", "indicator_context", "get")
        + ("/places/{place}/indicators/context", "caseworker", "editor", None, None, 200),
        ("places_indicator_api", "indicator_import", "post", "/places/{place}/indicators/import")
        + (
            "analyst",
            "caseworker",
            None,
            {"csv": "area,indicator,value,year\nAlphaville North,Score,1,2020\n"},
            202,
        ),
    )
]


# Jurisdiction exports (locus/insights/public_api.py).
STAFF_ENDPOINTS += [
    EndpointCase(
        "locus_insights_public_api_export_scheme",
        "get",
        "/places/{place}/insights/exports/uk_strands",
        allowed_role="analyst",
        denied_role="editor",
    ),
    EndpointCase(
        "locus_insights_public_api_export_submission",
        "get",
        "/places/{place}/insights/exports/osce_odihr_submission?start=2025-01-01",
        allowed_role="coordinator",
        denied_role="editor",
    ),
]


# Directory (locus/directory/api.py). `{object}` is an organisation or service id, or a path.
def _directory_organisation(place_world, in_place):
    return place_world.organisation.pk


def _directory_service(place_world, in_place):
    from locus.directory.tests.factories import world_service

    return world_service(place_world).pk


def _directory_partner(place_world, in_place):
    from locus.directory.tests.factories import listed_organisation

    partner = listed_organisation(place_world.place, f"API partner {place_world.place.slug}")
    return f"{place_world.organisation.pk}/partnerships/{partner.pk}"


STAFF_ENDPOINTS += [
    EndpointCase(
        f"locus_directory_api_{name}",
        method,
        "/places/{place}/directory" + suffix,
        allowed_role=allowed,
        denied_role=denied,
        objects=objects,
        body=body,
        ok_status=ok,
    )
    for name, method, suffix, allowed, denied, objects, body, ok in (
        ("directory_coverage", "get", "/coverage", "coordinator", "editor", None, None, 200),
        ("directory_hsds_export", "get", "/hsds", "admin", "editor", None, None, 200),
        (
            "directory_hsds_import",
            "post",
            "/hsds/import",
            "coordinator",
            "editor",
            None,
            {"data": {"organizations": [], "services": []}},
            202,
        ),
        (
            "directory_service_create",
            "post",
            "/organisations/{object}/services",
            "editor",
            "caseworker",
            _directory_organisation,
            {"name": "API service", "service_type": "helpline", "whole_place": True},
            201,
        ),
        (
            "directory_service_update",
            "patch",
            "/services/{object}",
            "editor",
            "analyst",
            _directory_service,
            {"name": "Renamed"},
            200,
        ),
        (
            "directory_service_delete",
            "delete",
            "/services/{object}",
            "coordinator",
            "caseworker",
            _directory_service,
            None,
            200,
        ),
        ("directory_partnerships", "get", "/partnerships", "editor", "caseworker", None, None, 200),
        (
            "directory_organisation_update",
            "patch",
            "/organisations/{object}",
            "editor",
            "analyst",
            _directory_organisation,
            {"description": "Changed through the API."},
            200,
        ),
        (
            "directory_partnership_create",
            "post",
            "/organisations/{object}",
            "admin",
            "analyst",
            _directory_partner,
            {"kind": "referral"},
            201,
        ),
    )
]


# Endpoints of a place-wide capability (accounts/policies.py, PLACE_WIDE_CAPABILITIES): the
# allowed role in a partner organisation of the place (`manages_place` False) gets 403. Exact
# insights above all: a partner receives only part of some reports (docs/insights.md).
PLACE_TEAM_ONLY_ENDPOINTS = {
    "locus_places_api_place_areas_import",
    "locus_places_api_place_job",
    *(
        f"locus_cases_rules_api_{name}"
        for name in (
            "rules_list",
            "rules_create",
            "rules_get",
            "rules_update",
            "rules_delete",
            "rules_reorder",
            "routing_preview",
        )
    ),
    "locus_directory_api_directory_coverage",
    "locus_directory_api_directory_hsds_export",
    "locus_directory_api_directory_hsds_import",
    "locus_programmes_api_programme_portfolio",
    "locus_insights_api_insights_dashboard",
    "locus_insights_api_insights_service",
    "locus_insights_api_insights_annotations",
    "locus_insights_public_api_export_scheme",
    "locus_insights_public_api_export_submission",
    "locus_alerts_api_alarm_list",
    "locus_alerts_api_alarm_get",
    "locus_alerts_api_alarm_series",
    "locus_alerts_api_alarm_close",
    "locus_places_indicator_api_indicator_list",
    "locus_places_indicator_api_indicator_context",
    "locus_places_indicator_api_indicator_import",
}


def test_place_team_only_endpoints_are_in_the_battery():
    assert PLACE_TEAM_ONLY_ENDPOINTS - {case.operation_id for case in STAFF_ENDPOINTS} == set()


@pytest.mark.parametrize("case", STAFF_ENDPOINTS, ids=lambda c: c.operation_id)
def test_staff_endpoint_battery(case, client, world, in_place):
    a, b = world.a, world.b
    own = case.objects(a, in_place) if case.objects else None
    other = case.objects(b, in_place) if case.objects else None
    allowed = bearer(secret_for(a.memberships[case.allowed_role]))
    denied = bearer(secret_for(a.memberships[case.denied_role]))

    assert_error(case.call(client, case.url(a, own), {}), 401, "unauthorized")
    assert_error(case.call(client, case.url(a, own), denied), 403, "forbidden")
    if case.operation_id in PLACE_TEAM_ONLY_ENDPOINTS:
        partner = bearer(secret_for(partner_member(a, case.allowed_role)))
        assert_error(case.call(client, case.url(a, own), partner), 403, "forbidden")
    assert case.call(client, case.url(a, own), allowed).status_code == case.ok_status
    # A token of place A on place B's URL (for B's object): not found.
    assert_error(case.call(client, case.url(b, other), allowed), 404, "not_found")
    if case.objects:
        # Place B's object through place A's URL: not found.
        assert_error(case.call(client, case.url(a, other), allowed), 404, "not_found")


def test_every_staff_endpoint_is_in_the_battery(client):
    document = client.get(f"{API}/openapi.json").json()
    secured_in_a_place = {
        operation["operationId"]
        for path, item in document["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict) and operation.get("security") and "{place_slug}" in path
    }
    covered = {case.operation_id for case in STAFF_ENDPOINTS}
    assert secured_in_a_place - covered == set(), "add these endpoints to STAFF_ENDPOINTS"


@pytest.mark.parametrize("depth", [300, 900])
def test_deeply_nested_geojson_is_answered_not_a_500(
    client, world, alpha_admin, django_capture_on_commit_callbacks, depth
):
    deep = "[" * depth + "]" * depth
    ring = "[[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]]]"
    features = (
        f'{{"type": "Feature", "properties": {{"name": "A"}}, "geometry": {deep}}}, '
        f'{{"type": "Feature", "properties": {{"name": "B", "x": {deep}}}, '
        f'"geometry": {{"type": "Polygon", "coordinates": {ring}}}}}'
    )
    body = f'{{"geojson": {{"type": "FeatureCollection", "features": [{features}]}}}}'
    response = client.post(
        f"{API}/places/alpha/areas/import", body, "application/json", headers=alpha_admin
    )
    error = assert_error(response, 422, "invalid_features")
    assert list(error["fields"]) == ["geojson.features.0"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{API}/places/alpha/areas/import",
            body[:-1] + ', "skip_invalid": true}',
            "application/json",
            headers=alpha_admin,
        )
    assert response.status_code == 202
    job = client.get(f"{API}/places/alpha/jobs/{response.json()['id']}", headers=alpha_admin)
    assert job.json()["status"] == "succeeded"


def test_body_over_the_upload_limit_is_413(client, world, alpha_admin, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"geojson": collection(*[feature(f"A{i}", square(0, i / 100)) for i in range(20)])}
    assert_error(post_import(client, "alpha", body, **alpha_admin), 413, "too_large")


def test_areas_geojson_is_cached_until_an_area_changes(client, world, in_place):
    first = client.get(f"{API}/places/alpha/areas").json()
    names = {f["properties"]["name"] for f in first["features"]}
    assert names == {a.name for a in world.a.areas}
    area = world.a.areas[0]
    with in_place(world.a.place):
        area.name = "Renamed North"
        area.save()
    second = client.get(f"{API}/places/alpha/areas").json()
    assert "Renamed North" in {f["properties"]["name"] for f in second["features"]}
    other = client.get(f"{API}/places/beta/areas").json()
    assert "Renamed North" not in {f["properties"]["name"] for f in other["features"]}
