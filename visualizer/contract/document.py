"""The exported document: a trace, plus what the lesson layer derives from its events."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from visualizer.contract.trace import Trace


class DeviationType(StrEnum):
    ORDER = "order"  # steps happened in another order than the textbook's
    SKIPPED = "skipped"  # a textbook step did not happen as the textbook says
    OUTCOME = "outcome"  # the steps ran, but the result is not what the code meant


class Deviation(BaseModel):
    """One place where a request's observed events leave the textbook's seven steps."""

    model_config = ConfigDict(frozen=True)

    request: int
    session: int | None = Field(default=None, description="the session it is about")
    kind: str = Field(description="which rule found it, e.g. response_before_close")
    type: DeviationType
    step: int = Field(ge=1, le=7, description="the textbook step it is about")
    seq: int = Field(description="the event at which the difference shows")
    expected: str
    observed: str
    why: str


class RequestSteps(BaseModel):
    """One request's textbook steps, in the order the server went through them."""

    request: int
    steps: list[int]


class TraceDocument(Trace):
    """A trace with what its events show: each request's steps, and the deviations."""

    steps_observed: list[RequestSteps]
    deviations: list[Deviation]
