"""The isolation battery (QUALITY.md): for every staff view in a place, prove
anonymous → login, wrong role → 403, another place → 404 (by URL and by object id), and for
views of the place's own team, a partner organisation's member with the allowed role → 403."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from .world import partner_member


@dataclass
class ViewCase:
    """One staff view. `objects(place_world)` returns the URL kwargs (besides the place) that
    name objects of that place; `denied_role` is a role of the same place that gets 403.
    `place_team_only`: the capability is place-wide (accounts/policies.py), so the same role in
    a partner organisation of the place (`manages_place` False) gets 403 too."""

    name: str
    allowed_role: str
    denied_role: str | None
    objects: Callable[[Any], dict] = field(default=lambda pw: {})
    method: str = "get"
    data: dict = field(default_factory=dict)
    ok_status: tuple = (200,)
    place_team_only: bool = False

    def url(self, place_world, objects_of=None):
        kwargs = (self.objects(objects_of or place_world)) | {"place_slug": place_world.place.slug}
        return reverse(self.name, kwargs=kwargs)


def request(client, case, url):
    return getattr(client, case.method)(url, case.data)


def run_battery(case, world, client):
    """Run every isolation check of one view case; returns nothing, asserts everything."""
    a, b = world.a, world.b
    own_url = case.url(a)

    client.logout()
    response = request(client, case, own_url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"], (
        f"{case.name}: anonymous got {response.status_code}"
    )

    client.force_login(a.users[case.allowed_role])
    response = request(client, case, own_url)
    assert response.status_code in case.ok_status, (
        f"{case.name}: {case.allowed_role} got {response.status_code}"
    )

    if case.denied_role:
        client.force_login(a.users[case.denied_role])
        response = request(client, case, own_url)
        assert response.status_code == 403, (
            f"{case.name}: {case.denied_role} got {response.status_code}"
        )

    if case.place_team_only:
        client.force_login(partner_member(a, case.allowed_role).user)
        response = request(client, case, own_url)
        assert response.status_code == 403, (
            f"{case.name}: a partner's {case.allowed_role} got {response.status_code}"
        )

    client.force_login(a.users[case.allowed_role])
    response = request(client, case, case.url(b))
    assert response.status_code == 404, f"{case.name}: other place's URL got {response.status_code}"

    if case.objects(a):
        response = request(client, case, case.url(a, objects_of=b))
        assert response.status_code == 404, (
            f"{case.name}: other place's object in own URL got {response.status_code}"
        )
