"""Tenancy by construction: scoped managers, the registry of models, the unscoped allow-list."""

import re
from pathlib import Path

import pytest
from django.apps import apps

from locus.core.tenancy import CrossPlaceWrite, NoActivePlace, TenantModel, place_scope
from locus.places.models import Area

ROOT = Path(__file__).resolve().parent.parent

# Models that are not tenant-owned, and why.
GLOBAL_MODELS = {
    "places.network": "a country or region above places",
    "places.place": "the tenant itself",
    "directory.organisation": "works in several places through listings",
    "directory.organisationlisting": "defines which organisations enter a place",
    "accounts.user": "a person may work in several places",
    "accounts.membership": "user × organisation; places come from listings",
    "accounts.networkmembership": "network-level, aggregates only",
    "accounts.invitation": "to an organisation, not a place",
    "accounts.apitoken": "bound to a membership",
    "core.auditevent": "sign-ins happen outside any place; carries the place when there is one",
    "core.heartbeat": "the sweep that stamps it serves every place",
    "core.ratecount": "a rate limit counts a client (a keyed hash of an address), not a place's",
    "library.record": "the library serves the whole network, not one place",
    "library.recordversion": "a version of a network-wide library record",
    "library.recordlink": "links between network-wide library records",
    "library.recordfacet": "facet values of a network-wide library record",
    "library.recordreview": "a moderation step of a network-wide library record",
    "library.recordembedding": "the multilingual vector of a network-wide library record",
    "library.recordtsvector": "the PostgreSQL search document of a network-wide library record",
    "library.recordfile": "a document attached to a network-wide library record",
    "library.searchgeneration": "one token for the network-wide library's in-memory search data",
}
THIRD_PARTY_APPS = {
    "admin",
    "auth",
    "contenttypes",
    "sessions",
    "account",
    "mfa",
    "django_tasks_database",
}

# Files allowed to call unscoped(): the tenancy module itself, platform admin, the roll-up,
# and migrations.
UNSCOPED_ALLOWED = {
    "locus/core/tenancy.py",
    "locus/core/admin.py",
    "locus/places/rollup.py",
    # Key rotation re-encrypts every place's personal data in one run (platform maintenance).
    "locus/core/management/commands/rotate_keys.py",
    # The outbox sweep finds due messages of every place, then delivers each in its own place.
    "locus/outbox/sweep.py",
    "tests/test_tenancy.py",
}


def test_every_model_is_tenant_owned_or_declared_global():
    undeclared = []
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label in THIRD_PARTY_APPS:
            continue
        if issubclass(model, TenantModel):
            assert label not in GLOBAL_MODELS, f"{label} is tenant-owned but declared global"
            continue
        if label not in GLOBAL_MODELS:
            undeclared.append(label)
    assert not undeclared, f"declare these models tenant-owned or global: {undeclared}"


def test_unscoped_is_used_only_where_allowed():
    offenders = []
    for path in list((ROOT / "locus").rglob("*.py")) + list((ROOT / "tests").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" in rel or rel in UNSCOPED_ALLOWED:
            continue
        if re.search(r"\.unscoped\(", path.read_text(encoding="utf-8")):
            offenders.append(rel)
    assert not offenders, f"unscoped() outside the allow-list: {offenders}"


def test_tenant_query_without_place_raises(world):
    with pytest.raises(NoActivePlace):
        list(Area.objects.all())


def test_tenant_query_sees_only_active_place(world):
    with place_scope(world.a.place):
        names = set(Area.objects.values_list("name", flat=True))
    assert names == {a.name for a in world.a.areas}
    with place_scope(world.b.place):
        assert not Area.objects.filter(pk=world.a.areas[0].pk).exists()


def test_saving_a_row_of_another_place_is_refused(world):
    area = world.a.areas[0]
    area.name = "Renamed"
    with place_scope(world.b.place), pytest.raises(CrossPlaceWrite):
        area.save()


def test_new_rows_take_the_active_place(world):
    from locus.core.testing.factories import square

    with place_scope(world.b.place):
        area = Area.objects.create(name="Fresh", geometry=square(13, 55))
    assert area.place_id == world.b.place.pk


def test_place_is_not_editable():
    assert Area._meta.get_field("place").editable is False
