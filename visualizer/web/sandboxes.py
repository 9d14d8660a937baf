"""Sandboxes left behind: a run killed with its server (SIGKILL) never removes its folder."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from visualizer.execution.sandbox import PREFIX

# The runner names each sandbox PREFIX + "<pid of its process>-<random>".
UNOWNED_AGE_S = 3600.0  # a folder that names no process is kept this long: no run lasts that


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _stale(folder: Path, now: float) -> bool:
    owner = folder.name.removeprefix(PREFIX).split("-", 1)[0]
    if owner.isdigit():
        return int(owner) != os.getpid() and not _alive(int(owner))
    return now - folder.stat().st_mtime > UNOWNED_AGE_S


def sweep(temp_dir: Path | None = None) -> list[Path]:
    """Remove the sandboxes whose process is gone; the ones of live processes stay."""
    root = temp_dir or Path(tempfile.gettempdir())
    now, removed = time.time(), []
    for folder in root.glob(f"{PREFIX}*"):
        try:
            if folder.is_dir() and not folder.is_symlink() and _stale(folder, now):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except OSError:  # gone meanwhile, or not ours to read: leave it
            continue
    return removed
