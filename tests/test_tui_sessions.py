"""Pilot test of the Sessions pane (key 5, SPEC §10) on sample_logs/: filter, drill, verdict, save, detail.

Expected values come from DuckDB queries on the app's own session, never from the widgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_pilot import SIZE, needs_sample, save_as, scalar, settle, shown_rows, wait_for

from tui.app import TriageApp
from tui.engine.core.options import Options
from tui.screens.verdict_dialog import VerdictDialog
from tui.widgets.detail_panel import DetailPanel

pytestmark = [needs_sample, pytest.mark.usefixtures("repo_cwd")]


async def test_the_sessions_pane_filters_drills_marks_and_saves(tmp_path: Path) -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("5")
        await settle(pilot, app)
        sessions = screen.pane("sessions")
        assert screen.current == "sessions"
        assert sessions.total == scalar(screen, "SELECT count(*) FROM sessions")
        worst = scalar(
            screen,
            "SELECT session_id FROM sessions ORDER BY sev_rank DESC, events DESC, first_seen, session_id",
        )
        first = sessions.table.paged.raw_at(0)
        assert first["session_id"] == worst
        # the detail panel: why, and the session's MFA provenance
        await wait_for(pilot, lambda: screen.query_one(DetailPanel).detail is not None, "the detail")
        plain = screen.query_one(DetailPanel).plain
        assert "MFA provenance" in plain and str(first["mfa"]) in plain
        # the filter reaches the MFA column
        await pilot.press("slash", *f"mfa={first['mfa']}", "enter")
        await settle(pilot, app)
        assert sessions.shown == scalar(screen, "SELECT count(*) FROM sessions WHERE mfa = ?", [first["mfa"]])
        assert {r["mfa"] for r in shown_rows(sessions)} == {first["mfa"]}
        # enter: the session's events
        await pilot.press("enter")
        await settle(pilot, app)
        events = screen.pane("events")
        assert screen.current == "events" and events.filter_text == f"session_id={worst}"
        assert (
            events.shown
            == first["events"]
            == scalar(screen, "SELECT count(*) FROM events WHERE session_id = ?", [worst])
        )
        await pilot.press("escape")
        await settle(pilot, app)
        assert screen.current == "sessions"
        # a verdict on the session, saved with it
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, VerdictDialog), "the verdict dialog")
        await pilot.press(*"AiTM IR-7", "enter")
        await settle(pilot, app)
        assert scalar(screen, "SELECT list([pane, key, verdict, note]) FROM marks") == [
            ["sessions", worst, "finding", "AiTM IR-7"]
        ]
        await pilot.press("ctrl+s")
        saved = await save_as(pilot, app, tmp_path / "sessions.csv")
        assert [(r["session_id"], r["verdict"], r["note"]) for r in saved] == [
            (worst, "finding", "AiTM IR-7")
        ]
