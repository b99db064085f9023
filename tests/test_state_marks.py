"""Marks joined into the panes (verdict=finding on every pane, events inheriting) and the split recompute."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from tui.engine.analyses import tables as analyses
from tui.engine.analyses.filter import compile_filter
from tui.engine.analyses.marks import Mark, write_marks
from tui.engine.analyses.tables import Where, pane_columns
from tui.engine.case.session import Session
from tui.engine.core.options import Options
from tui.engine.indicators.run import resplit

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"

pytestmark = pytest.mark.skipif(not (SAMPLE / "gateway.parquet").is_file(), reason="no sample_logs/")


@pytest.fixture(scope="module")
def session() -> Session:
    s = Session.open([str(SAMPLE)], Options())
    analyses.build(s.con, s.annotation.split)
    yield s
    s.close()


def count(s: Session, pane: str, text: str) -> int:
    where = Where.of(compile_filter(text, pane_columns(s.con, pane)))
    return int(analyses.run(s.con, f"{pane}_count", (), where).column("n")[0].as_py())


def test_verdicts_filter_every_pane_and_events_inherit(session: Session) -> None:
    con = session.con
    tkey, uses = con.execute("SELECT tkey, uses FROM tokens ORDER BY sev_rank DESC, tkey LIMIT 1").fetchone()
    mailbox = con.execute("SELECT mailbox FROM mailboxes ORDER BY mailbox LIMIT 1").fetchone()[0]
    user = con.execute('SELECT "user" FROM drift ORDER BY "user" DESC LIMIT 1').fetchone()[0]
    source, row, event_tkey = con.execute(
        "SELECT source, source_row, tkey FROM events WHERE tkey = ? ORDER BY source_row LIMIT 1", [tkey]
    ).fetchone()
    assert event_tkey == tkey
    write_marks(
        con,
        [
            Mark("tokens", tkey, "finding", "forged"),
            Mark("mailboxes", mailbox, "needs_review", "check with owner"),
            Mark("drift", user),
            Mark("events", f"{source}#{row}", "false_positive", "the admin's own test"),
        ],
    )
    try:
        assert count(session, "tokens", "verdict=finding") == 1
        assert count(session, "mailboxes", "verdict=needs_review note:owner") == 1
        assert count(session, "drift", "mark=user verdict=") == 1
        # The token's events are findings, except the one the analyst judged on its own.
        assert count(session, "events", "verdict=finding") == uses - 1
        assert count(session, "events", "verdict=false_positive") == 1
        page = analyses.run(
            con,
            "events_page",
            [5, 0],
            Where.of(compile_filter("verdict=finding", pane_columns(con, "events"))),
        ).to_pylist()
        assert {(r["tkey"], r["verdict"], r["note"], r["mark"]) for r in page} == {
            (tkey, "finding", "forged", "token")
        }
        by_mailbox = con.execute(
            "SELECT count(*) FROM events WHERE lower(mailbox) = ? AND (tkey IS DISTINCT FROM ?)",
            [mailbox, tkey],
        ).fetchone()[0]
        assert count(session, "events", "verdict=needs_review") == by_mailbox
        flagged = analyses.run(
            con, "timeline", (), Where.of(compile_filter("verdict=finding", pane_columns(con, "events")))
        )
        assert sum(flagged.column("events").to_pylist()) == uses - 1
    finally:
        write_marks(con, [])
    assert count(session, "events", "verdict=finding") == 0


def test_events_inherit_marks_of_uti_tokens_and_users(session: Session) -> None:
    """A token known only by its uti (no raw token) and a user mark reach exactly their events."""
    con = session.con
    uti_key, uti_rows = con.execute(
        "SELECT tkey, count(*) FROM events WHERE tkey LIKE 'uti:%' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
    ).fetchone()
    user, user_rows = con.execute(
        'SELECT "user", count(*) FROM events WHERE "user" IS NOT NULL AND tkey IS DISTINCT FROM ? '
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
        [uti_key],
    ).fetchone()
    both = con.execute(
        'SELECT count(*) FROM events WHERE tkey = ? AND "user" = ?', [uti_key, user]
    ).fetchone()[0]
    write_marks(con, [Mark("tokens", uti_key, "finding", "uti only"), Mark("drift", user, "needs_review")])
    try:
        assert count(session, "events", "mark=token verdict=finding") == uti_rows
        assert count(session, "events", "mark=user verdict=needs_review") == user_rows - both
        every = con.execute("SELECT count(*) FROM events").fetchone()[0]
        assert count(session, "events", "verdict=") == every - uti_rows - user_rows + both
    finally:
        write_marks(con, [])


def test_moving_the_split_recomputes_new_app_like_a_fresh_run(session: Session) -> None:
    split = session.annotation.split
    later = split.window_start + timedelta(days=3)
    moved = dataclasses.replace(split, baseline_end=later, window_start=later)
    con = session.con
    before = con.execute("SELECT count(*) FROM row_indicators WHERE code = 'NEW_APP_FOR_MAILBOX'").fetchone()[
        0
    ]
    resplit(con, session.options, session.case.intel, session.annotation.org, moved)
    analyses.build(con, moved)
    hits = sorted(
        con.execute(
            "SELECT source, source_row, evidence FROM row_indicators WHERE code = 'NEW_APP_FOR_MAILBOX'"
        ).fetchall()
    )
    fresh = Session.open([str(SAMPLE)], Options(baseline_until=later))
    try:
        expected = sorted(
            fresh.con.execute(
                "SELECT source, source_row, evidence FROM row_indicators WHERE code = 'NEW_APP_FOR_MAILBOX'"
            ).fetchall()
        )
        assert fresh.annotation.split == moved
        assert hits == expected and 0 < len(hits) < before
        assert con.execute("SELECT DISTINCT window_start FROM drift").fetchall() == [(later,)]
        tokens = "SELECT count(*) FROM tokens WHERE contains(indicators, 'NEW_APP_FOR_MAILBOX')"
        analyses.build(fresh.con, moved)
        assert con.execute(tokens).fetchone() == fresh.con.execute(tokens).fetchone()
    finally:
        fresh.close()
        resplit(con, session.options, session.case.intel, session.annotation.org, split)
        analyses.build(con, split)
