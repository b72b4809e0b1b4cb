"""The editor's services, property-tested: a preview's draft is refused exactly when saving it
would be, with the same fields; reordering puts the rules in exactly the order given; moving a
rule up and back down changes nothing."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus.cases.models import RoutingRule
from locus.cases.rule_services import (
    routing_rule_draft,
    routing_rule_move,
    routing_rule_write,
    routing_rules_reorder,
)
from locus.cases.selectors import routing_rule_list
from locus.core.errors import ValidationFailed

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CODES = {
    "incident_type": ["threat", "assault", "online_content", "nonsense"],
    "bias": ["antisemitism", "racism_xenophobia", "anti_roma_sinti", "made_up"],
    "setting": ["street", "online", "moon"],
    "platform": ["tiktok", "x_twitter", "myspace2"],
    "language": ["en", "sv", "es"],
    "consent": ["police_anonymised", "support_contact", "always"],
}


def conditions(area_ids):
    """Condition objects mixing valid and invalid values of every key (and an unknown key)."""
    values = {key: st.lists(st.sampled_from(codes), max_size=3) for key, codes in CODES.items()}
    values["area"] = st.lists(st.sampled_from([*area_ids, 999_999]), max_size=2)
    values["online"] = st.sampled_from([None, True, False])
    values["colour"] = st.lists(st.just("red"), max_size=1)
    return st.fixed_dictionaries({}, optional=values)


def outcome(call):
    try:
        call()
    except ValidationFailed as exc:
        return exc.fields
    return None


@pytest.fixture
def areas(world):
    return [world.a.areas[0].pk, world.b.areas[0].pk]  # the second is another place's


def test_a_draft_is_refused_exactly_when_saving_it_would_be(world, partners, in_place, areas):
    @SETTINGS
    @given(
        data=conditions(areas),
        fallback=st.booleans(),
        name=st.sampled_from(["Rule", ""]),
        destinations=st.lists(
            st.sampled_from([partners.police, partners.charity, partners.police_b]),
            max_size=2,
            unique=True,
        ),
    )
    def check(data, fallback, name, destinations):
        fields = {
            "name": name,
            "is_fallback": fallback,
            "conditions": data,
            "destinations": destinations,
        }
        place = world.a.place
        with in_place(place):
            drafted = outcome(lambda: routing_rule_draft(place=place, **fields))
            with transaction.atomic():
                saved = outcome(lambda: routing_rule_write(place=place, actor=None, **fields))
                transaction.set_rollback(True)
            assert drafted == saved
            if saved:
                # Every condition error is named after its key.
                keys = {name.split(".", 1)[1] for name in saved if name.startswith("conditions.")}
                assert keys <= set(data)
                assert "conditions" not in saved
            assert not RoutingRule.objects.exists()

    check()


def test_reorder_puts_the_rules_in_the_order_given(world, rule_in, in_place):
    place = world.a.place
    ids = [rule_in(world.a, name=f"R{i}", destinations=[]).pk for i in range(5)]

    @SETTINGS
    @given(order=st.permutations(ids))
    def check(order):
        with in_place(place):
            rules = routing_rules_reorder(place=place, actor=None, order=order)
            assert [r.pk for r in rules] == list(order)
            positions = [r.position for r in rules]
            assert positions == sorted(set(positions))

    check()


def test_moving_up_then_down_changes_nothing(world, rule_in, in_place):
    place = world.a.place
    for i in range(4):
        rule_in(world.a, name=f"R{i}", destinations=[])

    @SETTINGS
    @given(index=st.integers(min_value=1, max_value=3))
    def check(index):
        with in_place(place):
            before = list(routing_rule_list(place).values_list("pk", flat=True))
            rule = RoutingRule.objects.get(pk=before[index])
            routing_rule_move(place=place, actor=None, rule=rule, offset=-1)
            moved = list(routing_rule_list(place).values_list("pk", flat=True))
            assert moved[index - 1] == rule.pk
            routing_rule_move(place=place, actor=None, rule=rule, offset=1)
            assert list(routing_rule_list(place).values_list("pk", flat=True)) == before

    check()


def test_moving_past_either_end_is_refused(world, rule_in, in_place):
    place = world.a.place
    first = rule_in(world.a, name="First", destinations=[])
    last = rule_in(world.a, name="Last", destinations=[])
    with in_place(place):
        with pytest.raises(ValidationFailed, match="already first"):
            routing_rule_move(place=place, actor=None, rule=first, offset=-1)
        with pytest.raises(ValidationFailed, match="already last"):
            routing_rule_move(place=place, actor=None, rule=last, offset=1)
