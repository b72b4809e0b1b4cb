"""The routing-rules API: list, get, create, update, delete, reorder and preview; errors that
name the field; audit of every change; idempotent creation; who may call it; query budget."""

import pytest

from locus.api.tests.test_api import assert_error, bearer, secret_for
from locus.cases.models import RoutingRule
from locus.core.choices import AuditAction
from locus.core.models import AuditEvent
from locus.core.testing import RATE_COUNT_QUERIES
from locus.core.testing.factories import MembershipFactory, UserFactory
from locus.core.testing.world import enable_totp

API = "/api/v1/places"


@pytest.fixture
def coordinator(world):
    return bearer(secret_for(world.a.memberships["coordinator"]))


def rules_url(place, suffix=""):
    return f"{API}/{place.slug}/routing/rules{suffix}"


def post(client, url, body, headers, **extra):
    return client.post(url, body, content_type="application/json", headers=headers | extra)


def patch(client, url, body, headers):
    return client.patch(url, body, content_type="application/json", headers=headers)


def rule_changes():
    return list(
        AuditEvent.objects.filter(action=AuditAction.ROUTING_RULE_CHANGED)
        .order_by("id")
        .values_list("data", flat=True)
    )


def test_create_and_get_a_rule(client, world, partners, coordinator, in_place):
    body = {
        "name": "Antisemitism",
        "conditions": {
            "bias": ["antisemitism"],
            "area": [world.a.areas[0].pk],
            "online": False,
            "language": ["en"],
            "consent": ["support_contact"],
            "platform": [],
        },
        "destinations": [partners.charity.pk, partners.police.pk],
        "stop": True,
    }
    response = post(client, rules_url(world.a.place), body, coordinator)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["conditions"] == {
        "bias": ["antisemitism"],
        "area": [world.a.areas[0].pk],
        "online": False,
        "language": ["en"],
        "consent": ["support_contact"],
    }
    assert [d["name"] for d in created["destinations"]] == ["Alpha Police", "Alpha Victim Support"]
    assert all(d["listed"] for d in created["destinations"])
    assert created["stop"] and created["is_active"] and not created["is_fallback"]
    assert "Send to: Alpha Police, Alpha Victim Support" in created["summary"]
    assert any(world.a.areas[0].name in line for line in created["summary"])
    assert rule_changes() == [
        {
            "rule": created["id"],
            "created": True,
            "fields": [
                "conditions",
                "destinations",
                "is_active",
                "is_fallback",
                "name",
                "position",
                "stop",
            ],
        }
    ]
    response = client.get(rules_url(world.a.place, f"/{created['id']}"), headers=coordinator)
    assert response.status_code == 200 and response.json() == created


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        # every mistake at once: these rules would also send to nobody
        ({"name": "X", "conditions": {"bias": ["nonsense"]}}, {"conditions.bias", "destinations"}),
        ({"name": "X", "conditions": {"colour": ["red"]}}, {"conditions.colour"}),
        ({"name": "X", "conditions": {"language": ["es"]}}, {"conditions.language.0"}),
        ({"name": "X", "conditions": {"area": [2**63]}}, {"conditions.area.0"}),
        (
            {"name": "X", "is_fallback": True, "conditions": {"online": True}},
            {"is_fallback", "destinations"},
        ),
        ({"name": ""}, {"name"}),
        ({"name": "bad\x00name"}, {"name"}),
        ({"name": "X", "destinations": [0]}, {"destinations.0"}),
        ({}, {"name"}),
    ],
    ids=[
        "unknown-code",
        "unknown-condition",
        "unknown-language",
        "huge-area",
        "fallback-with-conditions",
        "empty-name",
        "control-character",
        "bad-id",
        "empty",
    ],
)
def test_bad_rules_are_422_naming_the_field(client, world, coordinator, in_place, body, fields):
    error = assert_error(post(client, rules_url(world.a.place), body, coordinator), 422)
    assert set(error["fields"]) == fields
    with in_place(world.a.place):
        assert not RoutingRule.objects.exists()


def test_a_control_character_is_refused_in_the_requests_language(client, world, coordinator):
    headers = coordinator | {"Accept-Language": "fr"}
    error = assert_error(post(client, rules_url(world.a.place), {"name": "a\x00b"}, headers), 422)
    assert error["fields"]["name"] == ["Les caractères de contrôle ne sont pas autorisés."]


def test_a_rule_that_can_never_match_or_sends_to_nobody_is_422_naming_the_field(
    client, world, partners, coordinator, in_place
):
    body = {
        "name": "Never",
        "conditions": {"online": False, "incident_type": ["online_content"]},
        "destinations": [partners.police.pk],
    }
    error = assert_error(post(client, rules_url(world.a.place), body, coordinator), 422)
    assert list(error["fields"]) == ["conditions.online"]
    error = assert_error(post(client, rules_url(world.a.place), {"name": "N"}, coordinator), 422)
    assert list(error["fields"]) == ["destinations"]
    with in_place(world.a.place):
        assert not RoutingRule.objects.exists()
    # Emptying a rule's destinations is refused; leaving them out of a change is not.
    created = post(
        client,
        rules_url(world.a.place),
        {"name": "R", "destinations": [partners.police.pk]},
        coordinator,
    ).json()
    rule = rules_url(world.a.place, f"/{created['id']}")
    assert_error(patch(client, rule, {"destinations": []}, coordinator), 422)
    assert patch(client, rule, {"is_active": False}, coordinator).status_code == 200


def test_another_places_area_or_organisation_is_refused(
    client, world, partners, coordinator, in_place
):
    body = {"name": "X", "conditions": {"area": [world.b.areas[0].pk]}, "stop": True}
    error = assert_error(post(client, rules_url(world.a.place), body, coordinator), 422)
    assert list(error["fields"]) == ["conditions.area"]
    body = {"name": "X", "destinations": [partners.police_b.pk]}
    error = assert_error(post(client, rules_url(world.a.place), body, coordinator), 422)
    assert list(error["fields"]) == ["destinations"]
    assert "Beta Police" not in str(error)  # who it is is not told


def test_list_in_order_with_warnings(client, world, partners, rule_in, coordinator):
    rule_in(world.a, name="Second", position=20, destinations=[partners.police])
    rule_in(world.a, name="First", position=10, destinations=[])
    body = client.get(rules_url(world.a.place), headers=coordinator).json()
    assert [r["name"] for r in body["rules"]] == ["First", "Second"]
    assert body["warnings"] == ["no_fallback"]
    rule_in(world.a, name="Fallback", is_fallback=True, destinations=[partners.team])
    body = client.get(rules_url(world.a.place), headers=coordinator).json()
    assert body["warnings"] == [] and body["rules"][-1]["summary"][0].startswith("Used only when")


def test_update_changes_only_what_is_given(client, world, partners, rule_in, coordinator):
    rule = rule_in(
        world.a,
        name="Police",
        conditions={"bias": ["antisemitism"]},
        destinations=[partners.police],
    )
    response = patch(
        client, rules_url(world.a.place, f"/{rule.pk}"), {"is_active": False}, coordinator
    )
    assert response.status_code == 200
    body = response.json()
    assert not body["is_active"] and body["conditions"] == {"bias": ["antisemitism"]}
    assert body["name"] == "Police" and [d["id"] for d in body["destinations"]] == [
        partners.police.pk
    ]
    response = patch(
        client,
        rules_url(world.a.place, f"/{rule.pk}"),
        {"conditions": {"online": True}, "destinations": [partners.platform.pk]},
        coordinator,
    )
    assert response.json()["conditions"] == {"online": True}
    assert [c["fields"] for c in rule_changes()[1:]] == [
        ["is_active"],
        ["conditions", "destinations"],
    ]
    error = assert_error(
        patch(client, rules_url(world.a.place, f"/{rule.pk}"), {"name": None}, coordinator), 422
    )
    assert list(error["fields"]) == ["name"]


def test_delete(client, world, partners, rule_in, coordinator, in_place):
    rule = rule_in(world.a, name="Doomed", destinations=[])
    response = client.delete(rules_url(world.a.place, f"/{rule.pk}"), headers=coordinator)
    assert response.status_code == 200 and response.json() == {"id": rule.pk, "deleted": True}
    with in_place(world.a.place):
        assert not RoutingRule.objects.exists()
    assert rule_changes()[-1] == {"rule": rule.pk, "deleted": True, "fields": [], "name": "Doomed"}
    assert_error(client.delete(rules_url(world.a.place, f"/{rule.pk}"), headers=coordinator), 404)


def test_reorder(client, world, rule_in, coordinator):
    a, b, c = (rule_in(world.a, name=n, destinations=[]) for n in "ABC")
    response = post(
        client, rules_url(world.a.place, "/reorder"), {"order": [c.pk, a.pk, b.pk]}, coordinator
    )
    assert response.status_code == 200
    assert [(r["name"], r["position"]) for r in response.json()["rules"]] == [
        ("C", 10),
        ("A", 20),
        ("B", 30),
    ]
    for order in ([a.pk, b.pk], [a.pk, b.pk, c.pk, c.pk], [a.pk, b.pk, 999_999]):
        error = assert_error(
            post(client, rules_url(world.a.place, "/reorder"), {"order": order}, coordinator), 422
        )
        assert list(error["fields"]) == ["order"]


def test_create_is_idempotent_with_a_key(client, world, coordinator, in_place):
    body = {"name": "Once", "stop": True}
    first = post(client, rules_url(world.a.place), body, coordinator, **{"Idempotency-Key": "k-1"})
    again = post(client, rules_url(world.a.place), body, coordinator, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    with in_place(world.a.place):
        assert RoutingRule.objects.count() == 1
    other = post(
        client,
        rules_url(world.a.place),
        {"name": "Twice", "stop": True},
        coordinator,
        **{"Idempotency-Key": "k-1"},
    )
    assert_error(other, 422)


# --- preview -------------------------------------------------------------------------------

SAMPLE = {
    "incident_type": "threat",
    "bias": ["anti_roma_sinti"],
    "setting": "street",
    "consent_police_anonymised": True,
}


def preview(client, world, body, headers):
    return post(client, f"{API}/{world.a.place.slug}/routing/preview", body, headers)


def test_preview_of_the_saved_rules(client, world, partners, rule_in, coordinator):
    rule_in(
        world.a,
        name="Racism",
        conditions={"bias": ["racism_xenophobia"]},
        destinations=[partners.police, partners.charity],
    )
    response = preview(client, world, {"sample": SAMPLE}, coordinator)
    assert response.status_code == 200
    body = response.json()
    assert body["current"] is None and body["changes"] == []
    rows = {d["organisation"]["name"]: d for d in body["result"]["destinations"]}
    assert rows["Alpha Police"]["sent"] and rows["Alpha Police"]["level"] == "anonymised"
    assert rows["Alpha Police"]["matched"] == {"bias": ["racism_xenophobia"]}
    assert not rows["Alpha Victim Support"]["sent"]
    assert rows["Alpha Victim Support"]["reason"] == "no_support_consent"
    assert "chose not to be contacted" in rows["Alpha Victim Support"]["sentence"]
    assert [r["name"] for r in body["result"]["matched_rules"]] == ["Racism"]
    assert {o["name"] for o in body["result"]["not_named"]} == {
        "Alphaville Council",
        "Chirp Trust & Safety",
        "Internet Referral Unit",
    }


def test_preview_of_a_draft_says_what_it_changes_and_saves_nothing(
    client, world, partners, rule_in, coordinator, in_place
):
    rule = rule_in(
        world.a,
        name="Racism",
        conditions={"bias": ["racism_xenophobia"]},
        destinations=[partners.police],
    )
    draft = {
        "id": rule.pk,
        "name": "Racism",
        "conditions": {"bias": ["antisemitism"]},
        "destinations": [partners.police.pk],
    }
    body = preview(client, world, {"sample": SAMPLE, "draft": draft}, coordinator).json()
    assert body["result"]["destinations"] == []
    assert [d["organisation"]["name"] for d in body["current"]["destinations"]] == ["Alpha Police"]
    assert body["changes"] == ["Alpha Police would no longer receive it."]
    with in_place(world.a.place):
        assert RoutingRule.objects.get().conditions == {"bias": ["racism_xenophobia"]}
    assert len(rule_changes()) == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"sample": {"incident_type": "nonsense"}}, {"sample.incident_type"}),
        ({"sample": {"incident_type": "threat", "bias": ["x"]}}, {"sample.bias"}),
        ({"sample": {"incident_type": "threat", "area_id": 999_999}}, {"sample.area_id"}),
        ({"sample": {"incident_type": "threat", "colour": "red"}}, {"sample.colour"}),
        (
            {"sample": SAMPLE, "draft": {"name": "D", "conditions": {"bias": ["x"]}}},
            {"draft.conditions.bias", "draft.destinations"},  # and it sends to nobody
        ),
        (
            {"sample": SAMPLE, "draft": {"name": "D", "destinations": [999_999]}},
            {"draft.destinations"},
        ),
        ({"sample": SAMPLE, "draft": {"id": 999_999, "name": "D", "stop": True}}, {"draft.id"}),
        ({}, {"sample"}),
    ],
)
def test_bad_previews_are_422_naming_the_field(client, world, coordinator, body, fields):
    error = assert_error(preview(client, world, body, coordinator), 422)
    assert set(error["fields"]) == fields


def test_sample_area_of_another_place_is_refused(client, world, coordinator):
    body = {"sample": SAMPLE | {"area_id": world.b.areas[0].pk}}
    error = assert_error(preview(client, world, body, coordinator), 422)
    assert list(error["fields"]) == ["sample.area_id"]


# --- who may -------------------------------------------------------------------------------


def test_a_partners_coordinator_is_403(client, world, partners):
    user = UserFactory()
    enable_totp(user)  # else the token itself is refused (401), before the role is looked at
    membership = MembershipFactory(user=user, organisation=partners.charity, role="coordinator")
    headers = bearer(secret_for(membership))
    assert_error(client.get(rules_url(world.a.place), headers=headers), 403, "forbidden")
    assert_error(post(client, rules_url(world.a.place), {"name": "X"}, headers), 403, "forbidden")


def test_another_places_rule_is_404(client, world, rule_in, coordinator):
    rule_b = rule_in(world.b, name="Beta", destinations=[])
    url = rules_url(world.a.place, f"/{rule_b.pk}")
    assert_error(client.get(url, headers=coordinator), 404)
    assert_error(patch(client, url, {"name": "Stolen"}, coordinator), 404)
    assert_error(client.delete(url, headers=coordinator), 404)
    names = [
        r["name"] for r in client.get(rules_url(world.a.place), headers=coordinator).json()["rules"]
    ]
    assert "Beta" not in names


@pytest.mark.parametrize("extra", [0, 10])
def test_list_query_budget(
    client, world, partners, rule_in, coordinator, django_assert_max_num_queries, extra
):
    for i in range(1 + extra):
        rule_in(
            world.a,
            name=f"R{i}",
            conditions={"area": [world.a.areas[0].pk]},
            destinations=[partners.police, partners.charity],
        )
    with django_assert_max_num_queries(12 + RATE_COUNT_QUERIES):
        assert client.get(rules_url(world.a.place), headers=coordinator).status_code == 200
