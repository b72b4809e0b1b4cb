"""The middleware a cookie-less public API request passes by (`locus.core.middleware`): it applies
exactly to requests without a session cookie to operations declared `auth=None`, leaves the
request as the full stack would (anonymous user, an empty session), and changes no answer:
status, headers and body are the same both ways, for every public operation."""

import json
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from locus.api.urls import api
from locus.core.models import RateCount
from locus.reporting.models import Report

API = "/api/v1"
REPORT = {
    "incident_type": "abusive_behaviour",
    "setting": "public_transport",
    "bias": ["anti_muslim"],
    "account": "Two men shouted abuse at me at the bus stop on Sunday evening.",
    "reporter_role": "victim",
    "consent_support_contact": True,
    "contact": {"name": "Amal", "email": "amal@example.test"},
}
# What differs between two answers to the same request whichever way it went.
VARYING_HEADERS = {"Content-Length"}


def send_report(client, *, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"{API}/places/alpha/reports",
        json.dumps(REPORT),
        content_type="application/json",
        headers=headers,
    )


def passed_by(response):
    """Whether the request behind `response` passed the session middleware by."""
    return response.wsgi_request._locus_public_api


def headers_of(response):
    return {name: value for name, value in response.items() if name not in VARYING_HEADERS}


# --- when it applies -------------------------------------------------------------------------


def test_a_cookie_less_public_submission_passes_by_as_an_anonymous_user(client, world):
    response = send_report(client)
    assert response.status_code == 201, response.content
    assert passed_by(response)
    request = response.wsgi_request
    assert isinstance(request.user, AnonymousUser)
    assert request.session.get("anything") is None and request.session.is_empty()
    assert not hasattr(request, "_messages")
    assert "Set-Cookie" not in response


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"{API}/places"),
        ("get", f"{API}/places/alpha/taxonomy"),
        ("post", f"{API}/places/alpha/reports/follow-up"),
    ],
)
def test_other_public_operations_pass_by(client, world, method, path):
    assert passed_by(getattr(client, method)(path, content_type="application/json"))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"{API}/me"),  # an operation with authentication
        ("get", f"{API}/places/alpha/reports"),  # the staff list on a public path
        ("get", f"{API}/openapi.json"),  # not an operation
        ("get", f"{API}/nowhere"),  # no operation
        ("get", "/alpha/"),  # a page
        ("post", "/alpha/report/"),
    ],
)
def test_anything_else_runs_the_whole_stack(client, world, method, path):
    response = getattr(client, method)(path)
    assert not passed_by(response)
    assert hasattr(response.wsgi_request, "session")


def test_with_a_session_cookie_the_whole_stack_runs_and_the_user_is_signed_in(client, world):
    admin = world.a.users["admin"]
    client.force_login(admin)
    response = send_report(client)
    assert response.status_code == 201, response.content
    assert not passed_by(response)
    assert response.wsgi_request.user == admin


def test_any_session_cookie_runs_the_whole_stack_even_an_unknown_one(client, world):
    client.cookies["sessionid"] = "not-a-session"
    response = send_report(client)
    assert response.status_code == 201
    assert not passed_by(response)
    assert not response.wsgi_request.user.is_authenticated


def test_the_setting_turns_it_off(client, world, settings):
    settings.LOCUS_PUBLIC_API_BYPASS = False
    assert not passed_by(send_report(client))


def test_session_writes_through_the_api_still_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.a.users["admin"])
    response = client.post(
        f"{API}/places/alpha/areas/import", {"geojson": {}}, content_type="application/json"
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "csrf_failed"
    assert not passed_by(response)


# --- it changes no answer --------------------------------------------------------------------


def test_a_submission_gives_the_same_answer_both_ways(client, world, settings, in_place):
    passing = send_report(client, key="first-key")
    settings.LOCUS_PUBLIC_API_BYPASS = False
    full = send_report(client, key="second-key")
    assert passed_by(passing) and not passed_by(full)
    assert passing.status_code == full.status_code == 201
    assert headers_of(passing) == headers_of(full)
    assert set(passing.json()) == set(full.json())
    with in_place(world.a.place):
        first, second = Report.objects.order_by("pk")
        for name in ("incident_type", "bias", "account", "contact", "language", "status"):
            assert getattr(first, name) == getattr(second, name), name


def test_a_replay_through_the_whole_stack_finds_the_bypassed_request_the_same(
    client, world, settings, in_place
):
    """The idempotency hash names the user: anonymous both ways, so the key replays."""
    first = send_report(client, key="same-key")
    settings.LOCUS_PUBLIC_API_BYPASS = False
    replay = send_report(client, key="same-key")
    assert replay.status_code == 201, replay.content
    assert replay.json()["reference"] == first.json()["reference"]
    with in_place(world.a.place):
        assert Report.objects.count() == 1


def _public_operations():
    """(method, path template) of every operation the OpenAPI document declares without
    security: the operations declared `auth=None`."""
    schema = api.get_openapi_schema()
    return sorted(
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not operation.get("security")
    )


def _address(path, world):
    values = {"place_slug": world.a.place.slug, "organisation_id": world.a.organisation.pk}
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), path)


def _body(path):
    if path.endswith("/reports"):
        return REPORT
    if "/follow-up" in path:
        return {"reference": "LOC-0000-0000", "code": "not-the-code"}
    return None


def test_the_document_has_the_public_operations():
    operations = _public_operations()
    assert ("post", "/api/v1/places/{place_slug}/reports") in operations
    assert len(operations) >= 20


@pytest.mark.parametrize(("method", "path"), _public_operations())
def test_every_public_operation_answers_the_same_when_passed_by(
    client, world, settings, method, path
):
    address, body = _address(path, world), _body(path)

    def call():
        RateCount.objects.all().delete()  # the same rate-limit count both times
        if body is None:
            return getattr(client, method)(address)
        return getattr(client, method)(address, json.dumps(body), content_type="application/json")

    passing = call()
    settings.LOCUS_PUBLIC_API_BYPASS = False
    full = call()
    assert passed_by(passing) and not passed_by(full)
    assert passing.status_code < 500, passing.content
    assert passing.status_code == full.status_code
    assert headers_of(passing) == headers_of(full)
    if method == "get":
        assert passing.content == full.content
