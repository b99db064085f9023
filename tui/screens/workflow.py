"""The analyst's workflow on the main screen: marks and verdicts, the saved session, the drift split
and the timeline strip. A mixin of `MainScreen` (which owns the bindings) so each file stays small.

Marks live in `self.marks` (pane → key → Mark), mirrored into DuckDB's `marks` table by a worker
(the panes' queries join it) and into the state file in `state_dir()` after every change.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
from textual import work
from textual.message import Message

from tui.engine import analyses, timefmt
from tui.engine.filter import FilterError, add_term, parse_terms
from tui.engine.marks import ENTITY, Mark, ensure_marks, write_marks
from tui.engine.safe import inert_cell
from tui.engine.state import (
    InputFile,
    Restored,
    SavedState,
    input_files,
    inputs_key,
    load_state,
    local_marks,
    portable_marks,
    save_state,
)
from tui.screens.verdict_dialog import VerdictChoice, VerdictDialog
from tui.widgets.header_line import HeaderLine
from tui.widgets.pane_view import PaneView
from tui.widgets.timeline import TimelineStrip

DAY = timedelta(days=1)
SPLIT_LOCK = threading.Lock()  # one writer of the annotated events at a time (split recompute, storing)


def split_label(split: Any) -> str:
    """`split 2023-05-28 21:06 UTC` (where the baseline ends and the hunt window begins)."""
    if split is None or split.window_start is None:
        return ""
    return f"split {timefmt.show(split.window_start, '%Y-%m-%d %H:%M')}"


def _reason(exc: OSError) -> str:
    """Why the state folder failed, for the analyst: `the state folder /x cannot be used (…)`."""
    where = f" {exc.filename}" if exc.filename else ""
    return inert_cell(f"the state folder{where} cannot be used ({exc.strerror or type(exc).__name__})")


def moved_split(split: Any, days: int) -> Any | None:
    """The split a day earlier/later, or None when the baseline or the window would be under a day."""
    if split is None or split.window_start is None:
        return None
    start = split.window_start + DAY * days
    if start - split.baseline_start < DAY or split.window_end - start < DAY:
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


class Workflow:
    """Marks, verdicts, persistence, split and timeline for `MainScreen`."""

    marks: dict[str, dict[str, Mark]]
    session: Any
    current: str

    @dataclass
    class _Restored(Message):
        """The inputs' content hashes are known and their saved state (if any) is read."""

        files: tuple[InputFile, ...]
        restored: Restored
        unreadable: str = ""  # why the state folder could not be read (the session then goes unsaved)

    @dataclass
    class _Resplit(Message):
        """The drift split moved and every split-dependent table is recomputed (or failed)."""

        split: Any
        error: str | None = None

    @dataclass
    class _Timeline(Message):
        """Hourly counts for the Events filter `filter_text`."""

        filter_text: str
        rows: list[tuple[datetime, int, int]]

    @dataclass
    class _MarksWritten(Message):
        """The marks table holds the marks as of change `serial`."""

        serial: int
        panes: tuple[str, ...]

    def init_workflow(self) -> None:
        self.files: tuple[InputFile, ...] = ()
        self.saved_filters: dict[str, str] = {}
        self.saved_pane: str | None = None
        self._state_ready = False
        self._mark_serial = 0
        self._resplitting = False
        self._marks_lock = threading.Lock()
        self._unsaved_said = False  # the "session state not saved" warning, given once

    # ---- restoring (called in the opening worker, on the session's own connection) ---------

    def restore_in_worker(
        self, con: duckdb.DuckDBPyConnection, session: Any, hashes: Mapping[str, Future[str]] | None = None
    ) -> None:
        """Hash the inputs (or take `hashes`, started while they loaded), read their saved state, put
        back its marks and split before the panes build."""
        files = input_files((Path(f.path) for f in session.report.files if Path(f.path).is_file()), hashes)
        unreadable = ""
        try:
            restored = load_state(files)
        except OSError as exc:  # no state folder can be made (read-only home, full disk): work on
            restored, unreadable = Restored(None), _reason(exc)
        ensure_marks(con)
        state = restored.state
        if state is not None:
            sources = {str(f.path): os.path.realpath(f.path) for f in session.report.files}
            sha = {f.path: f.sha256 for f in files}
            source_of_sha = {sha[p]: s for s, p in sources.items() if p in sha}
            state = dataclasses.replace(state, marks=local_marks(state.marks, source_of_sha))
            write_marks(con, state.marks)
            if state.split is not None:
                split = session.annotation.split
                bounds = [datetime.fromisoformat(b) for b in state.split]
                moved = dataclasses.replace(
                    split, baseline_start=bounds[0], baseline_end=bounds[1], window_start=bounds[2]
                )
                if moved != split and bounds[3] == split.window_end:
                    self._recompute(con, session, moved, build=False)
                    session.annotation = dataclasses.replace(session.annotation, split=moved)
            restored = dataclasses.replace(restored, state=state)
        self.post_message(self._Restored(files, restored, unreadable))  # type: ignore[attr-defined]

    def on_workflow__restored(self, message: Workflow._Restored) -> None:
        self.files = message.files
        self._state_ready = True
        if message.unreadable:
            self._unsaved(message.unreadable)
        state = message.restored.state
        if state is None:
            if message.restored.changed:
                names = ", ".join(inert_cell(Path(p).name) for p in message.restored.changed)
                self.notify(  # type: ignore[attr-defined]
                    f"{names} changed since the session of {inert_cell(message.restored.last_saved)} "
                    "(its content hash differs): starting clean",
                    title="input changed",
                    severity="warning",
                    timeout=20,
                )
            self._show_split()
            return
        for mark in state.marks:
            self.marks.setdefault(mark.pane, {})[mark.key] = mark
        self.saved_filters = dict(state.filters)
        self.saved_pane = state.pane
        self._show_split()
        if state.marks or any(state.filters.values()):
            self.notify(  # type: ignore[attr-defined]
                f"{len(state.marks):,} marks and the filters of your last session are back",
                title="session restored",
                timeout=6,
            )

    # ---- saving the state -------------------------------------------------------------------

    def save_session_state(self) -> None:
        """Write filters, marks, pane and split to the state file (cheap: a small JSON)."""
        if not self._state_ready or self.session is None:
            return
        sources = {str(f.path): os.path.realpath(f.path) for f in self.session.report.files}
        sha = {f.path: f.sha256 for f in self.files}
        sha_of_source = {s: sha[p] for s, p in sources.items() if p in sha}
        split = self.session.annotation.split
        every = [m for pane in self.marks.values() for m in pane.values()]
        try:
            self._write_state(split, every, sha_of_source)
        except OSError as exc:  # a read-only or full state folder must not end the session
            self._unsaved(_reason(exc))

    def _unsaved(self, reason: str) -> None:
        """Say once that marks, verdicts and filters will not outlive this session, and why."""
        if self._unsaved_said:
            return
        self._unsaved_said = True
        self.notify(  # type: ignore[attr-defined]
            f"{reason}: marks, verdicts and filters last until you quit (save a view with ctrl+s)",
            title="session state not saved",
            severity="warning",
            timeout=20,
        )

    def _write_state(self, split: Any, every: list[Mark], sha_of_source: Mapping[str, str]) -> None:
        save_state(
            SavedState(
                key=inputs_key(self.files),
                inputs=self.files,
                pane=self.saved_pane or self.current,  # until the restored pane is shown
                filters={
                    v.spec.name: self.saved_filters.get(v.spec.name, v.filter_text)  # pending ones too
                    for v in self.query(PaneView)  # type: ignore[attr-defined]
                },
                marks=portable_marks(every, sha_of_source),
                split=tuple(b.isoformat() for b in analyses.split_params(split))  # type: ignore[arg-type]
                if split.window_start is not None
                else None,
            )
        )

    # ---- marks ------------------------------------------------------------------------------

    def on_pane_view_mark_wanted(self, message: PaneView.MarkWanted) -> None:
        if self.session is None:  # the Tokens preview: the marks table comes with the session
            self.notify("marks can be set once the inputs are read", severity="warning")  # type: ignore[attr-defined]
            return
        book = self.marks.setdefault(message.pane, {})
        existing = book.get(message.key)
        if not message.verdict:
            if existing is None:
                self._set_mark(Mark(message.pane, message.key, marked_at=_now()))
            else:
                self._drop_mark(message.pane, message.key)
            return
        what = f"{ENTITY[message.pane]} {message.key}"

        def chosen(choice: VerdictChoice | None) -> None:
            if choice is None:
                return
            if choice.remove:
                self._drop_mark(message.pane, message.key)
            else:
                self._set_mark(Mark(message.pane, message.key, choice.verdict, choice.note, _now()))

        self.app.push_screen(  # type: ignore[attr-defined]
            VerdictDialog(
                what,
                existing.verdict if existing else None,
                existing.note if existing else "",
                existing is not None,
            ),
            chosen,
        )

    def _set_mark(self, mark: Mark) -> None:
        self.marks.setdefault(mark.pane, {})[mark.key] = mark
        self._marks_changed(mark.pane)

    def _drop_mark(self, pane: str, key: str) -> None:
        self.marks.setdefault(pane, {}).pop(key, None)
        self._marks_changed(pane)

    def _marks_changed(self, pane: str) -> None:
        view = self.pane(pane)  # type: ignore[attr-defined]
        view.table.rows_changed()
        view._update_status()
        self._mark_serial += 1
        every = [m for marks in self.marks.values() for m in marks.values()]
        self._write_marks(self._mark_serial, every, (pane, "events"))
        self.save_session_state()

    @work(thread=True, group="marks", exit_on_error=False, name="saving the marks")
    def _write_marks(self, serial: int, marks: list[Mark], panes: tuple[str, ...]) -> None:
        with self._marks_lock:
            if serial != self._mark_serial:
                return  # a newer change writes the newer marks
            cursor = self.session.cursor()
            try:
                write_marks(cursor, marks)
            finally:
                cursor.close()
        self.post_message(self._MarksWritten(serial, panes))  # type: ignore[attr-defined]

    def on_workflow__marks_written(self, message: Workflow._MarksWritten) -> None:
        for name in dict.fromkeys(message.panes):
            self.pane(name).refresh_rows()  # type: ignore[attr-defined]

    # ---- the drift split --------------------------------------------------------------------

    def move_split(self, days: int) -> None:
        if self.session is None or not all(v.ready for v in self.query(PaneView)):  # type: ignore[attr-defined]
            self.notify("the panes are still loading", severity="warning")  # type: ignore[attr-defined]
            return
        split = moved_split(self.session.annotation.split, days)
        if split is None:
            self.notify("the baseline and the window each need at least a day", severity="warning")  # type: ignore[attr-defined]
            return
        self.session.annotation = dataclasses.replace(self.session.annotation, split=split)
        self._show_split(busy=True)
        if self._resplitting:
            try:
                self.session.con.interrupt()  # the recompute for the previous split is now moot
            except duckdb.Error:
                pass
        self._resplitting = True
        self._resplit(split)

    @work(thread=True, group="split", exit_on_error=False, name="recomputing the drift split")
    def _resplit(self, split: Any) -> None:
        try:
            self._recompute(self.session.con, self.session, split, build=True)
        except duckdb.InterruptException:
            return
        except duckdb.Error as exc:
            self.post_message(self._Resplit(split, inert_cell(str(exc).splitlines()[0])))  # type: ignore[attr-defined]
            return
        self.post_message(self._Resplit(split))  # type: ignore[attr-defined]

    @staticmethod
    def _recompute(con: duckdb.DuckDBPyConnection, session: Any, split: Any, build: bool) -> None:
        """NEW_APP_FOR_MAILBOX, then (with `build`) tokens, mailboxes and drift.

        Not one transaction: annotate keeps per-row tables in an attached work database, and a
        DuckDB transaction may write to one database only. The panes query again when it is done.
        """
        from tui.engine.annotate import resplit

        with SPLIT_LOCK:
            resplit(con, session.options, session.annotation.org, split)
            if build:
                analyses.build(con, split)

    def on_workflow__resplit(self, message: Workflow._Resplit) -> None:
        if message.split != self.session.annotation.split:
            return  # the analyst moved it again meanwhile
        self._resplitting = False
        self._show_split()
        if message.error:
            self.notify(f"recomputing failed: {message.error}", severity="error")  # type: ignore[attr-defined]
            return
        for view in self.query(PaneView):  # type: ignore[attr-defined]
            view.refresh_rows()
        self.save_session_state()
        self.notify(  # type: ignore[attr-defined]
            f"Drift and NEW_APP_FOR_MAILBOX recomputed for the {split_label(message.split)}", timeout=4
        )

    def _show_split(self, busy: bool = False) -> None:
        label = split_label(self.session.annotation.split) if self.session is not None else ""
        self.query_one(HeaderLine).split = label + (" (recomputing…)" if busy and label else "")  # type: ignore[attr-defined]

    # ---- the timeline -----------------------------------------------------------------------

    def refresh_timeline(self) -> None:
        events = self.pane("events")  # type: ignore[attr-defined]
        if self.session is not None and events.ready:
            self._timeline(events.filter_text, events.where)

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False, name="counting events per hour")
    def _timeline(self, text: str, where: Any) -> None:
        cursor = self.session.cursor()
        try:
            table = analyses.run(cursor, "timeline", (), where)
        except duckdb.InterruptException:
            return
        finally:
            cursor.close()
        rows = [(r["hour"], r["events"], r["flagged"]) for r in table.to_pylist()]
        self.post_message(self._Timeline(text, rows))  # type: ignore[attr-defined]

    def on_workflow__timeline(self, message: Workflow._Timeline) -> None:
        if message.filter_text == self.pane("events").filter_text:  # type: ignore[attr-defined]
            self.query_one(TimelineStrip).show(message.rows)  # type: ignore[attr-defined]

    def on_timeline_strip_span_chosen(self, message: TimelineStrip.SpanChosen) -> None:
        events = self.pane("events")  # type: ignore[attr-defined]
        try:
            text = narrowed(events.filter_text, message.start, message.end)
        except FilterError as exc:
            self.notify(exc.message, severity="warning")  # type: ignore[attr-defined]
            return
        self._apply(events, text)  # type: ignore[attr-defined]
        self.action_pane("events")  # type: ignore[attr-defined]

    def on_timeline_strip_left(self, message: TimelineStrip.Left) -> None:
        self.pane().table.focus()  # type: ignore[attr-defined]


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
