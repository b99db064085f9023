"""Row hits are keyed by the row's place `rn` in the Events pane's order (issue 24 §1): each hit finds
its own event whether the rows were sorted (`_rowid` looked up) or stood in order file after file (the
position, no lookup), and a row hit twice by one code is one hit, the worst with the least evidence."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
from indicator_kit import ORG, T0, event, run, sign

from tui.engine.core.options import Options
from tui.engine.ingest.work import WORK_DB

BAD_IP = "203.0.113.7"


def _ioc(tmp_path: Path) -> Path:
    path = tmp_path / "iocs.csv"
    path.write_text(f"ip,{BAD_IP},lab exit\napp,aaaaaaaa-0000-0000-0000-000000000001,rogue app\n")
    return path


def _hits_on_events(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    """Each hit with the event its `rn` names: (hit source, row, code, rn, event source, row, severity,
    indicators)."""
    return con.execute(
        """SELECT i.source, i.source_row, i.code, i.rn, e.source, e.source_row, e.severity, e.indicators
        FROM row_indicators i LEFT JOIN events_rows e ON e.rn = i.rn
        ORDER BY i.source, i.source_row, i.code"""
    ).fetchall()


def _parts(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute(f"SELECT count(*) FROM {WORK_DB}.events_order").fetchone()[0])  # type: ignore[index]


def test_hits_of_sorted_rows_find_their_events(tmp_path: Path) -> None:
    # out of time order: the loader sorts them, and a row's rn is its stored _rowid
    rows = [
        event(ts=T0 + timedelta(hours=2), client_ip=BAD_IP),
        event(ts=T0),
        event(ts=T0 + timedelta(hours=1), client_ip=BAD_IP),
    ]
    con = run(rows, Options(tenants=(ORG,), iocs=(_ioc(tmp_path),)))
    assert _parts(con) == 0
    assert _hits_on_events(con) == [
        ("t.csv", 1, "IOC_IP", 2, "t.csv", 1, "high", "IOC_IP"),
        ("t.csv", 3, "IOC_IP", 1, "t.csv", 3, "high", "IOC_IP"),
    ]
    assert con.execute("SELECT source_row, severity FROM events_rows ORDER BY rn").fetchall() == [
        (2, None),
        (3, "high"),
        (1, "high"),
    ]


def test_hits_of_rows_in_order_find_their_events(tmp_path: Path) -> None:
    # two files whose times follow one another: no sort, a row's rn is its file's offset + position
    rows = [
        event(source="a.csv", ts=T0),
        event(source="a.csv", ts=T0 + timedelta(minutes=1), client_ip=BAD_IP),
        event(source="b.csv", ts=T0 + timedelta(minutes=2), client_ip=BAD_IP),
        event(source="b.csv", ts=T0 + timedelta(minutes=3)),
    ]
    for i, row in enumerate(rows):  # each file numbers its rows from 1
        row["source_row"] = i % 2 + 1
    con = run(rows, Options(tenants=(ORG,), iocs=(_ioc(tmp_path),)))
    assert _parts(con) == 2
    assert _hits_on_events(con) == [
        ("a.csv", 2, "IOC_IP", 1, "a.csv", 2, "high", "IOC_IP"),
        ("b.csv", 1, "IOC_IP", 2, "b.csv", 1, "high", "IOC_IP"),
    ]


def test_a_row_hit_twice_by_one_code_is_one_hit(keys: dict[str, object], tmp_path: Path) -> None:
    # IOC_APP fires on the row's app id and on its token's appid: two hits of one row, kept as one
    app = "aaaaaaaa-0000-0000-0000-000000000001"
    token = sign(keys, appid=app, uti="twice")
    rows = [
        event(token=token, app_id=app, client_ip=BAD_IP),
        event(token=token, ts=T0 + timedelta(minutes=1)),
    ]
    con = run(rows, Options(tenants=(ORG,), iocs=(_ioc(tmp_path),)))
    assert con.execute(
        "SELECT source_row, code, severity, evidence FROM row_indicators ORDER BY source_row, code"
    ).fetchall() == [
        (1, "IOC_APP", "high", f"app {app} is an indicator: rogue app"),
        (1, "IOC_IP", "high", f"client IP {BAD_IP} is an indicator: lab exit"),
        (2, "IOC_APP", "high", f"token appid {app} is an indicator: rogue app"),
    ]
    # row 2 shows its token's codes too (row 1's IOC_IP rolled up to the token), IOC_APP once
    assert con.execute("SELECT source_row, indicators FROM events_rows ORDER BY rn").fetchall() == [
        (1, "IOC_APP;IOC_IP"),
        (2, "IOC_APP;IOC_IP"),
    ]
    assert con.execute("SELECT evidence FROM token_indicators WHERE code = 'IOC_APP'").fetchall() == [
        (f"2 rows, e.g. app {app} is an indicator: rogue app",)
    ]


def test_a_rows_codes_are_named_by_their_code_list(tmp_path: Path) -> None:
    # no list per row (issue 24 §1): each hit row names one of the distinct code lists by number
    app = "aaaaaaaa-0000-0000-0000-000000000001"
    rows = [
        event(client_ip=BAD_IP),
        event(ts=T0 + timedelta(minutes=1), client_ip=BAD_IP, app_id=app),
        event(ts=T0 + timedelta(minutes=2), app_id=app),
        event(ts=T0 + timedelta(minutes=3)),
        event(ts=T0 + timedelta(minutes=4), client_ip=BAD_IP),
    ]
    con = run(rows, Options(tenants=(ORG,), iocs=(_ioc(tmp_path),)))
    assert con.execute("SELECT source_row, severity, indicators FROM events_rows ORDER BY rn").fetchall() == [
        (1, "high", "IOC_IP"),
        (2, "high", "IOC_APP;IOC_IP"),
        (3, "high", "IOC_APP"),
        (4, None, None),
        (5, "high", "IOC_IP"),
    ]
    lists = con.execute("SELECT cs, codes FROM row_codesets ORDER BY cs").fetchall()
    assert lists == [(1, ["1IOC_APP"]), (2, ["1IOC_APP", "1IOC_IP"]), (3, ["1IOC_IP"])]
    # rows 1 and 5 share one list; row 4 has none
    assert con.execute("SELECT rn, sev_rank, cs FROM row_severity ORDER BY rn").fetchall() == [
        (0, 4, 3),
        (1, 4, 2),
        (2, 4, 1),
        (4, 4, 3),
    ]
