"""Pilot tests of `triage open` on sample_logs/: every key, the filter language, drill, marks, save.

Expected values come from DuckDB queries on the app's own session (the same tables the panes read),
never from the widgets themselves, so a pane showing the wrong rows fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from textual.widgets import Static
from tui_pilot import REPO, SAMPLE, SIZE, needs_sample, scalar, settle, shown_rows, wait_for

from tui.app import TriageApp, missing_inputs, run_app
from tui.engine.analyses.panes import PAGE_SIZE
from tui.engine.core.options import Options
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.widgets.detail_panel import DetailPanel
from tui.widgets.filter_bar import FilterBar
from tui.widgets.filter_chips import FilterChips
from tui.widgets.page_backend import MAX_PAGES

pytestmark = [needs_sample, pytest.mark.usefixtures("repo_cwd")]


async def test_header_tabs_and_pane_keys() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        header = str(screen.query_one("#header").render())
        events = scalar(screen, "SELECT count(*) FROM events")
        assert f"{events:,} events" in header
        assert "UTC" in header and "tenant" in header and "● ready" in header
        tabs = str(screen.query_one("#tabs").render())
        flagged_tokens = scalar(screen, "SELECT count(*) FROM tokens WHERE sev_rank >= 3")
        assert f"[1 Tokens {flagged_tokens:,}⚑]" in tabs
        assert "[3 Drift]" in tabs and "[4 Events]" in tabs
        tokens = scalar(screen, "SELECT count(*) FROM tokens")
        status = str(screen.query_one("#status-tokens").render())
        assert status.startswith(f"{tokens:,} of {tokens:,}")
        for key, pane in (("2", "mailboxes"), ("3", "drift"), ("4", "events"), ("1", "tokens")):
            await pilot.press(key)
            assert screen.query_one("#panes").current == f"pane-{pane}"
            assert app.focused is screen.pane(pane).table
        await pilot.press("4")
        await settle(pilot, app)
        status = str(screen.query_one("#status-events").render())
        assert status.startswith(f"{events:,} of {events:,}")


async def test_filter_bar_error_inline_then_applies() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        tokens = screen.pane("tokens")
        total = tokens.shown
        await pilot.press("slash")
        bar = screen.query_one(FilterBar)
        assert bar.display and app.focused is bar.input
        await pilot.press(*"severity>=hig")
        error = str(screen.query_one("#filter-error").render())
        assert "severity must be one of info, low, medium, high, critical" in error
        await pilot.press("enter")  # refused: the bar stays open, the table keeps its rows
        await pilot.pause(0.2)
        assert bar.display and tokens.shown == total and tokens.filter_text == ""
        await pilot.press("h", "enter")
        await settle(pilot, app)
        assert not bar.display
        expected = scalar(screen, "SELECT count(*) FROM tokens WHERE sev_rank >= 4")
        assert 0 < expected < total
        assert tokens.shown == expected and tokens.filter_text == "severity>=high"
        assert {r["severity"] for r in shown_rows(tokens)} <= {"high", "critical"}
        assert screen.query_one(FilterChips).labels == ["severity>=high"]
        assert str(screen.query_one("#status-tokens").render()).startswith(f"{expected:,} of {total:,}")


async def test_a_filter_that_matches_nothing_says_so_in_the_detail_panel() -> None:
    """`uses > 100000` (spaces as in SQL) is the comparison, not three words; no token has that many
    uses, and the detail panel says there is no row instead of `loading…` for ever."""
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        tokens = screen.pane("tokens")
        assert scalar(screen, "SELECT max(uses) FROM tokens") < 100000
        await pilot.press("slash", *"uses > 100000", "enter")
        await settle(pilot, app, full=False)
        assert tokens.shown == 0 and screen.query_one(FilterChips).labels == ["uses>100000"]
        body = screen.query_one("#detail-body", Static)
        await wait_for(pilot, lambda: "no rows to explain" in str(body.render()), "the empty detail")
        assert screen.query_one(DetailPanel).detail is None
        await pilot.press("escape")  # the filter cleared: the first token is explained again
        await settle(pilot, app)
        assert tokens.filter_text == "" and "why flagged" in str(body.render())


async def test_notes_on_the_inputs_are_shown_once_opened() -> None:
    """A --map column no file has and a --jwks file without keys are said in one toast, as
    `triage inspect` and `triage scan` list them."""
    truth = SAMPLE / "truth.json"
    app = TriageApp(["sample_logs"], Options(mapping={"user": "nosuchcol"}, jwks=(truth,)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        (notes,) = [n for n in app._notifications if n.title == "notes"]
        assert notes.message.splitlines() == [
            # the five log files share the note: said once (`load_report.said_once`)
            "5 files: --map user=nosuchcol: no such column (e.g. sample_logs/entra_audit.json)",
            "truth.json: no keys (a key list holds JWKs with a 'kty')",
        ]


async def test_filter_language_on_events() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("4")
        events = screen.pane("events")
        user = scalar(screen, "SELECT lower(mailbox) FROM mailboxes ORDER BY sev_rank DESC, mailbox LIMIT 1")
        local = str(user).split("@")[0]
        cases = [
            (f"mailbox:{local.upper()}", "contains(lower(mailbox), ?)", [local]),
            (
                f"mailbox:{local} -severity>=high",
                "contains(lower(mailbox), ?) AND coalesce(sev_rank, 0) < 4",
                [local],
            ),
            (
                "kind=entra_signin ts>=2023-06-01",
                "kind = 'entra_signin' AND ts >= TIMESTAMP '2023-06-01'",
                [],
            ),
            ("indicators:IOC_IP severity=critical", "contains(indicators, 'IOC_IP') AND sev_rank = 5", []),
        ]
        for text, where, params in cases:
            await pilot.press("slash")
            screen.query_one(FilterBar).input.value = text
            await pilot.press("enter")
            await settle(pilot, app)
            expected = scalar(screen, f"SELECT count(*) FROM events WHERE {where}", params)
            assert expected > 0, text
            assert events.filter_text == text and events.shown == expected, text


async def test_keep_and_exclude_selected_cell() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        tokens = screen.pane("tokens")
        total = tokens.shown
        await pilot.press("right")  # from the mark column onto `severity`
        top = tokens.table.paged.raw_at(0)["severity"]
        await pilot.press("f")
        await settle(pilot, app)
        same = scalar(screen, "SELECT count(*) FROM tokens WHERE severity = ?", [top])
        assert tokens.filter_text == f"severity={top}" and tokens.shown == same
        assert {r["severity"] for r in shown_rows(tokens)} == {top}
        await pilot.press("escape")  # no drill to step out of: clears
        await settle(pilot, app)
        assert tokens.filter_text == "" and tokens.shown == total
        await pilot.press("x")
        await settle(pilot, app)
        assert tokens.filter_text == f"-severity={top}" and tokens.shown == total - same
        assert top not in {r["severity"] for r in shown_rows(tokens)}
        await pilot.press("backspace")  # drops the last term
        await settle(pilot, app)
        assert tokens.filter_text == "" and tokens.shown == total


async def test_events_page_through_all_rows() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("4")
        events = screen.pane("events")
        backend = events.table.paged
        total = events.shown
        assert total > 4 * PAGE_SIZE
        await pilot.press("end")
        await settle(pilot, app)
        last = backend.raw_at(total - 1)
        assert last is not None and last["ts"] == scalar(screen, "SELECT max(ts) FROM events")
        assert events.table.cursor_row == total - 1
        for _ in range(3):
            await pilot.press("pageup")
        await settle(pilot, app)
        assert backend.raw_at(events.table.cursor_row) is not None
        await pilot.press("home")
        await settle(pilot, app)
        assert backend.raw_at(0)["ts"] == scalar(screen, "SELECT min(ts) FROM events")
        assert backend.pages_held <= MAX_PAGES and backend.pages_held * PAGE_SIZE < total


async def test_help_lists_every_binding_and_q_quits() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        keys = {(key, where) for key, _, where in help_screen.rows}
        for key in (
            "1",
            "2",
            "3",
            "4",
            "/",
            "esc",
            "^s",
            "q",
            "?",
            "⏎",
            "f",
            "x",
            "space",
            "pgdn",
            "m",
            "t",
            "[",
            "]",
        ):
            assert any(k == key for k, _ in keys), key
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("q")
    assert app.return_code == 0


async def test_control_characters_in_data_are_shown_inert(tmp_path: Path) -> None:
    evil = tmp_path / "evidence"
    evil.mkdir()
    duckdb.sql(
        "COPY (SELECT * REPLACE (CASE WHEN row_number() OVER () <= 3 THEN chr(27) || '[31mEVIL' || chr(7) "
        f"ELSE user_agent END AS user_agent) FROM read_parquet('{SAMPLE / 'gateway.parquet'}') LIMIT 200) "
        f"TO '{evil / 'gateway.parquet'}' (FORMAT parquet)"
    )
    app = TriageApp([str(evil)], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        await pilot.press("4", "slash", *"ua:EVIL", "enter")
        await settle(pilot, app)
        events = screen.pane("events")
        assert events.shown == 3
        row = events.table.paged.get_row_at(0)
        column = list(events.table.paged.columns).index("user_agent")
        assert row[column] == "\\x1b[31mEVIL\\x07"
        assert all("\x1b" not in str(cell) for cell in row)


def test_missing_input_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert missing_inputs(["sample_logs", "no/such/dir", "sample_logs/*.parquet"]) == ["no/such/dir"]
    assert run_app(["no/such/dir"], Options()) == 2
    assert "no such file or directory: no/such/dir" in capsys.readouterr().out


def test_engine_helpers_import_no_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tui.engine.analyses.panes, tui.engine.analyses.explain; "
        "sys.exit('textual' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, env=os.environ.copy()).returncode == 0


async def test_superseded_filter_never_wins() -> None:
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot, app)
        events = screen.pane("events")
        assert events.apply_filter("kind=http") is None
        assert events.apply_filter("kind=entra_signin") is None
        await settle(pilot, app)
        expected = scalar(screen, "SELECT count(*) FROM events WHERE kind = 'entra_signin'")
        assert events.filter_text == "kind=entra_signin" and events.shown == expected


async def test_worker_error_becomes_a_notification(monkeypatch: pytest.MonkeyPatch) -> None:
    import tui.widgets.detail_panel as detail_panel

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("explain broke")

    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        monkeypatch.setattr(detail_panel, "explain", broken)
        await pilot.press("down")
        for _ in range(60):
            await pilot.pause(0.05)
            if app._notifications:
                break
        assert [(n.title, n.message) for n in app._notifications] == [
            ("error while explaining the row", "explain broke")
        ]
        assert app.is_running


async def test_help_and_quit_lead_the_footer_at_80_columns() -> None:
    """At 80×24 the footer is cut at the right; `? Help` and `q Quit` must be among the keys shown."""
    from textual.widgets._footer import FooterKey

    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot, app)
        keys = [k for k in screen.query(FooterKey) if not k.has_class("-command-palette")]
        assert [k.action for k in keys[:2]] == ["help", "quit"]
        assert all(k.region.right <= 80 and k.region.width > 0 for k in keys[:2])
        # the table's own keys still follow (drill first), and the app's keys are not listed twice
        assert keys[2].action == "request('drill')"
        assert [k.action for k in keys].count("quit") == 1
