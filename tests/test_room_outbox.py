"""A member's outbox: ordered messages bounded and in order, latest-wins slots never pile up."""

from __future__ import annotations

from visualizer.classroom.outbox import Outbox


def _all(outbox: Outbox) -> list[str]:
    sent = []
    while (text := outbox.pop()) is not None:
        sent.append(text)
    return sent


def test_ordered_messages_keep_their_order_up_to_the_limit() -> None:
    outbox = Outbox(3)
    assert [outbox.put(t) for t in ("a", "b", "c", "d")] == [True, True, True, False]
    assert len(outbox) == 3
    assert _all(outbox) == ["a", "b", "c"]  # "d" was refused, not kept
    assert outbox.put("e") and _all(outbox) == ["e"]  # room again once they are sent


def test_a_slow_follower_gets_the_newest_cursor_never_a_backlog() -> None:
    outbox = Outbox(3)
    for cursor in range(10_000):
        outbox.put_latest("cursor", f"cursor {cursor}")
    assert len(outbox) == 1
    assert len(outbox._items) == 1  # the memory too: one slot, not 10,000 dead entries
    assert _all(outbox) == ["cursor 9999"]
    assert outbox.put("ordered")  # the cursors never counted against the ordered limit


def test_each_kind_has_its_own_slot() -> None:
    outbox = Outbox(3)
    for n in range(5):
        outbox.put_latest("tally", f"tally {n}")
        outbox.put_latest("members", f"members {n}")
    assert _all(outbox) == ["tally 4", "members 4"]


def test_a_cursor_never_overtakes_an_ordered_message_put_before_it() -> None:
    outbox = Outbox(8)
    outbox.put("welcome")
    outbox.put_latest("cursor", "cursor 1")
    outbox.put("question")
    outbox.put_latest("cursor", "cursor 2")  # after the question: it stays after it
    outbox.put_latest("cursor", "cursor 3")
    outbox.put("reveal")
    # cursor 1 is out of date once cursor 3 is known; cursor 3 still comes after the question.
    assert _all(outbox) == ["welcome", "question", "cursor 3", "reveal"]


def test_a_cursor_put_before_an_ordered_message_is_sent_before_it() -> None:
    outbox = Outbox(8)
    outbox.put_latest("cursor", "cursor 1")
    outbox.put("question")
    assert _all(outbox) == ["cursor 1", "question"]


def test_a_closed_outbox_drops_what_waits_and_keeps_nothing() -> None:
    outbox = Outbox(8)
    outbox.put("a")
    outbox.put_latest("cursor", "cursor 1")
    outbox.close()
    assert len(outbox) == 0 and outbox.pop() is None
    assert not outbox.put("b")
    outbox.put_latest("cursor", "cursor 2")
    assert outbox.pop() is None
