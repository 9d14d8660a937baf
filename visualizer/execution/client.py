"""The run's HTTP client, in a process of its own so that its timings share no GIL with the server.

Run as `python -m visualizer.execution.client`; it imports nothing but the standard library,
so that it starts fast. One process serves any number of runs, one after another: each message
names the server it is for.

Protocol: one stdin line per batch, one stdout line per request. A line is a JSON object
{"host", "port", "timeout", "header", "requests"}: `header` names the header that numbers
requests, `requests` lists {"id", "method", "path"}. One request is sent alone; several are
sent all at once, one thread and one connection each, released together by a barrier once
every connection is open. Each result is {"id", "status", "sent_ns", "headers_ns", "body_ns",
"body"} (or {"id", "status": null, "error"}), written in the order of the batch. The times are
`time.perf_counter_ns()`, a monotonic clock the server's process reads too.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from typing import Any


def send(
    host: str,
    port: int,
    timeout: float,
    header: str,
    request: dict[str, Any],
    start: threading.Barrier | None = None,
) -> dict[str, Any]:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        if start is not None:
            try:
                connection.connect()
            except OSError:
                start.abort()  # the others must not wait for a request that cannot leave
                raise
            start.wait(timeout)  # every request of the batch leaves at the same moment
        sent_ns = time.perf_counter_ns()
        connection.request(request["method"], request["path"], headers={header: str(request["id"])})
        response = connection.getresponse()
        headers_ns = time.perf_counter_ns()
        body = response.read()
        body_ns = time.perf_counter_ns()
        return {
            "id": request["id"],
            "status": response.status,
            "sent_ns": sent_ns,
            "headers_ns": headers_ns,
            "body_ns": body_ns,
            "body": body.decode("utf-8", "replace"),
        }
    except (OSError, threading.BrokenBarrierError) as error:
        return {"id": request["id"], "status": None, "error": f"{type(error).__name__}: {error}"}
    finally:
        connection.close()


def send_at_once(
    host: str, port: int, timeout: float, header: str, requests: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Send every request of a batch concurrently; the results in the batch's order."""
    start = threading.Barrier(len(requests))
    results: list[dict[str, Any]] = [{} for _ in requests]

    def run(index: int) -> None:
        results[index] = send(host, port, timeout, header, requests[index], start)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> None:
    for line in sys.stdin:
        message = json.loads(line)
        target = (message["host"], int(message["port"]), float(message["timeout"]))
        header, batch = message["header"], message["requests"]
        if len(batch) > 1:
            results = send_at_once(*target, header, batch)
        else:
            results = [send(*target, header, batch[0])]
        for result in results:
            sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
