"""The Tokens pane opens on the decoded tokens before the rows are stored (`tui.engine.case.preview`), then
gives way to the full table with the analyst's filter and selected token kept.

The loader is held, after the preview and before it stores the rows, by a pause put in front of
the real `work._add_countries` (the next step of the store); nothing of the engine is replaced.
Expected values come from DuckDB on the app's own tables, never from the widgets themselves.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from tui_pilot import SIZE, needs_sample, scalar, settle, shown_rows, wait_for

from tui.app import TriageApp
from tui.engine.analyses.tables import TOKENS_ORDER
from tui.engine.core.options import Options
from tui.engine.ingest import work
from tui.engine.tokens import verify
from tui.screens.main import MainScreen
from tui.widgets.detail_panel import DetailPanel
from tui.widgets.pane_view import PaneView

pytestmark = [needs_sample, pytest.mark.usefixtures("repo_cwd")]


def _on(view: PaneView, query: str) -> Any:
    """A value from the tables the pane reads while the session is still opening."""
    cursor = view.session.cursor()
    try:
        return cursor.execute(query).fetchone()[0]
    finally:
        cursor.close()


async def _preview(pilot: Any, app: TriageApp) -> tuple[MainScreen, PaneView]:
    """The main screen and its Tokens pane once the preview is on it."""
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
    screen = app.screen
    assert isinstance(screen, MainScreen)
    view = screen.pane("tokens")
    await wait_for(
        pilot, lambda: view.ready and view.pending and not view.has_class("-querying"), "the preview"
    )
    return screen, view


async def test_the_tokens_preview_shows_first_then_the_full_table_keeps_the_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    store = work._add_countries

    def held(con: Any, *args: Any, **kwargs: Any) -> None:
        assert release.wait(60), "the test never let the loader go on"
        store(con, *args, **kwargs)

    monkeypatch.setattr(work, "_add_countries", held)
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        try:
            screen, view = await _preview(pilot, app)
            # every decoded token, worst first, its usage still unknown; the rows are not stored yet
            assert view.total == _on(view, "SELECT count(*) FROM token_claims") == 673
            assert _on(view, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'events_t'") == 0
            first = shown_rows(view)[0]
            assert first["severity"] == "critical" and first["uses"] is None and first["ips"] is None
            assert "usage still loading" in str(screen.query_one("#status-tokens").render())
            await wait_for(pilot, lambda: screen.query_one(DetailPanel).detail is not None, "the detail")
            why = screen.query_one(DetailPanel).plain
            assert first["indicators"].split(";")[0] in why and "header" in why
            # a mark needs the session, a drill the Events pane: both wait, nothing half done
            await pilot.press("space", "enter")
            assert screen.marks["tokens"] == {} and screen.current == "tokens"
            # the analyst filters the preview
            await pilot.press("slash", *"severity=critical", "enter")
            await wait_for(
                pilot,
                lambda: view.filter_text == "severity=critical" and not view.has_class("-querying"),
                "the filtered preview",
            )
            assert view.shown == _on(view, "SELECT count(*) FROM tokens WHERE severity = 'critical'") == 5
            # ... and selects its fourth token
            await pilot.press("down", "down", "down")
            await wait_for(pilot, lambda: view.table.cursor_row == 3, "the cursor on the fourth row")
            chosen = view.table.paged.key_at(3)
            assert chosen is not None and chosen.startswith("sha256:")
        finally:
            release.set()
        await settle(pilot, app)
        # the cursor is back on that token, wherever the full table's order puts it
        place = scalar(
            screen,
            f"""SELECT n FROM (SELECT tkey, row_number() OVER (ORDER BY {TOKENS_ORDER}) - 1 AS n
            FROM tokens WHERE severity = 'critical') WHERE tkey = ?""",
            [chosen],
        )
        assert view.table.cursor_row == place and view.table.paged.key_at(place) == chosen
        # the full table replaces it: same filter, counted again (uti-only subjects too), usage known
        assert not view.pending and view.filter_text == "severity=critical"
        # 673 raw tokens and the utis of audit and sign-in rows (81 of them the identity intrusions' sign-ins)
        assert view.total == scalar(screen, "SELECT count(*) FROM tokens") == 1424
        assert view.shown == scalar(screen, "SELECT count(*) FROM tokens WHERE severity = 'critical'")
        assert all(row["uses"] for row in shown_rows(view))
        assert "usage still loading" not in str(screen.query_one("#status-tokens").render())


async def test_the_preview_shows_before_the_signatures_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a key list (the sample's jwks.json), the preview is on screen while its keys check the
    signatures, each such token saying `checking`; the checked preview then takes its place with the
    analyst's token still selected. The checks are held by a pause in front of the real
    `verify._check`; nothing of the engine is replaced."""
    release = threading.Event()
    check = verify._check

    def held(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(60), "the test never let the signature checks go on"
        return check(*args, **kwargs)

    monkeypatch.setattr(verify, "_check", held)
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        try:
            screen, view = await _preview(pilot, app)
            assert view.checking
            status = str(screen.query_one("#status-tokens").render())
            assert "signatures being checked, usage still loading" in status
            assert _on(view, "SELECT count(*) FROM tokens WHERE sig = 'checking'") == 670
            assert {row["sig"] for row in shown_rows(view)} == {"checking", None}  # None: EwB tickets
            await pilot.press("down", "down")
            await wait_for(pilot, lambda: view.table.cursor_row == 2, "the cursor on the third row")
            chosen = view.table.paged.key_at(2)
        finally:
            release.set()
        await wait_for(
            pilot,
            lambda: not view.checking and not view.has_class("-querying") and view.ready,
            "the checked preview",
        )
        assert chosen is not None and view.table.paged.key_at(view.table.cursor_row) == chosen
        assert "signatures being checked" not in str(screen.query_one("#status-tokens").render())
        await settle(pilot, app)
        assert scalar(screen, "SELECT count(*) FROM tokens WHERE sig = 'checking'") == 0
        assert scalar(screen, "SELECT count(*) FROM tokens WHERE sig = 'valid'") == 670
