"""Chart geometry for the web UI's server-drawn SVG (no script, no CDN): where each point and
bar goes in a fixed view box. Pure: the template only writes the numbers out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 220
PAD_LEFT = 48
PAD_RIGHT = 12
PAD_TOP = 12
PAD_BOTTOM = 28
GRID_LINES = 4


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    label: str
    value: int


@dataclass(frozen=True, slots=True)
class LineChart:
    points: tuple[Point, ...]
    path: str
    ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = HEIGHT


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    series: int
    value: int


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: tuple[Bar, ...]
    labels: tuple[Point, ...]
    ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = HEIGHT


def nice_max(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _ticks(top: int) -> tuple[Tick, ...]:
    span = HEIGHT - PAD_TOP - PAD_BOTTOM
    return tuple(
        Tick(PAD_TOP + span * (1 - i / GRID_LINES), f"{top * i // GRID_LINES:,}")
        for i in range(GRID_LINES + 1)
    )


def _y(value: int, top: int) -> float:
    span = HEIGHT - PAD_TOP - PAD_BOTTOM
    return round(PAD_TOP + span * (1 - value / top), 1)


def line_chart(values: Sequence[tuple[str, int]]) -> LineChart:
    """A line through (label, value) pairs in order, spread evenly across the width."""
    top = nice_max(max((v for _, v in values), default=0))
    inner = WIDTH - PAD_LEFT - PAD_RIGHT
    step = inner / (len(values) - 1) if len(values) > 1 else 0.0
    points = tuple(
        Point(
            round(PAD_LEFT + (step * i if len(values) > 1 else inner / 2), 1), _y(v, top), label, v
        )
        for i, (label, v) in enumerate(values)
    )
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
    return LineChart(points, path, _ticks(top))


def grouped_bars(
    groups: Sequence[str], series: Sequence[str], values: Mapping[tuple[str, str], int]
) -> BarChart:
    """One group of bars per label (a day), one bar per series (a platform) in each."""
    top = nice_max(max(values.values(), default=0))
    inner = WIDTH - PAD_LEFT - PAD_RIGHT
    slot = inner / max(len(groups), 1)
    bar = slot * 0.8 / max(len(series), 1)
    bars: list[Bar] = []
    labels: list[Point] = []
    for g, group in enumerate(groups):
        left = PAD_LEFT + slot * g + slot * 0.1
        labels.append(Point(round(left + slot * 0.4, 1), HEIGHT - 8, group, 0))
        for s, name in enumerate(series):
            value = values.get((group, name), 0)
            y = _y(value, top)
            bars.append(
                Bar(
                    round(left + bar * s, 1),
                    y,
                    round(bar, 1),
                    round(HEIGHT - PAD_BOTTOM - y, 1),
                    name,
                    s,
                    value,
                )
            )
    return BarChart(tuple(bars), tuple(labels), _ticks(top))
