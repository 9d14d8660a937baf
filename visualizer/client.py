"""The run's HTTP client, in a process of its own so that its timings share no GIL with the server.

Protocol: one JSON request per stdin line ({"id", "method", "path"}), one JSON result per
stdout line ({"id", "status", "sent_ns", "headers_ns", "body_ns", "body"}). The times are
`time.perf_counter_ns()`, a monotonic clock the server's process reads too.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from typing import Any

HEADER = "x-visualizer-request"


def send(host: str, port: int, timeout: float, request: dict[str, Any]) -> dict[str, Any]:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        sent_ns = time.perf_counter_ns()
        connection.request(request["method"], request["path"], headers={HEADER: str(request["id"])})
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
    except OSError as error:
        return {"id": request["id"], "status": None, "error": f"{type(error).__name__}: {error}"}
    finally:
        connection.close()


def main() -> None:
    host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    for line in sys.stdin:
        result = send(host, port, timeout, json.loads(line))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
