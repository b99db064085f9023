"""Pilot tests of the analyst's workflow (issue 6): verdicts and notes, state restored on reopen,
the timeline span, the drift split keys, the command palette and `--tz`.

Expected values come from DuckDB on the app's own session, never from the widgets themselves.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from tui_pilot import SAMPLE, SIZE, Told, needs_sample, save_as, scalar, settle, shown_rows, sql, wait_for

from tui.app import TriageApp
from tui.engine.analyses.panes import Order
from tui.engine.core.options import Options
from tui.screens.commands import PALETTE_TITLES
from tui.screens.main import MainScreen
from tui.screens.verdict_dialog import VerdictDialog
from tui.widgets.detail_panel import DetailPanel
from tui.widgets.header_line import HeaderLine
from tui.widgets.timeline import TimelineStrip

pytestmark = [needs_sample, pytest.mark.usefixtures("repo_cwd")]


async def test_verdict_with_note_shows_on_events_filters_and_saves(tmp_path: Path) -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        token = screen.pane("tokens").table.paged.raw_at(0)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, VerdictDialog), "the verdict dialog")
        await pilot.press(*"forged key IR-42", "enter")  # the note; the verdict stays "finding"
        await settle(pilot, app)
        rows = scalar(screen, "SELECT list([pane, key, verdict, note]) FROM marks")
        assert rows == [["tokens", token["tkey"], "finding", "forged key IR-42"]]
        assert str(screen.pane("tokens").table.paged.get_row_at(0)[0]) == "!"
        assert "your verdict" in screen.query_one(DetailPanel).plain
        # The token's events show its verdict; `verdict=finding` selects exactly them.
        await pilot.press("4", "slash", *"verdict=finding", "enter")
        await settle(pilot, app)
        events = screen.pane("events")
        assert (
            events.shown
            == token["uses"]
            == scalar(screen, "SELECT count(*) FROM events WHERE tkey = ?", [token["tkey"]])
        )
        assert {(r["tkey"], r["note"], r["mark"]) for r in shown_rows(events)} == {
            (token["tkey"], "forged key IR-42", "token")
        }
        assert str(events.table.paged.get_row_at(0)[0]) == "!"
        # The timeline follows the Events filter.
        strip = screen.query_one(TimelineStrip)
        assert sum(c.events for c in strip.strip.cells) == token["uses"]
        # Save the token: the CSV has the verdict and note, the manifest the filters in force.
        await pilot.press("1", "ctrl+s")
        saved = await save_as(pilot, app, tmp_path / "found.csv")
        assert [(r["tkey"], r["verdict"], r["note"]) for r in saved] == [
            (token["tkey"], "finding", "forged key IR-42")
        ]
        manifest = json.loads((tmp_path / "found.manifest.json").read_text())
        assert manifest["filters"] == {
            "tokens": "",
            "mailboxes": "",
            "drift": "",
            "events": "verdict=finding",
            "sessions": "",
        }


async def run_and_quit(paths: list[str], keys: tuple[str, ...] = ()) -> MainScreen:
    app = TriageApp(paths, Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        for key in keys:
            await pilot.press(key)
        await settle(pilot, app)
        await pilot.press("q")
    return screen


async def test_state_comes_back_by_content_and_a_changed_file_starts_clean(tmp_path: Path) -> None:
    first, second = tmp_path / "case", tmp_path / "copy"
    for folder in (first, second):
        shutil.copytree(SAMPLE, folder)
    screen = await run_and_quit(
        [str(first)],
        ("space", "down", "space", "2", *["right"] * 5, "O", "slash", *"severity>=high", "enter"),
    )
    marked = set(screen.marks["tokens"])
    assert len(marked) == 2
    # Same bytes in another folder: everything is back.
    app = TriageApp([str(second)], Options())
    told = Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        screen = await settle(pilot, app)
        await wait_for(pilot, lambda: screen.current == "mailboxes", "the saved pane")
        assert set(screen.marks["tokens"]) == marked
        assert screen.pane("mailboxes").filter_text == "severity>=high"
        assert screen.pane("mailboxes").shown == scalar(
            screen, "SELECT count(*) FROM mailboxes WHERE sev_rank >= 4"
        )
        # and its sort, most accesses first
        view = screen.pane("mailboxes")
        await wait_for(pilot, lambda: view.order == Order("accesses", True), "the saved sort")
        await settle(pilot, app)
        accesses = [r["accesses"] for r in shown_rows(view)]
        assert accesses == sorted(accesses, reverse=True) and len(set(accesses)) > 1
        assert scalar(screen, "SELECT count(*) FROM marks WHERE pane = 'tokens'") == 2
        assert "session restored" in told.titles()
    # One changed byte: a clean start that names the file.
    signins = second / "signins.json"
    signins.write_bytes(signins.read_bytes().replace(b"value", b"value", 1) + b"\n")
    app = TriageApp([str(second)], Options())
    told = Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        screen = await settle(pilot, app)
        assert screen.current == "tokens" and not screen.marks["tokens"]
        assert screen.pane("mailboxes").filter_text == ""
        changed = [n.message for n in told.notes if n.title == "input changed"]
        assert len(changed) == 1 and changed[0].startswith("signins.json changed since the session of ")
    assert sorted(p.name for p in first.iterdir()) == sorted(p.name for p in SAMPLE.iterdir())


async def test_a_saved_sort_on_a_column_the_pane_no_longer_has_is_said_not_restored(tmp_path: Path) -> None:
    """A state file from a version whose pane had another column: the sort is not restored, and a
    warning names it (it was dropped silently); the rest of the session comes back."""
    await run_and_quit(["sample_logs"], ("2", *["right"] * 5, "O"))
    (saved,) = (tmp_path / "state").glob("*.json")
    document = json.loads(saved.read_text())
    assert document["sorts"] == {"mailboxes": {"column": "accesses", "descending": True}}
    document["sorts"]["mailboxes"]["column"] = "reads_total"
    saved.write_text(json.dumps(document))
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await wait_for(pilot, lambda: screen.current == "mailboxes", "the saved pane")
        said = "the saved sort on 'reads_total' is not restored: the Mailboxes pane has no such column"
        await wait_for(pilot, lambda: said in {str(n.message) for n in app._notifications}, "the warning")
        assert screen.pane("mailboxes").order is None


async def test_timeline_span_narrows_the_events_filter() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        strip = screen.query_one(TimelineStrip)
        total = scalar(screen, "SELECT count(*) FROM events WHERE ts IS NOT NULL")
        assert sum(c.events for c in strip.strip.cells) == total
        flagged = scalar(screen, "SELECT count(*) FROM events WHERE ts IS NOT NULL AND sev_rank >= 3")
        assert sum(c.flagged for c in strip.strip.cells) == flagged
        await pilot.press("t")
        assert app.focused is strip
        await pilot.press("right", "right", "shift+right", "shift+right")
        assert strip.span == (2, 4)
        start, end = strip.strip.cells[2].start, strip.strip.cells[4].end
        assert end - start == timedelta(hours=3 * strip.strip.hours_per_cell)
        await pilot.press("enter")
        await settle(pilot, app)
        events = screen.pane("events")
        assert screen.current == "events"
        expected = scalar(screen, "SELECT count(*) FROM events WHERE ts >= ? AND ts < ?", [start, end])
        assert events.shown == expected > 0
        assert events.filter_text.startswith("ts>=") and " ts<" in events.filter_text
        assert sum(c.events for c in strip.strip.cells) == expected  # the strip zooms to the span


async def test_split_keys_recompute_in_the_background() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        split = screen.session.annotation.split
        await pilot.press("right_square_bracket", "2")  # the keyboard is not blocked by the recompute
        assert screen.current == "mailboxes"
        await settle(pilot, app)
        later = split.window_start + timedelta(days=1)
        assert screen.session.annotation.split.window_start == later
        assert f"split {later:%Y-%m-%d %H:%M} UTC" in str(screen.query_one(HeaderLine).render())
        assert scalar(screen, "SELECT DISTINCT window_start FROM drift") == later
        hits = scalar(
            screen,
            "SELECT count(*) FROM row_indicators WHERE code = 'NEW_APP_FOR_MAILBOX' AND source_row IN "
            "(SELECT source_row FROM events WHERE ts < ? AND operation = 'MailItemsAccessed')",
            [later],
        )
        assert hits == 0  # nothing before the new window start is "new" any more
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot, app)
        assert screen.session.annotation.split.window_start == split.window_start - timedelta(days=1)
        assert scalar(screen, "SELECT DISTINCT baseline_end FROM drift") == split.window_start - timedelta(
            days=1
        )


async def test_command_palette_has_every_action() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        commands = {c.title: c for c in app.get_system_commands(screen)}
        assert set(PALETTE_TITLES.values()) <= set(commands)
        await commands["Show the Events pane"].callback()
        assert screen.current == "events"
        table = screen.pane("events").table
        await wait_for(pilot, lambda: table.paged.raw_at(0) is not None, "the first Events page")
        await commands["Mark or unmark the row"].callback()
        await wait_for(pilot, lambda: len(screen.marks["events"]) == 1, "the mark")
        assert len(screen.marks["events"]) == 1


async def test_tz_changes_displayed_times_only(tmp_path: Path) -> None:
    app = TriageApp(["sample_logs"], Options(tz="Europe/Paris"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("4")
        events = screen.pane("events")
        first = events.table.paged.raw_at(0)["ts"]
        column = list(events.table.paged.columns).index("ts")
        assert first == scalar(screen, "SELECT min(ts) FROM events")  # stored: UTC
        shown = events.table.paged.get_row_at(0)[column]
        assert shown == f"{first + timedelta(hours=2):%Y-%m-%d %H:%M:%S} +02:00"
        assert "+02:00" in str(screen.query_one(HeaderLine).render())
        await pilot.press("space", "ctrl+s")
        (row,) = await save_as(pilot, app, tmp_path / "one.csv")
        assert row["ts"].startswith(f"{first:%Y-%m-%dT%H:%M:%S}") and row["ts"].endswith("Z")


async def test_a_state_folder_that_cannot_be_made_leaves_the_session_unsaved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only home or a full disk: the inputs still open, marks and filters still work, and
    the analyst is told once that they will not outlive the session (the open failed with an
    OSError and stayed on the Tokens preview)."""
    blocked = tmp_path / "state"
    blocked.write_text("a file where the state folder should be")
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(blocked))
    app = TriageApp(["sample_logs"], Options())
    told = Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        screen = await settle(pilot, app)
        tokens = screen.pane("tokens")
        assert not tokens.pending and tokens.total == scalar(screen, "SELECT count(*) FROM tokens")
        await pilot.press("space", "down", "space", "slash", *"severity>=high", "enter")
        await settle(pilot, app)
        assert len(screen.marks["tokens"]) == 2 and tokens.filter_text == "severity>=high"
        (said,) = [n for n in told.notes if n.title == "session state not saved"]
        assert said.message.startswith(f"the state folder {blocked} cannot be used (")
    assert blocked.read_text() == "a file where the state folder should be"


async def test_n_and_shift_n_go_to_the_next_and_previous_flagged_event() -> None:
    """Drilled into the worst mailbox, `n` puts the cursor on its first event at severity medium or
    worse (the rows before it unflagged), `n` again on the next, `N` back; at the last flagged event
    `n` says there is none and the cursor stays; on another pane `n` says where it works."""
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("2", "enter")
        screen = await settle(pilot, app)
        events = screen.pane("events")
        mailbox = screen.pane("mailboxes").table.paged.raw_at(0)["mailbox"]
        ranks = [
            r[0]
            for r in sql(
                screen,
                "SELECT sev_rank FROM events_marked WHERE lower(mailbox) = lower(?) ORDER BY rn",
                [mailbox],
            )
        ]
        flagged = [i for i, rank in enumerate(ranks) if (rank or 0) >= 3]
        assert events.shown == len(ranks) and flagged[0] > 0 and len(flagged) >= 3
        detail = screen.query_one(DetailPanel)

        async def press_and_land(key: str, row: int) -> None:
            await pilot.press(key)
            await wait_for(pilot, lambda: events.table.cursor_row == row, f"{key} to row {row}")
            raw = events.table.paged.raw_at(row)
            title = f"event {raw['source']} row {raw['source_row']}"
            await wait_for(pilot, lambda: detail.detail is not None and detail.detail.title == title, title)

        await press_and_land("n", flagged[0])
        assert events.table.paged.raw_at(flagged[0])["severity"] in ("medium", "high", "critical")
        await press_and_land("n", flagged[1])
        await press_and_land("N", flagged[0])
        events.table.move_cursor(row=flagged[-1])
        await pilot.press("n")
        await wait_for(
            pilot,
            lambda: any("no flagged event after this one" in str(n.message) for n in app._notifications),
            "the notice",
        )
        assert events.table.cursor_row == flagged[-1]
        await pilot.press("1", "n")
        await wait_for(
            pilot,
            lambda: any("on the Events pane" in str(n.message) for n in app._notifications),
            "the notice on Tokens",
        )


async def test_o_and_shift_o_sort_a_pane_by_the_cursors_column_and_the_saved_view_follows(
    tmp_path: Path,
) -> None:
    """On Mailboxes, `O` on `accesses` sorts most first, `O` again gives back the pane's own order
    (worst first), `o` sorts fewest first; the status line says so and ctrl+s saves the rows in the
    order shown, the manifest naming it. On Events `o` says it keeps time order."""
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("2")
        view = screen.pane("mailboxes")
        columns = view.table.paged.columns
        view.table.move_cursor(row=0, column=columns.index("accesses"))
        own = [r["mailbox"] for r in shown_rows(view)]

        def accesses() -> list[int]:
            return [r["accesses"] for r in shown_rows(view)]

        await pilot.press("O")
        screen = await settle(pilot, app)
        expected = [
            r[0] for r in sql(screen, "SELECT accesses FROM mailboxes ORDER BY accesses DESC NULLS LAST")
        ]
        assert accesses() == expected and expected != sorted(expected)  # not ascending by chance
        status = str(screen.query_one("#status-mailboxes").render())
        assert status.endswith("sorted by accesses ↓")
        await pilot.press("O")
        screen = await settle(pilot, app)
        assert [r["mailbox"] for r in shown_rows(view)] == own and "sorted" not in str(
            screen.query_one("#status-mailboxes").render()
        )
        await pilot.press("o")
        screen = await settle(pilot, app)
        assert accesses() == sorted(expected)
        await pilot.press("ctrl+s")
        rows = await save_as(pilot, app, tmp_path / "view.csv")
        assert [int(r["accesses"]) for r in rows] == sorted(expected)
        manifest = json.loads((tmp_path / "view.manifest.json").read_text())
        assert manifest["view"]["order"] == "sorted by accesses ↑"
        await pilot.press("4", "o")
        await wait_for(
            pilot,
            lambda: any("Events stay in time order" in str(n.message) for n in app._notifications),
            "the notice on Events",
        )


async def test_y_copies_the_cell_as_shown(tmp_path: Path) -> None:
    """`y` puts the cell under the cursor on the clipboard as the table shows it: a token's key in
    full (the cell is cut to its width), a time in the display zone; a control character in the
    data as its visible escape, never itself."""
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        view = screen.pane("tokens")
        first = view.table.paged.raw_at(0)
        view.table.move_cursor(row=0, column=view.table.paged.columns.index("tkey"))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.clipboard == first["tkey"], "the token key copied")
        assert first["tkey"].startswith("sha256:") and len(first["tkey"]) == 71
        view.table.move_cursor(row=0, column=view.table.paged.columns.index("first_seen"))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.clipboard.endswith(" UTC"), "the time copied")
        assert app.clipboard == first["first_seen"].strftime("%Y-%m-%d %H:%M:%S UTC")
        # ctrl+c copies the same way (it did nothing: the table's own binding went unread)
        view.table.move_cursor(row=0, column=view.table.paged.columns.index("tkey"))
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: app.clipboard == first["tkey"], "the token key copied by ctrl+c")
        said = [str(n.message) for n in app._notifications if str(n.message).startswith("copied tkey: ")]
        assert len(said) == 2  # `y`, then ctrl+c: each says what it copied
        # on the ✓ column, where the cursor starts, the row's key (what a mark refers to)
        await pilot.press("4")
        events = screen.pane("events")
        await wait_for(pilot, lambda: events.ready and events.table.paged.raw_at(0) is not None, "Events")
        events.table.move_cursor(row=0, column=0)
        await pilot.press("y")
        key = scalar(screen, "SELECT source || '#' || source_row FROM events ORDER BY rn LIMIT 1")
        await wait_for(pilot, lambda: app.clipboard == key, "the event's key copied")
        assert str(key).startswith("sample_logs/") and str(key).split("#")[1].isdigit()  # file#row
