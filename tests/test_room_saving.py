"""Rooms are stored off the step's path, batched, and all of them on a clean stop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event

from tests.helpers import run_async
from tests.room_support import import_run, joined, open_room, serve
from visualizer.app import create_app
from visualizer.classroom.saving import Saves
from visualizer.classroom.store import RoomStore
from visualizer.execution.server import LoopbackServer
from visualizer.web.settings import Settings


def _updates(engine: Engine) -> list[str]:
    """Every UPDATE the engine runs from now on."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def noted(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("UPDATE"):
            seen.append(args[2])

    return seen


def _stored_cursor(data_dir: Path, code: str) -> int:
    """What a restarted server would read, from the database file itself."""
    engine = create_engine(Settings(data_dir=data_dir).store_url)
    try:
        room = RoomStore(engine, 3).get(code)
        assert room is not None
        return room.cursor
    finally:
        engine.dispose()


def test_changes_are_stored_later_in_one_write_not_on_the_step(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'rooms.db'}")
    store = RoomStore(engine, 3)
    room, other = store.create("run-a"), store.create("run-b")
    updates = _updates(engine)

    async def scenario() -> tuple[int, int]:
        saves = Saves(store, delay_s=0.05)
        for cursor in range(1, 101):  # a presenter holding the arrow key, and another room
            room.cursor = cursor
            saves.changed(room)
            saves.changed(other)
        during = len(updates)
        await asyncio.sleep(0.2)
        return during, len(updates)

    during, after = run_async(scenario())
    assert during == 0  # nothing written while stepping
    assert after == 2  # then one transaction: one row per changed room, once
    assert RoomStore(engine, 3).get(room.code).cursor == 100  # type: ignore[union-attr]
    engine.dispose()


def test_flush_stores_now_and_never_over_a_newer_room_of_the_same_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'rooms.db'}")
    store = RoomStore(engine, 3)
    kept, expired = store.create("run-a"), store.create("run-b")

    async def scenario() -> list[str]:
        saves = Saves(store, delay_s=3600)
        kept.cursor = expired.cursor = 4
        saves.changed(kept)
        saves.changed(expired)
        store._forget(expired.code)  # it expired meanwhile, and its code was drawn again
        monkeypatch.setattr("visualizer.classroom.store.new_code", lambda: expired.code)
        store.create("run-c")
        saves.flush()
        return saves.pending

    assert run_async(scenario()) == []
    fresh = RoomStore(engine, 3)
    assert fresh.get(kept.code).cursor == 4  # type: ignore[union-attr]
    newer = fresh.get(expired.code)
    assert newer is not None and (newer.run_id, newer.cursor) == ("run-c", 0)
    engine.dispose()


def test_the_last_member_leaving_stores_the_room_at_once(
    tmp_path: Path, room_lesson: dict[str, Any]
) -> None:
    with serve(tmp_path) as (site, app):
        app.state.hub.saves.delay_s = 3600  # no timer: only the leave can store it now
        room = open_room(site, import_run(site, room_lesson))
        code, token = room["code"], room["presenter_token"]

        async def step() -> None:
            async with joined(site, code, token=token) as (presenter, _, _):
                await presenter.send({"type": "goto", "cursor": 6})
                await presenter.until("cursor", cursor=6)

        run_async(step())
        deadline = time.monotonic() + 5
        while _stored_cursor(tmp_path, code) != 6:  # the server reads the close soon after
            assert time.monotonic() < deadline, "the room was not stored when it emptied"
            time.sleep(0.02)


def test_a_clean_stop_stores_the_room_with_members_still_connected(
    tmp_path: Path, room_lesson: dict[str, Any]
) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    app.state.hub.saves.delay_s = 3600  # no timer: only the stop itself can store it
    server = LoopbackServer(app)
    server.start()
    room = open_room(server.url, import_run(server.url, room_lesson))
    code, token = room["code"], room["presenter_token"]

    async def step() -> int:
        async with (
            joined(server.url, code, token=token) as (presenter, _, _),
            joined(server.url, code) as (student, _, _),
        ):
            await presenter.send({"type": "goto", "cursor": 7})
            await student.until("cursor", cursor=7)
            before = _stored_cursor(tmp_path, code)
            await asyncio.to_thread(server.stop)  # Ctrl+C, with the class still here
            return before

    assert run_async(step()) == 0  # the step reached the class before any write
    assert _stored_cursor(tmp_path, code) == 7


def test_the_server_stopping_stores_what_no_leave_stored(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    hub = app.state.hub

    async def scenario() -> str:
        async with app.router.lifespan_context(app):
            room = hub.store.create("run")
            room.cursor = 5
            hub.saves.delay_s = 3600
            hub.saves.changed(room)
            code: str = room.code
        return code

    code = run_async(scenario())
    assert _stored_cursor(tmp_path, code) == 5
