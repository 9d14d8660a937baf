"""The observed app's process, seen from the visualizer's: started, read, restarted, stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from visualizer.live.feed import LiveFeed
from visualizer.live.wire import read_batches


class AppProcess:
    """`python -m visualizer.live.agent` serving the app; its batches go into `feed`.

    `restart()` replaces the process with a fresh one, as `uvicorn --reload` does, also after
    the app stopped by itself (a reload that failed to import); `exited` is set while the
    app has stopped by itself, never by a restart.
    """

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
        self.exited = threading.Event()
        self._command = [
            sys.executable,
            "-m",
            "visualizer.live.agent",
            spec,
            "--host",
            host,
            "--port",
            str(port),
            "--app-dir",
            str(app_dir),
            *(["--show-params"] if show_params else []),
        ]
        self._restarting = False
        self._start()

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        # A restarted app numbers its requests after those the list has already seen.
        numbering = ["--feed-fd", str(write_fd), "--first-request", str(self.feed.highest)]
        try:
            self.process = subprocess.Popen([*self._command, *numbering], pass_fds=(write_fd,))
        finally:
            os.close(write_fd)  # the child holds its own copy: its exit ends our reading
        self._reader = threading.Thread(
            target=self._read, args=(read_fd, self.process), name="visualizer-feed", daemon=True
        )
        self._reader.start()

    def _read(self, fd: int, process: subprocess.Popen[bytes]) -> None:
        try:
            for batch in read_batches(fd):
                self.feed.add(batch)
        finally:
            os.close(fd)
            process.wait()
            if not self._restarting:
                self.exited.set()

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def restart(self) -> None:
        """Stop the app as Ctrl+C would and start it again, importing its code afresh."""
        self._restarting = True
        try:
            self.stop()
        finally:
            self._restarting = False
        self.exited.clear()
        self._start()

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


def reload_on_change(app: AppProcess, folder: Path, stop: threading.Event) -> threading.Thread:
    """Restart the app whenever a Python file under `folder` changes, until `stop` is set:
    what `uvicorn --reload` does, with the same watcher (watchfiles)."""
    from watchfiles import PythonFilter, watch

    def run() -> None:
        for changes in watch(folder, watch_filter=PythonFilter(), stop_event=stop):
            names = sorted({os.path.relpath(path, folder) for _, path in changes})
            print(f"Your app's code changed ({', '.join(names)}): restarting it.", flush=True)
            app.restart()

    thread = threading.Thread(target=run, name="visualizer-reload", daemon=True)
    thread.start()
    return thread
