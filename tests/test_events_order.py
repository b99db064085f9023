"""`rn`, the Events pane's row number, follows (ts NULLS LAST, source, source_row) whether or not the
loader sorted: a single file already in time order, or files that follow one another in time, are not
sorted (`work._time_ordered_parts`)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tui.engine.analyses import pane_specs, panes
from tui.engine.analyses import tables as analyses
from tui.engine.analyses.tables import Where
from tui.engine.case.session import Session
from tui.engine.core.options import Options
from tui.engine.indicators.split import drift_split
from tui.engine.ingest.work import WORK_DB

GATEWAY = Path(__file__).resolve().parents[1] / "sample_logs" / "gateway.parquet"


@pytest.fixture(autouse=True)
def _dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))


def _copy(tmp_path: Path, name: str, order: str) -> Path:
    """The sample gateway log rewritten in another row order (the order is ours, not user input)."""
    out = tmp_path / name
    duckdb.sql(f"COPY (SELECT * FROM read_parquet('{GATEWAY}') ORDER BY {order}) TO '{out}' (FORMAT parquet)")
    return out


def _check(path: Path) -> object:
    s = Session.open([str(path)], Options())
    try:
        base = s.con.execute(f"SELECT base FROM {WORK_DB}.events_order").fetchone()
        n, first, last, wrong = s.con.execute(
            """SELECT count(*), min(rn), max(rn),
                      count(*) FILTER (WHERE rn <> place)
            FROM (SELECT rn, row_number() OVER (ORDER BY ts NULLS LAST, source_row) - 1 AS place
                  FROM events)"""
        ).fetchone()
        assert (first, last, wrong) == (0, n - 1, 0)
        # an unfiltered page is an rn range; it must be the rows the sorted order puts there
        analyses.build(s.con, drift_split(s.con, Options()))
        page = panes.fetch_page(s.con, pane_specs.PANE_BY_NAME["events"], Where(), 40, 25)
        expected = s.con.execute(
            "SELECT source_row FROM events ORDER BY ts NULLS LAST, source_row LIMIT 25 OFFSET 40"
        ).fetchall()
        assert [r["source_row"] for r in page.raw] == [r[0] for r in expected]
        return base[0] if base else None
    finally:
        s.close()


def test_a_file_in_time_order_is_not_sorted_and_rn_is_its_position(tmp_path: Path) -> None:
    path = _copy(tmp_path, "ordered.parquet", '"time", url')
    assert _check(path) == 1  # the first source_row: rn = source_row - 1


def test_a_file_out_of_order_is_sorted(tmp_path: Path) -> None:
    path = _copy(tmp_path, "shuffled.parquet", 'hash(url, "time")')
    assert _check(path) is None


def test_lazy_events_equal_the_stored_ones_row_for_row() -> None:
    """`triage scan` reads `events` joined as it goes; the TUI stores it once its panes are up."""
    from tui.engine.indicators.events_view import events_materialised, materialise_events

    sample = GATEWAY.parent
    s = Session.open([str(sample)], Options(), materialise_events=False)
    try:
        assert not events_materialised(s.con)
        lazy = s.con.execute("SELECT * FROM events ORDER BY rn").fetchall()
        materialise_events(s.con)
        assert events_materialised(s.con)
        source = s.con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'events'").fetchone()
        assert source is not None and f"{WORK_DB}.events_a" in source[0]
        stored = s.con.execute("SELECT * FROM events ORDER BY rn").fetchall()
        assert len(stored) > 1000 and stored == lazy
    finally:
        s.close()


def test_columns_every_file_leaves_constant_are_not_stored_but_read_back(tmp_path: Path) -> None:
    """A gateway log names no user or app: those columns are not written (`work.materialise`), the
    `events_t` view gives them back as NULL, and `source`/`kind` are stored only when files differ."""
    s = Session.open([str(GATEWAY)], Options())
    try:
        stored = {r[0] for r in s.con.execute(f"DESCRIBE {WORK_DB}.events_t").fetchall()}
        assert {"app_id", "session_id", "token_iat", "source", "kind"}.isdisjoint(stored)
        assert {"ts", "client_ip", "mailbox", "operation", "tok_key"} <= stored
        viewed = [r[0] for r in s.con.execute("DESCRIBE events_t").fetchall()]
        assert viewed[:3] == ["ts", "source", "source_row"] and viewed[-2:] == ["tok_key", "_rowid"]
        kinds = s.con.execute("SELECT DISTINCT kind, source, app_id FROM events_t").fetchall()
        assert kinds == [("http", str(GATEWAY), None)]
    finally:
        s.close()
    purview = GATEWAY.parent / "purview_audit.csv"
    s = Session.open([str(GATEWAY), str(purview)], Options())
    try:
        stored = {r[0] for r in s.con.execute(f"DESCRIBE {WORK_DB}.events_t").fetchall()}
        assert {"source", "kind", "app_id"} <= stored  # the two files fill them differently
        per_kind = dict(s.con.execute("SELECT kind, count(*) FROM events_t GROUP BY kind").fetchall())
        assert set(per_kind) == {"http", "purview_audit"}
    finally:
        s.close()


def _split(tmp_path: Path, bounds: list[tuple[str, str, str]]) -> Path:
    """The sample gateway log cut into files by time: (name, from, to) each in time order."""
    folder = tmp_path / "rotated"
    folder.mkdir()
    for name, start, end in bounds:
        duckdb.execute(
            f"""COPY (SELECT * FROM read_parquet('{GATEWAY}') WHERE "time" >= ?::TIMESTAMPTZ
                AND "time" < ?::TIMESTAMPTZ ORDER BY "time", url) TO '{folder / name}' (FORMAT parquet)""",
            [start, end],
        )
    return folder


def _check_files(folder: Path) -> list[tuple[str, int, int]]:
    """rn follows (ts, source, source_row) over every file, and a page is the rows that order puts
    there; returns `events_order`'s parts (empty when the rows were sorted)."""
    s = Session.open([str(folder)], Options())
    try:
        parts = s.con.execute(
            f'SELECT source, base, "offset" FROM {WORK_DB}.events_order ORDER BY 3'
        ).fetchall()
        n, first, last, wrong = s.con.execute(
            """SELECT count(*), min(rn), max(rn), count(*) FILTER (WHERE rn <> place)
            FROM (SELECT rn, row_number() OVER (ORDER BY ts NULLS LAST, source, source_row) - 1 AS place
                  FROM events)"""
        ).fetchone()
        assert (first, last, wrong) == (0, n - 1, 0)
        analyses.build(s.con, drift_split(s.con, Options()))
        for offset in (0, n // 2 - 10, n - 30):  # a page inside a file, and one across two
            page = panes.fetch_page(s.con, pane_specs.PANE_BY_NAME["events"], Where(), offset, 25)
            expected = s.con.execute(
                "SELECT source, source_row FROM events ORDER BY ts NULLS LAST, source, source_row "
                "LIMIT 25 OFFSET ?",
                [offset],
            ).fetchall()
            assert [(r["source"], r["source_row"]) for r in page.raw] == expected
        return [(str(Path(p).name), b, o) for p, b, o in parts]
    finally:
        s.close()


def test_files_that_follow_one_another_in_time_are_not_sorted(tmp_path: Path) -> None:
    """A log rotated by day: each file in order, their spans one after another (named so that the
    path order is not the time order: the offsets follow time)."""
    folder = _split(
        tmp_path,
        [
            ("z-early.parquet", "2000-01-01", "2023-05-20"),
            ("a-late.parquet", "2023-06-01", "2100-01-01"),
            ("m-middle.parquet", "2023-05-20", "2023-06-01"),
        ],
    )
    counts = {
        f.name: duckdb.execute("SELECT count(*) FROM read_parquet(?)", [str(f)]).fetchone()[0]  # type: ignore[index]
        for f in folder.iterdir()
    }
    assert min(counts.values()) > 100
    assert _check_files(folder) == [
        ("z-early.parquet", 1, 0),
        ("m-middle.parquet", 1, counts["z-early.parquet"]),
        ("a-late.parquet", 1, counts["z-early.parquet"] + counts["m-middle.parquet"]),
    ]


def test_files_whose_spans_overlap_are_sorted(tmp_path: Path) -> None:
    folder = _split(
        tmp_path,
        [("a.parquet", "2000-01-01", "2023-05-25"), ("b.parquet", "2023-05-20", "2100-01-01")],
    )
    # b repeats a's last days: the two spans overlap
    assert _check_files(folder) == []


def test_a_span_ending_where_the_next_begins_keeps_the_panes_tie_break(tmp_path: Path) -> None:
    """Two files sharing one instant: without a sort only when the one that holds the earlier rows
    also comes first among the sorted sources (the pane orders equal times by source)."""
    when = duckdb.execute(
        f"""SELECT "time" FROM read_parquet('{GATEWAY}') WHERE "time" > '2023-05-25'::TIMESTAMPTZ
        ORDER BY "time" LIMIT 1"""
    ).fetchone()[0]  # type: ignore[index]
    for first, second, sorted_ in (("a.parquet", "b.parquet", False), ("b.parquet", "a.parquet", True)):
        folder = tmp_path / f"{first}-{second}"
        folder.mkdir()
        for name, clause in ((first, '"time" <= ?'), (second, '"time" >= ?')):
            duckdb.execute(
                f"""COPY (SELECT * FROM read_parquet('{GATEWAY}') WHERE {clause} ORDER BY "time", url)
                TO '{folder / name}' (FORMAT parquet)""",
                [when],
            )
        assert (_check_files(folder) == []) is sorted_
