"""The two ways the analyst moves through time on the main screen: the drift split (`[`/`]`,
recomputed in a worker) and the timeline strip (events per hour for the Events filter; a span
chosen on it narrows the Events pane). A mixin of `MainScreen`, beside `tui.screens.workflow`.

The recompute runs on a cursor of its own (interrupted when the analyst moves the split again or
quits) and holds the table gate (`tui.widgets.table_gate`, which says why not a transaction) while
it rewrites the tables, so a pane reads each table as it was before or as it is after, never half
built; the panes query again once it is done. Moves in quick succession: each newer worker
supersedes the older, which stops where it stands or does not start, so the tables always end as
the last split asks, whatever order the threads run in.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import duckdb
from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from tui.engine.analyses import tables as analyses
from tui.engine.analyses.filter import FilterError, add_term, parse_terms
from tui.engine.analyses.tables import Where
from tui.engine.core import timefmt
from tui.engine.core.safe import inert_cell
from tui.engine.indicators.split import Split
from tui.screens.shared import MainScreenBase
from tui.widgets.header_line import HeaderLine
from tui.widgets.pane_view import PaneView
from tui.widgets.table_gate import TABLES, Superseded
from tui.widgets.timeline import TimelineStrip

if TYPE_CHECKING:
    from tui.engine.case.session import Session

DAY = timedelta(days=1)
SPLIT_LOCK = threading.Lock()  # one writer of the annotated events at a time (split recompute, storing)


def split_label(split: Split | None) -> str:
    """`split 2023-05-28 21:06 UTC` (where the baseline ends and the hunt window begins)."""
    if split is None or split.window_start is None:
        return ""
    return f"split {timefmt.show(split.window_start, '%Y-%m-%d %H:%M')}"


def moved_split(split: Split | None, days: int) -> Split | None:
    """The split a day earlier/later, or None when the baseline or the window would be under a day."""
    if split is None:
        return None
    baseline_start, window_start, window_end = split.baseline_start, split.window_start, split.window_end
    if baseline_start is None or window_start is None or window_end is None:
        return None  # the data has no times
    start = window_start + DAY * days
    if start - baseline_start < DAY or window_end - start < DAY:
        return None
    return dataclasses.replace(split, baseline_end=start, window_start=start)


def narrowed(text: str, start: datetime, end: datetime) -> str:
    """The filter with its time-range terms replaced by `ts>=start ts<end`."""
    kept = [
        text[t.start : t.end]
        for t in parse_terms(text)
        if not (t.field in ("ts", "time") and t.op in (">", ">=", "<", "<=") and not t.negate)
    ]
    out = add_term(" ".join(kept), "ts", ">=", start)
    return add_term(out, "ts", "<", end)


def recompute(
    con: duckdb.DuckDBPyConnection,
    session: Session,
    split: Split,
    build: bool,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """The split's indicators (NEW_APP_FOR_MAILBOX, IMPOSSIBLE_TRAVEL) and the stored events, then
    (with `build`) the pane tables, behind the table gate (no reader meanwhile).

    `stop`: this recompute is moot (a newer split was asked for); checked once the locks are held,
    it raises `Superseded` there instead of starting. The panes query again when it is done.
    """
    from tui.engine.indicators.run import resplit

    with SPLIT_LOCK, TABLES.writing(stop):
        if stop():
            raise Superseded
        resplit(con, session.options, session.case.intel, session.annotation.org, split)
        if build:
            analyses.build(con, split)


class TimeControls(MainScreenBase):
    """The drift split and the timeline for `MainScreen`."""

    def init_time_controls(self) -> None:
        self._resplitting = False  # a recompute is running (a newer move interrupts it)
        # guards `_resplit_cursor`: the worker sets it, the UI thread interrupts it
        self._resplit_lock = threading.Lock()
        self._resplit_cursor: duckdb.DuckDBPyConnection | None = None

    @dataclass
    class _Resplit(Message):
        """The drift split moved and every split-dependent table is recomputed (or failed)."""

        split: Split
        error: str | None = None

    @dataclass
    class _Timeline(Message):
        """Hourly counts for the Events filter `filter_text`."""

        filter_text: str
        rows: list[tuple[datetime, int, int]]

    # ---- the drift split --------------------------------------------------------------------

    def move_split(self, days: int) -> None:
        if self.session is None or not all(v.ready for v in self.query(PaneView)):
            self.notify("the panes are still loading", severity="warning")
            return
        if self.session.folder is not None:  # its drift table and model were built for the scan's split
            self.notify(
                "a findings folder keeps the split of its scan; scan the evidence with --baseline-until "
                "to move it",
                severity="warning",
            )
            return
        split = moved_split(self.session.annotation.split, days)
        if split is None:
            self.notify("the baseline and the window each need at least a day", severity="warning")
            return
        self.session.annotation = dataclasses.replace(self.session.annotation, split=split)
        self._show_split(busy=True)
        self.stop_resplit()  # the recompute for the previous split is now moot
        self._resplitting = True
        self._resplit(self.session, split)  # exclusive: starting it cancels the previous worker

    def stop_resplit(self) -> None:
        """Interrupt the running recompute's query (a newer split, or quitting)."""
        with self._resplit_lock:
            cursor, self._resplit_cursor = self._resplit_cursor, None
        if cursor is not None:
            try:
                cursor.interrupt()
            except duckdb.Error:
                pass  # finished and closed meanwhile

    @work(thread=True, exclusive=True, group="split", exit_on_error=False, name="recomputing the drift split")
    def _resplit(self, session: Session, split: Split) -> None:
        worker = get_current_worker()
        cursor = session.cursor()
        with self._resplit_lock:
            if worker.is_cancelled:  # a newer split was asked for before this one began
                cursor.close()
                return
            self._resplit_cursor = cursor
        try:
            recompute(cursor, session, split, build=True, stop=lambda: worker.is_cancelled)
        except (duckdb.InterruptException, Superseded):
            return
        except duckdb.Error as exc:
            self.post_message(self._Resplit(split, inert_cell(str(exc).splitlines()[0])))
            return
        finally:
            with self._resplit_lock:
                if self._resplit_cursor is cursor:
                    self._resplit_cursor = None
            cursor.close()
        self.post_message(self._Resplit(split))

    def on_time_controls__resplit(self, message: TimeControls._Resplit) -> None:
        if self.session is None or message.split != self.session.annotation.split:
            return  # the analyst moved it again meanwhile
        self._resplitting = False
        self._show_split()
        if message.error:
            self.notify(f"recomputing failed: {message.error}", severity="error")
            return
        for view in self.query(PaneView):
            view.refresh_rows()
        self.save_session_state()
        self.notify(
            f"Drift and NEW_APP_FOR_MAILBOX recomputed for the {split_label(message.split)}", timeout=4
        )

    def _show_split(self, busy: bool = False) -> None:
        label = split_label(self.session.annotation.split) if self.session is not None else ""
        self.query_one(HeaderLine).split = label + (" (recomputing…)" if busy and label else "")

    # ---- the timeline -----------------------------------------------------------------------

    def refresh_timeline(self) -> None:
        events = self.pane("events")
        if self.session is not None and events.ready:
            self._timeline(self.session, events.filter_text, events.where)

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False, name="counting events per hour")
    def _timeline(self, session: Session, text: str, where: Where) -> None:
        worker = get_current_worker()
        cursor = session.cursor()
        try:
            with TABLES.reading(stop=lambda: worker.is_cancelled):
                table = analyses.run(cursor, "timeline", (), where)
        except (duckdb.InterruptException, Superseded):
            return
        finally:
            cursor.close()
        rows = [(r["hour"], r["events"], r["flagged"]) for r in table.to_pylist()]
        self.post_message(self._Timeline(text, rows))

    def on_time_controls__timeline(self, message: TimeControls._Timeline) -> None:
        if message.filter_text == self.pane("events").filter_text:
            self.query_one(TimelineStrip).show(message.rows)

    def on_timeline_strip_span_chosen(self, message: TimelineStrip.SpanChosen) -> None:
        events = self.pane("events")
        try:
            text = narrowed(events.filter_text, message.start, message.end)
        except FilterError as exc:
            self.notify(exc.message, severity="warning")
            return
        self._apply(events, text)
        self.action_pane("events")

    def on_timeline_strip_left(self, message: TimelineStrip.Left) -> None:
        self.pane().table.focus()


__all__ = ["SPLIT_LOCK", "TimeControls", "moved_split", "narrowed", "recompute", "split_label"]
