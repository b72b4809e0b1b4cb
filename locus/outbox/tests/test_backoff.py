"""The retry schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h, for ≈ 3 days."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locus.outbox.backoff import JITTER, MAX_ATTEMPTS, RETRY_DELAYS, retry_delay


def test_schedule_is_the_documented_one():
    assert RETRY_DELAYS[:6] == (
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
    )
    assert MAX_ATTEMPTS == 13
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)
    assert timedelta(days=3) < sum(RETRY_DELAYS, timedelta()) < timedelta(days=3.5)


@given(st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), min_size=12, max_size=12))
def test_jittered_schedule_is_increasing_bounded_and_about_three_days(rands):
    delays = [retry_delay(n, rand=lambda r=r: r) for n, r in enumerate(rands, start=1)]
    assert retry_delay(MAX_ATTEMPTS, rand=lambda: 0.5) is None
    for delay, base in zip(delays, RETRY_DELAYS, strict=True):
        assert delay > timedelta(0)  # so each attempt is later than the one before
        assert base * (1 - JITTER) <= delay <= base * (1 + JITTER)
        assert delay <= timedelta(hours=11)
    total = sum(delays, timedelta())
    assert timedelta(days=2.8) <= total <= timedelta(days=3.6)


def test_no_delay_before_the_first_attempt():
    with pytest.raises(ValueError):
        retry_delay(0)
