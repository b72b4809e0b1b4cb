"""Property tests of the subscription rule (which alarms reach which organisation)."""

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from locus.alerts.selectors import _bias_with_parents, subscription_matches
from locus.reporting.taxonomy import taxonomy

BIAS = [v.code for v in taxonomy().axis("bias")]
TYPES = [v.code for v in taxonomy().axis("incident_type")]
AREAS = [1, 2, 3, 4]


class Areas:
    def __init__(self, ids):
        self.ids = ids

    def all(self):
        return [SimpleNamespace(pk=pk) for pk in self.ids]


def subscription(areas, bias, types, active=True):
    return SimpleNamespace(
        areas=Areas(areas),
        bias=bias,
        incident_types=types,
        is_active=active,
        all_categories=not bias and not types,
    )


subscriptions = st.builds(
    subscription,
    st.lists(st.sampled_from(AREAS), unique=True),
    st.lists(st.sampled_from(BIAS), unique=True),
    st.lists(st.sampled_from(TYPES), unique=True),
)
alarms = st.one_of(
    st.builds(
        SimpleNamespace,
        area_id=st.sampled_from([None, *AREAS]),
        axis=st.just("bias"),
        category=st.sampled_from(BIAS),
    ),
    st.builds(
        SimpleNamespace,
        area_id=st.sampled_from([None, *AREAS]),
        axis=st.just("incident_type"),
        category=st.sampled_from(TYPES),
    ),
)


@given(subscriptions, alarms)
def test_the_rule(sub, alarm):
    area_ok = alarm.area_id is None or not sub.areas.ids or alarm.area_id in sub.areas.ids
    if sub.all_categories:
        category_ok = True
    elif alarm.axis == "bias":
        category_ok = bool(set(_bias_with_parents([alarm.category])) & set(sub.bias))
    else:
        category_ok = alarm.category in sub.incident_types
    assert subscription_matches(sub, alarm) == (area_ok and category_ok)


@given(subscriptions, alarms, st.sampled_from(AREAS), st.sampled_from(BIAS + TYPES))
def test_widening_never_loses_an_alarm(sub, alarm, area, code):
    """Adding an area to a subscription that lists areas, or a category to one that lists
    categories, never makes it miss an alarm it received."""
    before = subscription_matches(sub, alarm)
    wider = subscription(
        sub.areas.ids + [area] if sub.areas.ids and area not in sub.areas.ids else sub.areas.ids,
        sub.bias + [code] if code in BIAS and not sub.all_categories else sub.bias,
        sub.incident_types + [code]
        if code in TYPES and not sub.all_categories
        else sub.incident_types,
    )
    assert not before or subscription_matches(wider, alarm)


@given(alarms)
def test_a_paused_subscription_gets_nothing_and_an_open_one_everything(alarm):
    assert not subscription_matches(subscription([], [], [], active=False), alarm)
    assert subscription_matches(subscription([], [], []), alarm)
