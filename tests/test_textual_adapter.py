"""What `tui.widgets.textual_adapter` relies on in Textual and textual-fastdatatable internals.

Each test shows the behaviour the adapter works around (the library left alone) and that the
adapter's call gives what the panes need; an upgrade that renames or changes an internal fails
here, by name, rather than as a pane that silently shows stale rows.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input
from textual_fastdatatable import ArrowBackend, DataTable

from tui.engine.analyses.panes import Page
from tui.widgets.in_order_input import run_binding_now
from tui.widgets.page_backend import PagedBackend
from tui.widgets.textual_adapter import node_bindings, redraw_table


class _Table(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable(backend=ArrowBackend.from_pydict({"old": ["first"]}), render_markup=False)


def _labels(table: DataTable) -> list[str]:
    return [c.label.plain for c in table.ordered_columns]


def _line(table: DataTable, y: int) -> str:
    return table.render_line(y).text


async def test_a_replaced_backend_shows_its_columns_and_rows_only_after_redraw_table() -> None:
    app = _Table()
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(DataTable)
        await pilot.pause()
        assert _labels(table) == ["old"] and "first" in _line(table, 1)
        table.backend = ArrowBackend.from_pydict({"new": ["second"], "other": ["third"]})
        table.backend.render_markup = False
        await pilot.pause()
        # the table keeps the columns it derived from the old backend (`_ordered_columns`)
        assert _labels(table) == ["old"]
        redraw_table(table, new_backend=True)
        await pilot.pause()
        assert _labels(table) == ["new", "other"]
        line = _line(table, 1)
        assert "second" in line and "third" in line and "first" not in line


def _page(offset: int, value: str) -> Page:
    return Page(offset, ("value",), ((value,),), ({"value": value},), (f"key{offset}",))


class _Paged(App[None]):
    def __init__(self, backend: PagedBackend) -> None:
        super().__init__()
        self.backend = backend

    def compose(self) -> ComposeResult:
        yield DataTable(backend=self.backend, render_markup=False)


async def test_rows_arriving_under_the_same_backend_are_drawn_only_after_redraw_table() -> None:
    asked: list[int] = []
    backend = PagedBackend(column_names=("value",), widths=(10,), total=1, request=asked.append)
    app = _Paged(backend)
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(DataTable)
        await pilot.pause()
        assert "…" in _line(table, 1) and asked  # the page is away: a placeholder, and it is asked for
        backend.put(_page(0, "arrived"))
        # the rendered line is cached (keyed on `_update_count`): the placeholder stays
        assert "arrived" not in _line(table, 1)
        redraw_table(table)
        await pilot.pause()
        assert "arrived" in _line(table, 1)


class _Keyed(App[None]):
    BINDINGS = [Binding("ctrl+t", "noted('app')", "app's own")]

    def __init__(self) -> None:
        super().__init__()
        self.ran: list[str] = []

    def compose(self) -> ComposeResult:
        yield _KeyedInput()

    def action_noted(self, who: str) -> None:
        self.ran.append(who)


class _KeyedInput(Input):
    BINDINGS = [Binding("ctrl+o", "app.noted('input')", "input's own", id="test.input")]


async def test_node_bindings_are_the_nodes_own_with_the_apps_keymap_applied() -> None:
    app = _Keyed()
    async with app.run_test() as pilot:
        field = app.query_one(_KeyedInput)
        own = node_bindings(field).key_to_bindings
        assert "ctrl+o" in own and "backspace" in own  # its own and Input's, inherited
        assert "ctrl+t" not in own  # not the app's (what `active_bindings` would merge in)
        app.set_keymap({"test.input": "ctrl+y"})
        remapped = node_bindings(field).key_to_bindings
        assert "ctrl+y" in remapped and "ctrl+o" not in remapped
        assert await run_binding_now(field, "ctrl+y") and app.ran == ["input"]
        assert not await run_binding_now(field, "ctrl+t")  # the app's binding is not the input's
        await pilot.pause()
