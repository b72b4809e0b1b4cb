"""Fixtures shared by every test: the two-place world and clients signed in by role."""

import shutil

import pytest


@pytest.fixture(scope="session", autouse=True)
def _evidence_directory_removed():
    """The settings give each test process a temporary directory for evidence files
    (config/settings.py); it holds encrypted test files and goes when the process ends."""
    yield
    from django.conf import settings

    shutil.rmtree(settings.STORAGES["evidence"]["OPTIONS"]["location"], ignore_errors=True)


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
def in_place():
    """`with in_place(place): …` — activate a place inside a test."""
    from locus.core.tenancy import place_scope

    return place_scope
