"""The active place (tenant) and the scoped manager that makes cross-place leaks impossible.

A place becomes active in four places only: PlaceMiddleware (from the URL), the task wrapper
(`run_in_place`), management commands (`--place`) and the test world. Tenant-owned querysets
raise `NoActivePlace` when nothing is active instead of silently returning every city's rows.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models
from django.utils.translation import gettext_lazy as _

_active_place = ContextVar("locus_active_place", default=None)


class NoActivePlace(RuntimeError):
    """A tenant-owned table was queried with no place active."""


class CrossPlaceWrite(RuntimeError):
    """A tenant-owned row was saved while another place was active."""


def get_active_place():
    return _active_place.get()


@contextmanager
def place_scope(place):
    """Make `place` the active tenant for the duration of the block."""
    token = _active_place.set(place)
    try:
        yield place
    finally:
        _active_place.reset(token)


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Filters by the active place; raises when none is active."""

    def get_queryset(self):
        place = get_active_place()
        if place is None:
            raise NoActivePlace(
                f"{self.model.__name__} is tenant-owned: activate a place (place_scope) first"
            )
        return super().get_queryset().filter(place=place)

    def unscoped(self):
        """Every place's rows. Allowed only in migrations, platform admin and the national roll-up;
        tests/test_tenancy.py scans the tree for other uses."""
        return super().get_queryset()


class TenantModel(models.Model):
    """Base of every tenant-owned model: a non-editable place and the scoped manager."""

    place = models.ForeignKey(
        "places.Place",
        on_delete=models.PROTECT,
        editable=False,
        related_name="+",
        verbose_name=_("place"),
    )

    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        active = get_active_place()
        if self.place_id is None:
            if active is None:
                raise NoActivePlace(f"Cannot save {type(self).__name__} without a place")
            self.place = active
        elif active is not None and active.pk != self.place_id:
            raise CrossPlaceWrite(
                f"{type(self).__name__} of place {self.place_id} saved while place "
                f"{active.pk} is active"
            )
        super().save(*args, **kwargs)
