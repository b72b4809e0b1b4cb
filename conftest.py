"""Fixtures shared by every test: the two-place world and clients signed in by role."""

import shutil

import pytest


def pytest_unconfigure(config):
    """The settings give each test process (xdist's controller too) a temporary directory for
    stored files (evidence, media: config/settings.py TEST_FILES_DIR); it goes at the end."""
    from django.conf import settings

    if settings.configured and getattr(settings, "TEST_FILES_DIR", None):
        shutil.rmtree(settings.TEST_FILES_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def _language_reset():
    """A test that activates a language (through a view, a task or a service that writes in
    the reader's language) must not leave it active for the next test in the same process."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _rate_limit_counters_reset():
    """Rate-limit counters live in the (in-memory) cache and name a token or a user by its id;
    on SQLite ids come back after each test's rollback, so one test's API calls must not count
    against the next test's token or user (locus.api.auth)."""
    from django.core.cache import caches

    caches["default"].clear()


@pytest.fixture
def world(db):
    from locus.core.testing.world import build_world

    return build_world()


@pytest.fixture
def client_for(client):
    """`client_for(user)` → a test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def platform_admin(client, django_user_model):
    """A client signed in as the platform's administrator (a superuser with a second factor:
    /admin/ asks for one)."""
    from locus.core.testing.world import enable_totp

    user = django_user_model.objects.create_superuser(
        email="platform@example.org",
        password="platform-password-1",  # noqa: S106 (a test account)
    )
    enable_totp(user)
    client.force_login(user)
    return client


@pytest.fixture
def in_place():
    """`with in_place(place): …` — activate a place inside a test."""
    from locus.core.tenancy import place_scope

    return place_scope
