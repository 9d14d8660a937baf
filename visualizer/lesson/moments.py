"""Key moments, checked: a moment is shown as true only where this run made its claim true."""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.contract.trace import KeyMoment, Trace
from visualizer.lesson.claims import check


@dataclass(frozen=True, slots=True)
class CheckedMoment:
    moment: KeyMoment
    holds: bool  # True when the moment's claim holds for this run, or it makes none
    instead: str  # what the run did instead, when it does not

    @property
    def seq(self) -> int | None:
        return self.moment.seq


def checked_moments(trace: Trace) -> list[CheckedMoment]:
    """Every key moment that matched an event, with whether this run bears it out."""
    out = []
    for moment in trace.key_moments:
        if moment.seq is None:
            continue
        holds, instead = check(moment.claim, trace, moment.request) if moment.claim else (True, "")
        out.append(CheckedMoment(moment, holds, instead))
    return out
