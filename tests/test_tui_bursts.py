"""Keys typed in one burst right after the key that opens an input (ctrl+s, m, /) all land in it, in
order: a fast typist, tmux or a paste delivers them before the app has handled the first one.

`burst` queues the keys as one terminal read would; Pilot's `press` waits after each key and hides this.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.widgets import Input
from tui_pilot import SIZE, burst, needs_sample, pushed, scalar, settle, wait_for

from tui.app import TriageApp
from tui.engine.core.options import Options
from tui.screens.main import MainScreen
from tui.screens.save_dialog import SaveDialog
from tui.screens.verdict_dialog import VerdictDialog
from tui.widgets.filter_bar import FilterBar

pytestmark = [needs_sample, pytest.mark.usefixtures("repo_cwd")]


@pytest.mark.parametrize("moment", ["with-ctrl-s", "pushed", "focused"])
async def test_path_typed_at_once_after_ctrl_s_is_saved_exactly(tmp_path: Path, moment: str) -> None:
    """ctrl+s, then ctrl+u, the path and enter in one burst: every key lands, in order.

    `with-ctrl-s`: the keys are queued together with ctrl+s (read before the ctrl+s binding had run,
    they went to the main screen's table and were dropped; ctrl+s is a priority binding now);
    `pushed`: the keys are queued once the dialog is on top, before it has composed (those the app read
    before the input had the focus went to the screen, which dropped them); `focused`: once the path
    has the focus (ctrl+u ran after the path was typed and erased it). All ended on "give a path"."""
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        target = tmp_path / "typed_at-once.csv"
        typed = ("ctrl+u", *str(target), "enter")
        if moment == "with-ctrl-s":
            burst(app, "ctrl+s", *typed)
        else:
            burst(app, "ctrl+s")
            await pushed(app, SaveDialog)
            if moment == "pushed":
                assert app.focused is None  # the case under test: nothing in the dialog has the focus yet
            else:
                await wait_for(pilot, lambda: isinstance(app.focused, Input), "the path input's focus")
            burst(app, *typed)
        await wait_for(pilot, lambda: (tmp_path / "typed_at-once.manifest.json").exists(), "the manifest")
        assert isinstance(app.screen, MainScreen)
        assert sorted(tmp_path.glob("*.csv")) == [target]
        with target.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == scalar(screen, "SELECT count(*) FROM tokens")


@pytest.mark.parametrize("moment", ["pushed", "focused"])
async def test_note_typed_at_once_after_m_keeps_every_key_in_order(moment: str) -> None:
    """`m`, then down, a note edited with backspace, left and home, and enter in one burst: all exact
    (the `down` too: the note runs enter as it arrives, so the dialog must run `down` as it arrives)."""
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        token = screen.pane("tokens").table.paged.raw_at(0)
        burst(app, "m")
        await pushed(app, VerdictDialog)
        if moment == "pushed":
            assert app.focused is None
        else:
            await wait_for(pilot, lambda: isinstance(app.focused, Input), "the note's focus")
        burst(app, "down", *"IR-8x", "backspace", "left", "7", "home", *"see ", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the dialog to close")
        await settle(pilot, app)
        rows = scalar(screen, "SELECT list([key, verdict, note]) FROM marks")
        assert rows == [[token["tkey"], "false_positive", "see IR-78"]]


async def test_filter_typed_at_once_after_slash_is_applied_not_taken_as_keys() -> None:
    """`/`, a filter full of digits and enter in one burst: every key lands in the filter (before,
    keys read before the input had the focus hit the table, where `1`–`4` switch panes)."""
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("4")
        events = screen.pane("events")
        ip = scalar(screen, "SELECT client_ip FROM events WHERE client_ip LIKE '%.%' ORDER BY rn LIMIT 1")
        burst(app, "slash", *f"ip={ip}", "enter")
        await wait_for(pilot, lambda: events.filter_text == f"ip={ip}", "the filter")
        await settle(pilot, app)
        assert screen.current == "events"
        assert events.shown == scalar(screen, "SELECT count(*) FROM events WHERE client_ip = ?", [ip])
        burst(app, *"/ op:/owa/")  # the first `/` opens the bar; inside the input `/` is text
        bar = screen.query_one(FilterBar)
        await wait_for(pilot, lambda: bar.input.value == f"ip={ip} op:/owa/", "the typed slashes")
