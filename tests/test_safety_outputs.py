"""Safety of what triage writes (issue 7 points 2-5): inert terminal bytes, spreadsheet-safe exports,
no raw tokens, untouched evidence, caches outside it, and no network."""

from __future__ import annotations

import csv
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import hostile
import pytest
from evidence_snapshot import snapshot
from typer.testing import CliRunner

from tui.cli import app
from tui.engine.core.safe import FORMULA_START

TRIAGE = Path(sys.executable).parent / "triage"
FORBIDDEN = [b"\x1b", b"\x07", *(c.encode("utf-8") for c in hostile.BIDI)]
runner = CliRunner()


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TRIAGE_CACHE_DIR": str(tmp_path / "cache"),
        "TRIAGE_STATE_DIR": str(tmp_path / "state"),
        "TZ": "UTC",
    }


def evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    hostile.escapes_csv(folder)
    header = hostile.GATEWAY_HEADER[:-1] + ["x-\x1b[2Jcol\u202e"]  # a hostile column name too
    rows = hostile.gateway_rows([hostile.bad_tokens()["escape_claims"]], ua=hostile.ESC_UA)
    hostile._write_csv(folder / "names.csv", header, [r[:-1] + [hostile.ESC_USER] for r in rows])
    hostile.formula_csv(folder)
    return folder


def assert_inert(data: bytes, what: str) -> None:
    for bad in FORBIDDEN:
        assert bad not in data, f"{what} holds {bad!r}"


@pytest.mark.timeout(240)
def test_terminal_bytes_are_inert_for_every_command(tmp_path: Path, env: dict[str, str]) -> None:
    folder = evidence(tmp_path)
    tok = hostile.bad_tokens()["escape_claims"]
    commands = [
        ["inspect", str(folder)],
        ["inspect", "--json", str(folder)],
        ["scan", str(folder), "--out", str(tmp_path / "out")],
        ["decode", tok],
        ["decode", "--json", tok],
        ["inspect", str(folder / "no\x1b]0;such\x07file\u202e.csv")],
    ]
    for args in commands:
        proc = subprocess.run([str(TRIAGE), *args], capture_output=True, timeout=180, env=env)
        assert proc.returncode in (0, 2), (args, proc.stderr[-400:])
        assert b"Traceback" not in proc.stderr
        assert_inert(proc.stdout, f"stdout of {args[0]}")
        assert_inert(proc.stderr, f"stderr of {args[0]}")
    scan_out = subprocess.run(
        [str(TRIAGE), "scan", str(folder), "--out", str(tmp_path / "out2")], capture_output=True, env=env
    ).stdout.decode()
    assert "\\x1b[31mmallory\\u202e@contoso.com\\x1b[0m" in scan_out  # shown, escaped, not dropped
    decoded = subprocess.run([str(TRIAGE), "decode", tok], capture_output=True, env=env).stdout.decode()
    assert "\\x1b]52;c;eA==\\x07" in decoded


@pytest.mark.timeout(240)
def test_exports_neutralise_formulas_and_hold_no_tokens(tmp_path: Path, env: dict[str, str]) -> None:
    folder = evidence(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run([str(TRIAGE), "scan", str(folder), "--out", str(out)], capture_output=True, env=env)
    assert proc.returncode == 0, proc.stdout[-500:]
    seen_formula_values = set()
    for name in ("tokens.csv", "mailboxes.csv", "drift.csv", "manifest.json"):
        data = (out / name).read_bytes()
        assert b"eyJ" not in data, f"raw token in {name}"
        assert_inert(data, name)
        if name.endswith(".csv"):
            with (out / name).open(newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    for column, cell in row.items():
                        if cell.lstrip("'") != cell:
                            seen_formula_values.add(cell[1:])
                        if column in ("uses", "accesses", "items", "drift_score", "flagged_accesses"):
                            continue  # numbers are written as numbers
                        assert not cell.startswith(FORMULA_START), (name, column, cell)
    # each hostile start character was met and quoted, not merely absent
    for start in ("=", "+", "-", "@"):
        assert any(v.startswith(start) for v in seen_formula_values), start
    assert any(v.startswith("\\x09") for v in seen_formula_values)  # a tab start: quoted, then escaped
    secret = tmp_path / "secret"
    subprocess.run(
        [str(TRIAGE), "scan", str(folder), "--out", str(secret), "--include-secrets"],
        capture_output=True,
        env=env,
    )
    assert b"eyJ" in (secret / "tokens.csv").read_bytes()


@pytest.mark.timeout(240)
@pytest.mark.unprivileged  # root writes into a read-only folder (tests/unprivileged.py)
def test_inputs_untouched_read_only_and_caches_elsewhere(tmp_path: Path, env: dict[str, str]) -> None:
    folder = evidence(tmp_path)
    hostile.tokens_parquet(folder)
    for path in folder.iterdir():
        path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        before = snapshot(folder)
        for args in (["inspect", str(folder)], ["scan", str(folder), "--out", str(tmp_path / "out")]):
            proc = subprocess.run([str(TRIAGE), *args], capture_output=True, timeout=180, env=env)
            assert proc.returncode == 0, proc.stdout[-400:]
        refused = subprocess.run(
            [str(TRIAGE), "scan", str(folder), "--out", str(folder / "findings")],
            capture_output=True,
            env=env,
        )
        assert refused.returncode == 2 and b"inside the evidence folder" in refused.stdout
        assert snapshot(folder) == before
    finally:
        folder.chmod(0o755)
    assert (tmp_path / "cache" / "spill").is_dir()  # the DuckDB spill dir went to TRIAGE_CACHE_DIR


def test_the_evidence_snapshot_sees_a_file_created_and_removed_beside_the_evidence(tmp_path: Path) -> None:
    """What the test above relies on: a temporary file made and deleted next to the inputs (in the
    evidence folder or a subfolder of it) leaves every file as it was, but not the snapshot."""
    folder = evidence(tmp_path)
    (folder / "day2").mkdir()
    hostile.escapes_csv(folder / "day2")
    before = snapshot(folder)
    for path in folder.rglob("*"):
        if path.is_file():
            path.read_bytes()  # reading is not a change
    assert snapshot(folder) == before
    time.sleep(0.05)  # past the clock tick the snapshot was taken in (see evidence_snapshot)
    for where in (folder, folder / "day2"):
        files = {k: v for k, v in snapshot(folder).items() if not isinstance(v[0], tuple)}
        st = where.stat()
        temp = where / ".triage-tmp-1234"
        temp.write_bytes(b"a decompressed copy")
        temp.unlink()
        os.utime(where, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the folder's mtime put back
        after = snapshot(folder)
        # every file is as it was: a snapshot of the files alone would not see it …
        assert {k: v for k, v in after.items() if not isinstance(v[0], tuple)} == files
        # … the folder's own entry does (its ctime, which utime cannot set back)
        changed = [k for k in after if after[k] != before[k]]
        assert changed == [str(where.relative_to(folder)) if where != folder else "."], changed
        before = after


def _block_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(repr(args)[:80])
        raise OSError("network blocked by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return calls


@pytest.mark.timeout(240)
def test_scan_without_network_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = evidence(tmp_path)
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    calls = _block_network(monkeypatch)
    result = runner.invoke(app, ["scan", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert calls == []
    assert (tmp_path / "out" / "tokens.csv").stat().st_size > 100


BLOCKER = """
import socket, sys
def refuse(*a, **k):
    sys.stderr.write("NETWORK ATTEMPT\\n")
    raise OSError("network blocked")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from tui.cli import app
sys.argv = ["triage", *sys.argv[1:]]
app()
"""


@pytest.mark.timeout(240)
def test_scan_without_network_in_a_subprocess(tmp_path: Path, env: dict[str, str]) -> None:
    folder = evidence(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER, "scan", str(folder), "--out", str(tmp_path / "out")],
        capture_output=True,
        timeout=180,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert b"NETWORK ATTEMPT" not in proc.stderr
    assert b"tokens: " in proc.stdout


def test_no_duckdb_progress_bar_reaches_stdout_from_any_cursor() -> None:
    """DuckDB draws a progress bar on stdout for a query over 2 s, on by default in a plain Python
    process (not under pytest, hence the child): every connection and cursor the engine opens has it
    off, so it never lands in `triage scan`'s output or under the TUI."""
    child = (
        "from tui.engine.core.db import connect\n"
        "con = connect()\n"
        "q = \"SELECT current_setting('enable_progress_bar')\"\n"
        "print([c.execute(q).fetchone()[0] for c in (con, con.cursor(), con.cursor().cursor())])\n"
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[False, False, False]"
