"""The pools' panel of the live page: each pool's gauge now, and over its recent readings."""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.contract.events import PoolStatus
from visualizer.lesson import gauge
from visualizer.live.feed import LiveFeed

WIDTH, HEIGHT = 240, 48  # the sparkline's box, in SVG units


@dataclass(frozen=True, slots=True)
class PoolPanel:
    name: str
    text: str  # "2 of 5 checked out"
    points: str  # the sparkline: checked-out connections over the recent readings
    peak: int
    size: int
    size_y: float  # where the pool's size is drawn, as a dashed line


def pool_panels(feed: LiveFeed) -> list[PoolPanel]:
    panels = []
    for number, readings in feed.pool_readings().items():
        if not readings:
            continue
        last = readings[-1]
        size = max(max(r.size for r in readings), max(r.checked_out for r in readings), 1)
        step = WIDTH / max(len(readings), 1)
        height = [round(HEIGHT - HEIGHT * r.checked_out / size, 1) for r in readings]
        # A staircase: a reading holds until the next one.
        points = " ".join(
            f"{round(i * step, 1)},{y} {round((i + 1) * step, 1)},{y}" for i, y in enumerate(height)
        )
        panels.append(
            PoolPanel(
                name=feed.databases.get(number, f"pool {number}"),
                text=gauge.checked_out(PoolStatus(checked_out=last.checked_out, size=last.size)),
                points=points,
                peak=max(r.checked_out for r in readings),
                size=last.size,
                size_y=round(HEIGHT - HEIGHT * last.size / size, 1),
            )
        )
    return panels
