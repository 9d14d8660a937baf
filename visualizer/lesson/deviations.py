"""Where a run leaves the textbook's seven steps: every rule, applied request by request."""

from __future__ import annotations

from collections.abc import Sequence

from visualizer.contract.document import Deviation, RequestSteps
from visualizer.contract.events import Event
from visualizer.lesson import order_deviations, outcome_deviations, skipped_deviations
from visualizer.lesson.lanes import by_request, steps_of, stories

RULES = (*order_deviations.RULES, *skipped_deviations.RULES, *outcome_deviations.RULES)


def find_deviations(events: Sequence[Event]) -> list[Deviation]:
    """Every place where reality differs from the seven textbook steps, request by request
    and, within a request, session by session."""
    found = [
        deviation.model_copy(update={"session": session})
        for request, lane in by_request(events).items()
        for session, story in stories(lane)
        for rule in RULES
        if (deviation := rule(request, story)) is not None
    ]
    return sorted(found, key=lambda d: d.seq)


def steps_observed(events: Sequence[Event]) -> list[RequestSteps]:
    """Each request's steps in the order the server went through them, repeats folded."""
    return [
        RequestSteps(request=request, steps=steps_of(lane))
        for request, lane in sorted(by_request(events).items())
    ]
