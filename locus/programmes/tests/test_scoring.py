"""Property-based tests of the survey scoring and the small-number rules."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locus.core.errors import ValidationFailed
from locus.programmes import scoring

likert = st.one_of(st.integers(-3, 9), st.none(), st.text(max_size=3), st.booleans())
answers = st.dictionaries(st.sampled_from(["1", "2", "3", "g"]), likert, max_size=4)


@given(answers, st.lists(st.tuples(st.sampled_from([1, 2, 3]), st.booleans()), max_size=3))
def test_a_score_is_on_the_scale_or_none(answer, items):
    score = scoring.respondent_score(answer, items)
    if score is not None:
        assert Decimal(1) <= score <= Decimal(5)


@given(
    st.dictionaries(st.text(min_size=1, max_size=4), st.integers(0, 30), max_size=8),
    st.integers(1, 12),
)
def test_suppression_never_shows_a_small_group_nor_a_lone_hidden_one(counts, minimum):
    hidden = scoring.suppressed_groups(counts, minimum)
    shown = {g: n for g, n in counts.items() if g not in hidden}
    assert all(n == 0 or n >= minimum for n in shown.values())
    non_empty = [g for g, n in counts.items() if n > 0]
    # A single hidden group could be recovered from the total: never exactly one hidden group
    # when there are other groups to hide alongside it.
    if len(non_empty) > 1:
        assert len(hidden) != 1


@given(
    st.lists(
        st.fixed_dictionaries(
            {"1": st.integers(1, 5), "2": st.integers(1, 5), "g": st.sampled_from("abc")}
        ),
        max_size=40,
    ),
    st.booleans(),
    st.integers(1, 10),
)
def test_compute_respects_the_minimum_and_the_range(responses, percent, minimum):
    result = scoring.compute(
        responses,
        likert_items=[(1, False), (2, True)],
        breakdowns={"gender": "g"},
        percent=percent,
        min_count=minimum,
    )
    assert result["respondents"] == len(responses)
    if len(responses) < minimum:
        assert result["value"] is None and result["disaggregation"] == {}
        return
    low, high = (0, 100) if percent else (1, 5)
    assert low <= result["value"] <= high
    for group, n in result["counts"].get("gender", {}).items():
        assert n >= minimum
        assert low <= result["disaggregation"]["gender"][group] <= high


def test_reverse_items_count_the_other_way():
    assert scoring.respondent_score({"1": 1}, [(1, True)]) == 5
    assert scoring.respondent_score({"1": 5, "2": 1}, [(1, False), (2, True)]) == 5


def test_percentage_counts_those_who_agree():
    scores = [Decimal(4), Decimal(5), Decimal(3), Decimal("3.5")]
    assert scoring.indicator_value(scores, percent=True) == Decimal("50.00")
    assert scoring.indicator_value(scores, percent=False) == Decimal("3.88")


# --- results input: anything a client sends is either saved or refused with field errors ---

junk = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=5), st.integers()), max_size=3),
)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=junk,
    breakdown=st.dictionaries(st.sampled_from(["gender", "age", "area", "x"]), junk, max_size=3),
)
def test_results_input_is_saved_or_refused_never_crashes(world, value, breakdown):
    from locus.core.tenancy import place_scope
    from locus.programmes.services import results_report

    from .factories import indicator, period, programme

    with place_scope(world.a.place):
        p = programme(world.a)
        i = indicator(p, measure="number", level="output", by_gender=True, by_area=True)
        q = period(p)
        try:
            results_report(
                period=q, actor=None, values={i.pk: {"value": value, "disaggregation": breakdown}}
            )
        except ValidationFailed as exc:
            assert exc.fields and all(exc.fields.values())
