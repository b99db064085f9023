"""The table gate between the panes' queries and the drift-split recompute (`tui.widgets.table_gate`),
with real threads: readers share it, a writer holds it alone and goes first, a waiting reader can
give up. Each wait is bounded so a broken gate fails the test instead of hanging it.
"""

from __future__ import annotations

import threading

import pytest

from tui.widgets.table_gate import Superseded, TableGate

WAIT_S = 10.0


def _in_thread(target) -> threading.Thread:  # type: ignore[no-untyped-def]
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_readers_share_the_gate() -> None:
    gate = TableGate()
    inside = threading.Barrier(2, timeout=WAIT_S)

    def reader() -> None:
        with gate.reading():
            inside.wait()  # both readers are inside at once, or the barrier times out

    threads = [_in_thread(reader), _in_thread(reader)]
    for t in threads:
        t.join(WAIT_S)
    assert not any(t.is_alive() for t in threads) and not inside.broken


def test_a_writer_waits_for_the_readers_inside_and_readers_wait_for_the_writer() -> None:
    gate = TableGate()
    order: list[str] = []
    reading, leave = threading.Event(), threading.Event()

    def reader() -> None:
        with gate.reading():
            reading.set()
            leave.wait(WAIT_S)
            order.append("reader done")

    def writer() -> None:
        with gate.writing():
            order.append("writer in")
            late_reader_tried.wait(WAIT_S)
            order.append("writer out")

    late_reader_tried = threading.Event()

    def late_reader() -> None:
        late_reader_tried.set()
        with gate.reading():
            order.append("late reader in")

    first = _in_thread(reader)
    assert reading.wait(WAIT_S)
    write = _in_thread(writer)
    for _ in range(200):  # the writer is waiting (it went in behind the reader, not beside it)
        if gate.busy:
            break
        threading.Event().wait(0.01)
    assert gate.busy and order == []
    late = _in_thread(late_reader)  # arrives while the writer waits: goes after it
    leave.set()
    for t in (first, write, late):
        t.join(WAIT_S)
    assert order == ["reader done", "writer in", "writer out", "late reader in"]
    assert not gate.busy


def test_a_waiting_reader_gives_up_when_told_and_the_gate_stays_usable() -> None:
    gate = TableGate()
    stop = threading.Event()
    raised: list[BaseException] = []

    def reader() -> None:
        try:
            with gate.reading(stop=stop.is_set):
                raised.append(AssertionError("read while the writer held the gate"))
        except Superseded as exc:
            raised.append(exc)

    with gate.writing():
        waiting = _in_thread(reader)
        stop.set()
        waiting.join(WAIT_S)
        assert not waiting.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], Superseded)
    with gate.reading():  # nobody left holding it
        assert not gate.busy


def test_a_writer_told_to_stop_while_it_waits_leaves_the_gate_to_the_readers() -> None:
    gate = TableGate()
    with gate.reading():
        with pytest.raises(Superseded):
            with gate.writing(stop=lambda: True):
                pass  # never reached: the reader is inside
        assert not gate.busy
