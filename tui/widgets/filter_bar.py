"""The filter editor opened by `/`: one input line and the inline error under it."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from tui.widgets.in_order_input import InOrderInput

HINT = "severity>=high user:adele -ip:10.0.  ts>=2023-06-01   (enter applies · escape cancels)"


class FilterBar(Vertical):
    """Edits the current pane's filter; the screen validates each edit and applies on enter."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="filter.cancel")]

    @dataclass
    class Edited(Message):
        """The text changed: the screen compiles it and shows any error."""

        text: str

    @dataclass
    class Submitted(Message):
        """Enter: apply this filter."""

        text: str

    @dataclass
    class Cancelled(Message):
        """Escape: close without applying."""

    def compose(self) -> ComposeResult:
        yield InOrderInput(placeholder=HINT, id="filter-input", select_on_focus=False)
        yield Static("", id="filter-error", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def open(self, text: str) -> None:
        """Show the bar with the pane's filter and put the cursor at its end."""
        self.display = True
        self.show_error(None)
        self.input.value = text
        self.input.cursor_position = len(text)
        # Now, not via focus()'s call_later: keys typed in the same burst as `/` would still reach the
        # table, where `1`–`4`, `f`, `x`… are bindings (typing `ip=10.1.2.3` fast switched panes).
        self.screen.set_focus(self.input)

    def close(self) -> None:
        self.display = False

    def show_error(self, message: str | None) -> None:
        error = self.query_one("#filter-error", Static)
        error.update(message or "")
        error.display = bool(message)
        self.set_class(bool(message), "-error")

    @on(Input.Changed, "#filter-input")
    def _edited(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Edited(event.value))

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(event.value))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())
