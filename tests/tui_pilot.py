"""Shared Pilot helpers: wait until the app has settled, or until a condition holds (one definition
for every TUI test file; fixed pauses fail under CI load)."""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.screen import Screen

from tui.app import TriageApp
from tui.engine.analyses.panes import PAGE_SIZE
from tui.engine.findings.save_view import manifest_path
from tui.screens.main import MainScreen
from tui.widgets.detail_panel import DetailPanel
from tui.widgets.pane_view import PaneView

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"
SIZE = (160, 48)
# Pilot tests of `triage open sample_logs/`: skipped when the sample is not generated.
needs_sample = pytest.mark.skipif(
    not (SAMPLE / "gateway.parquet").is_file(), reason="sample_logs/ not generated"
)


@pytest.fixture
def repo_cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run in the repository (the app opens `sample_logs`), with state and cache folders of the test's own."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    # Tests read the app's notifications after waiting for panes; on a loaded machine that wait can
    # outlast Textual's 5 s toast, and the warning a test looks for is gone (a CI run failed so).
    monkeypatch.setattr(TriageApp, "NOTIFICATION_TIMEOUT", 600.0)


class Told:
    """Every notification the app gave, kept: the app drops one from `_notifications` when its toast
    times out (5–20 s), which a test on a loaded machine can outlast. `run_test(message_hook=told)`."""

    def __init__(self) -> None:
        self.notes: list[Notification] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.notes.append(message.notification)

    def titles(self) -> set[str]:
        return {n.title for n in self.notes}

    def messages(self, severity: str | None = None) -> list[str]:
        return [str(n.message) for n in self.notes if severity is None or n.severity == severity]


def sql(screen: MainScreen, query: str, params: list[object] | None = None) -> list[tuple]:
    """Rows of a query on the app's own session (what the panes read), on a cursor of its own."""
    cursor = screen.session.cursor()
    try:
        return cursor.execute(query, params or []).fetchall()
    finally:
        cursor.close()


def scalar(screen: MainScreen, query: str, params: list[object] | None = None) -> object:
    return sql(screen, query, params)[0][0]


def shown_rows(view: PaneView) -> list[dict]:
    """The rows a pane shows on its first page, as the page query returned them."""
    backend = view.table.paged
    assert backend is not None
    return [backend.raw_at(i) for i in range(min(view.shown, PAGE_SIZE))]


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
