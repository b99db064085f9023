"""The terms of the current pane's filter as chips; clicking a chip's ✕ removes that term."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static


class FilterChips(Horizontal):
    """`filter: severity>=high ✕  user:adele ✕` (or a hint when the pane is unfiltered)."""

    @dataclass
    class Removed(Message):
        """The analyst clicked a chip: drop term `index` from the filter."""

        index: int

    class Chip(Static):
        """One term; its label is inert text from the filter, never markup."""

        def __init__(self, label: str, index: int) -> None:
            super().__init__(f"{label} ✕", markup=False, classes="chip")
            self.index = index
            self.label = label

        def on_click(self, event: events.Click) -> None:
            event.stop()
            self.post_message(FilterChips.Removed(self.index))

    def compose(self) -> ComposeResult:
        yield Static("filter:", classes="chips-label", markup=False)
        yield Static("none · / to filter", classes="chips-hint", markup=False)

    def show(self, labels: list[str]) -> None:
        """Replace the chips with these term labels (already inert)."""
        self.remove_children(".chip")
        self.query_one(".chips-hint", Static).display = not labels
        self.mount_all([self.Chip(label, i) for i, label in enumerate(labels)])

    @property
    def labels(self) -> list[str]:
        return [chip.label for chip in self.query(self.Chip)]
