"""The stage's view of a trace at a cursor: pure, so tested without a browser or a server."""

from __future__ import annotations

from collections.abc import Callable

from tests.helpers import claim, seq_of
from visualizer.cli.terminal import render_trace
from visualizer.contract.trace import Trace
from visualizer.web.stage import stage_context

Traced = Callable[[str], Trace]


def test_the_callout_appears_when_the_response_overtakes_the_close(traced: Traced) -> None:
    trace = traced("create_item")
    sent = seq_of(trace, "response.start")
    assert "response_before_close" not in {
        d.kind for d in stage_context(trace, sent - 1)["callouts"]
    }
    assert "response_before_close" in {d.kind for d in stage_context(trace, sent)["callouts"]}


def test_no_order_callout_for_item_not_found(traced: Traced) -> None:
    trace = traced("item_not_found")
    context = stage_context(trace, len(trace.events))
    assert context["callouts"] == []
    assert [(d.kind, requests) for d, requests in context["notes"]] == [("rollback_in_close", [1])]


def test_step_nodes_follow_the_focused_request(traced: Traced) -> None:
    trace = traced("create_item")
    context = stage_context(trace, seq_of(trace, "session.yield"))
    states = {node.step.number: node.state for node in context["nodes"]}
    assert states == {
        1: "visited",
        2: "visited",
        3: "current",
        4: "pending",
        5: "pending",
        6: "pending",
        7: "pending",
    }
    end = stage_context(trace, len(trace.events))
    assert end["out_of_order"] == {5, 7}  # 4 after 5, and 6 after 7
    assert end["focus"].db == "Closed session"


def test_the_pool_gauge_and_the_timing_sentence(traced: Traced) -> None:
    trace = traced("create_item")
    context = stage_context(trace, seq_of(trace, "after_begin"))
    (pool,) = context["gauges"]
    assert pool.slots == ["used", "free", "free", "free", "free"]
    assert pool.text == "1 of 5 checked out" and pool.name == "Pool"
    timing = stage_context(trace, len(trace.events))["timings"][1, 1]
    assert timing.closed_ms is not None and timing.client_ms is not None
    assert "before the session closed" in timing.sentence or "closed" in timing.sentence


def test_the_code_line_of_the_current_event_is_known(traced: Traced) -> None:
    trace = traced("create_item")
    context = stage_context(trace, seq_of(trace, "session.create"))
    _, text = context["code_lines"][context["frame"].line - 1]
    assert text.strip() == "db = SessionLocal()"


def test_changes_are_marked_only_where_something_changed(traced: Traced) -> None:
    trace = traced("create_item")
    assert stage_context(trace, 1)["changed"] == {"row", "step"}  # the pool is still unused
    checkout = seq_of(trace, "pool.checkout")
    assert {"pool", "row"} <= stage_context(trace, checkout)["changed"]
    assert "db" in stage_context(trace, seq_of(trace, "session.close"))["changed"]


def test_a_moment_this_run_did_not_bear_out_is_flagged_not_told(traced: Traced) -> None:
    trace = traced("create_item")
    index, moment = next(
        (i, m) for i, m in enumerate(trace.key_moments) if m.at == "response.start"
    )
    textbook_order = claim({"order": ["session.close", "response.start"]})
    moments = list(trace.key_moments)
    moments[index] = moment.model_copy(update={"claim": textbook_order})
    other = trace.model_copy(update={"key_moments": moments})
    assert moment.seq is not None

    (now,) = stage_context(other, moment.seq)["moments_now"]
    assert not now.holds
    assert now.instead.startswith("the order was response.start (#")
    (honest,) = stage_context(trace, moment.seq)["moments_now"]
    assert honest.holds and honest.instead == ""

    told = render_trace(other)
    assert f"#{moment.seq} ! NOT IN THIS RUN: {moment.text[:30]}" in told
    assert "This run did otherwise: the order was response.start" in " ".join(told.split())


def test_a_trace_that_lost_events_says_so_in_the_terminal(traced: Traced) -> None:
    trace = traced("read_items")
    lost = trace.model_copy(update={"warnings": ["Request 1 was still running 15 s after."]})
    assert "This trace is incomplete" in render_trace(lost)
    assert "This trace is incomplete" not in render_trace(trace)


def test_step_numbers_in_deviation_prose_read_as_steps() -> None:
    from visualizer.web.stage import step_refs

    said = step_refs("7 the response (200) was sent 7.3 ms before 6 the session closed")
    assert str(said) == (
        '<span class="step-ref">step 7</span> the response (200) was sent 7.3 ms before '
        '<span class="step-ref">step 6</span> the session closed'
    )
    counts = step_refs("4 found no free connection (2 of 2 checked out, overflow 0)")
    assert str(counts).count("step-ref") == 1  # "2 of 2" are connections, not steps
    assert (
        str(step_refs("<b>5</b> then 5"))
        == '&lt;b&gt;5&lt;/b&gt; then <span class="step-ref">step 5</span>'
    )
