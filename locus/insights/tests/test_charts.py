"""The SVG chart geometry: everything inside the plot, bars proportional, bands where asked."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from locus.insights.charts import nice_ceiling, time_chart


def _chart(values, provisional=None, lines=(), annotations=()):
    periods = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(len(values))]
    return time_chart(
        periods=periods,
        period_ends=[p + timedelta(days=7) for p in periods],
        labels=[p.isoformat() for p in periods],
        values=values,
        provisional=provisional or [False] * len(values),
        lines=lines,
        annotations=annotations,
    )


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_nice_ceiling_is_round_and_above(value):
    top = nice_ceiling(value)
    assert top >= value and top >= 1
    assert top <= max(1, value) * 2.5 + 1


@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=120),
    st.lists(st.one_of(st.none(), st.integers(0, 10_000)), max_size=120),
)
def test_bars_and_lines_stay_inside_the_plot(values, other):
    other = (other + [None] * len(values))[: len(values)]
    chart = _chart(values, lines=[("last year", "line-last-year", other)])
    assert len(chart.bars) == len(values)
    for bar, value in zip(chart.bars, values, strict=True):
        assert chart.plot_left <= bar.x <= chart.plot_right
        assert bar.x + bar.width <= chart.plot_right + 0.01
        assert chart.plot_top - 0.01 <= bar.y <= chart.plot_bottom
        assert abs(bar.height - chart.plot_height * value / chart.y_max) < 0.02
    assert chart.y_max >= max(values + [v for v in other if v is not None])
    for line in chart.lines:
        for part in line.path.split():
            number = float(part.lstrip("ML"))
            assert number >= 0


def test_provisional_bars_and_annotation_bands():
    chart = _chart(
        [3, 4, 5, 6],
        provisional=[False, False, True, True],
        annotations=[(1, date(2026, 1, 14), date(2026, 1, 20), "Trigger event")],
    )
    assert chart.has_provisional
    assert [bar.provisional for bar in chart.bars] == [False, False, True, True]
    # 14–20 Jan touches the weeks of 12 Jan and 19 Jan: the second and third bars.
    (band,) = chart.bands
    assert band.number == 1 and band.text == "Trigger event"
    assert chart.bars[0].x < band.x <= chart.bars[1].x
    assert band.x + band.width >= chart.bars[2].x + chart.bars[2].width
    assert band.x + band.width <= chart.bars[3].x


def test_annotations_outside_the_periods_draw_nothing():
    chart = _chart([1, 2], annotations=[(1, date(2025, 1, 1), date(2025, 1, 2), "Old")])
    assert chart.bands == []


def test_empty_chart():
    chart = _chart([])
    assert chart.bars == [] and chart.y_ticks == []
