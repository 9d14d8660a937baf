"""The terminal front end: a trace as an execution table, a variable tracker and explanations,
fitted to the terminal's width (cells wrap; nothing is cut)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from visualizer.lesson.comparison import compare
from visualizer.lesson.deviations import find_deviations
from visualizer.lesson.lanes import TimeAxis, by_request, stories, stretches
from visualizer.lesson.moments import checked_moments
from visualizer.lesson.reducer import Frame, Lane, final_tracker, frame_at
from visualizer.lesson.transcript import transcript

if TYPE_CHECKING:
    from visualizer.contract.trace import Trace
    from visualizer.execution.scenarios import Registry

WIDTH = 100  # when the terminal's width cannot be known (a pipe, no COLUMNS)
MIN_WIDTH = 40
GAP = "  "


def _wrap(text: str, width: int, indent: str = "   ", first: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        max(width, len(indent) + 10),
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_on_hyphens=False,
    ) or [indent.rstrip()]


def _fit(natural: list[int], minimum: list[int], room: int) -> list[int]:
    """Column widths that fit in `room`: the widest column gives way first."""
    widths = list(natural)
    while sum(widths) > room:
        shrinkable = [i for i, w in enumerate(widths) if w > minimum[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    below: Sequence[str | None] | None = None,
) -> list[str]:
    """Rows under headers, each cell wrapped in its column; `below` adds a full-width line
    under a row (the whole SQL statement, say)."""
    cells = [[str(c) for c in row] for row in rows]
    natural = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    minimum = [min(n, max(len(h), 6)) for n, h in zip(natural, headers, strict=True)]
    widths = _fit(natural, minimum, width - len(GAP) * (len(headers) - 1))

    def lines_of(row: Sequence[str]) -> list[str]:
        wrapped = [
            textwrap.wrap(c, w, break_on_hyphens=False) or [""]
            for c, w in zip(row, widths, strict=True)
        ]
        height = max(len(w) for w in wrapped)
        return [
            GAP.join(
                (w[n] if n < len(w) else "").ljust(size)
                for w, size in zip(wrapped, widths, strict=True)
            ).rstrip()
            for n in range(height)
        ]

    out = [*lines_of(headers), GAP.join("-" * w for w in widths)]
    for index, row in enumerate(cells):
        out += lines_of(row)
        extra = below[index] if below else None
        if extra:
            out += _wrap(extra, width, indent="      ", first="    > ")
    return out


def render_list(registry: Registry, width: int = WIDTH) -> str:
    scenarios = list(registry)
    if not scenarios:
        return "No scenarios found."
    names = max(len(s.name) for s in scenarios)
    lines = []
    for s in scenarios:
        lines += _wrap(s.title, width, indent=" " * (names + 2), first=s.name.ljust(names + 2))
    return "\n".join(lines)


def _label(lane: Lane, frame: Frame) -> str:
    """ "request 2", or with several sessions, "request 2 · session 3 (get_db)": the page's
    lane label (web.stage's `label`), kept here so that the terminal imports no web module."""
    said = f"request {lane.request}"
    if frame.sessions > 1 and lane.session is not None:
        said += f" · session {lane.session}" + (f" ({lane.made_by})" if lane.made_by else "")
    return said.lower()


def render_trace(trace: Trace, width: int = WIDTH) -> str:
    """Everything the terminal shows for one run, in lines of at most `width` characters."""
    width = max(width, MIN_WIDTH)
    deviations = find_deviations(trace.events)
    frame = frame_at(trace, len(trace.events), deviations)
    several = len(frame.lanes) > 1
    sessions = frame.sessions > 1
    versions = trace.versions
    out = [
        *_wrap(f"{trace.title}: {trace.summary}", width, indent="  ", first=""),
        *_wrap(
            f"Python {versions.get('python')}, FastAPI {versions.get('fastapi')}, "
            f"SQLAlchemy {versions.get('sqlalchemy')}",
            width,
            indent="  ",
            first="",
        ),
        "",
        "Requests",
    ]
    for request in trace.requests:
        status = request.status if request.status is not None else "no answer"
        said = f"{request.id}. {request.method} {request.path} -> {status}"
        out += _wrap(said, width, indent="     ", first="  ")
    headers = [
        "#",
        "t (ms)",
        *(["Req"] if several else []),
        *(["Ses"] if sessions else []),
        "Step",
        "Action",
        "State",
        "Result",
    ]
    rows, sql = [], []
    for row in frame.rows:
        event = trace.events[row.seq - 1]
        statement = event.detail.get("sql") if event.kind == "sql" else None
        action = f"SQL {str(statement).split()[0]}" if statement else row.action
        rows.append(
            [
                str(row.seq),
                f"{row.t_ms:.2f}",
                *([str(row.request or "")] if several else []),
                *([str(row.session or "")] if sessions else []),
                str(row.step or "-"),
                action,
                row.state,
                row.result,
            ]
        )
        sql.append(str(statement) if statement else None)
    out += ["", "Execution table (observed order; > is the whole SQL sent)"]
    out += table(headers, rows, width, below=sql)

    for lane in frame.lanes:
        title = f" ({_label(lane, frame)})" if several else ""
        steps = " -> ".join(map(str, lane.visited))
        out += ["", f"Variable tracker: db{title}", *_wrap(f"steps: {steps}", width, "    ", "  ")]
        for when, value in final_tracker(lane):
            out += _wrap(value, width, indent=" " * 18, first=f"  {when:<14}  ")

    out += ["", *render_lanes(trace, width)]
    moments = checked_moments(trace)
    if moments:
        out += ["", "Key moments"]
        for checked in moments:
            said = checked.moment.text
            if not checked.holds:  # never told as true where this run did otherwise
                said = f"! NOT IN THIS RUN: {said} This run did otherwise: {checked.instead}."
            out += _wrap(f"#{checked.seq} {said}", width, indent="    ", first="  ")
    out += ["", "Textbook against reality"]
    for lane in frame.lanes:
        if several:
            out.append(f"  {_label(lane, frame)}")
        for compared in compare(trace, lane.request, deviations, lane.session):
            visits = compared.visits
            seen = ", ".join(f"{v.ordinal} at {v.t_ms:.2f} ms" for v in visits) or "never"
            mark = "!" if compared.differences else " "
            head = f" {mark} {compared.step.number}. {compared.step.title:<32} "
            out += _wrap(seen, width, indent=" " * len(head), first=head)
    if not deviations:
        out.append("  The observed order is the textbook's 1 to 7.")
    for d in deviations:
        where = f"request {d.request}, " if several else ""
        where += f"session {d.session}, " if sessions and d.session else ""
        out += _wrap(f"expected: {d.expected}", width, "     ", f"  [{where}#{d.seq}] ")
        out += _wrap(f"observed: {d.observed}", width, "     ", "   ")
        out += _wrap("why: " + d.why, width)
    out += ["", "Transcript"]
    for number, paragraph in transcript(trace):
        prefix = f"Request {number}. " if several and number else ""
        out += _wrap(prefix + paragraph, width, "  ")
    pool = trace.pool_after
    if pool.checked_out:
        out += ["", f"After the run {pool.checked_out} connection(s) were still checked out."]
    if trace.warnings:
        out += ["", "This trace is incomplete:"]
        for warning in trace.warnings:
            out += _wrap(warning, width, "  ")
    if trace.hook_errors:
        out += ["", "Instrumentation errors (the requests went on):"]
        out += [f"  {count} x {what}" for what, count in trace.hook_errors.items()]
    return "\n".join(out)


def _columns(wanted: list[int], columns: int) -> list[int]:
    """Each step's column in time order, one apart where steps are closer than a column:
    digits never hide each other and keep their order, squeezed left at the end."""
    placed: list[int] = []
    for column in wanted:
        placed.append(max(column, placed[-1] + 1) if placed else column)
    limit = columns - 1
    for index in range(len(placed) - 1, -1, -1):
        placed[index] = max(min(placed[index], limit), 0)
        limit = placed[index] - 1
    return placed


def render_lanes(trace: Trace, width: int = WIDTH) -> list[str]:
    """Each lane (a session in a request) on one shared time axis; a digit marks where a
    step began."""
    axis = TimeAxis.of(trace.events)
    frame = frame_at(trace, len(trace.events))
    stories_of = {
        (request, session): story
        for request, events in by_request(trace.events).items()
        for session, story in stories(events)
    }
    names = {
        lane.key: f"  request {lane.request}" + (f"/{lane.session}" if frame.sessions > 1 else "")
        for lane in frame.lanes
    }
    name_width = max((len(name) + 2 for name in names.values()), default=12)
    columns = max(width - name_width - 2, 10)
    lines = _wrap(
        f"Lanes (one time axis, 0 to {axis.span_ms:.1f} ms; a digit marks where a step began, "
        "then the steps in order)",
        width,
        indent="  ",
        first="",
    )
    for lane in frame.lanes:
        bar = [" "] * columns
        steps = stretches(stories_of.get(lane.key, []))
        wanted = [axis.column(stretch.start_ms, columns - 1) for stretch in steps]
        for stretch, column in zip(steps, _columns(wanted, columns), strict=True):
            bar[column] = str(stretch.step)
        lines.append(f"{names[lane.key].ljust(name_width)}|{''.join(bar)}|")
        lines.append(" " * name_width + " " + " ".join(str(s.step) for s in steps))
    return lines


SUMMARY_HEADER = f"{'scenario':<28} {'statuses':<16} {'steps (per request)':<36} differences"


def render_summary_line(trace: Trace) -> str:
    """One line for `run --all`: statuses, each request's steps, and what differed."""
    statuses = ",".join(str(r.status) for r in trace.requests)
    steps = " ".join(
        "".join(map(str, lane.visited)) for lane in frame_at(trace, len(trace.events)).lanes
    )
    kinds = sorted({d.kind for d in find_deviations(trace.events)})
    return f"{trace.scenario:<28} {statuses:<16} steps {steps:<30} {', '.join(kinds) or '-'}"
