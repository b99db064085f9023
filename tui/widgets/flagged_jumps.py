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
from typing import TYPE_CHECKING, cast

import duckdb
from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from tui.engine.analyses.panes import flagged_neighbour
from tui.engine.analyses.tables import Where
from tui.widgets.pane_cursors import CursorSource
from tui.widgets.table_gate import TABLES, Superseded

if TYPE_CHECKING:
    from tui.widgets.pane_view import PaneView


class FlaggedJumps:
    """`jump_flagged(forward)` for `PaneView` (which supplies the table, cursors and generation)."""

    @property
    def _pane(self) -> PaneView:
        """The pane this is mixed into, as mypy should check it."""
        return cast("PaneView", self)

    @dataclass
    class Jumped(Message):
        """The neighbour's place in the pane (None: there is none that way)."""

        generation: int
        place: int | None
        forward: bool

    def jump_flagged(self, forward: bool) -> None:
        """Start the search from the row under the cursor (Events pane only)."""
        view = self._pane
        if view.spec.name != "events":
            view.notify("n / N move between flagged events on the Events pane (4)", severity="warning")
            return
        backend = view.table.paged
        raw = backend.raw_at(view.table.cursor_row) if backend is not None else None
        if raw is None or raw.get("rn") is None:
            view.notify("that row is still loading", severity="warning")
            return
        if view.session is None:
            return
        view.cursors.interrupt("jump")
        self._run_jump(view.session, view.cursors.generation, view.where, int(raw["rn"]), forward)

    @work(thread=True, exclusive=True, group="jump", exit_on_error=False, name="finding a flagged event")
    def _run_jump(self, session: CursorSource, generation: int, where: Where, rn: int, forward: bool) -> None:
        view = self._pane
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
        view = self._pane
        if message.generation != view.cursors.generation:
            return  # the filter changed meanwhile: the place belongs to other rows
        if message.place is None:
            way = "after" if message.forward else "before"
            view.notify(f"no flagged event {way} this one under this filter")
            return
        table = view.table
        # the landing row mid-screen, so the events after it show as well as those before (the
        # cursor's own scroll would leave it on the bottom line)
        table.scroll_to(y=max(message.place - table.scrollable_content_region.height // 2, 0), animate=False)
        table.move_cursor(row=message.place)
