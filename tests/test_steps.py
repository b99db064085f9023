"""The running statement's progress on the scan's progress line (tui.engine.core.steps), with a real
DuckDB statement long enough to be seen."""

from __future__ import annotations

import re
import threading

from tui.engine.core.db import connect
from tui.engine.core.steps import watch_steps

SLOW = "SELECT count(DISTINCT (i * 7919) % 100000007) FROM range(4000000) t(i)"


def test_a_long_statement_shows_its_step_percentage_under_the_last_stage() -> None:
    said: list[tuple[str, float, str]] = []
    con = connect(threads=1, step_progress=True)
    try:
        with watch_steps(
            con, lambda text, f: said.append((text, f, threading.current_thread().name)), 0.05
        ) as stage:
            stage("reading the inputs", 0.25)
            (distinct,) = con.execute(SLOW).fetchone() or (None,)
        after = len(said)
        assert distinct == 4000000  # 7919 is prime to 100000007: every i its own value
        assert said[0] == ("reading the inputs", 0.25, "MainThread")
        steps = [(t, f) for t, f, who in said[1:] if who == "triage-steps"]
        assert steps, said
        percents = []
        for text, fraction in steps:
            match = re.fullmatch(r"reading the inputs · step (\d+)%", text)
            assert match and fraction == 0.25, (text, fraction)
            percents.append(int(match.group(1)))
        assert all(0 <= p <= 100 for p in percents)
        assert all(a != b for a, b in zip(percents, percents[1:], strict=False))  # redrawn when it changes
        threading.Event().wait(0.2)
        assert len(said) == after  # the thread is gone with the block
    finally:
        con.close()


def test_without_step_progress_duckdb_keeps_no_estimate_and_nothing_is_added() -> None:
    said: list[str] = []
    con = connect(threads=1)
    try:
        with watch_steps(con, lambda text, f: said.append(text), 0.05) as stage:
            stage("analyses", 0.8)
            con.execute(SLOW).fetchone()
        assert said == ["analyses"]
    finally:
        con.close()
