"""`scan --out DIR` writes DIR/case/ and `triage open DIR` reads it back (SPEC §9, issue 23 point 4).

A differential test: the panes and detail panels of a session opened on the findings folder
(`Session.open_case`, what the TUI's opening worker calls) against a live session on the evidence,
built as the TUI builds it. The exported events are checked against a selection computed here, in
Python, from the live session's rows.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from tui.cli import app
from tui.engine.analyses import tables as analyses
from tui.engine.analyses.explain import explain
from tui.engine.analyses.model import score_events
from tui.engine.analyses.pane_specs import PANE_BY_NAME, PANES
from tui.engine.analyses.panes import fetch_page, row_key
from tui.engine.analyses.tables import Where
from tui.engine.case.folder import CASE_VERSION, TABLES
from tui.engine.case.session import Session
from tui.engine.core.options import Options
from tui.engine.core.secrets import mask_text

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"
pytestmark = pytest.mark.skipif(
    not (SAMPLE / "gateway.parquet").is_file(), reason="sample_logs/ not generated"
)
CSV_TABLES = {
    "tokens": "tokens.csv",
    "mailboxes": "mailboxes.csv",
    "drift": "drift.csv",
    "sessions": "sessions.csv",
}
EVERYTHING = 100_000  # a page holding a whole pane of the sample


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("findings") / "out"
    result = CliRunner().invoke(app, ["scan", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"case/, manifest.json to {out}" in result.output
    return out


@pytest.fixture(scope="module")
def live() -> Iterator[Session]:
    """The evidence opened as the TUI opens it: the rows stored, the tables built, every event scored."""
    session = Session.open([str(SAMPLE)], Options())
    analyses.build(session.con, session.annotation.split)
    score_events(session.con)
    yield session
    session.close()


@pytest.fixture(scope="module")
def folder(scanned: Path) -> Iterator[Session]:
    session = Session.open_case(scanned, Options())
    yield session
    session.close()


def _csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def test_case_holds_every_table_with_the_rows_of_the_findings_files(scanned: Path) -> None:
    document = json.loads((scanned / "case" / "case.json").read_text(encoding="utf-8"))
    assert (document["format"], document["version"]) == ("triage-case", CASE_VERSION)
    assert sorted(document["tables"]) == sorted(TABLES)
    con = duckdb.connect()
    for name, entry in document["tables"].items():
        (rows,) = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [str(scanned / "case" / entry["file"])]
        ).fetchone()
        assert rows == entry["rows"], name
    for table, file in CSV_TABLES.items():
        assert document["tables"][table]["rows"] == _csv_rows(scanned / file), table
    # actions.csv has one row per action event and code, as the actions table
    assert document["tables"]["actions"]["rows"] == _csv_rows(scanned / "actions.csv") == 9
    assert (document["events"]["exported"], document["events"]["total"]) == (887, 21_957)
    # the manifest lists the findings files as before: case/ describes itself
    manifest = json.loads((scanned / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"] == ["tokens.csv", "mailboxes.csv", "drift.csv", "sessions.csv", "actions.csv"]


def _all(session: Session, pane: str) -> list[dict[str, object]]:
    cursor = session.cursor()
    try:
        return list(fetch_page(cursor, PANE_BY_NAME[pane], Where(), 0, EVERYTHING).raw)
    finally:
        cursor.close()


@pytest.mark.parametrize("pane", ["tokens", "mailboxes", "drift", "sessions"])
def test_a_findings_folder_shows_the_live_panes_rows(live: Session, folder: Session, pane: str) -> None:
    expected, got = _all(live, pane), _all(folder, pane)
    assert len(got) == len(expected) > 0
    assert [row_key(PANE_BY_NAME[pane], r) for r in got] == [row_key(PANE_BY_NAME[pane], r) for r in expected]
    assert got == expected


def test_the_events_pane_holds_the_flagged_events_as_the_live_one_shows_them(
    live: Session, folder: Session
) -> None:
    """The selection, computed here from the live rows: an indicator of any severity, a session at
    medium or worse, or the sign-in that issued a token at medium or worse."""
    cur = live.cursor()
    flagged_sessions = {
        s for (s,) in cur.execute("SELECT session_id FROM sessions WHERE sev_rank >= 3").fetchall()
    }
    flagged_utis = {
        u for (u,) in cur.execute("SELECT uti FROM tokens WHERE sev_rank >= 3 AND uti IS NOT NULL").fetchall()
    }
    everything = _all(live, "events")
    assert len(everything) == 21_957
    chosen = [
        r
        for r in everything
        if r["sev_rank"] >= 1
        or r["session_id"] in flagged_sessions
        or (r["kind"] == "entra_signin" and r["token_id"] in flagged_utis)
    ]
    got = _all(folder, "events")
    assert [r["rn"] for r in got] == list(range(len(got)))  # numbered again, in the pane's order
    assert len(got) == len(chosen) == 887 and sum(r["sev_rank"] >= 1 for r in got) == 790
    # as the pane shows them: a raw-token-shaped text (a SharePoint drive id holding `EwB…`) by its
    # key, which is all the folder holds of it (`core.secrets`)
    assert [{**r, "rn": None} for r in got] == [{**_masked(r), "rn": None} for r in chosen]
    assert sum("‹token sha256:" in str(r["operation"]) for r in got) > 0
    assert sum(r["anomaly"] is not None for r in got) == sum(r["anomaly"] is not None for r in chosen) > 800


def _masked(row: dict[str, object]) -> dict[str, object]:
    return {k: mask_text(v) if isinstance(v, str) else v for k, v in row.items()}


def _sections(detail: object) -> list[object]:
    return [s for s in detail.sections if s.title != "original record"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("pane", [spec.name for spec in PANES])
def test_the_detail_panel_says_the_same_on_a_findings_folder(
    live: Session, folder: Session, pane: str
) -> None:
    """Every section but the original record (read from the evidence's files) is the same for the
    worst rows and one further down: the tokens and sessions that read a mailbox and a user's
    baseline come from the folder's stored aggregates, an event's model lines from its model rows."""
    expected, got = _all(live, pane), _all(folder, pane)
    if pane == "events":  # the same events: the live pane's rows at the folder's events
        at = {(r["source"], r["source_row"]): r for r in expected}
        expected = [at[(r["source"], r["source_row"])] for r in got]
    live_cursor, folder_cursor = live.cursor(), folder.cursor()
    for i in (0, 1, 2, len(got) // 2):
        want = explain(live_cursor, pane, expected[i], report=live.report)
        have = explain(folder_cursor, pane, got[i], report=folder.report)
        assert have.title == want.title
        assert _sections(have) == _sections(want), (pane, i)
        assert len(_sections(have)) >= 2
    if pane == "events":
        where = [s for s in have.sections if s.title == "original record"]
        assert [(line.label, line.text) for line in where[0].lines][0] == (
            "in",
            f"{got[len(got) // 2]['source']} row {got[len(got) // 2]['source_row']}",
        )


def _open(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["open", str(path)])
    return result.exit_code, result.output


def test_a_folder_without_case_or_of_another_version_is_refused_in_one_line(
    scanned: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bare"
    shutil.copytree(scanned, bare)
    shutil.rmtree(bare / "case")
    code, output = _open(bare)
    assert code == 2 and output.count("\n") == 1
    assert output.startswith(f"triage open: {bare} holds findings but no case/case.json")
    newer = tmp_path / "newer"
    shutil.copytree(scanned, newer)
    document = json.loads((newer / "case" / "case.json").read_text(encoding="utf-8"))
    (newer / "case" / "case.json").write_text(
        json.dumps({**document, "version": CASE_VERSION + 1}), encoding="utf-8"
    )
    code, output = _open(newer)
    assert (code, output) == (
        2,
        f"triage open: {newer}: case/ has schema version {CASE_VERSION + 1}; "
        f"this triage reads version {CASE_VERSION}\n",
    )
    (scanned_events := newer / "case" / "events.parquet").unlink()
    (newer / "case" / "case.json").write_text(json.dumps(document), encoding="utf-8")
    code, output = _open(newer)
    assert (code, output) == (2, f"triage open: {newer}: case/events.parquet is missing\n")
    assert not scanned_events.exists()
    code, output = _open(scanned / "case")
    assert (code, output) == (
        2,
        f"triage open: {scanned / 'case'} is the case/ of a findings folder: open the folder "
        f"(triage open {scanned})\n",
    )
    code, output = _open_many(scanned, SAMPLE)
    assert (
        code == 2
        and output == f"triage open: {scanned} is a findings folder: open it alone (triage open {scanned})\n"
    )


def _open_many(*paths: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["open", *map(str, paths)])
    return result.exit_code, result.output


def test_opening_a_folder_writes_nothing_into_it(scanned: Path) -> None:
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(scanned.rglob("*")) if p.is_file()}
    session = Session.open_case(scanned, Options())
    try:
        assert session.con.execute("SELECT count(*) FROM events_marked").fetchone() == (887,)
    finally:
        session.close()
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(scanned.rglob("*")) if p.is_file()}
    assert after == before


def test_a_scan_into_a_folder_whose_case_is_a_file_replaces_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "case").write_text("not a folder\n", encoding="utf-8")
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["scan", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "case" / "case.json").read_text(encoding="utf-8"))["events"]["exported"] == 887
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert not list(out.glob(".triage-*"))


def test_two_scans_write_the_same_case_tables(scanned: Path, tmp_path: Path) -> None:
    """Row for row (in any order), the behaviour model's combination numbers included."""
    again = tmp_path / "again"
    result = CliRunner().invoke(app, ["scan", str(SAMPLE), "--out", str(again)])
    assert result.exit_code == 0, result.output
    con = duckdb.connect()
    for name in TABLES:
        rows = [
            sorted(
                map(
                    repr,
                    con.execute(
                        "SELECT * FROM read_parquet(?)", [str(f / "case" / f"{name}.parquet")]
                    ).fetchall(),
                )
            )
            for f in (scanned, again)
        ]
        assert rows[0] == rows[1], name
