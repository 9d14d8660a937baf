"""The terminal front end: a trace as an execution table, a variable tracker and explanations."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from visualizer.contract.trace import Trace
from visualizer.execution.scenarios import Registry
from visualizer.lesson.comparison import compare
from visualizer.lesson.deviations import find_deviations
from visualizer.lesson.lanes import TimeAxis, by_request, stories, stretches
from visualizer.lesson.moments import checked_moments
from visualizer.lesson.reducer import final_tracker, frame_at
from visualizer.lesson.transcript import transcript
from visualizer.web.stage import label

WIDTH = 100


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], limits: Sequence[int]) -> str:
    cells = [[str(c)[:limit] for c, limit in zip(row, limits, strict=True)] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(out)


def _wrap(text: str, indent: str = "   ") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def render_list(registry: Registry) -> str:
    width = max(len(s.name) for s in registry)
    return "\n".join(f"{s.name.ljust(width)}  {s.title}" for s in registry)


def render_trace(trace: Trace) -> str:
    """Everything the terminal shows for one run."""
    deviations = find_deviations(trace.events)
    frame = frame_at(trace, len(trace.events), deviations)
    several = len(frame.lanes) > 1
    sessions = frame.sessions > 1
    versions = trace.versions
    out = [
        f"{trace.title}: {trace.summary}",
        f"Python {versions.get('python')}, FastAPI {versions.get('fastapi')}, "
        f"SQLAlchemy {versions.get('sqlalchemy')}",
        "",
        "Requests",
    ]
    out += [
        f"  {r.id}. {r.method} {r.path} -> {r.status if r.status is not None else 'no answer'}"
        for r in trace.requests
    ]
    headers = [
        "#",
        "t (ms)",
        *(["Req"] if several else []),
        *(["Ses"] if sessions else []),
        "Step",
        "Action",
        "Session state",
        "Result",
    ]
    rows = [
        [
            str(r.seq),
            f"{r.t_ms:.2f}",
            *([str(r.request or "")] if several else []),
            *([str(r.session or "")] if sessions else []),
            str(r.step or "-"),
            r.action,
            r.state,
            r.result,
        ]
        for r in frame.rows
    ]
    limits = [5, 9, *([4] if several else []), *([4] if sessions else []), 4, 40, 46, 46]
    out += ["", "Execution table (observed order)", _table(headers, rows, limits)]

    for lane in frame.lanes:
        title = f" ({label(lane, frame).lower()})" if several else ""
        steps = " -> ".join(map(str, lane.visited))
        out += ["", f"Variable tracker: db{title}", f"  steps: {steps}"]
        out += [f"  {label:<14} {value}" for label, value in final_tracker(lane)]

    out += ["", *render_lanes(trace)]
    moments = checked_moments(trace)
    if moments:
        out += ["", "Key moments"]
        for checked in moments:
            if checked.holds:
                out.append(_wrap(f"#{checked.seq} {checked.moment.text}", "  "))
            else:
                said = f"NOT IN THIS RUN: {checked.moment.text} This run did otherwise: "
                out.append(_wrap(f"#{checked.seq} ! {said}{checked.instead}.", "  "))
    out += ["", "Textbook against reality"]
    for lane in frame.lanes:
        if several:
            out.append(f"  {label(lane, frame).lower()}")
        for row in compare(trace, lane.request, deviations, lane.session):
            seen = ", ".join(f"{v.ordinal} at {v.t_ms:.2f} ms" for v in row.visits) or "never"
            mark = "!" if row.differences else " "
            out.append(f" {mark} {row.step.number}. {row.step.title:<32} {seen}")
    if not deviations:
        out.append("  The observed order is the textbook's 1 to 7.")
    for d in deviations:
        where = f"request {d.request}, " if several else ""
        where += f"session {d.session}, " if sessions and d.session else ""
        out.append(f"  [{where}#{d.seq}] expected: {d.expected}")
        out.append(f"   observed: {d.observed}")
        out.append(_wrap("why: " + d.why))
    out += ["", "Transcript"]
    for number, paragraph in transcript(trace):
        prefix = f"Request {number}. " if several and number else ""
        out.append(_wrap(prefix + paragraph, "  "))
    pool = trace.pool_after
    if pool.checked_out:
        out += ["", f"After the run {pool.checked_out} connection(s) were still checked out."]
    if trace.warnings:
        out += ["", "This trace is incomplete:"]
        out += [_wrap(warning, "  ") for warning in trace.warnings]
    if trace.hook_errors:
        out += ["", "Instrumentation errors (the requests went on):"]
        out += [f"  {count} x {what}" for what, count in trace.hook_errors.items()]
    return "\n".join(out)


LANE_WIDTH = 64


def render_lanes(trace: Trace) -> list[str]:
    """Each request on one shared time axis; a digit marks where a step began."""
    axis = TimeAxis.of(trace.events)
    lines = [f"Lanes (one time axis, 0 to {axis.span_ms:.1f} ms; a digit marks where a step began)"]
    frame = frame_at(trace, len(trace.events))
    lanes = {
        (request, session): story
        for request, events in by_request(trace.events).items()
        for session, story in stories(events)
    }
    for lane in frame.lanes:
        bar = [" "] * (LANE_WIDTH + 1)
        for stretch in stretches(lanes.get(lane.key, [])):
            at = axis.column(stretch.start_ms, LANE_WIDTH)
            while at < LANE_WIDTH and bar[at] != " ":
                at += 1  # steps closer than a column apart sit side by side
            bar[min(at, LANE_WIDTH)] = str(stretch.step)
        name = f"request {lane.request}" + (f"/{lane.session}" if frame.sessions > 1 else "")
        lines.append(f"  {name:<11}|{''.join(bar)}|")
    return lines


def render_summary_line(trace: Trace) -> str:
    """One line for `run --all`: statuses, each request's steps, and what differed."""
    statuses = ",".join(str(r.status) for r in trace.requests)
    steps = " ".join(
        "".join(map(str, lane.visited)) for lane in frame_at(trace, len(trace.events)).lanes
    )
    kinds = sorted({d.kind for d in find_deviations(trace.events)})
    return f"{trace.scenario:<28} {statuses:<16} steps {steps:<30} {', '.join(kinds) or '-'}"
