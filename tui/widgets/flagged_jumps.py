"""`n` / `N` on the Events pane: the cursor to the next / previous flagged event under the filter.

What lnav's `e` / `E` (next / previous error) are to a log: an analyst drilled into a mailbox
(`mailbox = …`, hundreds of events) goes from one forged-token access to the next while the rows
around each stay in view — what happened just before, from which IP — which a `severity>=medium`
filter would hide. "Flagged" is severity medium or worse, as the timeline and the tabs' ⚑ count it.

A mixin of `PaneView`: the search runs on its own DuckDB cursor in a worker (two queries over the
filtered events: the neighbour's row number, then its place); the table fetches the page it lands
on as it draws it, like any scroll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from tui.engine.analyses.panes import flagged_neighbour
from tui.widgets.pane_cursors import PaneCursors
from tui.widgets.table_gate import TABLES, Superseded


class FlaggedJumps:
    """`jump_flagged(forward)` for `PaneView` (which supplies the table, cursors and generation)."""

    spec: Any
    table: Any
    where: Any
    cursors: PaneCursors

    @dataclass
    class Jumped(Message):
        """The neighbour's place in the pane (None: there is none that way)."""

        generation: int
        place: int | None
        forward: bool

    def jump_flagged(self, forward: bool) -> None:
        """Start the search from the row under the cursor (Events pane only)."""
        view: Any = self
        if self.spec.name != "events":
            view.notify("n / N move between flagged events on the Events pane (4)", severity="warning")
            return
        backend = self.table.paged
        raw = backend.raw_at(self.table.cursor_row) if backend is not None else None
        if raw is None or raw.get("rn") is None:
            view.notify("that row is still loading", severity="warning")
            return
        if view.session is None:
            return
        view.cursors.interrupt("jump")
        self._run_jump(view.session, self.cursors.generation, self.where, int(raw["rn"]), forward)

    @work(thread=True, exclusive=True, group="jump", exit_on_error=False, name="finding a flagged event")
    def _run_jump(self, session: Any, generation: int, where: Any, rn: int, forward: bool) -> None:
        view: Any = self
        worker = get_current_worker()
        cursor = view.cursors.take("jump", session, generation)
        if cursor is None:
            return  # the filter changed before the search began
        try:
            with TABLES.reading(stop=lambda: worker.is_cancelled):
                place = flagged_neighbour(cursor, where, rn, forward)
        except (duckdb.InterruptException, Superseded):
            return  # superseded by another jump or a new filter
        finally:
            view.cursors.release("jump", cursor)
        view.post_message(self.Jumped(generation, place, forward))

    def on_flagged_jumps_jumped(self, message: FlaggedJumps.Jumped) -> None:
        message.stop()
        if message.generation != self.cursors.generation:
            return  # the filter changed meanwhile: the place belongs to other rows
        if message.place is None:
            way = "after" if message.forward else "before"
            view: Any = self
            view.notify(f"no flagged event {way} this one under this filter")
            return
        table = self.table
        # the landing row mid-screen, so the events after it show as well as those before (the
        # cursor's own scroll would leave it on the bottom line)
        table.scroll_to(y=max(message.place - table.scrollable_content_region.height // 2, 0), animate=False)
        table.move_cursor(row=message.place)
