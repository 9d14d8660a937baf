"""The observed app's process, seen from the visualizer's: started, read from, stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from visualizer.live.feed import LiveFeed
from visualizer.live.wire import read_batches


class AppProcess:
    """`python -m visualizer.live.agent` serving the app; its batches go into `feed`."""

    def __init__(
        self,
        spec: str,
        feed: LiveFeed,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        app_dir: Path = Path("."),
        show_params: bool = False,
    ) -> None:
        self.feed = feed
        self.exited = threading.Event()  # the app stopped (or never started)
        read_fd, write_fd = os.pipe()
        command = [
            sys.executable,
            "-m",
            "visualizer.live.agent",
            spec,
            "--feed-fd",
            str(write_fd),
            "--host",
            host,
            "--port",
            str(port),
            "--app-dir",
            str(app_dir),
            *(["--show-params"] if show_params else []),
        ]
        try:
            self.process = subprocess.Popen(command, pass_fds=(write_fd,))
        finally:
            os.close(write_fd)  # the child holds its own copy: its exit ends our reading
        self._reader = threading.Thread(
            target=self._read, args=(read_fd,), name="visualizer-feed", daemon=True
        )
        self._reader.start()

    def _read(self, fd: int) -> None:
        try:
            for batch in read_batches(fd):
                self.feed.add(batch)
        finally:
            os.close(fd)
            self.process.wait()
            self.exited.set()

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the app as Ctrl+C would (uvicorn shuts down on SIGTERM), then wait."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout)
