"""Progress of `triage scan` and `triage inspect` (issue 24 §5), in a real pseudo-terminal.

stderr is the slave side of a pty (what a terminal gives a command), stdout a file: the stage names
must reach the terminal, redrawn in place, and stdout must be byte-identical to a run whose stderr
is a pipe, which gets no progress at all; `--quiet` draws nothing on the terminal either.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"

pytestmark = pytest.mark.skipif(not (SAMPLE / "gateway.parquet").is_file(), reason="no sample_logs/")

SCAN_STAGES = (
    "reading gateway.parquet",
    "reading signins.json",
    "decoding and verifying 673 distinct tokens",
    "running indicators on 21,957 events",
    "analysing: tokens",
    "analysing: the behaviour model",
    "analysing: sessions",
    "writing the findings to ",
)
INSPECT_STAGES = ("reading gateway.parquet", "reading purview_audit.csv", "looking for time gaps")
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE")}
    env.update(PYTHONPATH=str(REPO), TERM="xterm-256color", SOURCE_DATE_EPOCH="1700000000")
    return env


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui.cli", *args]


def run_on_terminal(args: list[str], stdout: Path) -> tuple[int, bytes]:
    """Run with stdin and stderr on a 120×30 pty and stdout into a file; (exit code, terminal bytes)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    with stdout.open("wb") as out:
        child = subprocess.Popen(
            _command(*args), cwd=REPO, env=_env(), stdin=slave, stdout=out, stderr=slave, close_fds=True
        )
    os.close(slave)
    seen = bytearray()
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal's last descriptor
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    return child.wait(timeout=300), bytes(seen)


def run_piped(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(_command(*args), cwd=REPO, env=_env(), capture_output=True, timeout=300)


def _stages(terminal: bytes) -> list[str]:
    """The texts drawn on the progress line, each redraw once, in order."""
    seen: list[str] = []
    for line in re.split(rb"\r|\n", ANSI.sub(b"", terminal)):
        text = line.decode("utf-8", "replace").split("━")[0].split("╺")[0].strip()
        if text and text not in seen:
            seen.append(text)
    return seen


def test_scan_shows_its_stages_on_a_terminal_and_stdout_stays_the_same(tmp_path: Path) -> None:
    code, terminal = run_on_terminal(
        ["scan", str(SAMPLE), "--out", str(tmp_path / "tty")], tmp_path / "tty.out"
    )
    piped = run_piped(["scan", str(SAMPLE), "--out", str(tmp_path / "pipe")])
    assert code == piped.returncode == 0
    stages = _stages(terminal)
    for stage in SCAN_STAGES:
        assert any(s.startswith(stage) for s in stages), (stage, stages)
    # in the order the scan runs them
    order = [next(i for i, s in enumerate(stages) if s.startswith(stage)) for stage in SCAN_STAGES]
    assert order == sorted(order)
    assert b"\r\x1b[2K" in terminal  # redrawn in place: back to the line's start, line erased
    assert b"\x1b[?25h" in terminal  # the cursor is shown again at the end
    # stdout: the summary, byte for byte, but for the --out folder it names
    tty_out = (tmp_path / "tty.out").read_bytes().replace(b"/tty", b"/OUT")
    assert tty_out == piped.stdout.replace(b"/pipe", b"/OUT")
    assert tty_out.startswith(b"triage scan: 21,957 events from 5 log file(s)\n")
    assert piped.stderr == b""  # stderr a pipe: no progress
    for name in ("tokens.csv", "drift.csv", "sessions.csv", "mailboxes.csv", "actions.csv"):
        assert (tmp_path / "tty" / name).read_bytes() == (tmp_path / "pipe" / name).read_bytes()


def test_scan_quiet_draws_nothing_on_the_terminal(tmp_path: Path) -> None:
    out = tmp_path / "findings"
    code, terminal = run_on_terminal(["scan", str(SAMPLE), "--out", str(out), "--quiet"], tmp_path / "q.out")
    assert code == 0
    assert terminal == b""
    assert (tmp_path / "q.out").read_bytes().startswith(b"triage scan: 21,957 events")


def test_inspect_shows_its_stages_and_stdout_stays_the_same(tmp_path: Path) -> None:
    code, terminal = run_on_terminal(["inspect", str(SAMPLE)], tmp_path / "tty.out")
    piped = run_piped(["inspect", str(SAMPLE)])
    assert code == piped.returncode
    stages = _stages(terminal)
    for stage in INSPECT_STAGES:
        assert stage in stages, (stage, stages)
    assert (tmp_path / "tty.out").read_bytes() == piped.stdout
    assert b"gateway.parquet" in piped.stdout
    assert piped.stderr == b""
    quiet, nothing = run_on_terminal(["inspect", str(SAMPLE), "-q"], tmp_path / "q.out")
    assert quiet == code and nothing == b""
    assert (tmp_path / "q.out").read_bytes() == piped.stdout
