"""One pane: its table, its `shown of total` line, its filter, and the workers that query for it.

The pane owns its queries. A new filter starts a `query` worker (count + first page) on its own
DuckDB cursor; a newer filter interrupts that cursor, so a slow superseded query stops at once and
its result, if any, is dropped by generation. Pages the table asks for are fetched by a `pages`
worker in the same way. The table keeps showing the last good result until a new one is ready.
Every worker reads the tables through the gate (`tui.widgets.table_gate`), so none reads a table
the drift-split recompute is rebuilding.

Threads: the pane's state lives on the UI thread. A worker never reads or writes it (but `spec`,
fixed when the pane is made): it gets what it needs as arguments (`_Query`: the session, the
filter, the columns, the totals already known) and answers with a message, handled on the UI
thread. The one exception is `cursors` (`tui.widgets.pane_cursors`), the running workers'
cursors and the generation they work for, which the UI thread interrupts and moves on: that
object does both under its own lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Mount
from textual.message import Message
from textual.widget import Widget
from textual.widgets import LoadingIndicator, Static
from textual.worker import get_current_worker
from textual_fastdatatable import DataTable

from tui.engine.analyses.filter import FilterError, compile_filter
from tui.engine.analyses.marks import Mark
from tui.engine.analyses.pane_specs import PaneSpec
from tui.engine.analyses.panes import (
    PAGE_SIZE,
    Page,
    count_rows,
    fetch_page,
    flagged_count,
    token_position,
    widths,
)
from tui.engine.analyses.tables import Where, pane_columns
from tui.engine.core.safe import inert_cell
from tui.engine.core.schema import LOWER_CASE_FIELDS
from tui.widgets.flagged_jumps import FlaggedJumps
from tui.widgets.page_backend import PagedBackend
from tui.widgets.pane_cursors import CursorSource, PaneCursors
from tui.widgets.pane_table import PaneTable
from tui.widgets.table_gate import TABLES, Superseded
from tui.widgets.table_keys import TableKeys
from tui.widgets.worker_errors import ReportsWorkerErrors


@dataclass(frozen=True)
class _Query:
    """What a `query` worker needs, taken on the UI thread when the filter is applied."""

    generation: int
    session: CursorSource
    text: str
    where: Where
    follow: str | None  # a Tokens row key to find in the result
    order: str
    columns: dict[str, str]  # the pane's columns ({}: not known yet, the worker reads them)
    total: int | None  # the pane's grand total and flagged count, when still valid (None: count)
    flagged: int | None
    recount: bool  # count both afresh (a new split, the full table replacing the preview)


class PaneLoading(LoadingIndicator):
    """A pane's loading overlay: still `loading…` text instead of Textual's animated dots.

    The animation redraws 16 times a second for every pane; while a 10M-row export loads on two
    cores that was ~3 s of the main thread's CPU (py-spy), taken from the engine's threads, for no
    information: the header line already shows what is running and how far it is.
    """

    def on_mount(self, event: Mount) -> None:
        """No `auto_refresh`: the base classes' mount handlers (LoadingIndicator's sets it) are not run."""
        event.prevent_default()

    def render(self) -> Text:
        return Text("loading…", style="dim")


class PaneView(TableKeys, FlaggedJumps, ReportsWorkerErrors, Vertical):
    """A pane of the main screen; the screen sets `session` and `marks`, then calls `apply_filter`."""

    def get_loading_widget(self) -> Widget:
        return PaneLoading()

    @dataclass
    class Loaded(Message):
        """A filter's first page and counts are on screen."""

        pane: str
        filter_text: str
        shown: int
        total: int
        flagged: int | None

    @dataclass
    class QueryFailed(Message):
        """DuckDB refused a filter that compiled; the previous result stays."""

        pane: str
        filter_text: str
        message: str

    @dataclass
    class RowChosen(Message):
        """The cursor rests on a row (None while its page is still coming, or `empty`: no rows)."""

        pane: str
        row: dict[str, Any] | None
        empty: bool = False

    @dataclass
    class TermWanted(Message):
        """`f`/`x`: add `column = value` (or its negation) to this pane's filter."""

        pane: str
        column: str
        value: object
        negate: bool

    @dataclass
    class DrillWanted(Message):
        """`enter`: show the events of this token, mailbox or user."""

        pane: str
        field: str
        value: object

    @dataclass
    class MarkWanted(Message):
        """`space` toggles the row's mark; `m` asks for a verdict and a note."""

        pane: str
        key: str
        row: dict[str, Any]
        verdict: bool

    @dataclass
    class _Arrived(Message):
        """A worker finished: a new result (first page) or more pages of the current one."""

        generation: int
        pages: tuple[Page, ...]
        total: int | None = None
        grand_total: int | None = None
        flagged: int | None = None
        filter_text: str = ""
        where: Where | None = None
        columns: dict[str, str] | None = None
        cursor_row: int | None = None  # where the cursor goes (the followed key's place)
        recounted: bool = False  # the totals were counted afresh (a pending recount is done)

    def __init__(self, spec: PaneSpec) -> None:
        super().__init__(id=f"pane-{spec.name}", classes="pane")
        self.spec = spec
        self.session: CursorSource | None = None
        self.marks: dict[str, Mark] = {}  # key → this pane's own marks (the screen's book)
        self.filter_text = ""  # the last filter that produced the rows on screen
        self._requested = ""  # the last filter asked for (its rows may still be coming)
        self.where = Where()
        self.shown = 0
        self.total: int | None = None
        self.flagged: int | None = None
        self._columns: dict[str, str] = {}
        self._widths: tuple[int, ...] | None = None
        self.cursors = PaneCursors()  # the running workers' cursors and the generation they work for
        self._wanted: set[int] = set()
        self._keep_cursor = False
        self._recount = False  # the grand total and flags may have changed (a new split)
        self.pending = False  # showing the Tokens preview: usage columns and indicators still to come
        self.checking = False  # the preview's signatures are still being checked (`sig = checking`)
        self.init_order()

    def compose(self) -> ComposeResult:
        yield PaneTable(id=f"table-{self.spec.name}")
        yield Static("", id=f"status-{self.spec.name}", classes="pane-status", markup=False)

    @property
    def table(self) -> PaneTable:
        return self.query_one(PaneTable)

    @property
    def ready(self) -> bool:
        return self.total is not None

    # ---- filtering --------------------------------------------------------------------------

    def check_filter(self, text: str) -> tuple[Where, str | None]:
        """Compile filter text against this pane's columns; the error message if it does not."""
        try:
            compiled = compile_filter(text, self._columns, LOWER_CASE_FIELDS)
        except FilterError as exc:
            return self.where, f"{exc.message} (at {exc.position + 1})"
        return Where(compiled.where, compiled.params), None

    def refresh_rows(self) -> None:
        """Query the current filter again (marks or the split changed), keeping the cursor where it is;
        a filter asked for whose rows have not come yet is the current one."""
        if self.ready:
            self._recount = True
            self.apply_filter(self._requested, keep_cursor=True)

    def replaced(self, pending: bool = False) -> None:
        """The pane's table was replaced by the full one (after the preview; `pending`: by the preview
        with its signatures checked): query it again with the same filter, counting and measuring
        its columns afresh. A cursor moved off the first row goes back to the same token wherever
        the new order puts it (to the first row when the filter now leaves it out); one still on the
        first row stays there, on the worst token of the new order."""
        backend, row = self.table.paged, self.table.cursor_row
        follow = backend.key_at(row) if backend is not None and row > 0 else None
        self.pending = pending
        self.checking = False
        self._widths = None
        self._recount = True
        self.apply_filter(self._requested, follow=follow)

    def apply_filter(self, text: str, keep_cursor: bool = False, follow: str | None = None) -> str | None:
        """Start the query for `text`; returns the inline error instead when it does not compile.

        `follow`: a Tokens row key to put the cursor on in the result, wherever it stands."""
        where, error = self.check_filter(text)
        if error is None and self.session is not None:
            self._keep_cursor = keep_cursor
            self._requested = text
            generation = self.cursors.supersede("query", "pages")
            self.set_class(True, "-querying")
            known = not self._recount
            self._run_query(
                _Query(
                    generation,
                    self.session,
                    text,
                    where,
                    follow,
                    self.order_sql,
                    dict(self._columns),
                    self.total if known else None,
                    self.flagged if known else None,
                    self._recount,
                )
            )
        return error

    @work(thread=True, exclusive=True, group="query", exit_on_error=False, name="running the filter")
    def _run_query(self, query: _Query) -> None:
        worker = get_current_worker()
        cursor = self.cursors.take("query", query.session, query.generation)
        if cursor is None:
            return
        spec, where, order = self.spec, query.where, query.order
        place: int | None = None
        try:
            with TABLES.reading(stop=lambda: worker.is_cancelled):
                columns = query.columns or pane_columns(cursor, spec.name)
                shown = count_rows(cursor, spec, where)
                pages = [fetch_page(cursor, spec, where, 0, order=order)]
                if query.follow is not None and spec.name == "tokens":
                    place = token_position(cursor, where, query.follow, order)
                    if place is not None and place >= PAGE_SIZE:
                        pages.append(fetch_page(cursor, spec, where, place - place % PAGE_SIZE, order=order))
                grand = query.total if query.total is not None else count_rows(cursor, spec)
                flagged = query.flagged if query.flagged is not None else flagged_count(cursor, spec)
        except (duckdb.InterruptException, Superseded):
            return  # superseded by a newer filter
        except duckdb.Error as exc:
            if not worker.is_cancelled:
                self.post_message(
                    self.QueryFailed(spec.name, query.text, inert_cell(str(exc).splitlines()[0]))
                )
            return
        finally:
            self.cursors.release("query", cursor)
        self.post_message(
            self._Arrived(
                query.generation,
                tuple(pages),
                shown,
                grand,
                flagged,
                query.text,
                where,
                columns,
                place,
                recounted=query.recount,
            )
        )

    # ---- pages ----------------------------------------------------------------------------

    def _want(self, page: int) -> None:
        """The table drew a row whose page is away: fetch it soon (once per refresh)."""
        if not self._wanted:
            self.call_later(self._fetch_wanted)
        self._wanted.add(page)

    def _fetch_wanted(self) -> None:
        backend = self.table.paged
        pages = sorted(p for p in self._wanted if backend is not None and not backend.has_page(p))
        self._wanted.clear()
        if pages and self.session is not None:
            self.cursors.interrupt("pages")
            self._run_pages(self.session, self.cursors.generation, self.where, pages, self.order_sql)

    @work(thread=True, exclusive=True, group="pages", exit_on_error=False, name="fetching a page")
    def _run_pages(
        self, session: CursorSource, generation: int, where: Where, numbers: list[int], order: str = ""
    ) -> None:
        worker = get_current_worker()
        cursor = self.cursors.take("pages", session, generation)
        if cursor is None:
            return
        try:
            with TABLES.reading(stop=lambda: worker.is_cancelled):
                for number in numbers:
                    if worker.is_cancelled:
                        return
                    page = fetch_page(cursor, self.spec, where, number * PAGE_SIZE, order=order)
                    self.post_message(self._Arrived(generation, (page,)))
        except (duckdb.InterruptException, Superseded):
            return
        finally:
            self.cursors.release("pages", cursor)

    def on_pane_view__arrived(self, message: PaneView._Arrived) -> None:
        message.stop()
        if message.generation != self.cursors.generation:
            return
        table = self.table
        if message.total is None:  # more pages of the current result
            backend = table.paged
            if backend is None:
                return
            for page in message.pages:
                backend.put(page)
            table.rows_changed()
            if backend.key_at(table.cursor_row) is not None and any(
                p.offset <= table.cursor_row < p.offset + len(p.cells) for p in message.pages
            ):
                self._choose(table.cursor_row)
            return
        first = message.pages[0]
        if self._widths is None:
            self._widths = widths(self.spec, first)
        backend = PagedBackend(
            column_names=first.columns,
            widths=self._widths,
            total=message.total,
            request=self._want,
            marks=self.marks,
            inherit=self.spec.name == "events",
        )
        for page in message.pages:
            backend.put(page)
        self.filter_text, self.where = message.filter_text, message.where or Where()
        if message.recounted:
            self._recount = False
        self._columns = message.columns or self._columns
        self.shown, self.total, self.flagged = message.total, message.grand_total, message.flagged
        self.set_class(False, "-querying")
        table.show(backend, keep_cursor=self._keep_cursor)
        if message.cursor_row is not None:
            table.move_cursor(row=message.cursor_row)
        self.loading = False
        self._update_status()
        self._choose(table.cursor_row)
        self.post_message(
            self.Loaded(self.spec.name, self.filter_text, self.shown, self.total or 0, self.flagged)
        )

    def on_pane_view_query_failed(self, message: PaneView.QueryFailed) -> None:
        self.set_class(False, "-querying")
        if message.filter_text == self._requested:
            self._requested = self.filter_text  # the rows on screen stay the current ones

    # ---- the cursor and the row keys ------------------------------------------------------------

    def _update_status(self) -> None:
        backend = self.table.paged
        where = f" · row {self.table.cursor_row + 1:,}" if self.shown else ""
        marked = f" · {len(self.marks):,} marked" if self.marks else ""
        if self.pending and self.checking:
            marked += " · claims and keys only: signatures being checked, usage still loading"
        elif self.pending:
            marked += " · claims and keys only: usage still loading"
        if self.order is not None:
            marked += f" · {self.order.label()}"
        shown = f"{self.shown:,} of {self.total or 0:,}"
        held = (
            f" · {backend.pages_held} page{'s' if backend.pages_held != 1 else ''} in memory"
            if backend is not None and self.spec.name == "events"
            else ""
        )
        self.query_one(".pane-status", Static).update(f"{shown}{where}{marked}{held}")

    def _choose(self, row: int) -> None:
        backend = self.table.paged
        raw = backend.raw_at(row) if backend is not None else None
        self.post_message(self.RowChosen(self.spec.name, raw, empty=backend is not None and not self.shown))

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        event.stop()
        self._update_status()
        self._choose(event.coordinate.row)

    def stop_queries(self) -> None:
        """Interrupt whatever this pane is running (on quit)."""
        self.cursors.supersede("query", "pages", "jump")
