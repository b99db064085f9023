"""Pilot tests of saving findings from `triage open sample_logs/`: marked rows, the filtered view,
and the refusal to write inside the evidence folder. Expected values come from the app's own session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tui_pilot import REPO, SAMPLE, SIZE, needs_sample, save_as, scalar, settle, wait_for

from tui.app import TriageApp
from tui.engine.core.options import Options
from tui.screens.save_dialog import SaveDialog

pytestmark = [needs_sample, pytest.mark.usefixtures("repo_cwd")]


async def test_marks_and_save_marked_rows(tmp_path: Path) -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        tokens = screen.pane("tokens")
        await pilot.press("space", "down", "down", "space")
        backend = tokens.table.paged
        marked = {backend.raw_at(0)["tkey"], backend.raw_at(2)["tkey"]}
        assert set(tokens.marks) == marked
        assert "2 marked" in str(screen.query_one("#status-tokens").render())
        assert str(backend.get_row_at(0)[0]) == "✓" and str(backend.get_row_at(1)[0]) == ""
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveDialog), "the save dialog")
        dialog = app.screen
        assert isinstance(dialog, SaveDialog)
        assert dialog.query_one("#save-path").value.startswith(str(REPO / "triage-findings-tokens-"))
        rows = await save_as(pilot, app, tmp_path / "found.csv")
        assert {r["tkey"] for r in rows} == marked and "token" not in rows[0]
        assert {(r["verdict"], r["note"], r["mark"]) for r in rows} == {("", "", "token")}
        manifest = json.loads((tmp_path / "found.manifest.json").read_text())
        assert manifest["view"]["selection"] == "marked rows" and manifest["outputs"] == ["found.csv"]
        assert any(
            i["path"].endswith("gateway.parquet") and len(i["sha256"]) == 64 for i in manifest["inputs"]
        )


async def test_save_refuses_evidence_folder_then_saves_view(tmp_path: Path) -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("slash", *"severity>=high", "enter")
        await settle(pilot, app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveDialog), "the save dialog")
        dialog = app.screen
        dialog.query_one("#save-path").value = "sample_logs/findings.csv"
        await pilot.press("enter")
        note = dialog.query_one("#save-note")
        await wait_for(pilot, lambda: "inside the evidence folder" in str(note.render()), "the refusal")
        assert app.screen is dialog and not (SAMPLE / "findings.csv").exists()
        rows = await save_as(pilot, app, tmp_path / "view.csv")
        assert len(rows) == scalar(screen, "SELECT count(*) FROM tokens WHERE sev_rank >= 4")
        assert {r["severity"] for r in rows} == {"high", "critical"}
        manifest = json.loads((tmp_path / "view.manifest.json").read_text())
        assert manifest["view"] == {
            "pane": "tokens",
            "filter": "severity>=high",
            "selection": "current view",
            "order": "the pane's own",
            "rows": len(rows),
        }
