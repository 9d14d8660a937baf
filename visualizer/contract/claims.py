"""Claims: statements about a run that its recorded events make true or false.

A claim is a JSON object with one key, its name: `{"order": ["response.start", "session.close"]}`.
Questions' choices carry them, and so do key moments; the lesson layer checks them.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from visualizer.contract.events import DbStateName, EventKind
from visualizer.contract.limits import Count, Long, Name, Scalar


class _Claim(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: ClassVar[str]


class OrderClaim(_Claim):
    """The first events of these kinds happened, in this order."""

    name = "order"
    order: list[EventKind] = Field(min_length=2, max_length=20)


class PresentClaim(_Claim):
    """An event of this kind happened."""

    name = "present"
    present: EventKind


class AbsentClaim(_Claim):
    """No event of this kind happened."""

    name = "absent"
    absent: EventKind


class StatusClaim(_Claim):
    """The server sent this status."""

    name = "status"
    status: int = Field(ge=100, le=599)


class DbAtClaim(_Claim):
    """`db` had this state at the first event of this kind."""

    name = "db_at"
    db_at: tuple[EventKind, DbStateName]


class CountClaim(_Claim):
    """Exactly this many events of this kind happened."""

    name = "count"
    count: tuple[EventKind, Count]


class PoolAfterClaim(_Claim):
    """This many connections were still checked out when the run ended."""

    name = "pool_after"
    pool_after: Count


class ThreadClaim(_Claim):
    """The first event of this kind ran on this thread ("worker thread" means any of them)."""

    name = "thread"
    thread: tuple[EventKind, Name]


class DetailClaim(_Claim):
    """The first event of this kind carries this value under this key of its detail, or as
    its session, transaction, transaction_kind or connection."""

    name = "detail"
    detail: tuple[EventKind, Name, Scalar]


class BodyClaim(_Claim):
    """The response body is exactly this text."""

    name = "body"
    body: Long


class PoolAtClaim(_Claim):
    """At the first event of this kind, this many connections were checked out of its pool."""

    name = "pool_at"
    pool_at: tuple[EventKind, Annotated[int, Field(ge=0)]]


class PoolPeakClaim(_Claim):
    """At its busiest, this many connections were checked out of a pool at once."""

    name = "pool_peak"
    pool_peak: int = Field(ge=0)


class GcClaim(_Claim):
    """Python's cyclic garbage collector was in this mode for the run."""

    name = "gc"
    gc: Literal["enabled", "paused", "disabled"]


class AllClaim(_Claim):
    """Every one of these claims holds."""

    name = "all"
    all: list[Claim] = Field(min_length=2)


CLAIM_TYPES: tuple[type[_Claim], ...] = (
    OrderClaim,
    PresentClaim,
    AbsentClaim,
    StatusClaim,
    DbAtClaim,
    CountClaim,
    PoolAfterClaim,
    ThreadClaim,
    DetailClaim,
    BodyClaim,
    PoolAtClaim,
    PoolPeakClaim,
    GcClaim,
    AllClaim,
)
CLAIM_NAMES = tuple(kind.name for kind in CLAIM_TYPES)


def _claim_name(value: Any) -> str | None:
    """The tag of a claim: its single key as JSON, its name as a model."""
    if isinstance(value, _Claim):
        return value.name
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    return None


Claim = Annotated[
    Annotated[OrderClaim, Tag("order")]
    | Annotated[PresentClaim, Tag("present")]
    | Annotated[AbsentClaim, Tag("absent")]
    | Annotated[StatusClaim, Tag("status")]
    | Annotated[DbAtClaim, Tag("db_at")]
    | Annotated[CountClaim, Tag("count")]
    | Annotated[PoolAfterClaim, Tag("pool_after")]
    | Annotated[ThreadClaim, Tag("thread")]
    | Annotated[DetailClaim, Tag("detail")]
    | Annotated[BodyClaim, Tag("body")]
    | Annotated[PoolAtClaim, Tag("pool_at")]
    | Annotated[PoolPeakClaim, Tag("pool_peak")]
    | Annotated[GcClaim, Tag("gc")]
    | Annotated[AllClaim, Tag("all")],
    Discriminator(
        _claim_name,
        custom_error_type="unknown_claim",
        custom_error_message="a claim is an object with one key, one of: " + ", ".join(CLAIM_NAMES),
    ),
]

AllClaim.model_rebuild()
