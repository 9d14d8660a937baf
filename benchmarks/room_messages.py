"""What rendering the room's markup on the server costs: one reveal written for each student.

Builds a room of N students who answered, then times, in alternating rounds, the reveal as it
is sent now (each receiver's own verdict, drawn once per distinct answer, serialized per seat)
against its baseline, the same data without markup serialized once for everyone (what the
hub did before the markup moved to the server). No sockets: this is the server's CPU only.

    .venv/bin/python benchmarks/room_messages.py [--students 2000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

from fastapi.templating import Jinja2Templates

from visualizer.classroom.hub import texts
from visualizer.classroom.messages import Material, Sender
from visualizer.classroom.protocol import handle
from visualizer.classroom.store import Room
from visualizer.classroom.views import RoomViews
from visualizer.execution.runner import run_scenario
from visualizer.execution.scenarios import Registry
from visualizer.locations import TEMPLATES_DIR


def _room(students: int, choices: int) -> Room:
    room = Room("ABCDEF", "run", "token")
    room.members = {f"m{n}": f"student {n}" for n in range(students)}
    room.answers = {f"m{n}": n % choices for n in range(students)}
    return room


def _personal(material: Material, students: int) -> float:
    """The reveal now: handled, then made into each seat's text as the hub does."""
    room = _room(students, len(material.questions[0].choices))
    room.question = 0
    started = time.perf_counter()
    reply = handle(room, Sender(True, "p"), material, '{"type": "reveal"}')
    for _, message in reply.out:
        text = texts(message)
        for member in room.members:
            text(Sender(False, member))
        text(Sender(True, "p"))
    return time.perf_counter() - started


def _shared(material: Material, students: int) -> float:
    """The baseline: the reveal's data alone, serialized once for every seat."""
    room = _room(students, len(material.questions[0].choices))
    room.question = 0
    started = time.perf_counter()
    reply = handle(room, Sender(True, "p"), material, '{"type": "reveal"}')
    for _, message in reply.out:
        data: dict[str, Any] = message if isinstance(message, dict) else message(Sender(True, "p"))
        json.dumps({k: v for k, v in data.items() if k != "content"})
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    trace = run_scenario(Registry().get("create_item"))
    material = Material(trace, RoomViews(Jinja2Templates(directory=TEMPLATES_DIR).env))
    _personal(material, 10)  # templates compiled before timing
    now: list[float] = []
    before: list[float] = []
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        now.append(_personal(material, args.students))
        before.append(_shared(material, args.students))
    load = max(load, os.getloadavg()[0])

    def figure(times: list[float]) -> str:
        ms = [t * 1000 for t in times]
        return f"median {statistics.median(ms):.1f} ms (min {min(ms):.1f}, max {max(ms):.1f})"

    print(f"a reveal to {args.students} students, {args.rounds} alternating rounds")
    print(f"  each student's own markup: {figure(now)}")
    print(f"  baseline, data only:       {figure(before)}")
    print(f"  load average while it ran: {load:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
