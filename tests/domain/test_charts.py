"""domain/charts.py: points and bars land inside the view box, scaled to a round maximum."""

from __future__ import annotations

from masthead.domain.charts import (
    HEIGHT,
    PAD_BOTTOM,
    PAD_LEFT,
    PAD_TOP,
    WIDTH,
    grouped_bars,
    line_chart,
    nice_max,
)


def test_round_maxima() -> None:
    assert [nice_max(v) for v in (0, 1, 3, 7, 10, 11, 180, 2001)] == [
        1,
        1,
        5,
        10,
        10,
        20,
        200,
        5000,
    ]


def test_a_line_spans_the_width_and_its_top_value_touches_the_scale() -> None:
    chart = line_chart([("6h", 0), ("24h", 50), ("7d", 100)])
    first, middle, last = chart.points
    assert (first.x, last.x) == (PAD_LEFT, WIDTH - 12)
    assert first.y == HEIGHT - PAD_BOTTOM and last.y == PAD_TOP
    assert middle.y == (first.y + last.y) / 2
    assert chart.path.startswith(f"M{first.x},{first.y} L")
    assert [t.label for t in chart.ticks] == ["0", "25", "50", "75", "100"]
    [alone] = line_chart([("6h", 3)]).points
    assert PAD_LEFT < alone.x < WIDTH


def test_grouped_bars_put_each_series_side_by_side_from_the_baseline() -> None:
    chart = grouped_bars(
        ["12-01", "12-02"], ["x", "bluesky"], {("12-01", "x"): 20, ("12-02", "bluesky"): 5}
    )
    assert len(chart.bars) == 4 and [p.label for p in chart.labels] == ["12-01", "12-02"]
    tall = next(b for b in chart.bars if b.value == 20)
    assert tall.y == PAD_TOP and tall.y + tall.height == HEIGHT - PAD_BOTTOM
    empty = [b for b in chart.bars if b.value == 0]
    assert all(b.height == 0 for b in empty)
    assert chart.bars[1].x > chart.bars[0].x and chart.bars[2].x > chart.bars[1].x
