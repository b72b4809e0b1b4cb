"""The place a URL names is remembered per process for a few seconds (PlaceMiddleware)."""

from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from locus.places import selectors
from locus.places.selectors import place_for_url


def test_the_place_is_looked_up_once_then_remembered(world, settings):
    settings.LOCUS_PLACE_CACHE_SECONDS = 10
    selectors._forget_places()
    with CaptureQueriesContext(connection) as queries:
        first = place_for_url("alpha")
        second = place_for_url("alpha")
    assert len(queries) == 1
    assert first == second == world.a.place and first is not second  # a copy per caller
    first.name = "Changed in one request only"
    assert place_for_url("alpha").name == world.a.place.name


def test_a_saved_change_is_seen_at_once_and_others_after_the_delay(world, settings):
    settings.LOCUS_PLACE_CACHE_SECONDS = 10
    selectors._forget_places()
    assert place_for_url("alpha") is not None
    place = world.a.place
    place.is_active = False
    place.save()  # in this process: forgotten at once
    assert place_for_url("alpha") is None
    # Another process's change (no signal here) shows once the entry expires.
    type(place).objects.filter(pk=place.pk).update(is_active=True)
    assert place_for_url("alpha") is None
    with mock.patch.object(selectors.time, "monotonic", return_value=10**9):
        assert place_for_url("alpha") == place


def test_no_caching_when_the_delay_is_zero(world, settings):
    settings.LOCUS_PLACE_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as queries:
        place_for_url("alpha")
        place_for_url("alpha")
    assert len(queries) == 2
