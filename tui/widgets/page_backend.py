"""A fastdatatable backend whose rows live in DuckDB and arrive a page at a time.

Design choice for the Events pane (and the others, which are small but use the same path): the
table is *virtual*. `row_count` is the filtered total from the count query, so the scrollbar,
`pagedown`, `ctrl+end` and a mouse drag can reach any row of ten million; `get_row_at` answers from
a small LRU of fetched pages and, for a row whose page is not here, returns a placeholder and asks
(through `request`) for that page. The widget fetches it in a worker and refreshes. Rendering never
queries, and at most `MAX_PAGES` pages are ever held.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from rich.text import Text
from textual_fastdatatable.backend import DataTableBackend

from tui.engine.analyses.marks import GLYPHS, Mark
from tui.engine.analyses.panes import PAGE_SIZE, Page

MAX_PAGES = 16
MARK = "✓"
SEVERITY_STYLES = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


class PagedBackend(DataTableBackend[None]):
    """Rows `0 … total-1` of one pane under one filter; pages fetched on demand."""

    def __init__(
        self,
        data: None = None,
        max_rows: int | None = None,
        column_names: Sequence[str] | None = None,
        *,
        widths: Sequence[int] = (),
        total: int = 0,
        request: Callable[[int], None] | None = None,
        marks: dict[str, Mark] | None = None,
        inherit: bool = False,
    ) -> None:
        super().__init__(data, max_rows, column_names)
        self.render_markup = False
        self._columns = (MARK, *(column_names or ()))
        self._widths = [1, *widths]
        self.total = total
        self._request = request or (lambda page: None)
        self.marks: dict[str, Mark] = marks if marks is not None else {}
        self.inherit = inherit  # events show their token's/mailbox's/user's verdict too
        self._pages: OrderedDict[int, Page] = OrderedDict()
        names = list(column_names or ())
        self._severity = names.index("severity") if "severity" in names else -1
        self._placeholder = ("", "…", *([""] * max(len(names) - 1, 0)))

    @classmethod
    def from_pydict(
        cls,
        data: Mapping[str, Sequence[Any]],
        max_rows: int | None = None,
        column_names: Sequence[str] | None = None,
    ) -> PagedBackend:
        raise NotImplementedError("a PagedBackend is fed pages, not dicts")

    # ---- pages ---------------------------------------------------------------------------

    def put(self, page: Page) -> None:
        """Keep a fetched page, dropping the least recently shown when over MAX_PAGES."""
        number = page.offset // PAGE_SIZE
        self._pages[number] = page
        self._pages.move_to_end(number)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    def has_page(self, number: int) -> bool:
        return number in self._pages

    @property
    def pages_held(self) -> int:
        return len(self._pages)

    def _locate(self, index: int) -> tuple[Page, int] | None:
        page = self._pages.get(index // PAGE_SIZE)
        if page is None:
            return None
        i = index - page.offset
        return (page, i) if 0 <= i < len(page.cells) else None

    def raw_at(self, index: int) -> dict[str, Any] | None:
        """Every fetched column of row `index` as Python values, or None while its page is away."""
        found = self._locate(index)
        return found[0].raw[found[1]] if found else None

    def key_at(self, index: int) -> str | None:
        found = self._locate(index)
        return found[0].keys[found[1]] if found else None

    # ---- what the table asks ---------------------------------------------------------------

    @property
    def source_data(self) -> None:
        return None

    @property
    def source_row_count(self) -> int:
        return self.total

    @property
    def row_count(self) -> int:
        return self.total

    @property
    def columns(self) -> Sequence[str]:
        return self._columns

    @property
    def column_content_widths(self) -> Sequence[int]:
        return self._widths

    def get_row_at(self, index: int) -> Sequence[Any]:
        found = self._locate(index)
        if found is None:
            if 0 <= index < self.total:
                self._request(index // PAGE_SIZE)
            return self._placeholder
        page, i = found
        self._pages.move_to_end(page.offset // PAGE_SIZE)
        cells: list[Any] = list(page.cells[i])
        if self._severity >= 0:
            sev = cells[self._severity]
            cells[self._severity] = Text(str(sev), style=SEVERITY_STYLES.get(str(sev), ""))
        return (self._glyph(page, i), *cells)

    def _glyph(self, page: Page, i: int) -> str | Text:
        """The mark column: this row's own mark (as the analyst just set it), else an inherited one."""
        own = self.marks.get(page.keys[i])
        if own is not None:
            return Text(own.glyph, style="bold magenta")
        raw = page.raw[i]
        if self.inherit and raw.get("mark") not in (None, "event"):
            return Text(GLYPHS.get(raw.get("verdict"), MARK), style="magenta")
        return ""

    def get_column_at(self, index: int) -> Sequence[Any]:
        return [
            page.cells[r][index - 1] if index else ""
            for page in self._pages.values()
            for r in range(len(page.cells))
        ]

    def get_cell_at(self, row_index: int, column_index: int) -> Any:
        return self.get_row_at(row_index)[column_index]

    # ---- the table's editing API, which a read-only view of evidence does not offer --------

    def append_column(self, label: str, default: Any | None = None) -> int:
        raise NotImplementedError("evidence views are read-only")

    def append_rows(self, records: Iterable[Iterable[Any]]) -> list[int]:
        raise NotImplementedError("evidence views are read-only")

    def drop_row(self, row_index: int) -> None:
        raise NotImplementedError("evidence views are read-only")

    def update_cell(self, row_index: int, column_index: int, value: Any) -> None:
        raise NotImplementedError("evidence views are read-only")

    def sort(self, by: list[tuple[str, Literal["ascending", "descending"]]] | str) -> None:
        raise NotImplementedError("panes are sorted by their queries")
