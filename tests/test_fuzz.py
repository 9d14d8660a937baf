"""Fuzzing the three ways in: the import endpoint, the run websocket, the room websocket.

Bounded in count and time. Whatever is sent: no 5xx, no socket dropped without a close code
(1006), and the server still answers afterwards. Accepted traces render their pages.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from tests.adversarial_support import JSON, post_trace
from tests.helpers import run_async
from tests.room_support import open_room, ws_url

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run: a failure is reproducible
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _mutated(trace: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The trace with a few values somewhere in it replaced, removed or added."""
    trace = copy.deepcopy(trace)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        node: Any = trace
        while True:
            keys = list(range(len(node))) if isinstance(node, list) else list(node)
            if not keys:
                break
            key = data.draw(st.sampled_from(keys), label="key")
            child = node[key]
            if not isinstance(child, dict | list) or data.draw(st.booleans(), label="stop"):
                action = data.draw(st.sampled_from(["replace", "remove", "add"]), label="action")
                if action == "remove":
                    del node[key]
                elif action == "add" and isinstance(node, dict):
                    node[data.draw(st.text(max_size=8), label="new key")] = data.draw(json_values)
                else:
                    node[key] = data.draw(json_values, label="value")
                break
            node = child
    return trace


@FUZZ
@given(data=st.data())
def test_fuzzed_imports_never_break_the_server(
    site: str, room_lesson: dict[str, Any], data: st.DataObject
) -> None:
    trace = _mutated(room_lesson, data)
    response = post_trace(site, json.dumps(trace, allow_nan=True).encode())
    assert response.status_code in (201, 400, 422), response.text[:300]
    if response.status_code == 201:
        run = response.json()["id"]
        events = len(httpx.get(f"{site}/api/runs/{run}").json()["events"])
        cursor = data.draw(st.integers(0, events), label="cursor")
        for path in (
            f"/runs/{run}",
            f"/runs/{run}/stage?cursor={cursor}",
            f"/runs/{run}/summary",
            f"/api/runs/{run}?download=1",
            f"/compare?left={run}&right={run}",
        ):
            assert httpx.get(f"{site}{path}").status_code == 200, path


@FUZZ
@given(raw=st.binary(max_size=2000))
def test_fuzzed_bytes_as_an_import_are_refused_cleanly(site: str, raw: bytes) -> None:
    response = httpx.post(f"{site}/api/runs/import", content=raw, headers=JSON)
    assert response.status_code in (400, 422), response.text[:300]


frames = st.lists(
    st.one_of(
        st.text(max_size=300),
        st.binary(max_size=300),
        json_values.map(json.dumps),
        st.builds(
            lambda kind, extra: json.dumps({"type": kind, **extra}),
            st.sampled_from(["ping", "answer", "goto", "open_question", "reveal", "x"]),
            st.dictionaries(st.sampled_from(["choice", "cursor", "question"]), json_values),
        ),
    ),
    min_size=1,
    max_size=8,
)


async def _still_answers(ws: Any) -> bool:
    """A ping after everything else gets its pong: the socket is open and served."""
    await ws.send(json.dumps({"type": "ping"}))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message["type"] == "pong":
            return True


@FUZZ
@given(sent=frames)
def test_fuzzed_frames_on_the_run_socket_get_answers(
    site: str, room_run: str, sent: list[str | bytes]
) -> None:
    async def scenario() -> bool:
        url = site.replace("http://", "ws://") + f"/ws/runs/{room_run}"
        async with connect(url) as ws:
            for frame in sent:
                await ws.send(frame)
            return await _still_answers(ws)

    assert run_async(scenario())


@FUZZ
@given(student_sent=frames, presenter_sent=frames)
def test_fuzzed_frames_on_the_room_socket_get_answers(
    site: str, room_run: str, student_sent: list[str | bytes], presenter_sent: list[str | bytes]
) -> None:
    room = open_room(site, room_run)

    async def scenario() -> tuple[bool, bool]:
        async with (
            connect(ws_url(site, room["code"], token=room["presenter_token"])) as presenter,
            connect(ws_url(site, room["code"])) as student,
        ):
            for frame in presenter_sent:
                await presenter.send(frame)
            for frame in student_sent:
                await student.send(frame)
            return await _still_answers(presenter), await _still_answers(student)

    assert run_async(scenario()) == (True, True)
    assert httpx.get(f"{site}/api/rooms/{room['code']}").status_code == 200
