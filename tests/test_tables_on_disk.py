"""Large inputs keep the session's tables in a database file in the spill folder (`core.db.connect`):
the findings are the same bytes as with the tables in memory, and the choice follows the inputs' size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui.cli import app
from tui.engine.core import db

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "sample"
FILES = ("tokens.csv", "mailboxes.csv", "drift.csv", "sessions.csv", "actions.csv", "manifest.json")


def test_the_choice_follows_the_inputs_size_and_the_variable_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRIAGE_TABLES_ON_DISK", raising=False)
    small, large = tmp_path / "a.csv", tmp_path / "b.csv"
    small.write_bytes(b"x" * 600)
    large.write_bytes(b"x" * 500)
    monkeypatch.setattr(db, "TABLES_ON_DISK_BYTES", 1000)
    assert db.tables_on_disk_for([small]) is False
    assert db.tables_on_disk_for([small, large]) is True  # 1,100 bytes together
    assert db.tables_on_disk_for([small, tmp_path / "missing.csv"]) is False
    monkeypatch.setenv("TRIAGE_TABLES_ON_DISK", "0")
    assert db.tables_on_disk_for([small, large]) is False
    monkeypatch.setenv("TRIAGE_TABLES_ON_DISK", "1")
    assert db.tables_on_disk_for([small]) is True
    assert db.DEFAULT_MEMORY_LIMIT == "1200MB" and db.TABLES_ON_DISK_BYTES == 1000


def test_a_connection_with_its_tables_on_disk_writes_them_to_the_spill_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    con = db.connect(tables_on_disk=True)
    try:
        con.execute("CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(300000)")
        cur = con.cursor()  # a worker's cursor sees the same tables
        assert cur.execute("SELECT count(*), sum(i) FROM t").fetchone() == (300000, 44999850000)
        files = list((tmp_path / "spill").glob(f"{os.getpid()}-*/main.duckdb"))
        assert len(files) == 1 and files[0].stat().st_size > 1_000_000
        settings = dict(con.execute("SELECT name, value FROM duckdb_settings()").fetchall())
        assert settings["lock_configuration"] == "true" and settings["memory_limit"] != ""
    finally:
        con.close()
    mem = db.connect()
    try:
        where = "SELECT path FROM duckdb_databases() WHERE database_name = 'memory'"
        assert mem.execute(where).fetchone() == (None,)
    finally:
        mem.close()


def test_a_scan_with_its_tables_on_disk_writes_the_golden_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setenv("TRIAGE_TABLES_ON_DISK", "1")
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", "sample_logs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in FILES:
        assert (out / name).read_bytes() == (GOLDEN / name).read_bytes(), name
    # the scan's tables were in the file and its log (small writes; the folder goes at the exit)
    files = list((tmp_path / "cache" / "spill").glob(f"{os.getpid()}-*/main.duckdb*"))
    assert {p.name for p in files} == {"main.duckdb", "main.duckdb.wal"}
    assert sum(p.stat().st_size for p in files) > 100_000
    assert sorted(p.name for p in (out / "case").iterdir())[:2] == ["actions.parquet", "case.json"]
