"""Fuzz the API with schemathesis against its own /api/v1/openapi.json (QUALITY.md: no 5xx,
every response matches the schema, every status code is declared).

The app is called in-process through WSGI, inside the test's transaction, with the two-place
world built so that place slugs and ids resolve and an admin token of "alpha" opens the staff
endpoints. Area imports run their job when the request's transaction callbacks run.
"""

from types import SimpleNamespace

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from locus.accounts.services import token_create
from locus.core.services import job_create
from locus.core.tenancy import place_scope
from locus.core.testing.world import build_world

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class InTestTransactionWSGI:
    """Django's WSGI app without the end-of-request connection close (as Django's test client
    does), so that requests see, and stay inside, the test's transaction."""

    def __init__(self):
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                response.close()
            return [body]
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, settings):
    # Fuzz the endpoints themselves, not the rate limiter (tested on its own).
    settings.LOCUS_RATE_LIMITS = {
        "report.submit": None,
        "followup.open": None,
        "api.token": None,
        "api.session": None,
    }
    world = build_world()
    jobs = []
    for side in (world.a, world.b):
        with place_scope(side.place):
            jobs.append(job_create(place=side.place, kind="test", title="Fuzz job").pk)
    secrets = {
        name: token_create(membership=membership, name="fuzz")[1]
        for name, membership in {
            "alpha-admin": world.a.memberships["admin"],
            "alpha-editor": world.a.memberships["editor"],
            "beta-admin": world.b.memberships["admin"],
        }.items()
    }
    KNOWN["job_id"] = jobs
    KNOWN["organisation_id"] = [world.a.organisation.pk, world.b.organisation.pk]
    return SimpleNamespace(world=world, secrets=secrets)


# Ids exist only once the test's world is built; the strategies read them at draw time.
KNOWN = {"place_slug": ["alpha", "beta"], "job_id": [], "organisation_id": []}


def _known_or(name, value):
    """Mostly a slug or id that exists (in either place), sometimes what was generated. The
    examples of the OpenAPI document are drawn at collection, before the world exists: they
    keep what was generated."""
    existing = st.integers(min_value=0, max_value=1).map(
        lambda i: KNOWN[name][i] if KNOWN[name] else value
    )
    return st.one_of(existing, existing, st.just(value))


# The live schema, read from the app itself (schemathesis' fixture-based loader does not work
# with pytest 9: it writes the private `Function._nodeid`).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", InTestTransactionWSGI())


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return st.fixed_dictionaries(
        {
            name: _known_or(name, value) if name in KNOWN else st.just(value)
            for name, value in (path_parameters or {}).items()
        }
    )


# Who calls: mostly alpha's admin (so that protected endpoints are exercised), sometimes a role
# without rights, the other place's admin, or nobody. The token is put in at call time.
WHO = ["alpha-admin", "alpha-admin", "alpha-admin", "alpha-editor", "beta-admin", "nobody"]


@schema.hook
def flatmap_headers(context, headers):
    return st.sampled_from(WHO).map(lambda who: {**(headers or {}), "X-Fuzz-As": who})


def _fuzz_test(name):
    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def test(case, fuzz_world, django_capture_on_commit_callbacks):
        who = (case.headers or {}).pop("X-Fuzz-As", "alpha-admin")
        secret = fuzz_world.secrets.get(who)
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        with django_capture_on_commit_callbacks(execute=True):
            response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    test.__name__ = test.__qualname__ = name
    return test


# One test function per operation. (With pytest 9, the items schemathesis makes for the
# operations of one test function all get that function's node id, so xdist would run one.)
OPERATION_IDS = sorted(
    operation["operationId"]
    for item in schema.raw_schema["paths"].values()
    for operation in item.values()
    if isinstance(operation, dict) and "operationId" in operation
)
for _operation_id in OPERATION_IDS:
    _name = "test_fuzz_" + _operation_id.removeprefix("locus_")
    globals()[_name] = schema.include(operation_id=_operation_id).parametrize()(_fuzz_test(_name))
