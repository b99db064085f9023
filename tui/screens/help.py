"""`?`: every key binding, where it applies and what it does."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

FILTER_HELP = (
    "Filter language: space-separated terms, all must hold — field:text (contains), field=value, "
    "field!=value, field>value < >= <= (times, numbers, severities; spaces around them are fine), "
    '-term (exclude), bare words (any text column), "quoted words". '
    "Examples: severity>=high   user:adele   -ip:10.   ts>=2023-06-01   uses > 100"
)


def binding_rows(
    groups: Iterable[tuple[str, Iterable[BindingType]]], display: Callable[[Binding], str] | None = None
) -> list[tuple[str, str, str]]:
    """(keys, description, where) for every Binding in the given (where, BINDINGS) groups."""
    rows = []
    for where, bindings in groups:
        for binding in bindings:
            if isinstance(binding, Binding):
                key = display(binding) if display else binding.key_display or binding.key
                rows.append((key, binding.description or binding.action, where))
    return rows


class HelpScreen(ModalScreen[None]):
    """A table of bindings built from the classes' BINDINGS, so it cannot drift from the code."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("question_mark", "close", "Close", id="help.toggle", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(title="triage keys", expand=True, show_edge=False)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("does")
        table.add_column("where", style="dim")
        for key, description, where in self.rows:
            table.add_row(key, description, where)
        with VerticalScroll(id="help-box"):
            yield Static(table, id="help-table")
            yield Static(FILTER_HELP, id="help-filter", markup=False)
            yield Static("escape or ? closes", id="help-close", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
