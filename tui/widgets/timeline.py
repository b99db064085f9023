"""The timeline strip under the header: events per hour for the Events filter, flagged hours in red.

`t` focuses it; left/right move a cursor over its cells, shift+left/right stretch a span, enter
asks the screen to narrow the Events filter to that span (`ts>=… ts<…`), escape goes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from tui.engine.analyses.timeline import Strip, fold
from tui.engine.core import timefmt

LEGEND = 46  # columns kept at the right for the legend / the selection


class TimelineStrip(Widget, can_focus=True):
    """The screen hands it hourly rows (`show`); it posts `SpanChosen` and `Left`."""

    BINDINGS = [
        Binding("left", "move(-1)", "Earlier", id="timeline.left", show=False),
        Binding("right", "move(1)", "Later", id="timeline.right", show=False),
        Binding("shift+left", "stretch(-1)", "Span earlier", id="timeline.span_left", show=False),
        Binding("shift+right", "stretch(1)", "Span later", id="timeline.span_right", show=False),
        Binding("home", "jump(0)", "First hour", id="timeline.home", show=False),
        Binding("end", "jump(-1)", "Last hour", id="timeline.end", show=False),
        Binding("enter", "choose", "Narrow to span", id="timeline.choose"),
        Binding("escape", "leave", "Back to table", id="timeline.leave"),
    ]

    @dataclass
    class SpanChosen(Message):
        """Enter: narrow the Events filter to `[start, end)` (naive UTC)."""

        start: datetime
        end: datetime

    @dataclass
    class Left(Message):
        """Escape: focus goes back to the table."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.rows: list[tuple[datetime, int, int]] = []
        self.strip = Strip((), 1)
        self.cursor = 0
        self.span_from: int | None = None
        self.pending = True

    def show(self, rows: list[tuple[datetime, int, int]]) -> None:
        """New hourly counts (the Events filter changed): refold, and reset the selection if they differ."""
        same = rows == self.rows
        self.rows, self.pending = rows, False
        self._fold()
        if not same:
            self.cursor, self.span_from = 0, None
        self.refresh()

    def _fold(self) -> None:
        self.strip = fold(self.rows, max(self.size.width - LEGEND, 10))
        self.cursor = min(self.cursor, max(len(self.strip.cells) - 1, 0))

    def on_resize(self) -> None:
        self._fold()

    @property
    def span(self) -> tuple[int, int]:
        """First and last selected cell (inclusive)."""
        other = self.cursor if self.span_from is None else self.span_from
        return min(self.cursor, other), max(self.cursor, other)

    def render(self) -> Text:
        cells = self.strip.cells
        line = Text(" ", no_wrap=True, overflow="ellipsis")
        if not cells:
            line.append("timeline: loading…" if self.pending else "timeline: no timed events", style="dim")
            return line
        first, last = self.span
        for i, (cell, bar) in enumerate(zip(cells, self.strip.bars(), strict=True)):
            style = "bold red" if cell.flagged else "cyan"
            if self.has_focus and first <= i <= last:
                style += " reverse"
            line.append(bar, style=style)
        line.append("  ")
        if self.has_focus:
            start, end = cells[first].start, cells[last].end
            events = sum(c.events for c in cells[first : last + 1])
            flagged = sum(c.flagged for c in cells[first : last + 1])
            line.append(f"{timefmt.show(start, '%m-%d %H:%M')} → {timefmt.show(end, '%m-%d %H:%M')} ")
            line.append(f"{events:,} ev")
            line.append(f" {flagged:,}⚑", style="bold red" if flagged else "dim")
        else:
            per = self.strip.hours_per_cell
            line.append(f"events/{'hour' if per == 1 else f'{per} h'}", style="dim")
            line.append("  █", style="bold red")
            line.append(" flagged", style="dim")
            line.append("  t select", style="dim")
        return line

    def action_move(self, step: int) -> None:
        self.span_from = None
        self.cursor = max(0, min(self.cursor + step, len(self.strip.cells) - 1))
        self.refresh()

    def action_stretch(self, step: int) -> None:
        if self.span_from is None:
            self.span_from = self.cursor
        self.cursor = max(0, min(self.cursor + step, len(self.strip.cells) - 1))
        self.refresh()

    def action_jump(self, where: int) -> None:
        self.span_from = None
        self.cursor = max(len(self.strip.cells) - 1, 0) if where < 0 else 0
        self.refresh()

    def action_choose(self) -> None:
        if self.strip.cells:
            first, last = self.span
            self.post_message(self.SpanChosen(self.strip.cells[first].start, self.strip.cells[last].end))

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
