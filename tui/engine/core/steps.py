"""How far the running statement is, for a long headless command's progress line.

The engine reports progress at its stages' boundaries (`(stage, fraction)` callbacks); at 10M-100M
rows one statement (a grouping pass, a join) runs for a minute or more, and the line stood still
that long. `watch_steps` polls the connection's `query_progress()` (DuckDB's own estimate of the
running statement, 0-100, -1 when none runs) from a thread every half second and redraws the last
stage as "<stage> · step NN%"; the stage's fraction is unchanged, so the bar still only moves at
the stages' boundaries and never back. DuckDB keeps that estimate only with `enable_progress_bar`
on (`connect(step_progress=True)`, which keeps DuckDB's own printing off).

Only `triage scan` uses it, and only when a progress line is drawn (a terminal, no `--quiet`):
the callback never writes to stdout, so the findings and the summary are the same either way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb

Say = Callable[[str, float], None]
POLL_S = 0.5


@contextmanager
def watch_steps(con: duckdb.DuckDBPyConnection, say: Say, poll_s: float = POLL_S) -> Iterator[Say]:
    """A callback to give the engine in place of `say`: it passes each stage on, and while the block
    runs a thread adds the running statement's progress to the last stage said. The thread is
    stopped and joined before the block ends, so the connection can be closed after it."""
    last: list[tuple[str, float]] = []
    lock = threading.Lock()
    stop = threading.Event()

    shown = [-1]  # the figure on the line now: -1 after a new stage, so its first figure is drawn

    def stage(text: str, fraction: float) -> None:
        with lock:
            last[:] = [(text, fraction)]
            shown[0] = -1
            say(text, fraction)

    def poll() -> None:
        while not stop.wait(poll_s):
            try:
                pct = int(con.query_progress())
            except duckdb.Error:  # the connection closed or interrupted under us: nothing to show
                return
            with lock:
                if last and 0 <= pct <= 100 and pct != shown[0]:
                    text, fraction = last[0]
                    say(f"{text} · step {pct}%", fraction)
                    shown[0] = pct

    watcher = threading.Thread(target=poll, name="triage-steps", daemon=True)
    watcher.start()
    try:
        yield stage
    finally:
        stop.set()
        watcher.join()
