"""Which line of the program's own code is running: the nearest program frame on the stack."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from types import CodeType, FrameType

from greenlet import getcurrent  # type: ignore[import-untyped]  # greenlet ships no types

_MAX_FRAMES = 80
_INSTALLED = ("site-packages", "dist-packages")
_OURS = str(Path(__file__).resolve().parent.parent)  # the visualizer's own files never count


class ProgramFiles:
    """The files that are the observed program's own code, and where they are shown from.

    A scenario run names its one file; a project is a folder, minus installed packages.
    Whether a code object is the program's is cached: a stack walk then costs a dict
    lookup per frame.
    """

    def __init__(self, files: Iterable[str] = (), root: str | None = None) -> None:
        self.files = frozenset(files)
        self.root = str(Path(root).resolve()) + "/" if root else None
        self._mine: dict[CodeType, str | None] = {}

    def shown_name(self, code: CodeType) -> str | None:
        """The file's name as the page shows it, or None when it is not the program's."""
        try:
            return self._mine[code]
        except KeyError:
            name = self._classify(code.co_filename)
            self._mine[code] = name
            return name

    def _classify(self, filename: str) -> str | None:
        if filename in self.files:
            return Path(filename).name
        if self.root is None or not filename.startswith(self.root):
            return None
        if filename.startswith(_OURS) or any(part in filename for part in _INSTALLED):
            return None
        return filename[len(self.root) :]

    def frame_line(self, frame: FrameType | None) -> tuple[int, str, str] | None:
        """(line, file, function) of the nearest program frame from `frame` outwards."""
        for _ in range(_MAX_FRAMES):
            if frame is None:
                return None
            name = self.shown_name(frame.f_code)
            if name is not None:
                return frame.f_lineno, name, frame.f_code.co_qualname
            frame = frame.f_back
        return None

    def running_line(self, skip: int) -> tuple[int, str, str] | None:
        """The program's line running now, looked for from `skip` frames above the caller."""
        try:
            frame: FrameType | None = sys._getframe(skip + 1)
        except ValueError:  # a greenlet's stack can be shallower than the frames skipped
            frame = None
        found = self.frame_line(frame)
        if found is None:
            # Async SQLAlchemy runs the sync Session inside a greenlet whose stack ends at
            # the greenlet; the program's `await` waits in the parent greenlet's stack.
            parent = getcurrent().parent
            if parent is not None:
                found = self.frame_line(parent.gr_frame)
        return found
