"""A pane's loading overlay is still text: Textual's animated indicator redrew 16 times a second
per pane, CPU the loading engine needs (`tui.widgets.pane_view.PaneLoading`)."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult

from tui.engine.analyses.pane_specs import PANES
from tui.widgets.pane_view import PaneLoading, PaneView


class _Panes(App[None]):
    def compose(self) -> ComposeResult:
        yield PaneView(PANES[0])

    def on_mount(self) -> None:
        self.query_one(PaneView).loading = True


def test_a_loading_pane_shows_still_text_that_never_refreshes_itself() -> None:
    async def run() -> None:
        app = _Panes()
        async with app.run_test(size=(60, 10)) as pilot:
            await pilot.pause(0.3)
            overlay = app.query_one(PaneView)._cover_widget  # where Textual mounts `loading`'s widget
            assert isinstance(overlay, PaneLoading)
            assert overlay.is_mounted and overlay.auto_refresh is None
            assert str(overlay.render()) == "loading…"

    asyncio.run(run())
