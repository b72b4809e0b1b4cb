"""Task helpers: every task takes ids (never objects) and runs inside its place."""

import functools
import logging

from django.db import transaction

from .tenancy import place_scope

logger = logging.getLogger(__name__)


def in_place(func):
    """Decorate a task body taking `place_id` so it runs with that place active."""

    @functools.wraps(func)
    def wrapper(*, place_id, **kwargs):
        from locus.places.models import Place

        place = Place.objects.get(pk=place_id)
        with place_scope(place):
            return func(place=place, **kwargs)

    return wrapper


def enqueue_on_commit(task, **kwargs):
    """Enqueue after the surrounding transaction commits, so the worker sees the rows."""
    transaction.on_commit(lambda: task.enqueue(**kwargs))
