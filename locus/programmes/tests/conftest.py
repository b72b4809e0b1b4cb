import pytest

from locus.core.tenancy import place_scope

from .factories import full_programme


@pytest.fixture
def data(world):
    return full_programme(world.a)


@pytest.fixture
def active(world):
    """Place A active for the whole test."""
    with place_scope(world.a.place):
        yield world.a
