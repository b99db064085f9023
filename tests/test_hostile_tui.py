"""The TUI (Pilot, headless) over hostile inputs: it opens, every pane fills, escapes are rendered
inert, nested claims do not crash the detail panel, inputs stay untouched, and no socket is used."""

from __future__ import annotations

import socket
from pathlib import Path

import hostile
import pytest
import tui_pilot
from evidence_snapshot import snapshot

from tui.app import TriageApp
from tui.engine.core.options import Options
from tui.screens.main import MainScreen
from tui.widgets.detail_panel import DetailPanel

SIZE = (160, 48)


@pytest.fixture(autouse=True)
def _dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(tmp_path / "state"))


async def settle(pilot, app: TriageApp, timeout: float = 30.0) -> MainScreen:  # type: ignore[no-untyped-def]
    """Hostile inputs may leave the detail panel empty: wait for the panes and workers only."""
    return await tui_pilot.settle(pilot, app, timeout, full=False)


async def visit_panes(pilot, app: TriageApp) -> str:  # type: ignore[no-untyped-def]
    """Switch through panes 1-4, returning every screen as rendered (SVG text)."""
    shots = []
    for key in ("1", "2", "3", "4"):
        await pilot.press(key)
        await settle(pilot, app)
        await pilot.pause(0.3)  # the detail panel explains the selected row
        shots.append(app.export_screenshot())
    return "\n".join(shots)


@pytest.mark.timeout(240)
async def test_escapes_are_rendered_inert(tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    folder.mkdir()
    hostile.escapes_csv(folder)
    before = snapshot(folder)
    app = TriageApp([str(folder)], Options())
    told = tui_pilot.Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        await settle(pilot, app)
        shown = await visit_panes(pilot, app)
        assert told.messages("error") == []
        # `y` on such a cell copies what is shown, the escape visible, never the control character
        events = app.screen.pane("events")
        backend = events.table.paged
        row = next(i for i in range(events.shown) if "\x1b" in (backend.raw_at(i)["user"] or ""))
        events.table.move_cursor(row=row, column=backend.columns.index("user"))
        await pilot.press("y")
        await tui_pilot.wait_for(pilot, lambda: "mall" in (app.clipboard or ""), "the copied cell")
        assert "\\x1b[31mmall" in app.clipboard and "\x1b" not in app.clipboard
    for raw in hostile.HOSTILE_CHARS:
        assert raw not in shown
    # the escaped form is what the analyst sees (SVG text escapes the backslash-free parts only)
    assert "\\x1b[31mmallory" in shown or "\\x1b[31mmall" in shown
    assert snapshot(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == ["gateway.csv", "signins.json"]


@pytest.mark.timeout(240)
async def test_malformed_tokens_open_and_show(tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    folder.mkdir()
    hostile.tokens_parquet(folder)
    app = TriageApp([str(folder)], Options())
    told = tui_pilot.Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        screen = await settle(pilot, app)
        assert screen.pane("tokens").total == 16
        shown = await visit_panes(pilot, app)
        assert told.messages("error") == [], told.messages("error")
    assert "ALG_NONE" in shown


@pytest.mark.timeout(240)
async def test_deeply_nested_claims_in_the_detail_panel(tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    folder.mkdir()
    deep = hostile.bad_tokens()["deep_nested"]
    hostile._write_csv(folder / "g.csv", hostile.GATEWAY_HEADER, hostile.gateway_rows([deep] * 3))
    app = TriageApp([str(folder)], Options())
    told = tui_pilot.Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("1")
        await settle(pilot, app)
        assert told.messages("error") == [], told.messages("error")
        # explained, not merely survived: the upn read from under the 10,000 levels, its three uses
        detail = screen.query_one(DetailPanel).detail
        assert detail is not None and detail.title == "a@contoso.com"
        (seen,) = [s for s in detail.sections if s.title == "seen"]
        assert ("uses", "3") in {(line.label, line.text) for line in seen.lines}


@pytest.mark.timeout(240)
@pytest.mark.unprivileged  # root reads a chmod-000 file (tests/unprivileged.py)
async def test_unreadable_folder_and_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise OSError("network blocked by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    folder = hostile.unreadable_dir(tmp_path)
    hostile.truncated_parquet(folder)
    app = TriageApp([str(folder)], Options())
    told = tui_pilot.Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        screen = await settle(pilot, app)
        await visit_panes(pilot, app)
        warnings = told.messages("warning")
        assert told.messages("error") == []
        assert screen.pane("events").total == 2  # good.csv's 2 rows; locked.csv cannot be read
    assert any("truncated.parquet" in w and "No magic bytes" in w for w in warnings), warnings
    assert any("locked.csv" in w and "permission denied" in w for w in warnings), warnings
    assert calls == []


@pytest.mark.timeout(240)
async def test_markup_in_a_path_is_shown_as_text(tmp_path: Path) -> None:
    """A folder `a[` holding an unreadable `b].parquet` makes a path with `[/b]` in it: Textual read
    the warning naming it as markup, raised MarkupError and ended the app. Now it is plain text."""
    folder = tmp_path / "ev"
    (folder / "a[").mkdir(parents=True)
    (folder / "a[" / "b].parquet").write_bytes(b"not parquet")
    (folder / "ok.csv").write_text("time,user\n2023-06-01T00:00:00Z,ana@contoso.com\n")
    app = TriageApp([str(folder)], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.pause(0.3)  # the warning's toast is rendered
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert app.is_running and screen.pane("events").total == 1
        assert [n.title for n in warnings] == ["unreadable input"]
        assert "a[/b].parquet" in warnings[0].message and not warnings[0].markup


@pytest.mark.timeout(240)
async def test_rows_at_the_ends_of_the_calendar(tmp_path: Path) -> None:
    """Rows dated year 1 and 9999-12-31 (a null and a "never" some exports write): the timeline's
    last cell ended past `datetime.max` and the app stopped with OverflowError."""
    folder = tmp_path / "ev"
    folder.mkdir()
    (folder / "odd.csv").write_text(
        "time,user,client\n0001-01-01T00:00:00Z,a@x.com,1.2.3.4\n2023-06-01T00:00:00Z,a@x.com,1.2.3.4\n"
        "9999-12-31T23:59:59Z,b@x.com,1.2.3.4\n"
    )
    app = TriageApp([str(folder)], Options())
    told = tui_pilot.Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        screen = await settle(pilot, app)
        await visit_panes(pilot, app)
        assert app.is_running and told.messages("error") == []
        assert screen.pane("events").total == 3
        assert "0001-01-01 → 9999-12-31 UTC" in str(screen.query_one("#header").render())
