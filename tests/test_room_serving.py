"""The visualizer's own server runs on uvloop and httptools where they are installed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

# A probe served through the real serve path: which loop runs it, which protocol called it.
PROBE = """
import asyncio, sys
from pathlib import Path
from fastapi import FastAPI
from visualizer.cli.serve import serve
from visualizer.web.settings import Settings

app = FastAPI()

@app.get("/probe")
async def probe() -> dict[str, str]:
    frame, callers = sys._getframe(), []
    while frame is not None:
        callers.append(frame.f_code.co_filename)
        frame = frame.f_back
    http = next(Path(f).stem for f in callers if "uvicorn/protocols/http" in f)
    return {"loop": type(asyncio.get_running_loop()).__module__, "http": http}

serve(Settings(port=int(sys.argv[1]), data_dir=Path(sys.argv[2])), open_browser=False, app=app)
"""


def test_serving_picks_uvloop_and_httptools(tmp_path: Path) -> None:
    pytest.importorskip("uvloop")
    pytest.importorskip("httptools")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", PROBE, str(port), str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/probe", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert json.loads(answer.text) == {"loop": "uvloop", "http": "httptools_impl"}
