"""The pane tab line grows with its flag counts, so the last tab is never hidden under the filter hint."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from tui.widgets.pane_tabs import PaneTabs


class _Bar(App[None]):
    CSS = "#tabs { width: auto; min-width: 52; height: 1; } #hint { width: 1fr; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield PaneTabs(id="tabs")
            yield Static("filter: none · / to filter", id="hint")


async def test_tabs_widen_when_the_counts_arrive() -> None:
    app = _Bar()
    async with app.run_test(size=(160, 3)) as pilot:
        tabs = app.query_one(PaneTabs)
        await pilot.pause()
        assert tabs.size.width == len(" [1 Tokens …] [2 Mailboxes …] [3 Drift …] [4 Events …] ")
        tabs.pending = frozenset({"drift", "events"})
        tabs.flags = {"tokens": 299_349}
        await pilot.pause()
        tabs.pending = frozenset()
        tabs.flags = {"tokens": 299_349, "mailboxes": 5_050, "drift": None, "events": None}
        await pilot.pause()
        label = " [1 Tokens 299,349⚑] [2 Mailboxes 5,050⚑] [3 Drift] [4 Events] "
        assert tabs.size.width == len(label)
        assert app.query_one("#hint").region.x == len(label)
