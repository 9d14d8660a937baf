"""The trace contract: what `run --json`, the API and exports print, and what import accepts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from visualizer.contract.events import KINDS, DbState
from visualizer.contract.trace import Trace, TraceError, read_trace
from visualizer.lesson.document import document_json

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
    "session",
    "transaction",
    "transaction_kind",
    "connection",
    "file",
}


@pytest.mark.parametrize("name", ["create_item", "missing_finally", "commit_in_dependency"])
def test_trace_json_follows_the_contract(name: str, traced: Callable[[str], Trace]) -> None:
    data = json.loads(json.dumps(document_json(traced(name))))
    assert data["scenario"] == name
    assert set(data["versions"]) >= {"python", "fastapi", "sqlalchemy"}
    for request in data["requests"]:
        assert {"id", "method", "path", "status"} <= set(request)
    for event in data["events"]:
        assert set(event) >= EVENT_KEYS
        assert event["kind"] in KINDS
        assert event["step"] is None or 1 <= event["step"] <= 7
        assert event["db"] in {s.value for s in DbState}
        assert set(event["pool"]) == {"checked_out", "size", "overflow", "number", "database"}
        if event["pool"]["size"] is not None:
            assert event["pool"]["number"] == 1 and event["pool"]["database"] == "sqlite app.db"
        assert len(event["text"]) > 20, f"no narration for {event['kind']}"
    assert [s["request"] for s in data["steps_observed"]] == [r["id"] for r in data["requests"]]
    for deviation in data["deviations"]:
        assert {"request", "kind", "type", "seq", "expected", "observed", "why"} <= set(deviation)


def test_a_trace_survives_a_json_round_trip(traced: Callable[[str], Trace]) -> None:
    original = traced("create_item")
    again = read_trace(json.loads(json.dumps(document_json(original))))
    assert document_json(again) == document_json(original)


def _valid(traced: Callable[[str], Trace]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(document_json(traced("read_items"))))
    return data


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda d: d.pop("events"), "^events: missing$"),
        (lambda d: d.update(events=[]), "events: empty"),
        (
            lambda d: d["events"][0].update(kind="teleport"),
            r"events\[0\]\.kind: unknown kind 'teleport'",
        ),
        (lambda d: d["events"][1].update(seq=1), "events: seq 1 is not after 1"),
        (lambda d: d["events"][2].update(step=9), r"events\[2\]\.step: .*less than or equal to 7"),
        (lambda d: d["events"][0].pop("text"), r"events\[0\]\.text: missing"),
        (lambda d: d["requests"][0].update(id="one"), r"requests\[0\]\.id: .*valid integer"),
        (lambda d: d.update(key_moments="nope"), "key_moments: .*valid list"),
        (lambda d: d.update(gc="sometimes"), "gc: "),
        (
            lambda d: d["questions"].append({"before": "sql", "ask": "?", "choices": []}),
            r"questions\[\d+\]\.choices: .*at least 2",
        ),
    ],
)
def test_a_malformed_trace_is_refused_with_what_is_wrong(
    spoil: Callable[[dict[str, Any]], Any], message: str, traced: Callable[[str], Trace]
) -> None:
    data = _valid(traced)
    spoil(data)
    with pytest.raises(TraceError, match=message):
        read_trace(data)


def test_a_trace_must_be_an_object() -> None:
    with pytest.raises(TraceError, match="JSON object"):
        read_trace([1, 2])
