"""The analyst's workflow on the main screen: marks and verdicts, and the saved session (the drift
split and the timeline are `tui.screens.time_controls`). A mixin of `MainScreen` (which owns the
bindings) so each file stays small.

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
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from textual import work
from textual.message import Message

from tui.engine.analyses import tables as analyses
from tui.engine.analyses.marks import ENTITY, Mark, ensure_marks, write_marks
from tui.engine.case.state import (
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
from tui.engine.core.safe import inert_cell
from tui.engine.indicators.split import Split
from tui.screens.shared import MainScreenBase
from tui.screens.time_controls import recompute
from tui.screens.verdict_dialog import VerdictChoice, VerdictDialog
from tui.widgets.pane_view import PaneView

if TYPE_CHECKING:
    from tui.engine.case.session import Session


def _reason(exc: OSError) -> str:
    """Why the state folder failed, for the analyst: `the state folder /x cannot be used (…)`."""
    where = f" {exc.filename}" if exc.filename else ""
    return inert_cell(f"the state folder{where} cannot be used ({exc.strerror or type(exc).__name__})")


class Workflow(MainScreenBase):
    """Marks, verdicts and persistence for `MainScreen`."""

    @dataclass
    class _Restored(Message):
        """The inputs' content hashes are known and their saved state (if any) is read."""

        files: tuple[InputFile, ...]
        restored: Restored
        unreadable: str = ""  # why the state folder could not be read (the session then goes unsaved)

    @dataclass
    class _MarksWritten(Message):
        """The marks table holds the marks as of change `serial`."""

        serial: int
        panes: tuple[str, ...]

    def init_workflow(self) -> None:
        self.files: tuple[InputFile, ...] = ()
        self.saved_filters: dict[str, str] = {}
        self.saved_sorts: dict[str, tuple[str, bool]] = {}
        self.saved_pane: str | None = None
        self._state_ready = False
        self._mark_serial = 0
        self._marks_lock = threading.Lock()
        self._unsaved_said = False  # the "session state not saved" warning, given once

    # ---- restoring (called in the opening worker, on the session's own connection) ---------

    def restore_in_worker(
        self,
        con: duckdb.DuckDBPyConnection,
        session: Session,
        hashes: Mapping[str, Future[str]] | None = None,
    ) -> None:
        """Hash the inputs (or take `hashes`, started while they loaded), read their saved state, put
        back its marks and split before the panes build."""
        if session.folder is not None:  # a findings folder is its own input set: its files' content
            files = input_files(session.folder.files())
        else:
            files = input_files(
                (Path(f.path) for f in session.report.files if Path(f.path).is_file()), hashes
            )
        unreadable = ""
        try:
            restored = load_state(files)
        except OSError as exc:  # no state folder can be made (read-only home, full disk): work on
            restored, unreadable = Restored(None), _reason(exc)
        ensure_marks(con)
        state = restored.state
        if state is not None:
            source_of_sha = {sha: source for source, sha in _sha_of_source(session, files).items()}
            state = dataclasses.replace(state, marks=local_marks(state.marks, source_of_sha))
            write_marks(con, state.marks)
            if state.split is not None:
                split = session.annotation.split
                bounds = [datetime.fromisoformat(b) for b in state.split]
                moved = dataclasses.replace(
                    split, baseline_start=bounds[0], baseline_end=bounds[1], window_start=bounds[2]
                )
                if moved != split and bounds[3] == split.window_end:
                    recompute(con, session, moved, build=False)
                    session.annotation = dataclasses.replace(session.annotation, split=moved)
            restored = dataclasses.replace(restored, state=state)
        self.post_message(self._Restored(files, restored, unreadable))

    def on_workflow__restored(self, message: Workflow._Restored) -> None:
        self.files = message.files
        self._state_ready = True
        if message.unreadable:
            self._unsaved(message.unreadable)
        state = message.restored.state
        if state is None:
            if message.restored.changed:
                names = ", ".join(inert_cell(Path(p).name) for p in message.restored.changed)
                self.notify(
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
        self.saved_sorts = dict(state.sorts)
        self.saved_pane = state.pane
        self._show_split()
        if state.marks or any(state.filters.values()):
            self.notify(
                f"{len(state.marks):,} marks and the filters of your last session are back",
                title="session restored",
                timeout=6,
            )

    # ---- saving the state -------------------------------------------------------------------

    def save_session_state(self) -> None:
        """Write filters, marks, pane and split to the state file (cheap: a small JSON)."""
        if not self._state_ready or self.session is None:
            return
        sha_of_source = _sha_of_source(self.session, self.files)
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
        self.notify(
            f"{reason}: marks, verdicts and filters last until you quit (save a view with ctrl+s)",
            title="session state not saved",
            severity="warning",
            timeout=20,
        )

    def _write_state(self, split: Split, every: list[Mark], sha_of_source: Mapping[str, str]) -> None:
        save_state(
            SavedState(
                key=inputs_key(self.files),
                inputs=self.files,
                pane=self.saved_pane or self.current,  # until the restored pane is shown
                filters={
                    v.spec.name: self.saved_filters.get(v.spec.name, v.filter_text)  # pending ones too
                    for v in self.query(PaneView)
                },
                sorts={  # a pane not shown yet keeps the one it was given back
                    **self.saved_sorts,
                    **{
                        v.spec.name: (v.order.column, v.order.descending)
                        for v in self.query(PaneView)
                        if v.order is not None
                    },
                },
                marks=portable_marks(every, sha_of_source),
                split=_split_bounds(split),
            )
        )

    # ---- marks ------------------------------------------------------------------------------

    def on_pane_view_mark_wanted(self, message: PaneView.MarkWanted) -> None:
        if self.session is None:  # the Tokens preview: the marks table comes with the session
            self.notify("marks can be set once the inputs are read", severity="warning")
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

        self.app.push_screen(
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
        view = self.pane(pane)
        view.table.rows_changed()
        view._update_status()
        self._mark_serial += 1
        every = [m for marks in self.marks.values() for m in marks.values()]
        if self.session is not None:
            self._write_marks(self.session, self._mark_serial, every, (pane, "events"))
        self.save_session_state()

    @work(thread=True, group="marks", exit_on_error=False, name="saving the marks")
    def _write_marks(self, session: Session, serial: int, marks: list[Mark], panes: tuple[str, ...]) -> None:
        with self._marks_lock:
            if serial != self._mark_serial:
                return  # a newer change writes the newer marks
            cursor = session.cursor()
            try:
                write_marks(cursor, marks)
            finally:
                cursor.close()
        self.post_message(self._MarksWritten(serial, panes))

    def on_workflow__marks_written(self, message: Workflow._MarksWritten) -> None:
        for name in dict.fromkeys(message.panes):
            self.pane(name).refresh_rows()


def _sha_of_source(session: Session, files: tuple[InputFile, ...]) -> dict[str, str]:
    """An event's `source` → the SHA-256 of its file, which event marks are stored against: the
    loaded inputs' hashes, or for a findings folder those its manifest pinned at the scan."""
    if session.folder is not None:
        return dict(session.folder.sha_of_source())
    sources = {str(f.path): os.path.realpath(f.path) for f in session.report.files}
    sha = {f.path: f.sha256 for f in files}
    return {s: sha[p] for s, p in sources.items() if p in sha}


def _split_bounds(split: Split) -> tuple[str, str, str, str] | None:
    """The split as the state file keeps it: its four bounds in ISO form (None: the data has no times)."""
    if split.window_start is None:
        return None
    a, b, c, d = (bound.isoformat() for bound in analyses.split_params(split))
    return a, b, c, d


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
