"""The keys that act on the row or cell under the cursor (`PaneTable.Requested`): `enter` drills,
`f` / `x` keep or exclude the cell's value, `space` / `m` mark, `o` / `O` sort, `y` copies the cell.

`o` / `O` sort a pane by the column under the cursor, ascending / descending (VisiData's `[` / `]`,
which here move the drift split). The same key on the same column again goes back to the pane's own
order (worst first; highest drift score first), which always breaks the sort's ties.

A mixin of `PaneView`. The column is checked against the pane's own columns and quoted
(`panes.order_sql`); only the terms go into the page query, at its `/*ORDER*/` marker. The Events
pane stays in time order (every page of ten million rows would be a sort). Like the filters, the
sort is kept with the session's state and comes back on reopen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from tui.engine.analyses.panes import Order, cell_term, display_value, order_sql
from tui.widgets.pane_table import PaneTable

if TYPE_CHECKING:
    from tui.widgets.pane_view import PaneView


class TableKeys:
    """The row actions of `PaneView`: the dispatch, `sort_by` with the sort's SQL, `copy_cell`."""

    _columns: dict[str, str]

    @property
    def _pane(self) -> PaneView:
        """The pane this is mixed into, as mypy should check it."""
        return cast("PaneView", self)

    def on_pane_table_requested(self, message: PaneTable.Requested) -> None:
        """A row action key on a cell: drill, keep, exclude, mark, verdict, sort, copy."""
        message.stop()
        view = self._pane
        backend = view.table.paged
        raw = backend.raw_at(message.row) if backend is not None else None
        if backend is None or raw is None:
            view.notify("that row is still loading", severity="warning")
            return
        column = backend.columns[message.column] if message.column > 0 else ""
        if message.action in ("sort", "sort_descending"):
            self.sort_by(column, descending=message.action == "sort_descending")
        elif message.action == "copy":
            self.copy_cell(column, raw, backend.key_at(message.row))
        elif message.action in ("mark", "verdict"):
            key = backend.key_at(message.row) or ""
            view.post_message(view.MarkWanted(view.spec.name, key, raw, message.action == "verdict"))
        elif message.action == "drill":
            field = view.spec.drill_field
            if field is None or raw.get(field) is None:
                view.notify(view.spec.no_drill, severity="warning")
                return
            view.post_message(view.DrillWanted(view.spec.name, field, raw[field]))
        else:
            if column not in raw:
                view.notify("move the cursor onto a value to filter by it", severity="warning")
                return
            term = cell_term(column, raw[column])
            if isinstance(term, str):
                view.notify(term, severity="warning")
                return
            view.post_message(view.TermWanted(view.spec.name, term[0], term[1], message.action == "exclude"))

    def init_order(self) -> None:
        self.order: Order | None = None
        self.order_sql = ""

    def sort_by(self, column: str, descending: bool) -> None:
        """Sort by `column` (or back to the pane's own order when it is already sorted so)."""
        view = self._pane
        if view.spec.name == "events":
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
            terms = order_sql(self._pane.spec, order, list(self._columns))
        except ValueError:
            return False
        self.order, self.order_sql = order, terms
        return True

    def copy_cell(self, column: str, raw: dict[str, Any], key: str | None = None) -> None:
        """`y`: the cell under the cursor to the clipboard, as the table shows it (inert: a control
        character in the data reaches the clipboard as its visible escape, never as itself); through
        the terminal (OSC 52), so it works over ssh and in tmux with `set-clipboard on`. On the ✓
        column (where the cursor starts), the row's `key`: what a mark refers to (a token's
        `sha256:…`, a mailbox, a user, an event's `file#row`)."""
        view = self._pane
        if column not in raw and key:
            column, raw = "row key", {"row key": key}
        if column not in raw:
            view.notify("move the cursor onto a value to copy it", severity="warning")
            return
        text = str(display_value(raw[column]))
        view.app.copy_to_clipboard(text)
        view.notify(f"copied {column}: {text if len(text) <= 60 else text[:59] + '…'}")
