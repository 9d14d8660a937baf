"""Imports and stored runs under attack: malformed traces, huge values, unreadable rows.

Every malformed trace is refused naming what is wrong and stores nothing; every accepted
trace renders every page; a stored run never becomes a 500.
"""

from __future__ import annotations

import copy
import json
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.adversarial_support import JSON, every_page, post_trace, raw_http
from tests.conftest import finished_run
from tests.room_support import serve
from visualizer.web.api import attachment
from visualizer.web.guard import MAX_IMPORT_BYTES

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation that sets one field, by a path like "events.3.pool.size"."""

    def mutate(trace: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = trace
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _at(kind: str, field: str, value: Any) -> Mutation:
    """A mutation that sets one field of the first event of this kind."""

    def mutate(trace: dict[str, Any]) -> None:
        event = next(e for e in trace["events"] if e["kind"] == kind)
        event[field] = value

    return mutate


def _claim(claim: Any) -> Mutation:
    return _set("questions.0.choices.0.claim", claim)


MALFORMED: list[tuple[str, Mutation, str]] = [
    ("hook_errors a list", _set("hook_errors", [1]), "hook_errors"),
    ("hook_errors counts a string", _set("hook_errors", {"x": "many"}), "hook_errors.x"),
    ("pool_after a list", _set("pool_after", [1]), "pool_after"),
    ("pool_after a word", _set("pool_after", {"size": "many"}), "pool_after.size"),
    ("dropped_events negative", _set("dropped_events", -1), "dropped_events"),
    ("dropped_events a word", _set("dropped_events", "x"), "dropped_events"),
    ("dropped_events a list", _set("dropped_events", [3]), "dropped_events"),
    ("key_moments seq a word", _set("key_moments.0.seq", "abc"), "key_moments[0].seq"),
    ("pool size of three million", _set("events.3.pool.size", 3_000_000), "events[3].pool.size"),
    ("a huge overflow", _set("events.3.pool.overflow", 10**30), "events[3].pool.overflow"),
    ("a negative checkout", _set("pool_after.checked_out", -5), "pool_after.checked_out"),
    ("a claim db_at 'oops'", _claim({"db_at": "oops"}), "claim"),
    ("a claim with two keys", _claim({"status": 200, "body": "x"}), "claim"),
    ("a count of a billion billion", _claim({"count": ["sql", 10**18]}), "claim"),
    ("a 4.9 MB title", _set("title", "x" * 4_900_000), "title"),
    ("a snowman for a scenario name", _set("scenario", "☃"), "scenario"),
    ("a quote in a scenario name", _set("scenario", 'a"; filename*=x'), "scenario"),
    ("a status that is an object", _at("response.start", "detail", {"status": {}}), "detail"),
    ("a status that is a word", _at("response.start", "detail", {"status": "ok"}), "detail"),
    ("a nested detail", _set("events.2.detail", {"deep": {"er": [1]}}), "events[2].detail"),
    ("a request number of zero", _set("events.0.request", 0), "events[0].request"),
    ("an unknown kind", _set("events.1.kind", "teleport"), "events[1].kind"),
    ("a header in a method", _set("requests.0.method", "POST\r\nX: y"), "requests[0].method"),
    ("a status of 1000", _set("requests.0.status", 1000), "requests[0].status"),
    ("no events", _set("events", []), "events"),
    ("events out of order", _set("events.1.seq", 1), "events"),
]


def _raw_with(trace: dict[str, Any], field: str, raw_value: str) -> bytes:
    """The trace as JSON with one top-level field's value replaced by raw JSON text."""
    marker = "__raw__"
    text = json.dumps({**trace, field: marker})
    return text.replace(json.dumps(marker), raw_value).encode()


def _newest(site: str) -> list[str]:
    return re.findall(r'href="/runs/([^"/#?]+)"', httpx.get(site).text)


@pytest.mark.parametrize(("label", "mutate", "field"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_trace_is_refused_naming_the_field_and_nothing_is_stored(
    site: str, room_lesson: dict[str, Any], label: str, mutate: Mutation, field: str
) -> None:
    trace = copy.deepcopy(room_lesson)
    mutate(trace)
    before = _newest(site)
    response = post_trace(site, trace)
    assert response.status_code == 422, (label, response.text[:300])
    detail = response.json()["detail"]
    assert detail.startswith("not a valid trace: ") and field in detail, detail[:300]
    assert len(detail) < 2_000  # the refusal does not echo a huge value back
    assert _newest(site) == before


def test_json_that_python_chokes_on_is_a_400_not_a_500(
    site: str, room_lesson: dict[str, Any]
) -> None:
    bodies = {
        "deep nesting": b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "a 5,000-digit integer": _raw_with(room_lesson, "dropped_events", "1" * 5000),
        "a lone surrogate": _raw_with(room_lesson, "title", '"\\ud800"'),
        "not JSON at all": b"{oops",
        "not UTF-8": b'{"title": "\xff\xfe"}',
    }
    before = _newest(site)
    for label, body in bodies.items():
        response = post_trace(site, body)
        assert response.status_code == 400, (label, response.text[:200])
        assert response.json()["detail"].startswith("not JSON: "), label
    for label, body in {
        "NaN for a time": _raw_with(room_lesson, "events", _events_with_time(room_lesson, "NaN")),
        "Infinity for a time": _raw_with(
            room_lesson, "events", _events_with_time(room_lesson, "Infinity")
        ),
        "a number beyond a float": _raw_with(room_lesson, "dropped_events", "1e400"),
        "a list, not an object": b"[1, 2]",
    }.items():
        response = post_trace(site, body)
        assert response.status_code == 422, (label, response.text[:200])
    assert _newest(site) == before


def _events_with_time(trace: dict[str, Any], raw: str) -> str:
    events = copy.deepcopy(trace["events"])
    events[2]["t_ms"] = "__t__"
    return json.dumps(events).replace('"__t__"', raw)


def test_an_import_must_say_it_is_json(site: str, room_lesson: dict[str, Any]) -> None:
    body = json.dumps(room_lesson).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"content-type": content_type} if content_type else {}
        response = httpx.post(f"{site}/api/runs/import", content=body, headers=headers)
        assert response.status_code == 415, content_type
    charset = {"content-type": "application/json; charset=utf-8"}
    assert httpx.post(f"{site}/api/runs/import", content=body, headers=charset).status_code == 201


def test_odd_but_valid_traces_render_every_page(site: str, room_lesson: dict[str, Any]) -> None:
    odd: list[Mutation] = [
        _set("pool_after", {"size": "5", "checked_out": "1"}),  # numbers as text are numbers
        _set("key_moments.0.seq", 99_999),  # a moment about an event that is not there
        _set("events.5.request", 7),  # an event of a request that was never planned
        _at("session.resume", "detail", {}),  # without the error it usually names
        _at("session.close", "detail", {"before": "nonsense"}),
        _at("response.start", "detail", {}),  # a response without a status
        _set("questions.0.before", "request.error"),  # a question about what never happened
        _set("requests", []),
        _set("events.3.pool", {"size": 1000, "overflow": 1000, "checked_out": 10_000}),
        _set("events.4.t_ms", -1e9),
        _set("code", "x\n" * 50_000),
    ]
    for mutate in odd:
        trace = copy.deepcopy(room_lesson)
        mutate(trace)
        created = post_trace(site, trace)
        assert created.status_code == 201, created.text[:300]
        statuses = every_page(site, created.json()["id"])
        assert set(statuses.values()) <= {200, 201}, {p: s for p, s in statuses.items() if s > 201}


def test_the_download_name_is_safe_whatever_the_scenario_was_called() -> None:
    for name in ("☃", "a\"; filename*=UTF-8''x.exe", "a\r\nSet-Cookie: x=1", "a\x00b", "x" * 500):
        header = attachment(name, "Abc123")
        assert header.isascii() and header.count('"') == 2 and "\r" not in header
        assert re.fullmatch(r'attachment; filename="[A-Za-z0-9_.-]{1,120}\.json"', header)


def test_a_body_over_the_limit_is_refused_before_it_is_read(site: str) -> None:
    port = int(site.rsplit(":", 1)[1])
    started = time.monotonic()
    # 300 MB announced, 10 bytes sent: the answer comes without waiting for the rest.
    head = (
        b"POST /api/runs/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b'Content-Type: application/json\r\nContent-Length: 300000000\r\n\r\n{"a": 1234'
    )
    answer = raw_http(port, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5
    # A chunked body (no length announced) is cut off as soon as it passes the route's limit.
    chunk = b"x" * 70_000
    chunked = (
        b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    )
    assert raw_http(port, chunked).startswith(b"HTTP/1.1 413")
    over = httpx.post(
        f"{site}/api/runs/import", content=b" " * (MAX_IMPORT_BYTES + 1), headers=JSON
    )
    assert over.status_code == 413 and str(MAX_IMPORT_BYTES) in over.json()["detail"]


def test_a_run_that_overlapped_a_paused_collector_is_readable_after_a_restart(
    tmp_path: Path,
) -> None:
    with serve(tmp_path) as (site, _):
        leak = httpx.post(f"{site}/api/runs", json={"scenario": "pool_exhaustion"}).json()["id"]
        others = [finished_run(site, "read_items") for _ in range(3)]  # while it runs
        finished_run(site, "read_items")
        deadline = time.monotonic() + 30
        while httpx.get(f"{site}/api/runs/{leak}").json()["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert {"paused", "disabled"} & {run["gc"] for run in others}, "no run overlapped"
    with serve(tmp_path) as (site, _):  # a restart: nothing is in memory any more
        for run_id in [leak, *(run["id"] for run in others)]:
            statuses = every_page(site, run_id)
            assert set(statuses.values()) <= {200, 201}, statuses
            exported = httpx.get(f"{site}/api/runs/{run_id}?download=1").content
            assert post_trace(site, exported).status_code == 201


def test_a_stored_run_this_version_cannot_read_is_explained_never_a_500(tmp_path: Path) -> None:
    with serve(tmp_path) as (site, app):
        store = app.state.services.runs.store
        unreadable = store.create("create_item", "From elsewhere")
        failed = store.create("create_item", "Failed")
        store.fail(failed, "RuntimeError: the scenario broke")
    database = sqlite3.connect(tmp_path / "runs.db")
    with database:  # as a newer version might have written it
        future = json.dumps({"scenario": "create_item", "gc": "frozen", "events": []})
        database.execute(
            "UPDATE runs SET status = 'done', trace = ? WHERE id = ?", (future, unreadable)
        )
    database.close()
    with serve(tmp_path) as (site, _):
        api = httpx.get(f"{site}/api/runs/{unreadable}")
        assert api.status_code == 409 and "cannot read" in api.json()["detail"]
        for path in ("", "/stage?cursor=1", "/summary", "/questions"):
            page = httpx.get(f"{site}/runs/{unreadable}{path}")
            assert page.status_code == 404 and "cannot read" in page.text, path
        room = httpx.post(f"{site}/api/rooms", json={"run": unreadable})
        assert room.status_code == 409
        page = httpx.get(f"{site}/runs/{failed}")
        assert page.status_code == 404
        assert "failed: RuntimeError: the scenario broke" in page.text
        assert "There is no run" not in page.text
        assert httpx.get(f"{site}/api/runs/{failed}").json()["status"] == "failed"
        assert httpx.get(site).status_code == 200
