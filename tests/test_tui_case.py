"""Pilot tests of `triage open DIR` on a findings folder (SPEC §9, issue 23 point 4): every pane by its
key, the detail panel, a drill, marks and a verdict kept per folder across a reopen, the split fixed.

Expected values come from DuckDB on the app's own session or from case/case.json, never from the
widgets themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tui_pilot import SAMPLE, SIZE, Told, needs_sample, scalar, settle, shown_rows, wait_for
from typer.testing import CliRunner

from tui.app import TriageApp
from tui.cli import app as cli
from tui.engine.core.options import Options
from tui.screens.verdict_dialog import VerdictDialog
from tui.widgets.detail_panel import DetailPanel
from tui.widgets.header_line import HeaderLine

pytestmark = [needs_sample, pytest.mark.usefixtures("repo_cwd")]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("case") / "findings"
    result = CliRunner().invoke(cli, ["scan", str(SAMPLE), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


async def test_every_pane_of_a_findings_folder_works_and_its_marks_come_back(findings: Path) -> None:
    document = json.loads((findings / "case" / "case.json").read_text(encoding="utf-8"))
    rows = {name: entry["rows"] for name, entry in document["tables"].items()}
    told = Told()
    app = TriageApp([str(findings)], Options())
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        screen = await settle(pilot, app)
        header = str(screen.query_one(HeaderLine).render())
        assert f"findings {findings.name}/" in header and "887 of 21,957 events" in header
        assert screen.session is not None and screen.session.folder is not None
        for key, pane in (
            ("2", "mailboxes"),
            ("3", "drift"),
            ("4", "events"),
            ("5", "sessions"),
            ("1", "tokens"),
        ):
            await pilot.press(key)
            await settle(pilot, app)
            view = screen.pane(pane)
            assert screen.current == pane
            assert view.shown == rows[pane] > 0, pane
            first = shown_rows(view)[0]
            panel = screen.query_one(DetailPanel)
            await wait_for(pilot, lambda p=panel: p.detail is not None, f"the {pane} detail")
            if pane == "tokens":
                assert (
                    first["severity"] == "critical"
                    and "why flagged" in panel.plain
                    and "claims" in panel.plain
                )
            if pane == "mailboxes":
                assert (
                    "tokens that read it, worst first" in panel.plain
                    and "sessions that read it" in panel.plain
                )
            if pane == "drift":  # the baseline stored for the scan's split, not "no baseline activity"
                assert "baseline 2023-05-01" in panel.plain and "no baseline activity" not in panel.plain
            if pane == "events":
                assert "original record" in panel.plain and "not in a findings folder" in panel.plain
        # a filter and a drill work as on the evidence
        await pilot.press("slash", *"severity>=high", "enter")
        await settle(pilot, app)
        assert screen.pane("tokens").shown == scalar(
            screen, "SELECT count(*) FROM tokens WHERE sev_rank >= 4"
        )
        token = shown_rows(screen.pane("tokens"))[0]
        await pilot.press("enter")  # → its events
        await settle(pilot, app)
        assert screen.current == "events"
        assert (
            screen.pane("events").shown
            == scalar(screen, "SELECT count(*) FROM events WHERE tkey = ?", [token["tkey"]])
            == token["uses"]
        )
        await pilot.press("escape", "escape")
        await settle(pilot, app)
        # a verdict on the token, a plain mark on an event
        await pilot.press("1")
        await settle(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, VerdictDialog), "the verdict dialog")
        await pilot.press(*"case IR-7", "enter")
        await settle(pilot, app)
        await pilot.press("4", "space")
        await settle(pilot, app)
        event = shown_rows(screen.pane("events"))[0]
        marks = scalar(screen, "SELECT list([pane, key, verdict, note] ORDER BY pane) FROM marks")
        assert marks == [
            ["events", f"{event['source']}#{event['source_row']}", None, None],
            ["tokens", token["tkey"], "finding", "case IR-7"],
        ]
        # the split is the scan's: `]` says so and moves nothing
        split = screen.session.annotation.split
        await pilot.press("right_square_bracket")
        await wait_for(
            pilot, lambda: any("split of its scan" in m for m in told.messages("warning")), "the refusal"
        )
        assert screen.session.annotation.split == split
    again = TriageApp([str(findings)], Options())
    async with again.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, again)
        assert screen.current == "events"  # the pane it was left on
        back = scalar(screen, "SELECT list([pane, key, verdict, note] ORDER BY pane) FROM marks")
        assert back == marks
        assert str(screen.pane("events").table.paged.get_row_at(0)[0]) == "✓"
