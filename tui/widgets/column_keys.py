"""The keys that act on the cursor's column: `o` / `O` sort, `y` copies the cell.

`o` / `O` sort a pane by the column under the cursor, ascending / descending (VisiData's `[` / `]`,
which here move the drift split). The same key on the same column again goes back to the pane's own
order (worst first; highest drift score first), which always breaks the sort's ties.

A mixin of `PaneView`. The column is checked against the pane's own columns and quoted
(`panes.order_sql`); only the terms go into the page query, at its `/*ORDER*/` marker. The Events
pane stays in time order (every page of ten million rows would be a sort). Like the filters, the
sort is kept with the session's state and comes back on reopen.
"""

from __future__ import annotations

from typing import Any

from tui.engine.panes import Order, display_value, order_sql


class ColumnKeys:
    """`sort_by(column, descending)` with the sort's SQL for `PaneView`'s queries, and `copy_cell`."""

    spec: Any
    _columns: dict[str, str]

    def init_order(self) -> None:
        self.order: Order | None = None
        self.order_sql = ""

    def sort_by(self, column: str, descending: bool) -> None:
        """Sort by `column` (or back to the pane's own order when it is already sorted so)."""
        view: Any = self
        if self.spec.name == "events":
            view.notify(
                "Events stay in time order: filter them, or sort Tokens, Mailboxes or Drift",
                severity="warning",
            )
            return
        wanted: Order | None = Order(column, descending)
        if wanted == self.order:
            wanted = None  # pressed again: the pane's own order
        if not self.set_order(wanted):
            view.notify("move the cursor onto a column to sort by it", severity="warning")
            return
        view.apply_filter(view.filter_text)

    def set_order(self, order: Order | None) -> bool:
        """Take `order` for the next queries (False, and no change, when the pane cannot sort so).
        The session state keeps it: a reopened session is sorted as it was left."""
        try:
            terms = order_sql(self.spec, order, list(self._columns))
        except ValueError:
            return False
        self.order, self.order_sql = order, terms
        return True

    def copy_cell(self, column: str, raw: dict[str, Any]) -> None:
        """`y`: the cell under the cursor to the clipboard, as the table shows it (inert: a control
        character in the data reaches the clipboard as its visible escape, never as itself); through
        the terminal (OSC 52), so it works over ssh and in tmux with `set-clipboard on`."""
        view: Any = self
        if column not in raw:
            view.notify("move the cursor onto a value to copy it", severity="warning")
            return
        text = str(display_value(raw[column]))
        view.app.copy_to_clipboard(text)
        view.notify(f"copied {column}: {text if len(text) <= 60 else text[:59] + '…'}")
