"""Memory over many runs: the visualizer's server RSS after the first runs and after many more.

A real server process (create_app on real uvicorn) runs scenarios through its API, one after
another, cycling through a mix that includes the leaking ones; its RSS is read from /proc
along the way. Nothing of a finished run may stay behind, so past the warm-up the RSS stays
flat.

    python benchmarks/run_memory.py [--runs 1000] [--warmup 50]
"""

from __future__ import annotations

import argparse
import tempfile
import textwrap
import time

import httpx
from measuring import free_port, load, rss_mb, start

SERVER = textwrap.dedent("""
    import uvicorn
    from visualizer.app import create_app
    from visualizer.web.settings import Settings
    app = create_app(Settings(data_dir={data!r}, max_parallel_runs=1))
    uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning")
""")
MIX = ("create_item", "read_items", "item_not_found", "async_session", "background_task")


def finish(client: httpx.Client, scenario: str) -> None:
    run = client.post("/api/runs", json={"scenario": scenario}).json()["id"]
    while client.get(f"/api/runs/{run}").json()["status"] == "running":
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs measured after the warm-up")
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        server = start(SERVER.format(data=data, port=port), {}, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                for n in range(args.warmup):
                    finish(client, MIX[n % len(MIX)])
                baseline = rss_mb(server.pid)
                print(f"after {args.warmup} runs: RSS {baseline:.1f} MB")
                started = time.monotonic()
                for n in range(1, args.runs + 1):
                    finish(client, MIX[n % len(MIX)])
                    if n % 100 == 0:
                        rss = rss_mb(server.pid)
                        elapsed = time.monotonic() - started
                        print(
                            f"after {args.warmup + n} runs: RSS {rss:.1f} MB "
                            f"({rss - baseline:+.1f} MB), {elapsed:.0f} s",
                            flush=True,
                        )
        finally:
            server.terminate()
            server.wait(10)
    print(f"after:  {load()}")


if __name__ == "__main__":
    main()
