"""A run's trace: its requests and events, with the teaching material that goes with them."""

from __future__ import annotations

from itertools import pairwise
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from visualizer.contract.claims import Claim
from visualizer.contract.events import Event, EventKind, PoolStatus
from visualizer.contract.validation import explain


class TraceError(ValueError):
    """A document that is not a valid trace; the message names what is wrong."""


class TraceRequest(BaseModel):
    """One request the run sent, and what the client got back."""

    model_config = ConfigDict(frozen=True)

    id: int
    method: str
    path: str
    status: int | None = Field(description="None when no response came back")
    body: str = ""


class KeyMoment(BaseModel):
    """A sentence explaining the first event of kind `at` (in `request`, if given).

    What the sentence asserts is also said as a claim, so a run that did otherwise is caught.
    """

    model_config = ConfigDict(frozen=True)

    at: EventKind
    text: str
    request: int | None = None
    claim: Claim | None = Field(default=None, description="what the text asserts")
    seq: int | None = Field(default=None, description="the event it explains; None if none")


class Choice(BaseModel):
    """One answer to a predict question, with the claim that makes it right."""

    model_config = ConfigDict(frozen=True)

    text: str
    claim: Claim


class Question(BaseModel):
    """A predict question, asked just before the first event of kind `before`."""

    model_config = ConfigDict(frozen=True)

    before: EventKind
    request: int | None = None
    ask: str
    premise: Claim | None = Field(
        default=None, description="what the question's wording takes for granted"
    )
    choices: list[Choice] = Field(min_length=2, max_length=6)
    answer: int | None = Field(default=None, description="what the author expects; events decide")
    explain: str = ""

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> Self:
        if self.answer is not None and not 0 <= self.answer < len(self.choices):
            raise ValueError(f"answer {self.answer} is not one of the choices")
        return self


GcMode = Literal["enabled", "paused", "disabled"]


class Trace(BaseModel):
    """Everything one run recorded: what `run --json`, exports and imports carry."""

    scenario: str
    title: str
    summary: str = ""
    code: str = Field(default="", description="the program's code, as shown and as run")
    file: str | None = Field(default=None, description="the name of the file `code` is")
    versions: dict[str, str] = Field(description="python, fastapi, sqlalchemy ... as installed")
    requests: list[TraceRequest]
    events: list[Event]
    key_moments: list[KeyMoment] = []
    questions: list[Question] = []
    pool_after: PoolStatus = Field(
        default=PoolStatus(),
        description="every pool together when the run ended, before its disposal",
    )
    pools_after: list[PoolStatus] = Field(
        default=[], description="each pool the run used, when it ended"
    )
    hook_errors: dict[str, int] = Field(
        default={}, description="failures inside the instrumentation, counted (never raised)"
    )
    dropped_events: int = Field(default=0, ge=0, description="events a full buffer dropped")
    warnings: list[str] = Field(
        default=[], description="what the run could not record: timeouts, lost events"
    )
    gc: GcMode = Field(
        default="enabled",
        description='Python\'s cyclic garbage collector during the run: "paused" when the '
        'scenario held it off, "disabled" when something else had switched it off',
    )

    @field_validator("events")
    @classmethod
    def _in_order(cls, events: list[Event]) -> list[Event]:
        for before, after in pairwise(events):
            if after.seq <= before.seq:
                raise ValueError(f"seq {after.seq} is not after {before.seq}")
        return events

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def read_trace(data: Any) -> Trace:
    """Validate a trace document (an export, or an upload); TraceError says what is wrong."""
    if not isinstance(data, dict):
        raise TraceError("a trace is a JSON object")
    try:
        trace = Trace.model_validate(data)
    except ValidationError as error:
        raise TraceError(explain(error)) from None
    if not trace.events:
        raise TraceError("events: empty, there is nothing to replay")
    return trace
