"""The panes' threads forced into their races (issue 26, point 7), on `triage open sample_logs/`.

A query is held at a chosen point by wrapping the engine function the worker calls: the wrapper
runs the real function on the real DuckDB session and only waits before returning (or before
calling it), so what is tested is the order of events, never a faked result.
Expected values come from DuckDB on the app's own session.
"""

from __future__ import annotations

import threading

import pytest
from textual.message import Message
from tui_pilot import SIZE, Told, needs_sample, scalar, settle, shown_rows, wait_for

from tui.app import TriageApp
from tui.engine.analyses import tables
from tui.engine.analyses.filter import add_term
from tui.engine.core.options import Options
from tui.widgets import pane_view
from tui.widgets.pane_view import PaneView

pytestmark = [needs_sample, pytest.mark.usefixtures("repo_cwd")]

HELD_S = 60.0  # the longest a held query waits (a failed test must not hang the suite)


async def test_a_superseded_filter_that_finishes_last_does_not_replace_the_newer_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race PaneView names: the first filter's query completes, but only after the second
    filter's rows are on screen. Its result must be dropped (it is stale), not shown."""
    arrived: list[PaneView._Arrived] = []

    def hook(message: Message) -> None:
        if isinstance(message, PaneView._Arrived) and message.total is not None:
            arrived.append(message)

    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await settle(pilot, app)
        view = screen.pane("tokens")
        first, second = "severity>=high", "severity=low"
        first_where = view.check_filter(first)[0]
        entered, release = threading.Event(), threading.Event()
        real = pane_view.fetch_page

        def held(cursor, spec, where, offset, order=""):  # type: ignore[no-untyped-def]
            page = real(cursor, spec, where, offset, order=order)
            if where == first_where and offset == 0:
                entered.set()  # the first filter's rows are fetched; its worker waits to post them
                release.wait(HELD_S)
            return page

        monkeypatch.setattr(pane_view, "fetch_page", held)
        assert view.apply_filter(first) is None
        await wait_for(pilot, entered.is_set, "the first filter's query")
        assert view.apply_filter(second) is None
        lows = scalar(screen, "SELECT count(*) FROM tokens WHERE severity = 'low'")
        highs = scalar(screen, "SELECT count(*) FROM tokens WHERE severity IN ('high', 'critical')")
        assert lows != highs  # the two results can be told apart
        await wait_for(pilot, lambda: view.filter_text == second, "the second filter's rows")
        assert view.shown == lows
        release.set()
        await wait_for(
            pilot, lambda: any(m.filter_text == first for m in arrived), "the first filter's late result"
        )
        await settle(pilot, app)
        stale = [m for m in arrived if m.filter_text == first]
        assert len(stale) == 1 and stale[0].total == highs  # it did finish, with its own rows…
        assert arrived.index(stale[0]) > arrived.index(next(m for m in arrived if m.filter_text == second))
        # … after the second's, and the pane still shows the second's
        assert view.filter_text == second and view.shown == lows
        assert {row["severity"] for row in shown_rows(view)} == {"low"}


async def test_a_pane_waits_for_the_split_recompute_and_never_reads_a_half_built_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The recompute rebuilds `mailboxes` in two statements: its rows, then its `actions` column.
    Held between the two, a filter on `actions` typed meanwhile must wait (no query against the
    table without the column: that would fail), then show the rebuilt table's rows."""
    app = TriageApp(["sample_logs"], Options())
    told = Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        screen = await settle(pilot, app)
        (value,) = [
            v
            for (v,) in screen.session.con.execute(
                "SELECT actions FROM mailboxes WHERE actions <> '' ORDER BY actions LIMIT 1"
            ).fetchall()
        ]
        text = add_term("", "actions", "=", value)
        paused, release = threading.Event(), threading.Event()
        real = tables.add_mailbox_actions

        def held(con):  # type: ignore[no-untyped-def]
            paused.set()  # `mailboxes` is rebuilt without its `actions` column, for now
            release.wait(HELD_S)
            real(con)

        monkeypatch.setattr(tables, "add_mailbox_actions", held)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, paused.is_set, "the recompute to reach the mailboxes")
        view = screen.pane("mailboxes")
        assert view.apply_filter(text) is None
        await pilot.pause(0.5)
        assert view.has_class("-querying") and view.filter_text != text  # waiting at the gate
        release.set()
        await settle(pilot, app)
        assert told.messages("error") == []
        expected = scalar(screen, "SELECT count(*) FROM mailboxes WHERE actions = ?", [value])
        assert view.filter_text == text and view.shown == expected > 0
        assert {row["actions"] for row in shown_rows(view)} == {value}
