"""Command palette entries (ctrl+p) for every action a key does, generated from the bindings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.app import SystemCommand
from textual.binding import Binding, BindingType

PALETTE_TITLES = {
    "main.pane.tokens": "Show the Tokens pane",
    "main.pane.mailboxes": "Show the Mailboxes pane",
    "main.pane.drift": "Show the Drift pane",
    "main.pane.events": "Show the Events pane",
    "main.filter": "Edit the filter",
    "main.back": "Back out of a drill / clear the filter",
    "main.drop_last": "Drop the last filter term",
    "main.save": "Save findings (marked rows or the view) to CSV",
    "main.timeline": "Select a time span on the timeline",
    "main.split_earlier": "Move the drift split a day earlier",
    "main.split_later": "Move the drift split a day later",
    "main.zoom": "Widen the detail panel (again: the table's width back)",
    "main.detail_down": "Scroll the detail panel down",
    "main.detail_up": "Scroll the detail panel up",
    "main.flagged_next": "Go to the next flagged event (Events pane)",
    "main.flagged_previous": "Go to the previous flagged event (Events pane)",
    "pane.drill": "Drill into the row's events (an event: into its token)",
    "pane.keep": "Keep rows equal to the cell",
    "pane.exclude": "Drop rows equal to the cell",
    "pane.mark": "Mark or unmark the row",
    "pane.verdict": "Set the row's verdict and note",
    "pane.copy": "Copy the cell to the clipboard",
    "pane.sort": "Sort the pane by the column, ascending (again: its own order)",
    "pane.sort_descending": "Sort the pane by the column, descending (again: its own order)",
    "app.help": "List every key",
}


def _commands(
    bindings: list[BindingType], run: Callable[[str], Any], display: Callable[[Binding], str]
) -> Iterator[SystemCommand]:
    for binding in bindings:
        if isinstance(binding, Binding) and binding.id in PALETTE_TITLES:
            title = PALETTE_TITLES[binding.id]
            yield SystemCommand(title, f"key {display(binding)}", partial(run, binding.action))


def triage_commands(app: Any, screen: Any) -> Iterator[SystemCommand]:
    """One entry per screen and table action (run on the current pane's table), then the app's."""
    from tui.screens.main import MainScreen
    from tui.widgets.pane_table import PaneTable

    if isinstance(screen, MainScreen):
        yield from _commands(MainScreen.BINDINGS, screen.run_action, app.get_key_display)
        yield from _commands(
            PaneTable.BINDINGS, lambda action: screen.pane().table.run_action(action), app.get_key_display
        )
    yield from _commands(type(app).BINDINGS, app.run_action, app.get_key_display)
