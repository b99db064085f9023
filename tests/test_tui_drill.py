"""Pilot tests of `triage open` on sample_logs/: drilling between panes and the detail panel.

Expected values come from DuckDB queries on the app's own session (the same tables the panes read),
never from the widgets themselves, so a pane showing the wrong rows fails.
"""

from __future__ import annotations

import json

import pytest
from tui_pilot import SIZE, needs_sample, scalar, settle, shown_rows, sql, wait_for

from tui.app import TriageApp
from tui.engine.core.options import Options
from tui.engine.tokens.jwt_decode import JSON_FROM, json_text_sql
from tui.widgets.detail_panel import DetailPanel

pytestmark = [needs_sample, pytest.mark.usefixtures("repo_cwd")]


async def test_drill_from_token_and_mailbox_then_escape_back() -> None:
    """`enter` drills a token, a mailbox or a user to its events and an event to its token; `escape`
    steps back; an event that names no token says so."""
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        first = screen.pane("tokens").table.paged.raw_at(0)
        await pilot.press("enter")
        await settle(pilot, app)
        events = screen.pane("events")
        assert screen.current == "events"
        assert events.filter_text == f"tkey={first['tkey']}"
        assert (
            events.shown
            == first["uses"]
            == scalar(screen, "SELECT count(*) FROM events WHERE tkey = ?", [first["tkey"]])
        )
        assert {r["tkey"] for r in shown_rows(events)} == {first["tkey"]}
        # `enter` on an event: its token alone on the Tokens pane; `escape` back to the events
        drilled = events.filter_text
        events.table.move_cursor(row=3)
        await pilot.press("enter")
        await settle(pilot, app)
        tokens = screen.pane("tokens")
        assert screen.current == "tokens" and tokens.filter_text == f"tkey={first['tkey']}"
        assert [r["tkey"] for r in shown_rows(tokens)] == [first["tkey"]]
        await pilot.press("escape")
        await settle(pilot, app)
        assert screen.current == "events" and events.filter_text == drilled and tokens.filter_text == ""
        await pilot.press("escape")
        await settle(pilot, app)
        assert screen.current == "tokens" and events.filter_text == ""
        await pilot.press("2", "enter")
        await settle(pilot, app)
        mailbox = screen.pane("mailboxes").table.paged.raw_at(0)["mailbox"]
        expected = scalar(screen, "SELECT count(*) FROM events WHERE lower(mailbox) = lower(?)", [mailbox])
        assert (
            screen.current == "events"
            and events.filter_text == f"mailbox={mailbox}"
            and events.shown == expected
        )
        await pilot.press("escape")
        await settle(pilot, app)
        assert screen.current == "mailboxes"
        await pilot.press("3", "enter")
        await settle(pilot, app)
        user = screen.pane("drift").table.paged.raw_at(0)["user"]
        assert events.filter_text == f"user={user}"
        assert events.shown == scalar(
            screen, 'SELECT count(*) FROM events WHERE lower("user") = lower(?)', [user]
        )
        # an event that names no token (neither a raw token nor a uti) says so
        kind, row = sql(
            screen, "SELECT kind, source_row FROM events WHERE tkey IS NULL ORDER BY ALL LIMIT 1"
        )[0]
        await pilot.press("escape", "4", "slash", *f"kind={kind} source_row={row}", "enter")
        await settle(pilot, app)
        assert events.shown >= 1 and events.table.paged.raw_at(0)["tkey"] is None
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any("names no token" in str(n.message) for n in app._notifications),
            "the notice",
        )
        assert screen.current == "events"


async def test_detail_explains_the_selected_token() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        row = screen.pane("tokens").table.paged.raw_at(0)
        text = screen.query_one(DetailPanel).plain
        for code, severity, evidence in sql(
            screen, "SELECT code, severity, evidence FROM token_indicators WHERE tkey = ?", [row["tkey"]]
        ):
            assert f"{code}  {severity}" in text and evidence[:40] in text
        claims = json.loads(
            scalar(
                screen,
                f"SELECT {json_text_sql('claims')} FROM {JSON_FROM} WHERE c.tok_sha256 = ?",
                [row["tok_sha256"]],
            )
        )
        assert f"iss  {claims['iss']}" in text.replace("\n    ", "  ")
        await pilot.press("3")
        await settle(pilot, app)
        drift = screen.query_one(DetailPanel).plain
        assert "why it drifted" in drift and "baseline 20" in drift and "hours (UTC)" in drift


async def test_shift_j_and_k_scroll_the_detail_panel_with_the_cursor_in_the_table() -> None:
    """The detail of an event (its token, its original record) is longer than the panel; the table
    keeps the focus (its tab moves between cells), so `J` / `K` scroll the panel instead."""
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("enter")  # the worst token's events
        screen = await settle(pilot, app)
        panel = screen.query_one(DetailPanel)
        table = screen.pane("events").table
        assert panel.max_scroll_y > panel.scrollable_content_region.height  # more than two steps
        half = panel.scrollable_content_region.height // 2
        await pilot.press("J", "J")
        await wait_for(pilot, lambda: panel.scroll_y == 2 * half, "two steps down")
        await pilot.press("K")
        await wait_for(pilot, lambda: panel.scroll_y == half, "one step up")
        assert app.focused is table and table.cursor_row == 0


async def test_z_widens_the_detail_panel_and_gives_the_table_its_width_back() -> None:
    """`z`: the detail panel takes most of the width (a value beside its label where the narrow
    panel put it on its own line), the table a strip whose cursor still chooses the row; `z` again
    restores both."""
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("4")
        screen = await settle(pilot, app)
        panel, table = screen.query_one(DetailPanel), screen.pane("events").table
        narrow, wide_table = panel.size.width, table.size.width
        text = str(panel.query_one("#detail-body").render())
        assert "session_id\n    " in text  # label and value on two lines in the narrow panel
        await pilot.press("z")
        await wait_for(pilot, lambda: panel.size.width > narrow + 30, "the wide panel")
        assert table.size.width == 36 < wide_table and app.focused is table
        await wait_for(
            pilot, lambda: "session_id  " in str(panel.query_one("#detail-body").render()), "inline"
        )
        await pilot.press("down")
        await wait_for(pilot, lambda: table.cursor_row == 1, "the next row")
        row = table.paged.raw_at(1)
        title = f"event {row['source']} row {row['source_row']}"
        await wait_for(pilot, lambda: panel.detail is not None and panel.detail.title == title, "its detail")
        await pilot.press("z")
        await wait_for(
            pilot, lambda: panel.size.width == narrow and table.size.width == wide_table, "restored"
        )
