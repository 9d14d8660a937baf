"""The trace contract: what `run --json`, the API and exports print, and what import accepts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from visualizer.events import KINDS, DbState
from visualizer.trace import Trace, TraceError, trace_from_json

EVENT_KEYS = {
    "seq",
    "t_ms",
    "request",
    "kind",
    "step",
    "line",
    "thread",
    "db",
    "pool",
    "detail",
    "text",
}


@pytest.mark.parametrize("name", ["create_item", "missing_finally", "commit_in_dependency"])
def test_trace_json_follows_the_contract(name: str, traced: Callable[[str], Trace]) -> None:
    data = json.loads(json.dumps(traced(name).to_json()))
    assert data["scenario"] == name
    assert set(data["versions"]) >= {"python", "fastapi", "sqlalchemy"}
    for request in data["requests"]:
        assert {"id", "method", "path", "status"} <= set(request)
    for event in data["events"]:
        assert set(event) >= EVENT_KEYS
        assert event["kind"] in KINDS
        assert event["step"] is None or 1 <= event["step"] <= 7
        assert event["db"] in {s.value for s in DbState}
        assert set(event["pool"]) == {"checked_out", "size", "overflow"}
        assert len(event["text"]) > 20, f"no narration for {event['kind']}"
    assert [s["request"] for s in data["steps_observed"]] == [r["id"] for r in data["requests"]]
    for deviation in data["deviations"]:
        assert {"request", "kind", "type", "seq", "expected", "observed", "why"} <= set(deviation)


def test_a_trace_survives_a_json_round_trip(traced: Callable[[str], Trace]) -> None:
    original = traced("create_item")
    again = trace_from_json(json.loads(json.dumps(original.to_json())))
    assert again.to_json() == original.to_json()


def _valid(traced: Callable[[str], Trace]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(traced("read_items").to_json()))
    return data


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda d: d.pop("events"), "missing 'events'"),
        (lambda d: d.update(events=[]), "'events' is empty"),
        (lambda d: d["events"][0].update(kind="teleport"), "unknown kind 'teleport'"),
        (lambda d: d["events"][1].update(seq=1), "seq 1 is not after 1"),
        (lambda d: d["events"][2].update(step=9), "step 9 is not between 1 and 7"),
        (lambda d: d["events"][0].pop("text"), r"events\[0\]: missing 'text'"),
        (lambda d: d["requests"][0].update(id="one"), "'id' has the wrong type"),
        (lambda d: d.update(key_moments="nope"), "'key_moments' must be a list"),
    ],
)
def test_a_malformed_trace_is_refused_with_what_is_wrong(
    spoil: Callable[[dict[str, Any]], Any], message: str, traced: Callable[[str], Trace]
) -> None:
    data = _valid(traced)
    spoil(data)
    with pytest.raises(TraceError, match=message):
        trace_from_json(data)


def test_a_trace_must_be_an_object() -> None:
    with pytest.raises(TraceError, match="JSON object"):
        trace_from_json([1, 2])
