"""The memory promise holds on every connection the product opens (issue 26, point 6).

DuckDB's memory cap (`TRIAGE_MEMORY_LIMIT`, 1.2 GB by default), its threads and its spill folder
are set on each connection `tui.engine.core.db.connect` makes, and locked (tests/test_network.py):
read back here on the connections of `scan` (mid-scan, on its cursors too), `open` (mid-session,
on a worker's cursor), `inspect`, `decode` and `sample`. The figures the README gives for a 5 GB
Parquet are measured by `bench/load_memory.py` (bench/RESULTS.md, Session 13).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import tui_pilot
from test_network import LOCKED, WATCHED, Opened, settings, watch_connections

from tui.engine.core.options import Options

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"
CAP = "777MB"  # not the default, so the value read back is the one asked for
# DuckDB's own default thread count on this machine (read before any test patches duckdb.connect)
DEFAULT_THREADS = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]  # type: ignore[index]
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJ1dGkiOiJ1dGkxIiwidGlkIjoidCJ9.c2lnbmF0dXJl"


def megabytes(text: str) -> float:
    """DuckDB's `741.0 MiB` / `1.1 GiB` as decimal megabytes."""
    number, unit = re.fullmatch(r"([\d.]+) (\w+)", text).groups()  # type: ignore[union-attr]
    scale = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "KB": 1e3, "MB": 1e6, "GB": 1e9}[unit]
    return float(number) * scale / 1e6


def assert_capped(seen: list[dict[str, Any]], cache: Path, megs: float, threads: int) -> None:
    """The connection's and its cursors' settings: the cap, the threads, a spill folder of its own."""
    for one in seen:
        # DuckDB writes the cap back in MiB cut to one decimal: 400MB is "381.4 MiB"
        assert megabytes(one["memory_limit"]) == pytest.approx(megs, abs=0.1 * 2**20 / 1e6)
        assert int(one["threads"]) == threads
        spill = Path(one["temp_directory"])
        assert spill.parent == cache / "spill" and spill.name.startswith(f"{os.getpid()}-")
        assert {k: one[k] for k in LOCKED} == LOCKED  # locked: none of this can change afterwards


@pytest.fixture()
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[Opened]:
    yield from watch_connections(monkeypatch)


@pytest.fixture()
def capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRIAGE_MEMORY_LIMIT", CAP)
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "cache"


def test_scan_inspect_decode_and_sample_connections_are_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capped: Path, opened: Opened
) -> None:
    from tui.engine.analyses import tables
    from tui.engine.findings.decode import run_decode
    from tui.engine.findings.inspect import run_inspect
    from tui.engine.findings.scan import run_scan
    from tui.engine.sample.incident import run_sample

    mid_scan: list[list[dict[str, Any]]] = []
    real_build = tables.build

    def build(con: duckdb.DuckDBPyConnection, split: object, progress: object = None) -> None:
        mid_scan.append(settings(con, WATCHED))  # the scan's connection and cursors, after the load
        real_build(con, split, progress)  # type: ignore[arg-type]

    monkeypatch.setattr(tables, "build", build)
    assert run_scan([str(SAMPLE)], tmp_path / "out", Options())[1] == 0
    assert run_inspect([str(SAMPLE / "signins.json")], Options(), False)[1] == 0
    assert run_decode([JWT], Options(), False)[1] == 0
    assert run_sample(tmp_path / "incident", 500, 3, (), ())[1] == 0

    assert len(opened) == len(opened.at_open) == 4  # one each, in that order
    assert len(mid_scan) == 1
    assert_capped(mid_scan[0], capped, 777, DEFAULT_THREADS)
    for seen in opened.at_open[:3]:
        assert_capped(seen, capped, 777, DEFAULT_THREADS)
    assert_capped(opened.at_open[3], capped, 400, 1)  # sample: its own smaller cap and one thread
    spills = [seen[0]["temp_directory"] for seen in opened.at_open]
    assert len(set(spills)) == 4  # never shared


@tui_pilot.needs_sample
@pytest.mark.timeout(120)
async def test_opens_connection_and_a_workers_cursor_are_capped(
    monkeypatch: pytest.MonkeyPatch, capped: Path, opened: Opened
) -> None:
    from tui.app import TriageApp

    monkeypatch.chdir(REPO)
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await tui_pilot.settle(pilot, app, 60)
        assert opened == [screen.session.con]
        assert_capped(opened.at_open[0], capped, 777, DEFAULT_THREADS)
        assert_capped(settings(screen.session.con, WATCHED), capped, 777, DEFAULT_THREADS)
        assert_capped(settings(screen.session.cursor(), WATCHED), capped, 777, DEFAULT_THREADS)


def test_the_default_cap_is_the_one_the_readme_gives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tui.engine.core.db import connect

    monkeypatch.delenv("TRIAGE_MEMORY_LIMIT", raising=False)
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    bare = duckdb.connect(config={"memory_limit": "1200MB"})  # how DuckDB writes 1200MB back: "1.1 GiB"
    expected = bare.execute("SELECT current_setting('memory_limit')").fetchone()
    con = connect()
    try:
        assert [s["memory_limit"] for s in settings(con, ["memory_limit"])] == [expected[0]] * 3  # type: ignore[index]
    finally:
        con.close()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "DuckDB runs in memory with a 1.2 GB cap (`TRIAGE_MEMORY_LIMIT`)" in readme


def test_running_out_of_memory_is_one_line_naming_the_cap(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DuckDB's out-of-memory error under the cap (what a scan of bench's 5 GB all-distinct file
    meets at 1.2 GB and 2 GB) ends a command with one line saying how to raise the cap, exit 1."""
    import typer

    from tui.cli import _stoppable

    monkeypatch.setenv("TRIAGE_MEMORY_LIMIT", "30MB")
    small = duckdb.connect(config={"memory_limit": "30MB"})

    def run(_progress: object) -> tuple[str, int]:
        small.execute("SELECT list(range(10000000))").fetchall()
        return "never", 0

    with pytest.raises(typer.Exit) as stopped:
        _stoppable("scan", run)
    assert stopped.value.exit_code == 1
    assert capsys.readouterr().err == (
        "triage scan: out of memory: DuckDB needed more than its 30MB cap for these inputs "
        "(set TRIAGE_MEMORY_LIMIT higher, e.g. TRIAGE_MEMORY_LIMIT=4GB, on a machine that has it)\n"
    )
