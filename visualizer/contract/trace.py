"""A run's trace: its requests and events, with the teaching material that goes with them."""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from visualizer.contract.claims import Claim
from visualizer.contract.events import Event, EventKind, PoolStatus
from visualizer.contract.limits import (
    MAX_EVENTS,
    MAX_REQUESTS,
    Count,
    HttpStatus,
    Line,
    Long,
    Name,
    Prose,
    RequestNumber,
    Seq,
)
from visualizer.contract.validation import explain

ScenarioName = Annotated[str, StringConstraints(pattern=r"^[\w.-]{1,100}$")]
Method = Annotated[str, StringConstraints(pattern=r"^[!-~]{1,16}$")]  # printable, no spaces


class TraceError(ValueError):
    """A document that is not a valid trace; the message names what is wrong."""


class TraceRequest(BaseModel):
    """One request the run sent, and what the client got back."""

    model_config = ConfigDict(frozen=True)

    id: RequestNumber
    method: Method
    path: Line
    status: HttpStatus | None = Field(description="None when no response came back")
    body: Long = ""


class KeyMoment(BaseModel):
    """A sentence explaining the first event of kind `at` (in `request`, if given).

    What the sentence asserts is also said as a claim, so a run that did otherwise is caught.
    """

    model_config = ConfigDict(frozen=True)

    at: EventKind
    text: Prose
    request: RequestNumber | None = None
    claim: Claim | None = Field(default=None, description="what the text asserts")
    seq: Seq | None = Field(default=None, description="the event it explains; None if none")


class Choice(BaseModel):
    """One answer to a predict question, with the claim that makes it right."""

    model_config = ConfigDict(frozen=True)

    text: Line
    claim: Claim


class Question(BaseModel):
    """A predict question, asked just before the first event of kind `before`."""

    model_config = ConfigDict(frozen=True)

    before: EventKind
    request: RequestNumber | None = None
    ask: Prose
    premise: Claim | None = Field(
        default=None, description="what the question's wording takes for granted"
    )
    choices: list[Choice] = Field(min_length=2, max_length=6)
    answer: int | None = Field(default=None, description="what the author expects; events decide")
    explain: Prose = ""

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> Self:
        if self.answer is not None and not 0 <= self.answer < len(self.choices):
            raise ValueError(f"answer {self.answer} is not one of the choices")
        return self


GcMode = Literal["enabled", "paused", "disabled"]


class Trace(BaseModel):
    """Everything one run recorded: what `run --json`, exports and imports carry."""

    scenario: ScenarioName
    title: Line
    summary: Prose = ""
    code: Long = Field(default="", description="the program's code, as shown and as run")
    file: Line | None = Field(default=None, description="the name of the file `code` is")
    sources: dict[Line, Long] = Field(
        default={},
        max_length=50,
        description="the program's other files its events ran in, by the name events give",
    )
    versions: dict[Name, Name] = Field(
        max_length=20, description="python, fastapi, sqlalchemy ... as installed"
    )
    requests: list[TraceRequest] = Field(max_length=MAX_REQUESTS)
    events: list[Event] = Field(max_length=MAX_EVENTS)
    key_moments: list[KeyMoment] = Field(default=[], max_length=200)
    questions: list[Question] = Field(default=[], max_length=100)
    pool_after: PoolStatus = Field(
        default=PoolStatus(),
        description="every pool together when the run ended, before its disposal",
    )
    pools_after: list[PoolStatus] = Field(
        default=[], max_length=100, description="each pool the run used, when it ended"
    )
    hook_errors: dict[Prose, Count] = Field(
        default={},
        max_length=100,
        description="failures inside the instrumentation, counted (never raised)",
    )
    dropped_events: Count = Field(default=0, description="events a full buffer dropped")
    warnings: list[Prose] = Field(
        default=[],
        max_length=100,
        description="what the run could not record: timeouts, lost events",
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


class NotJsonError(TraceError):
    """Bytes that are not one JSON document (too deep, a number too long, broken Unicode...)."""


def read_trace(data: Any) -> Trace:
    """Validate a trace document (an export, or an upload); TraceError says what is wrong."""
    if not isinstance(data, dict):
        raise TraceError("a trace is a JSON object")
    try:
        trace = Trace.model_validate(data)
    except ValidationError as error:
        raise TraceError(explain(error)) from None
    return _replayable(trace)


def read_trace_json(raw: bytes) -> Trace:
    """Parse and validate an uploaded trace in one pass, by pydantic's own JSON parser.

    It has limits Python's json module lacks: nesting depth, number size, valid Unicode,
    and no NaN or Infinity where a number must be finite.
    """
    try:
        trace = Trace.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise NotJsonError(first["msg"].removeprefix("Invalid JSON: ")) from None
        if first["type"] == "model_type" and not first["loc"]:
            raise TraceError("a trace is a JSON object") from None
        raise TraceError(explain(error)) from None
    return _replayable(trace)


def _replayable(trace: Trace) -> Trace:
    if not trace.events:
        raise TraceError("events: empty, there is nothing to replay")
    return trace
