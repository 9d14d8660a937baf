"""A trace as a document: its events, plus each request's steps and the deviations found."""

from __future__ import annotations

from typing import Any

from visualizer.contract.document import TraceDocument
from visualizer.contract.trace import Trace
from visualizer.lesson.deviations import find_deviations, steps_observed


def trace_document(trace: Trace) -> TraceDocument:
    return TraceDocument(
        **dict(trace),
        steps_observed=steps_observed(trace.events),
        deviations=find_deviations(trace.events),
    )


def document_json(trace: Trace) -> dict[str, Any]:
    """What `run --json` prints and an export holds."""
    return trace_document(trace).model_dump(mode="json")
