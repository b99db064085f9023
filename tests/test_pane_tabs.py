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
        assert tabs.size.width == len(
            " [1 Tokens …] [2 Mailboxes …] [3 Drift …] [4 Events …] [5 Sessions …] "
        )
        tabs.pending = frozenset({"drift", "events"})
        tabs.flags = {"tokens": 299_349}
        await pilot.pause()
        tabs.pending = frozenset()
        tabs.flags = {"tokens": 299_349, "mailboxes": 5_050, "drift": None, "events": None, "sessions": 12}
        await pilot.pause()
        label = " [1 Tokens 299,349⚑] [2 Mailboxes 5,050⚑] [3 Drift] [4 Events] [5 Sessions 12⚑] "
        assert tabs.size.width == len(label)
        assert app.query_one("#hint").region.x == len(label)


class _Header(App[None]):
    def compose(self) -> ComposeResult:
        from tui.widgets.header_line import HeaderLine

        yield HeaderLine()


async def test_the_header_keeps_its_activity_on_a_narrow_terminal() -> None:
    """At 80 columns the summary gives way (cut with an ellipsis), not the activity at the right nor
    the drift split (the split was cut first: at 120 columns the sample's header showed
    `split 2023-05-2…`)."""
    from tui.widgets.header_line import HeaderLine

    app = _Header()
    async with app.run_test(size=(80, 3)) as pilot:
        header = app.query_one(HeaderLine)
        header.summary = "triage · 3 inputs · 21,753 events · 2023-05-01 → 2023-06-11 UTC · tenant 8cf9…c97"
        header.split = "split 2023-05-28 21:06 UTC"
        await pilot.pause()
        text = header.render().plain
        assert text.endswith("● ready") and len(text) == 80
        assert text == " triage · 3 inputs · 21,753 events · 2… · split 2023-05-28 21:06 UTC [ ] ● ready"
        await pilot.resize_terminal(120, 3)
        await pilot.pause()
        text = header.render().plain
        assert text == (
            " triage · 3 inputs · 21,753 events · 2023-05-01 → 2023-06-11 UTC · tenant 8cf9…"
            " · split 2023-05-28 21:06 UTC [ ] ● ready"
        )
        await pilot.resize_terminal(40, 3)
        await pilot.pause()
        text = header.render().plain
        assert text == " triage · 3 inputs · 21,753 eve… ● ready"  # too narrow for both: one cut
        header.busy("storing events", 0.42)
        await pilot.pause()
        assert header.render().plain.endswith("● storing events 42%")
