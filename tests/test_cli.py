"""The command line: fast help without Textual, an engine that never imports it, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tui.cli import app

REPO = Path(__file__).resolve().parents[1]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    return set(out.split())


def test_help_does_not_import_textual() -> None:
    modules = _modules_after(
        "import sys\nsys.argv = ['triage', '--help']\nfrom tui.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    assert "tui.cli" in modules
    assert not {m for m in modules if m == "textual" or m.startswith("textual.")}


def test_the_engine_never_imports_textual() -> None:
    root = REPO / "tui" / "engine"
    files = [p for p in root.rglob("*.py") if p.stem != "__init__"]
    engine = sorted(".".join(p.relative_to(root).with_suffix("").parts) for p in files)
    assert len(engine) > 50 and "case.session" in engine  # the walk reaches into the stage packages
    modules = _modules_after("\n".join(f"import tui.engine.{name}" for name in engine))
    assert {f"tui.engine.{name}" for name in engine} <= modules
    assert "textual" not in modules


def test_every_command_lists_the_shared_options() -> None:
    runner = CliRunner()
    for command in ("open", "scan", "inspect", "decode"):
        text = runner.invoke(app, [command, "--help"], terminal_width=200).output
        for flag in (
            "--jwks",
            "--tenant",
            "--domain",
            "--ioc",
            "--baseline-until",
            "--window",
            "--map",
            "--tz",
        ):
            assert flag in text, (command, flag)
    top = runner.invoke(app, ["--help"], terminal_width=200).output
    assert all(name in top for name in ("open", "scan", "inspect", "decode", "sample"))


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["inspect", "sample_logs", "--map", "nosuchfield=x"]).exit_code == 2
    assert runner.invoke(app, ["inspect", "sample_logs", "--tz", "Mars/Olympus"]).exit_code == 2
    assert runner.invoke(app, ["scan", "sample_logs"]).exit_code == 2  # --out is required
    assert runner.invoke(app, ["inspect", str(tmp_path / "missing.csv")]).exit_code == 2


def test_a_cache_folder_that_cannot_be_made_is_a_usage_error(tmp_path: Path) -> None:
    """The spill files and work database live in the cache folder: a clear refusal (exit 2) instead
    of a FileNotFoundError traceback from deep in the engine; help still works."""
    import os

    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    env = {**os.environ, "TRIAGE_CACHE_DIR": str(blocked)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "tui.cli", *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=180)

    refused = run("scan", "sample_logs", "--out", str(tmp_path / "out"))
    assert refused.returncode == 2 and refused.stderr == ""
    assert refused.stdout.startswith(f"triage: the cache folder {blocked} cannot be used (")
    assert refused.stdout.rstrip().endswith("); set TRIAGE_CACHE_DIR")
    assert not (tmp_path / "out").exists()
    helped = run("scan", "--help")
    assert helped.returncode == 0 and "scan [OPTIONS] {paths}..." in helped.stdout


def test_ctrl_c_stops_a_scan_with_a_line_and_exit_130(tmp_path: Path) -> None:
    """A real SIGINT to a real `triage scan` mid-load: one line on stderr, exit 130, no traceback
    (DuckDB raises `Query interrupted`, or a busy-connection error, for it), no findings written."""
    import os
    import signal
    import time

    import duckdb

    jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJ1dGkiOiJ1dGkxIiwidGlkIjoidCJ9.c2lnbmF0dXJl"
    log = tmp_path / "evidence" / "proxy.csv"
    log.parent.mkdir()
    duckdb.execute(
        """COPY (SELECT TIMESTAMP '2023-06-01' + INTERVAL (i) SECOND AS time,
                       '10.0.' || (i % 250) || '.' || (i % 200) || ':' || (1024 + i % 60000) AS client,
                       'GET' AS method, '/owa/service.svc?action=GetItem&n=' || i AS url,
                       'Bearer ' || ? || i AS authorization
                FROM range(1500000) t(i)) TO ? (FORMAT csv)""",
        [jwt[:-4], str(log)],
    )
    cache = tmp_path / "cache"
    env = {**os.environ, "TRIAGE_CACHE_DIR": str(cache), "TRIAGE_STATE_DIR": str(tmp_path / "state")}
    out = tmp_path / "out"
    command = [sys.executable, "-m", "tui.cli", "scan", str(log.parent), "--out", str(out)]
    child = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not list((cache / "spill").glob(f"{child.pid}-*")) and time.monotonic() < deadline:
        time.sleep(0.05)  # the engine's connection exists: the scan is under way
    time.sleep(0.5)
    assert child.poll() is None, "the scan ended before it could be interrupted"
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=180)
    assert (child.returncode, stderr, stdout) == (130, "triage scan: interrupted\n", "")
    assert not out.exists()


def test_sign_in_indicator_bounds_are_options_with_their_defaults(tmp_path: Path) -> None:
    from tui.cli import _options

    given = _options(
        None, None, None, None, None, 14, None, "UTC", bound=["spray-users=3", "travel_kmh=1000.5"]
    )
    assert (given.spray_users, given.travel_kmh, given.aitm_seconds, given.history_days) == (3, 1000.5, 30, 7)
    runner = CliRunner()
    for bad in ("spray=3", "spray-users=many", "aitm-seconds=0"):
        result = runner.invoke(app, ["scan", str(tmp_path), "--out", str(tmp_path / "o"), "--bound", bad])
        assert result.exit_code == 2, (bad, result.output)
        assert "--bound" in result.output
