"""No network, proven where it could happen (issue 26, point 5).

Python's sockets are blocked in tests/test_safety_outputs.py. DuckDB reaches the network on its
own, to fetch an extension: every connection the product opens — a scan's, an open's (the one the
loading screen interrupts, and the session's), and their cursors — has the settings that forbid
installing and loading one, locked. And a real `scan` and a real `open` run inside a network
namespace with no interface at all and still produce their findings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import tui_pilot

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"
# Each setting as DuckDB reports it back (`current_setting`), on the connection and its cursors.
LOCKED = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "custom_extension_repository": os.devnull,
    "autoinstall_extension_repository": os.devnull,
    "lock_configuration": True,
    "enable_progress_bar": False,
    "TimeZone": "UTC",
}


def settings(con: duckdb.DuckDBPyConnection, names: list[str]) -> list[dict[str, Any]]:
    """The settings read on the connection, a cursor of it and a cursor of that cursor."""
    out = []
    cursor = con.cursor()
    for c in (con, cursor, cursor.cursor()):
        out.append({n: c.execute("SELECT current_setting(?)", [n]).fetchone()[0] for n in names})
    return out


class Opened(list[duckdb.DuckDBPyConnection]):
    """The connections opened, in order; `.at_open[i]`: connection i's settings (`WATCHED`, on it
    and its cursors) read as `connect` returned it, for those a command closes before a test can look."""

    at_open: list[list[dict[str, Any]]]


# What is read at each connection's opening: the locked settings and the memory cap's.
WATCHED = [*LOCKED, "memory_limit", "threads", "temp_directory"]


@pytest.fixture()
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[Opened]:
    yield from watch_connections(monkeypatch)


def watch_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[Opened]:
    """Every connection the product opens while the test runs, through `tui.engine.core.db.connect`
    wherever a module imported it; and a check that no DuckDB connection was opened any other way."""
    import importlib
    import pkgutil

    import tui
    import tui.engine.core.db as db

    for info in pkgutil.walk_packages(tui.__path__, "tui."):
        importlib.import_module(info.name)  # every importer of `connect` is loaded, so patched below
    real, made, raw = db.connect, Opened(), []
    made.at_open = []
    real_duckdb = duckdb.connect

    def spy(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        con = real(*args, **kwargs)
        made.append(con)
        made.at_open.append(settings(con, WATCHED))
        return con

    def raw_spy(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        con = real_duckdb(*args, **kwargs)
        raw.append(con)
        return con

    patched = [m for m in list(sys.modules.values()) if getattr(m, "connect", None) is real]
    assert {m.__name__ for m in patched} >= {
        "tui.engine.core.db",
        "tui.engine.case.context",
        "tui.engine.findings.inspect",
        "tui.engine.findings.decode",
        "tui.engine.sample.incident",
        "tui.screens.opening",
    }
    for module in patched:
        monkeypatch.setattr(module, "connect", spy)
    monkeypatch.setattr(duckdb, "connect", raw_spy)
    yield made
    assert len(raw) == len(made), "a DuckDB connection was opened without tui.engine.core.db.connect"


def check(cons: list[duckdb.DuckDBPyConnection]) -> None:
    for con in cons:
        for seen in settings(con, list(LOCKED)):
            assert seen == LOCKED
        with pytest.raises(duckdb.InvalidInputException, match="the configuration has been locked"):
            con.cursor().execute("SET autoload_known_extensions = true")
        # an explicit INSTALL looks in no repository on the network
        with pytest.raises(duckdb.IOException, match=f'no access to the file at PATH "{os.devnull}/'):
            con.cursor().execute("INSTALL httpfs")


def test_a_scans_connections_forbid_extensions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: Opened
) -> None:
    """Read on the scan's connection while it is open: after the load, when the analyses are built."""
    from tui.engine.analyses import tables
    from tui.engine.core.options import Options
    from tui.engine.findings.scan import run_scan

    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    real_build = tables.build
    checked: list[int] = []

    def build(con: duckdb.DuckDBPyConnection, split: object, progress: object = None) -> None:
        check([*opened, con])
        checked.append(len(opened))
        real_build(con, split, progress)  # type: ignore[arg-type]

    monkeypatch.setattr(tables, "build", build)
    text, code = run_scan([str(SAMPLE)], tmp_path / "out", Options())
    assert code == 0, text
    assert checked == [1]  # one connection, checked mid-scan
    assert (tmp_path / "out" / "tokens.csv").stat().st_size > 1000


@tui_pilot.needs_sample
@pytest.mark.timeout(120)
async def test_opens_connections_forbid_extensions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: Opened
) -> None:
    from tui.app import TriageApp
    from tui.engine.core.options import Options

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(tmp_path / "state"))
    app = TriageApp(["sample_logs"], Options())
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await tui_pilot.settle(pilot, app, 60)
        assert len(opened) == 1 and screen.session.con is opened[0]  # the loading screen's is the session's
        check([screen.session.con])
        for _ in range(2):
            cursor = screen.session.cursor()  # a worker's cursor
            assert settings(cursor, list(LOCKED))[0] == LOCKED


def _unshare() -> str | None:
    """Why a network namespace cannot be made here, or None when it can."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    done = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if done.returncode != 0:
        return f"this machine does not allow a network namespace: {done.stderr.strip()}"
    return None


NO_NAMESPACE = _unshare()
# In the namespace: no interface but a loopback that is down, so no address can be reached.
NO_ROUTE = (
    "import socket, sys\n"
    "s = socket.socket(); s.settimeout(2)\n"
    "sys.exit(0 if s.connect_ex(('1.1.1.1', 443)) != 0 else 1)\n"
)


@pytest.mark.skipif(NO_NAMESPACE is not None, reason=str(NO_NAMESPACE))
@pytest.mark.timeout(180)
def test_scan_and_open_work_in_a_network_namespace_without_interfaces(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TRIAGE_CACHE_DIR": str(tmp_path / "cache"),
        "TRIAGE_STATE_DIR": str(tmp_path / "state"),
        "PYTHONPATH": str(REPO),
    }

    def isolated(*args: str) -> subprocess.CompletedProcess[str]:
        command = ["unshare", "-n", sys.executable, *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=150)

    assert isolated("-c", NO_ROUTE).returncode == 0  # nothing is reachable in there
    links = subprocess.run(["unshare", "-n", "ip", "-o", "link"], capture_output=True, text=True)
    if links.returncode == 0:
        assert [line.split(":")[1].strip() for line in links.stdout.splitlines()] == ["lo"]

    scan = isolated("-m", "tui.cli", "scan", str(SAMPLE), "--out", str(tmp_path / "out"))
    assert scan.returncode == 0, scan.stderr[-2000:]
    assert "tokens: " in scan.stdout and "affected mailboxes" in scan.stdout
    tokens = (tmp_path / "out" / "tokens.csv").read_text(encoding="utf-8").splitlines()
    assert len(tokens) > 10 and tokens[0].startswith("tok_sha256,")

    opened = isolated("-c", OPEN_HEADLESS, str(SAMPLE))
    assert opened.returncode == 0, opened.stderr[-2000:]
    shown = json.loads(opened.stdout.strip().splitlines()[-1])
    assert shown["tokens"] > 10 and shown["first"]["severity"] == "critical"


# `triage open` in a headless Pilot: until the Tokens pane is complete, then its row count and first
# row as the pane holds them.
OPEN_HEADLESS = """
import asyncio, json, sys
sys.path.insert(0, "tests")
import tui_pilot
from tui.app import TriageApp
from tui.engine.core.options import Options

async def main():
    app = TriageApp([sys.argv[1]], Options())
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await tui_pilot.settle(pilot, app, 120)
        view = screen.pane("tokens")
        first = tui_pilot.shown_rows(view)[0]
        print(json.dumps({"tokens": view.total, "first": {"severity": first["severity"]}}))

asyncio.run(main())
"""


def test_every_cursor_reads_times_in_utc_whatever_the_machines_zone() -> None:
    """The engine's zone is UTC on the connection *and* its cursors (the workers'): a cursor once
    started from the machine's zone, so on a laptop in Berlin it read midnight UTC as 02:00."""
    child = (
        "from tui.engine.core.db import connect\n"
        "con = connect()\n"
        "q = \"SELECT current_setting('TimeZone'), \"\n"
        "q += \"TIMESTAMPTZ '2023-06-01 00:00:00+00'::TIMESTAMP::VARCHAR\"\n"
        "print([tuple(c.execute(q).fetchone()) for c in (con, con.cursor(), con.cursor().cursor())])\n"
    )
    env = {**os.environ, "TZ": "Europe/Berlin", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == str([("UTC", "2023-06-01 00:00:00")] * 3)
