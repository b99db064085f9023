"""The detail panel: why the selected row is flagged (indicators with evidence, claims, baseline)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from tui.engine.analyses.explain import Detail, explain
from tui.widgets.page_backend import SEVERITY_STYLES
from tui.widgets.pane_cursors import CursorSource
from tui.widgets.table_gate import TABLES, Superseded
from tui.widgets.worker_errors import ReportsWorkerErrors

DEBOUNCE_S = 0.08  # holding an arrow key should not queue a query per row


class DetailPanel(ReportsWorkerErrors, VerticalScroll):
    """Shows the explanation of the row the screen hands it (`show`), fetched in a worker."""

    @dataclass
    class _Ready(Message):
        """The explanation for request `serial` is built."""

        serial: int
        detail: Detail | None
        error: str | None = None

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.session: CursorSource | None = None  # the Session, or the Tokens preview's cursors
        self.detail: Detail | None = None
        self._serial = 0
        self._timer: Timer | None = None
        self._pending: tuple[str, dict[str, Any] | None, bool] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("select a row to see why it is flagged", style="dim"), id="detail-body")

    def show(self, pane: str, row: dict[str, Any] | None, empty: bool = False) -> None:
        """Explain this row of this pane (None: its page is still loading; `empty`: the pane has no rows)."""
        self._serial += 1
        self._pending = (pane, row, empty)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_S, self._start)

    def _start(self) -> None:
        if self._pending is None or self.session is None:
            return
        pane, row, empty = self._pending
        if empty:
            self.detail = None
            self._body(Text("no rows to explain", style="dim"))
            return
        if row is None:
            self._body(Text("loading…", style="dim"))
            return
        self._explain(self.session, self._serial, pane, row)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False, name="explaining the row")
    def _explain(self, session: CursorSource, serial: int, pane: str, row: dict[str, Any]) -> None:
        worker = get_current_worker()
        cursor = session.cursor()
        try:
            # the Session once opened (during the Tokens preview `session` is its cursors only); the
            # TUI never shows a raw token, so the original record's are always hidden
            with TABLES.reading(stop=lambda: worker.is_cancelled):
                detail = explain(cursor, pane, row, report=getattr(session, "report", None))
            self.post_message(self._Ready(serial, detail))
        except Superseded:
            return  # another row was chosen meanwhile
        except duckdb.Error as exc:
            self.post_message(self._Ready(serial, None, str(exc).splitlines()[0]))
        finally:
            cursor.close()

    def on_detail_panel__ready(self, message: DetailPanel._Ready) -> None:
        message.stop()
        if message.serial != self._serial:
            return
        if message.detail is None:
            self._body(Text(f"could not explain this row: {message.error}", style="red"))
            return
        self.detail = message.detail
        self._body(render_detail(message.detail, self._inline_width()))
        self.scroll_home(animate=False)

    def _inline_width(self) -> int:
        """How long a label and its text may be to share a line: the panel's width (at least the
        narrow panel's 40), so a widened panel (`z`) is not wrapped as the narrow one is."""
        return max(INLINE_WIDTH, self.scrollable_content_region.width - 4)

    def on_resize(self) -> None:
        if self.detail is not None:
            self._body(render_detail(self.detail, self._inline_width()))

    def _body(self, text: Text) -> None:
        self.query_one("#detail-body", Static).update(text)

    @property
    def plain(self) -> str:
        """What the panel shows, as text (for tests and the e2e check)."""
        return render_detail(self.detail).plain if self.detail else ""


INLINE_WIDTH = 40  # the narrow panel's: a longer label + text puts the text on its own line


def render_detail(detail: Detail, inline_width: int = INLINE_WIDTH) -> Text:
    """Sections as styled lines; every string came through inert_cell, and Text never parses markup."""
    out = Text()
    out.append(detail.title + "\n", style="bold")
    for section in detail.sections:
        out.append("\n" + section.title + "\n", style="bold underline")
        for line in section.lines:
            style = SEVERITY_STYLES.get(line.style, "dim" if line.style == "dim" else "")
            out.append(line.label, style=style or "bold")
            if line.style in SEVERITY_STYLES and line.style not in (line.label, line.text):
                out.append(f"  {line.style}", style=style)
            if line.text:
                out.append(
                    "\n    " + line.text
                    if len(line.label) + len(line.text) > inline_width
                    else "  " + line.text
                )
            out.append("\n")
    return out
