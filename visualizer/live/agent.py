"""The observed app's own process under `session-visualizer trace`.

It imports the app the way `uvicorn MODULE:APP` does (the app folder first on sys.path) and
serves it with uvicorn's own defaults, the engine's hooks installed and the app wrapped in
the engine's ASGI wrapper, which changes nothing it answers. Every 50 ms a thread sends what
was recorded to the visualizer's process through a pipe; describing it happens there, off
this process.

    python -m visualizer.live.agent MODULE:APP --feed-fd FD [--host H] [--port P]
        [--app-dir DIR] [--show-params] [--first-request N]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

import uvicorn
from uvicorn.importer import ImportFromStringError, import_from_string

from visualizer.capture import hooks
from visualizer.capture.asgi import RequestObserver
from visualizer.capture.lines import ProgramFiles
from visualizer.capture.recorder import Recorder
from visualizer.live.wire import Batch, write_batch

PERIOD_S = 0.05  # a request shows on the live page within this of its app call returning
CAPACITY = 100_000  # records waiting for the pipe; beyond it they are dropped and counted


class Exporter(threading.Thread):
    """Sends the recorder's records to the visualizer, in batches. When the visualizer is
    gone (its pipe broke, or this process lost its parent), it stops the app as Ctrl+C would:
    `trace` started it, and nobody else would ever stop it."""

    def __init__(self, recorder: Recorder, fd: int) -> None:
        super().__init__(name="visualizer-exporter", daemon=True)
        self.recorder, self.fd = recorder, fd
        self.parent = os.getppid()

    def run(self) -> None:
        self._export()
        self.recorder.recording = False
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn shuts down gracefully on SIGTERM

    def _export(self) -> None:
        recorder, sent_first = self.recorder, False
        while os.getppid() == self.parent:
            time.sleep(PERIOD_S)
            finished = []
            while recorder.finished:
                finished.append(recorder.finished.popleft())
            records = recorder.drain_records()
            if sent_first and not records and not finished:
                continue
            batch = Batch(
                records=records,
                finished=finished,
                databases=dict(recorder.databases),
                threads=recorder.named_threads(),
                dropped=recorder.dropped,
                hook_errors=dict(recorder.hook_errors),
            )
            try:
                write_batch(self.fd, batch)
            except OSError:  # the visualizer is gone
                return
            sent_first = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visualizer.live.agent")
    parser.add_argument("app", help="MODULE:ATTRIBUTE, as uvicorn takes it")
    parser.add_argument("--feed-fd", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--app-dir", default=".")
    parser.add_argument("--show-params", action="store_true")
    parser.add_argument("--first-request", type=int, default=0, help="number requests after it")
    args = parser.parse_args(argv)

    app_dir = Path(args.app_dir).resolve()
    sys.path.insert(0, str(app_dir))  # as uvicorn does with --app-dir (default: here)
    hooks.install()
    recorder = Recorder(
        ProgramFiles(root=str(app_dir)), capacity=CAPACITY, show_params=args.show_params
    )
    try:
        app = import_from_string(args.app)
    except ImportFromStringError as error:
        print(f"session-visualizer trace: {error}", file=sys.stderr)
        return 2
    Exporter(recorder, args.feed_fd).start()
    observed = RequestObserver(
        app, recorder, numbered_by_client=False, numbered_after=args.first_request
    )
    uvicorn.run(observed, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
