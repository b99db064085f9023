"""The table of one pane: a fastdatatable over a `PagedBackend`, with the row-action keys."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual_fastdatatable import DataTable

from tui.widgets.page_backend import PagedBackend
from tui.widgets.textual_adapter import redraw_table


class PaneTable(DataTable):
    """Rows of a pane; `enter`, `space`, `m`, `f` and `x` ask the pane to act on the cell under the cursor."""

    BINDINGS = [
        Binding("enter", "request('drill')", "Drill", id="pane.drill"),
        Binding("f", "request('keep')", "Keep", id="pane.keep"),
        Binding("x", "request('exclude')", "Drop", id="pane.exclude"),
        Binding("space", "request('mark')", "Mark", id="pane.mark"),
        Binding("m", "request('verdict')", "Verdict", id="pane.verdict"),
        Binding("o", "request('sort')", "Sort by column ↑ (again: own order)", id="pane.sort", show=False),
        Binding(
            "O",
            "request('sort_descending')",
            "Sort by column ↓ (again: own order)",
            id="pane.sort_descending",
            show=False,
        ),
        # ctrl+c too, as in a spreadsheet (the table's own binding posted a message nothing read:
        # the key did nothing); the copy says what it copied, and `q` quits
        Binding(
            "y,ctrl+c",
            "request('copy')",
            "Copy cell to clipboard",
            id="pane.copy",
            show=False,
            key_display="y, ctrl+c",
        ),
    ]

    @dataclass
    class Requested(Message):
        """A row action key (drill, keep, exclude, mark, verdict, sort, copy) pressed on a cell."""

        action: str
        row: int
        column: int

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(
            backend=None,
            render_markup=False,
            cursor_type="cell",
            zebra_stripes=True,
            max_column_content_width=48,
            id=id,
        )

    @property
    def paged(self) -> PagedBackend | None:
        return self.backend if isinstance(self.backend, PagedBackend) else None

    def action_request(self, action: str) -> None:
        if self.row_count:
            self.post_message(self.Requested(action, self.cursor_row, self.cursor_column))

    def show(self, backend: PagedBackend, keep_cursor: bool = False) -> None:
        """Swap in the rows of a new query (a new filter) without remounting the widget."""
        self.backend = backend
        redraw_table(self, new_backend=True)
        row = min(self.cursor_row, backend.row_count - 1) if keep_cursor else 0
        column = min(max(self.cursor_column, 0), max(backend.column_count - 1, 0))
        if keep_cursor:
            self.cursor_coordinate = Coordinate(max(row, 0), column)
        else:
            # to the first row; across, the cursor's column stays in view (a sort by a column
            # far right showed the leftmost columns, not the one sorted by)
            self.scroll_to(y=0, animate=False)
            self.move_cursor(row=0, column=column, animate=False)

    def rows_changed(self) -> None:
        """Pages arrived or marks changed: forget rendered lines and draw again."""
        redraw_table(self)
