"""What the benchmarks share: a server in a process of its own, its CPU time, the machine's
load, and medians with their spread."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, its ended threads included.

    Read from the process's own CPU clock, to the nanosecond: /proc/PID/stat counts in
    clock ticks (10 ms), a few percent of a round's CPU, as large as the costs measured."""
    try:
        return time.clock_gettime_ns(_process_clock(pid)) / 1e9
    except OSError:  # not Linux, or not ours to read: the ticks are all there is
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS


def _process_clock(pid: int) -> int:
    """Linux's id for another process's CPU clock, as clock_getcpuclockid(3) makes it:
    the pid inverted, shifted by three, and CPUCLOCK_SCHED (2), the scheduler's sum."""
    return ((~pid) << 3) | 2


def load_now() -> float:
    """The one-minute load average at this moment."""
    return os.getloadavg()[0]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load() -> str:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return f"load average {one} {five} {fifteen} on {os.cpu_count()} cores"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(code: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """Run `code` in a process of its own and wait until it serves `port`."""
    process = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **env})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start")


def spread(values: list[float]) -> str:
    """Median, then the middle half and the whole range."""
    ordered = sorted(values)
    quartiles = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
    return (
        f"median {statistics.median(ordered):.3f} "
        f"(middle half {quartiles[0]:.3f}-{quartiles[2]:.3f}, "
        f"all {ordered[0]:.3f}-{ordered[-1]:.3f}, n={len(ordered)})"
    )
