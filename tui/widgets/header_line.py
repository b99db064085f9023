"""The one-line header: what is open (inputs, events, time range, tenant) and what is running."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

SPINNER = "◐◓◑◒"
# The summary is cut no shorter than this before the split is cut too (` triage · 3 inputs…`).
MIN_SUMMARY = 20


class HeaderLine(Widget):
    """`triage · 3 inputs · 61,010 events · … UTC · tenant …` and, at the right, `● loading 42%`."""

    summary: reactive[str] = reactive("triage")
    activity: reactive[str] = reactive("")  # empty when idle
    fraction: reactive[float | None] = reactive(None)
    split: reactive[str] = reactive("")  # `split 2023-05-28 21:06 UTC`: the drift baseline/window split

    def render(self) -> Text:
        right = Text()
        if self.activity:
            percent = f" {self.fraction:.0%}" if self.fraction is not None else ""
            right.append("● ", style="bold yellow")
            right.append(f"{self.activity}{percent}")
        else:
            right.append("● ready", style="green")
        line = Text(" " + self.summary, no_wrap=True, overflow="ellipsis")
        tail = Text()
        if self.split:
            tail.append(" · ")
            tail.append(self.split, style="bold")
            tail.append(" [ ]", style="dim")
        # The activity (loading, recomputing, ready) always shows, and then the split (`[`/`]` move
        # it; it was cut first): on a narrow terminal the summary gives way, cut with an ellipsis.
        room = self.size.width - right.cell_len - 1
        if room > 0 and line.cell_len + tail.cell_len > room:
            keep = room - tail.cell_len
            if keep >= MIN_SUMMARY:
                line.truncate(keep, overflow="ellipsis")
        line.append_text(tail)
        if room > 0 and line.cell_len > room:
            line.truncate(room, overflow="ellipsis")
        gap = max(self.size.width - line.cell_len - right.cell_len - 1, 1)
        line.append(" " * gap)
        line.append_text(right)
        return line

    def busy(self, activity: str, fraction: float | None = None) -> None:
        """Show what is running (an empty `activity` means idle)."""
        self.activity, self.fraction = activity, fraction
