"""Validation errors told in one line that names each field at fault."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

_SHOWN = 3


def _where(location: Sequence[int | str]) -> str:
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def explain(error: ValidationError) -> str:
    """`events[2].kind: unknown kind 'teleport'; ...`: the first few errors, then a count."""
    errors = error.errors(include_url=False)
    said = []
    for item in errors[:_SHOWN]:
        message = "missing" if item["type"] == "missing" else item["msg"]
        message = message.removeprefix("Value error, ")
        where = _where(item["loc"])
        said.append(f"{where}: {message}" if where else message)
    if len(errors) > _SHOWN:
        said.append(f"and {len(errors) - _SHOWN} more")
    return "; ".join(said)
