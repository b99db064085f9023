"""Shared Pilot helpers: wait until the app has settled, or until a condition holds (one definition
for every TUI test file; fixed pauses fail under CI load)."""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path

from textual import events
from textual.keys import _character_to_key
from textual.screen import Screen

from tui.app import TriageApp
from tui.engine.save_view import manifest_path
from tui.screens.main import MainScreen
from tui.widgets.detail_panel import DetailPanel
from tui.widgets.pane_view import PaneView


async def settle(  # type: ignore[no-untyped-def]
    pilot, app: TriageApp, timeout: float = 30.0, *, full: bool = True
) -> MainScreen:
    """Wait until every pane has its first result and no worker runs; with `full`, also until the
    detail panel is filled and the header says ready with no split recompute in flight."""
    for _ in range(int(timeout / 0.05)):
        await pilot.pause(0.05)
        screen = app.screen
        if not isinstance(screen, MainScreen):
            continue
        views = list(screen.query(PaneView))
        if not (
            views
            and all(v.ready and not v.has_class("-querying") for v in views)
            and not any(w.is_running for w in app.workers)
        ):
            continue
        if not full:
            return screen
        header = str(screen.query_one("#header").render())
        if (
            screen.query_one(DetailPanel).detail is not None
            and "● ready" in header
            and "recomputing" not in header
        ):
            return screen
    raise AssertionError("the app did not settle")


async def wait_for(pilot, check, what: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Pause in small steps until `check()` is true; fail naming `what` after `timeout` seconds."""
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def burst(app: TriageApp, *keys: str) -> None:
    """Queue keys as one terminal read delivers them, all before the app handles the first: Pilot's
    `press` waits for the app after each key, which hides keys lost or reordered under load."""
    for key in keys:
        char = key if len(key) == 1 else None
        app.post_message(events.Key(key if char is None else _character_to_key(char), char))


async def pushed(app: TriageApp, screen: type[Screen], timeout: float = 20.0) -> None:
    """Yield to the loop only until a `screen` is on top: pushed, not yet composed (no pause)."""
    deadline = time.monotonic() + timeout
    while not isinstance(app.screen, screen):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {screen.__name__}")
        await asyncio.sleep(0)


async def save_as(pilot, app: TriageApp, target: Path) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """After ctrl+s: put `target` in the save dialog, press enter, wait for its manifest; the CSV's rows."""
    await wait_for(pilot, lambda: app.screen.query("#save-path"), "the save dialog")
    app.screen.query_one("#save-path").value = str(target)
    await pilot.press("enter")
    await wait_for(pilot, lambda: manifest_path(target).exists(), "the manifest")
    with target.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
