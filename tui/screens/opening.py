"""Opening the inputs on the main screen: the loader worker, its progress, the Tokens preview, each
pane switched on as its table is built, and stopping it all on quit (a mixin of `MainScreen`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from textual import work
from textual.message import Message

from tui.engine.analyses.pane_specs import PANES
from tui.engine.analyses.panes import build_table, header_summary, progress_adapter
from tui.engine.case.folder import is_findings_folder
from tui.engine.core.db import connect, tables_on_disk_for
from tui.engine.core.safe import inert_cell
from tui.engine.ingest.load_report import said_once
from tui.screens.shared import MainScreenBase
from tui.screens.time_controls import SPLIT_LOCK
from tui.widgets.detail_panel import DetailPanel
from tui.widgets.header_line import HeaderLine
from tui.widgets.pane_view import PaneView

if TYPE_CHECKING:
    from tui.engine.case.session import Cursors, Session

PROGRESS_EVERY_S = 0.25
NOTES_SHOWN = 6  # notes in the opening toast; `triage inspect` lists every one
BUILD_ORDER = ("tokens", "events", "mailboxes", "drift", "sessions")  # the first pane first


class _Quit(Exception):
    """Raised inside the opening worker when the analyst quits while inputs are still loading."""


class Opening(MainScreenBase):
    """Load → (Tokens preview) → annotate → one pane table at a time, off the UI thread."""

    @dataclass
    class _Progress(Message):
        """Loading progress from the session worker."""

        stage: str
        fraction: float | None

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, Opening._Progress)

    @dataclass
    class _Opened(Message):
        """The inputs are loaded and annotated; `events` can be queried."""

        session: Session

    @dataclass
    class _Previewed(Message):
        """The tokens are decoded: a first `tokens` table (usage still pending) can be queried."""

        source: Cursors  # on the opening worker's connection
        checking: bool  # the signatures are still being checked (`sig = checking`); announced again after

    @dataclass
    class _Built(Message):
        """A pane's table exists now."""

        pane: str

    class _Scored(Message):
        """Every stored event has its behaviour-model score: the Events pane queries again (a saved
        `anomaly>…` filter ran on the rows before their scores were in)."""

    def init_opening(self) -> None:
        self._built: set[str] = set()
        self._stage = "loading"
        self._quitting = False
        self._busy_con: duckdb.DuckDBPyConnection | None = None  # the opening worker's, to interrupt

    @work(thread=True, exclusive=True, group="session", exit_on_error=False, name="opening the inputs")
    def _open_session(self) -> None:
        from tui.engine.analyses.model import score_events
        from tui.engine.case.session import Cursors, Session
        from tui.engine.case.state import hash_in_background
        from tui.engine.indicators.events_view import materialise_events
        from tui.engine.ingest.inputs import expand

        last = 0.0

        def say(stage: str, fraction: float) -> None:
            nonlocal last
            if self._quitting:
                raise _Quit  # the loader calls this between files and stages: stop there
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_S or fraction >= 1.0:
                last = now
                self.post_message(self._Progress(stage, fraction))

        if len(self.paths) == 1 and is_findings_folder(Path(self.paths[0])):
            self._open_folder(Path(self.paths[0]))
            return
        found, _, _ = expand(self.paths)
        hashes = hash_in_background(found)  # for the saved state; hashed while the inputs load
        self._busy_con = connect(tables_on_disk=tables_on_disk_for(found))
        source = Cursors(self._busy_con)
        try:
            session = Session.open(
                self.paths,
                self.options,
                progress_adapter(say),
                con=self._busy_con,
                materialise_events=False,
                previewed=lambda checking: self.post_message(self._Previewed(source, checking)),
            )
            self.post_message(self._Opened(session))
            self.post_message(self._Progress("hashing the inputs", 0.95))
            self.restore_in_worker(self._busy_con, session, hashes)
            self._busy_con = session.cursor()
            for step, name in enumerate(BUILD_ORDER):
                self.post_message(self._Progress(f"analysing {name}", 0.95 + 0.05 * step / len(BUILD_ORDER)))
                build_table(self._busy_con, name, session.annotation.split)
                self.post_message(self._Built(name))
            # The panes are up on rows annotated as they are read; storing the annotations makes
            # Events filters and pages fast (~10 s at 10M rows, while the analyst reads the Tokens pane).
            self.post_message(self._Progress("storing events", 0.99))
            with SPLIT_LOCK:
                materialise_events(self._busy_con)
                self.post_message(self._Progress("scoring events", 0.995))
                score_events(self._busy_con)  # each event's anomaly (SPEC §11), from the model drift learned
            self.post_message(self._Scored())
            self._busy_con.close()
        except (_Quit, duckdb.InterruptException):
            if not self._quitting:
                raise
            return
        self.post_message(self._Progress("", None))

    def _open_folder(self, path: Path) -> None:
        """A findings folder (SPEC §9): its case/ tables copied in, the saved state put back, every
        pane shown at once (nothing to analyse: `Session.open_case`). In the opening worker."""
        from tui.engine.case.session import Session

        self._busy_con = connect()
        self.post_message(self._Progress(f"reading the findings in {path}", 0.1))
        try:
            session = Session.open_case(path, self.options, con=self._busy_con)
            self.post_message(self._Opened(session))
            self.post_message(self._Progress("hashing the findings folder", 0.95))
            self.restore_in_worker(self._busy_con, session)
        except duckdb.InterruptException:
            if not self._quitting:
                raise
            return
        for name in BUILD_ORDER:
            self.post_message(self._Built(name))
        self.post_message(self._Progress("", None))

    def on_opening__progress(self, message: Opening._Progress) -> None:
        self._stage = message.stage
        self._show_activity(message.fraction)

    def on_opening__opened(self, message: Opening._Opened) -> None:
        self.session = session = message.session
        for view in self.query(PaneView):
            view.session = session
        self.query_one(DetailPanel).session = session
        report = session.report
        self.query_one(HeaderLine).summary = header_summary(report, session.annotation)
        for bad in report.errors:
            self.notify(
                f"{inert_cell(bad.path)}: {inert_cell(bad.error)}",
                title="unreadable input",
                severity="warning",
            )
        said = said_once([(str(f.path), f.note) for f in report.files if f.view and f.note])
        notes = [f"{inert_cell(who)}: {inert_cell(text)}" for who, text in said]
        notes += [inert_cell(n) for n in getattr(session.annotation, "notes", ())]
        if notes:  # as `triage inspect` and `triage scan` list them: a --map column no file has, a
            # key list without keys, an --ioc line skipped, a guessed CSV dialect or encoding
            more = (
                f"\n… and {len(notes) - NOTES_SHOWN} more (triage inspect lists them)"
                if len(notes) > NOTES_SHOWN
                else ""
            )
            self.notify("\n".join(notes[:NOTES_SHOWN]) + more, title="notes", severity="warning", timeout=20)
        if not report.files:
            self.notify(
                f"no input files found in {inert_cell(' '.join(self.paths))}", severity="error", timeout=30
            )

    def on_opening__previewed(self, message: Opening._Previewed) -> None:
        """Show the decoded tokens while the rows are stored (`tui.engine.case.preview`); the second time,
        with their signatures checked, keep the analyst's filter and token as the full table does."""
        view = self.pane("tokens")
        if view.pending:
            view.replaced(pending=True)
            return
        view.session = message.source
        view.pending = True
        view.checking = message.checking
        self.query_one(DetailPanel).session = message.source
        view.apply_filter(view.filter_text)

    def on_opening__scored(self, _: Opening._Scored) -> None:
        self.pane("events").refresh_rows()

    def on_opening__built(self, message: Opening._Built) -> None:
        view = self.pane(message.pane)
        if view.pending:
            # the full table replaces the preview: the analyst's filter stays (over a saved one)
            if view.filter_text:
                self.saved_filters.pop(message.pane, None)
            view.replaced()
        else:
            view.apply_filter("")  # its columns come with it; then the saved filter
        self._built.add(message.pane)
        if self._built == {spec.name for spec in PANES} and self.saved_pane in self._built:
            pane, self.saved_pane = self.saved_pane, None
            self.action_pane(pane)

    def _show_activity(self, fraction: float | None = None) -> None:
        header = self.query_one(HeaderLine)
        if self._stage:
            header.busy(self._stage, fraction)
        elif any(v.has_class("-querying") for v in self.query(PaneView)):
            header.busy("querying")
        else:
            header.busy("")

    def stop_queries(self) -> None:
        """Interrupt every running query, loading included (on quit)."""
        self._quitting = True
        for view in self.query(PaneView):
            view.stop_queries()
        self.stop_resplit()
        for con in (self._busy_con, self.session.con if self.session is not None else None):
            if con is not None:
                try:
                    con.interrupt()
                except duckdb.Error:
                    pass  # already closed
