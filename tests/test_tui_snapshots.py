"""Snapshots of the four panes and the detail panel on sample_logs/ (160×48, TZ=UTC).

Update only after reading the SVG diff: `pytest tests/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest
from tui_pilot import SIZE, needs_sample, settle

from tui.app import TriageApp
from tui.engine.core.options import Options

pytestmark = [needs_sample, pytest.mark.usefixtures("repo_cwd")]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def keys(*press: str) -> Callable[..., Awaitable[None]]:
    """Wait for the data, press the keys, wait again (workers, detail panel)."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot, pilot.app)
        for key in press:
            await pilot.press(key)
            await settle(pilot, pilot.app)

    return run_before


def app() -> TriageApp:
    return TriageApp(["sample_logs"], Options())


def test_tokens_pane_with_detail(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys())


def test_mailboxes_pane(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("2"))


def test_drift_pane_with_baseline(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("3"))


def test_events_pane(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("4"))


def test_token_drilled_to_events_with_event_detail(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(), terminal_size=SIZE, run_before=keys("down", "enter"))
