import pytest

from .factories import listed_organisation, make_partnership, make_service


@pytest.fixture
def directory(world):
    """Place A with a few organisations and services: two victim-support charities for the
    same group in the north area (an overlap), nothing in the south for youth work (a gap)."""
    a = world.a
    north, south = a.areas
    charity = listed_organisation(a.place, "Hate Support North")
    other = listed_organisation(a.place, "Second Support")
    youth = listed_organisation(a.place, "Youth Club")
    s1 = make_service(
        a.place,
        charity,
        name="Casework",
        areas=[north],
        target_groups=["muslim_people"],
        languages=["en", "ar"],
    )
    s2 = make_service(
        a.place,
        other,
        name="Advocacy",
        areas=[north],
        target_groups=["muslim_people"],
        languages=["en"],
    )
    s3 = make_service(
        a.place,
        youth,
        name="Youth work",
        service_type="youth_work",
        areas=[north],
        target_groups=["young_people"],
        min_age=11,
        max_age=19,
    )
    s4 = make_service(
        a.place,
        a.organisation,
        name="Helpline",
        service_type="helpline",
        whole_place=True,
        target_groups=["everyone"],
    )
    make_partnership(a.place, charity, other, "referral")
    make_partnership(a.place, a.organisation, charity, "funding")
    return {
        "charity": charity,
        "other": other,
        "youth": youth,
        "services": [s1, s2, s3, s4],
        "north": north,
        "south": south,
    }
