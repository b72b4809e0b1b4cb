"""Network roll-ups: aggregates across the network's places only, the same protection at the
strictest threshold, for the network's members only."""

from datetime import date

import pytest
from django.urls import reverse

from locus.accounts.models import NetworkMembership
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.core.tenancy import place_scope
from locus.core.testing.factories import AreaFactory, PlaceFactory, UserFactory, square
from locus.insights.disclosure import default_min_width

from .open_data_helpers import attack_month, by_month, make_many, parse_csv

D = date(2025, 3, 10)


@pytest.fixture
def network_world(world):
    """Alphaville and a second town in network A (threshold 12 there); Betastad elsewhere."""
    network = world.a.place.network
    town = PlaceFactory(
        slug="gamma", name="Gammatown", country="GB", network=network, suppression_threshold=12
    )
    with place_scope(town):
        area = AreaFactory(place=town, name="Gamma Centre", geometry=square(-1.0, 52.0))
    make_many(
        world.a.place,
        [
            (D, world.a.areas[0], "threat", ["antisemitism"], 30),
            (D, world.a.areas[1], "assault", ["anti_muslim"], 4),
            (D, world.a.areas[1], "threat", ["disability"], 14),
            (D, None, "online_content", ["sexual_orientation"], 20),
        ],
    )
    make_many(
        town,
        [
            (D, area, "threat", ["antisemitism"], 25),
            (D, area, "assault", ["anti_muslim"], 13),
            (D, area, "threat", ["disability"], 2),
            (D, area, "threat", ["gender_identity", "sexual_orientation"], 16),
        ],
    )
    make_many(world.b.place, [(D, world.b.areas[0], "threat", ["antisemitism"], 99)])
    viewer = UserFactory(email="viewer@network.test")
    NetworkMembership.objects.create(user=viewer, network=network)
    outsider = UserFactory(email="viewer@other-network.test")
    NetworkMembership.objects.create(user=outsider, network=world.b.place.network)
    return network, town, viewer, outsider


def test_members_see_protected_aggregates(world, client, network_world):
    network, town, viewer, _outsider = network_world
    client.force_login(viewer)
    url = reverse("insights_data:network", args=[network.slug])
    response = client.get(url, {"month": "2025-03"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alphaville" in html and "Gammatown" in html and "Betastad" not in html
    assert "fewer than 12" in html  # the strictest threshold of the network's places
    assert "Alphaville North" not in html  # places, not their areas: no drill-down
    assert "/staff/" not in html and "/cases/" not in html
    # The same figures for a program: the API is linked (it was reachable only by its address).
    api = f"/api/v1/networks/{network.slug}/insights"
    assert f'href="{api}"' in html
    assert client.get(api, {"month": "2025-03"}).json()["months"][0]["month"] == "2025-03"


def test_isolation(world, client, network_world):
    network, _town, _viewer, outsider = network_world
    url = reverse("insights_data:network", args=[network.slug])
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(outsider)  # a member of another network
    assert client.get(url).status_code == 404
    client.force_login(world.a.users["admin"])  # staff of a place, not a network member
    assert client.get(url).status_code == 404
    assert client.get(reverse("insights_data:network", args=["nowhere"])).status_code == 404
    export = reverse("insights_data:network_export", args=[network.slug])
    assert client.get(export, {"scheme": "uk_strands", "month": "2025-03"}).status_code == 404
    api = f"/api/v1/networks/{network.slug}/insights"
    assert client.get(api).status_code == 404
    client.logout()
    assert client.get(api).status_code == 401


def test_network_export_is_protected_and_audited(world, client, network_world):
    network, town, viewer, _outsider = network_world
    client.force_login(viewer)
    url = reverse("insights_data:network_export", args=[network.slug])
    response = client.get(url, {"scheme": "uk_strands", "month": "2025-03"})
    assert response.status_code == 200
    records = parse_csv(response.content.decode())
    cell = {(r["place_code"], r["category_code"]): r for r in records}
    truth = {
        ("alpha", "race"): 0,
        ("alpha", "religion"): 34,  # 30 antisemitic, 4 anti-Muslim
        ("alpha", "sexual_orientation"): 20,
        ("alpha", "disability"): 14,
        ("alpha", "transgender_identity"): 0,
        ("gamma", "race"): 0,
        ("gamma", "religion"): 38,
        ("gamma", "sexual_orientation"): 16,  # 16 incidents naming two LGBT biases count
        ("gamma", "transgender_identity"): 16,  # in both strands
        ("gamma", "disability"): 2,
    }
    for key, value in truth.items():
        if cell[key]["status"] == "published":
            assert cell[key]["count"] == str(value), key
        else:
            assert cell[key]["count"] == "" and value > 0
    assert cell[("alpha", "religion")]["count"] == "34"
    assert cell[("gamma", "disability")]["status"] == "fewer_than_threshold"
    for rows in by_month(records).values():
        for low, high in attack_month(rows, 12, key_column="place_code").values():
            assert high - low >= default_min_width(12)
    event = AuditEvent.objects.get(action=AuditAction.STATISTICS_EXPORTED)
    assert event.actor == viewer and event.data["network"] == network.slug

    response = client.get(url, {"scheme": "uk_strands", "month": "1990-01"})
    assert response.status_code == 422
    response = client.get(url, {"scheme": "se_bra", "month": "2025-03"})
    records = parse_csv(response.content.decode())
    assert "hbtqi:unspecified" in {r["category_code"] for r in records}


def test_recovery_attack_on_the_network_table(world, client, network_world):
    network, _town, viewer, _outsider = network_world
    client.force_login(viewer)
    response = client.get(f"/api/v1/networks/{network.slug}/insights", {"month": "2025-03"})
    assert response.status_code == 200
    data = response.json()
    assert data["threshold"] == 12
    (month,) = data["months"]
    records = [
        {
            "area_code": row["area_code"],
            "category_code": figure["category"],
            "count": "" if figure["count"] is None else str(figure["count"]),
            "status": figure["status"],
        }
        for row in month["rows"]
        for figure in [*row["figures"], row["total"]]
    ]
    small = [r for r in records if r["status"] == "fewer_than_threshold"]
    assert small
    intervals = attack_month(records, 12)
    assert len(intervals) == len(small)
    assert all(high - low >= default_min_width(12) for low, high in intervals.values())
    alpha = next(r for r in month["rows"] if r["area_code"] == "alpha")
    assert {f["category"]: f["count"] for f in alpha["figures"]}["antisemitism"] == 30


def test_query_budget_per_place(world, client, network_world, django_assert_max_num_queries):
    network, _town, viewer, _outsider = network_world
    client.force_login(viewer)
    url = reverse("insights_data:network", args=[network.slug])
    with django_assert_max_num_queries(20):
        assert client.get(url).status_code == 200


def test_network_export_api(world, client, network_world):
    network, _town, viewer, outsider = network_world
    url = f"/api/v1/networks/{network.slug}/insights/exports/de_pmk"
    assert client.get(url, {"month": "2025-03"}).status_code == 401
    client.force_login(outsider)
    assert client.get(url, {"month": "2025-03"}).status_code == 404
    client.force_login(viewer)
    response = client.get(url, {"month": "2025-03"})
    assert response.status_code == 200
    (month,) = response.json()["months"]
    alpha = next(r for r in month["rows"] if r["area_code"] == "alpha")
    figures = {f["category"]: f for f in alpha["figures"]}
    assert figures["antisemitisch"] == {
        "category": "antisemitisch",
        "count": 30,
        "status": "published",
    }
    assert client.get(url, {"month": "2999-01"}).json()["fields"]["month"]
    assert client.get(url, {"month": "03-2025"}).status_code == 422
    assert client.get(url.replace("de_pmk", "nope"), {"month": "2025-03"}).status_code == 422
    assert AuditEvent.objects.filter(action=AuditAction.STATISTICS_EXPORTED).count() == 1


def test_a_token_carries_no_network_role(world, client, network_world):
    """A token acts only through the organisation membership it was made in (docs/api.md):
    its owner's network role is not that membership's, so the network roll-up answers it as
    anyone outside the network (404). Signed in, the same person reads it."""
    from locus.accounts.services import token_create

    network, _town, _viewer, _outsider = network_world
    person = world.a.users["analyst"]  # the place team's analyst, and a network viewer too
    NetworkMembership.objects.create(user=person, network=network)
    _token, secret = token_create(membership=world.a.memberships["analyst"], name="bi")
    auth = {"Authorization": f"Bearer {secret}"}
    urls = [
        (f"/api/v1/networks/{network.slug}/insights", {}),
        (f"/api/v1/networks/{network.slug}/insights/exports/de_pmk", {"month": "2025-03"}),
    ]
    for url, query in urls:
        response = client.get(url, query, headers=auth)
        assert response.status_code == 404, (url, response.content)
    assert not AuditEvent.objects.filter(action=AuditAction.STATISTICS_EXPORTED).exists()
    client.force_login(person)
    for url, query in urls:
        assert client.get(url, query).status_code == 200, url


def test_the_network_totals_are_named_all_places(world, client, network_world):
    """A network's rows are places, so its totals row is "All places" in the CSV and the API
    (it read "All areas", as a place's open data does, though no area is in the table)."""
    network, _town, viewer, _outsider = network_world
    client.force_login(viewer)
    url = reverse("insights_data:network_export", args=[network.slug])
    records = parse_csv(
        client.get(url, {"scheme": "uk_strands", "month": "2025-03"}).content.decode()
    )
    assert {r["place"] for r in records if r["place_code"] == "all"} == {"All places"}
    answer = client.get(f"/api/v1/networks/{network.slug}/insights", {"month": "2025-03"})
    rows = answer.json()["months"][0]["rows"]
    assert [row["area"] for row in rows if row["area_code"] == "all"] == ["All places"]
    french = client.get(
        url, {"scheme": "uk_strands", "month": "2025-03"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert {r["place"] for r in parse_csv(french.content.decode()) if r["place_code"] == "all"} == {
        "Tous les territoires"
    }
    # A place's own open data keeps "All areas".
    place = client.get(f"/{world.a.place.slug}/open-data/incidents.csv")
    assert {r["area"] for r in parse_csv(place.content.decode()) if r["area_code"] == "all"} == {
        "All areas"
    }


def test_french_names_the_network_without_an_article_it_would_need(world, client, network_world):
    """A network is named as its members wrote it ("United Kingdom"): French cannot put "de" or
    "à" before a country's name ("de United Kingdom", "à United Kingdom"), so the pages say
    "du réseau <name>" and give the table's title after a dash."""
    network, _town, viewer, _outsider = network_world
    client.force_login(viewer)
    url = reverse("insights_data:network", args=[network.slug])
    html = client.get(url, {"month": "2025-03"}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    export = reverse("insights_data:network_export", args=[network.slug])
    error = client.get(export, {"scheme": "nope"}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    for page in (html, error):
        assert f"du réseau {network.name}" in page
        assert f" de {network.name}" not in page and f" à {network.name}" not in page
    assert f"Incidents de haine — {network.name}, mars 2025" in html


def test_the_network_is_named_in_the_readers_language(world, client, network_world):
    """The network's pages and its open data named it in English in every language."""
    network, _town, viewer, _outsider = network_world
    network.names = {"fr": "Réseau du Royaume-Uni"}
    network.save()
    client.force_login(viewer)
    client.cookies["django_language"] = "fr"
    for url in (
        reverse("places:network", args=[network.slug]),
        reverse("insights_data:network", args=[network.slug]),
    ):
        html = client.get(url).content.decode()
        assert "Réseau du Royaume-Uni</h1>" in html
        assert network.name not in html
    api = client.get(f"/api/v1/networks/{network.slug}/insights", {"month": "2025-03"})
    assert api.json()["title"] == "Réseau du Royaume-Uni"
    client.cookies["django_language"] = "de"
    html = client.get(reverse("places:network", args=[network.slug])).content.decode()
    assert f"<h1>{network.name}</h1>" in html
