"""Bounded types: every value an imported trace can carry has a stated limit.

The pages render what a trace holds (a slot per pooled connection, a line per line of code, a
row per event), so an import must not be able to ask for a million of anything. The limits are
far above what a real run records; the README's security section lists them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

MAX_EVENTS = 50_000  # the recorder keeps at most 20,000 by default
MAX_COUNT = 1_000_000_000  # seq, counters, dropped events
MAX_POOL = 1_000  # a pool's size or overflow: the stage draws one slot each
MAX_CHECKED_OUT = 10_000
MAX_REQUESTS = 1_000  # the requests one trace lists (their numbers may be higher)
MAX_MS = 1e9  # about eleven days after the first event
MAX_LINE = 1_000_000
MAX_DETAIL_KEYS = 50

Name = Annotated[str, StringConstraints(max_length=100)]
Line = Annotated[str, StringConstraints(max_length=2_000)]  # a title, a path, a choice
Prose = Annotated[str, StringConstraints(max_length=10_000)]  # a sentence, an error message
Long = Annotated[str, StringConstraints(max_length=200_000)]  # code, SQL, a response body
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Seq = Annotated[int, Field(ge=1, le=MAX_COUNT)]
RequestNumber = Annotated[int, Field(ge=1, le=MAX_COUNT)]
HttpStatus = Annotated[int, Field(ge=100, le=599)]
Millis = Annotated[float, Field(ge=-MAX_MS, le=MAX_MS, allow_inf_nan=False)]
Whole = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]  # what a 64-bit integer holds
Finite = Annotated[float, Field(allow_inf_nan=False)]
Scalar = Annotated[bool, Field(strict=True)] | Whole | Finite | Long | None

# The detail keys the lesson reads, with the type it reads them as.
_DETAIL_TYPES: dict[str, tuple[type, ...]] = {
    "status": (int, type(None)),
    "bytes": (int,),
    "discarded_pending": (int,),
    **{key: (str,) for key in ("error", "message", "sql", "statement", "before")},
    **{key: (str,) for key in ("method", "path", "by", "created_in", "dependency")},
}


def _detail_types(detail: dict[str, Any]) -> dict[str, Any]:
    if len(detail) > MAX_DETAIL_KEYS:
        raise ValueError(f"at most {MAX_DETAIL_KEYS} keys")
    for key, value in detail.items():
        types = _DETAIL_TYPES.get(key)
        if types and (not isinstance(value, types) or isinstance(value, bool)):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ValueError(f"{key!r} must be {names}")
    return detail


Detail = Annotated[dict[Name, Scalar], AfterValidator(_detail_types)]
