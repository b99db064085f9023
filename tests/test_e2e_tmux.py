"""End to end: the INSTALLED `triage open sample_logs/` in a real terminal (tmux), driven by keys.

Filters Tokens to `severity>=high`, saves through the dialog to a tmp path, quits, and checks the
CSV and the exit code. Runs on its own tmux socket so it never touches the user's sessions.
"""

from __future__ import annotations

import csv
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TRIAGE = Path(sys.executable).parent / "triage"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not TRIAGE.is_file(), reason="the triage console script is not installed"),
    pytest.mark.skipif(not (REPO / "sample_logs" / "gateway.parquet").is_file(), reason="no sample_logs/"),
]


class Terminal:
    """One tmux session on a private socket."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10)
        return done.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "e2e", *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e")

    def wait(self, check: Callable[[str], bool], what: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if check(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()}")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(f"triage-e2e-{os.getpid()}")
    env = f"TZ=UTC TRIAGE_STATE_DIR={shlex.quote(str(tmp_path / 'state'))} TERM=xterm-256color"
    command = (
        f"cd {shlex.quote(str(REPO))} && env -u COLUMNS -u LINES {env} "
        f"{shlex.quote(str(TRIAGE))} open sample_logs/; "
        f"echo $? > {shlex.quote(str(tmp_path / 'exit_code'))}; sleep 30"
    )
    term.tmux("new-session", "-d", "-s", "e2e", "-x", "200", "-y", "50", command)
    try:
        yield term
    finally:
        term.tmux("kill-server")


def test_open_filter_save_quit(terminal: Terminal, tmp_path: Path) -> None:
    terminal.wait(lambda s: "● ready" in s and "[1 Tokens" in s and " of " in s, "the first pane")
    terminal.keys("/")
    terminal.wait(lambda s: "enter applies" in s, "the filter bar")
    terminal.keys("severity>=high", literal=True)
    terminal.keys("Enter")
    screen = terminal.wait(lambda s: "severity>=high ✕" in s and "● ready" in s, "the filtered pane")
    status = next(line for line in screen.splitlines() if " of " in line and "row" in line)
    shown = int(status.split("│")[0].split(" of ")[0].split()[-1].replace(",", ""))

    target = tmp_path / "high.csv"
    terminal.keys("C-s")
    terminal.wait(lambda s: "as findings CSV" in s, "the save dialog")
    terminal.keys("C-u")  # typed at once after the dialog shows: each key must land, in order
    terminal.keys(str(target), literal=True)
    terminal.wait(lambda s: str(target) in s and "high.manifest.json" in s, "the typed path")
    terminal.keys("Enter")
    terminal.wait(lambda s: "findings saved" in s, "the saved notification")
    assert (tmp_path / "high.manifest.json").is_file()

    terminal.keys("q")
    deadline = time.monotonic() + 20
    while not (tmp_path / "exit_code").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (tmp_path / "exit_code").read_text().strip() == "0"

    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["severity", "indicators", "first_seen"] and "token" not in header
    assert len(body) == shown > 0
    assert {row[0] for row in body} <= {"high", "critical"} and "critical" in {row[0] for row in body}


def test_mark_annotate_quit_reopen_finds_them_back(tmp_path: Path) -> None:
    """`space` marks a token, `m` gives another a verdict and a note; after quit and reopen both are back."""
    term = Terminal(f"triage-e2e-marks-{os.getpid()}")
    env = (
        f"TZ=UTC TRIAGE_STATE_DIR={shlex.quote(str(tmp_path / 'state'))} "
        f"TRIAGE_CACHE_DIR={shlex.quote(str(tmp_path / 'cache'))} TERM=xterm-256color"
    )
    run = f"env -u COLUMNS -u LINES {env} {shlex.quote(str(TRIAGE))} open sample_logs/"
    done = shlex.quote(str(tmp_path / "exit_code"))
    command = f"cd {shlex.quote(str(REPO))} && {run}; {run}; echo $? > {done}; sleep 30"
    term.tmux("new-session", "-d", "-s", "e2e", "-x", "200", "-y", "50", command)
    try:
        first_row = lambda s: [line for line in s.splitlines() if "critical" in line][:2]  # noqa: E731
        term.wait(lambda s: "● ready" in s and "[1 Tokens" in s and " of " in s, "the first pane")
        term.keys("Space")
        term.wait(lambda s: "1 marked" in s, "the plain mark")
        term.keys("Down")
        term.keys("m")
        term.wait(lambda s: "Verdict for token" in s, "the verdict dialog")
        term.keys("Down")  # false positive
        term.keys("admin test from the lab, see IR-7", literal=True)
        term.keys("Enter")
        screen = term.wait(
            lambda s: "2 marked" in s and "your verdict" in s, "the verdict in the detail panel"
        )
        assert "false positive" in screen and "admin test from the lab, see IR-7" in screen
        rows = first_row(screen)
        assert rows[0].lstrip().startswith("✓") and rows[1].lstrip().startswith("✗")
        term.keys("q")
        term.wait(lambda s: "session restored" in s and "2 marked" in s, "the reopened session")
        term.wait(
            lambda s: [r.lstrip()[:1] for r in first_row(s)] == ["✓", "✗"] and "marked, no verdict" in s,
            "the restored marks on the rows and the cursor row's mark in the detail panel",
        )
        term.keys("Down")
        screen = term.wait(
            lambda s: "admin test from the lab, see IR-7" in s, "the note, back after reopening"
        )
        assert "false positive" in screen
        term.keys("q")
        deadline = time.monotonic() + 20
        while not (tmp_path / "exit_code").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (tmp_path / "exit_code").read_text().strip() == "0"
        state = list((tmp_path / "state").glob("session-*.json"))
        assert len(state) == 1 and "admin test from the lab, see IR-7" in state[0].read_text()
        assert not list((REPO / "sample_logs").glob("*.json.tmp"))
    finally:
        term.tmux("kill-server")


def _detail_top(screen: str) -> str:
    """The detail panel's first line: the part right of the table on the screen's fourth line."""
    lines = screen.splitlines()
    return lines[3].split("│")[-1].strip() if len(lines) > 3 and "│" in lines[3] else ""


def test_jump_sort_and_scroll_keys_in_a_real_terminal(terminal: Terminal) -> None:
    """The keys a terminal sends as capital letters (`N`, `O`, `K`) reach their actions, not only
    the test driver's key events: next / previous flagged event, sort, detail scroll."""
    terminal.wait(lambda s: "● ready" in s and "[1 Tokens" in s and " of " in s, "the first pane")
    terminal.keys("2")
    terminal.wait(lambda s: "flagged_accesses" in s, "the Mailboxes pane")
    terminal.keys("Enter")  # the worst mailbox's events, oldest first: unflagged reads come first
    terminal.wait(lambda s: "filter:  mailbox=" in s and "row 1 " in s, "the drill")
    terminal.keys("n")
    screen = terminal.wait(lambda s: "row 1 " not in s and " · row " in s, "the first flagged event")
    first = _status_row(screen)
    terminal.keys("n")
    terminal.wait(lambda s: _status_row(s) > first, "the next flagged event")
    terminal.keys("N")
    terminal.wait(lambda s: _status_row(s) == first, "back to the first")
    terminal.keys("N")
    terminal.wait(lambda s: "no flagged event before this one" in s, "nothing before the first")
    # The detail panel's first line, right of the table, is its title "event <source> row <n>"
    # once the panel has drawn the event (waited for by content: on a busy machine the screen
    # can be caught before the panel's redraw).
    top = terminal.wait(lambda s: _detail_top(s).startswith("event "), "the detail's title")
    terminal.keys("J")
    terminal.wait(lambda s: _detail_top(s) != _detail_top(top), "the detail scrolled")
    terminal.keys("K")
    terminal.wait(lambda s: _detail_top(s) == _detail_top(top), "the detail back")
    terminal.keys("2")
    terminal.wait(lambda s: "flagged_accesses" in s and "filter: none" in s, "the Mailboxes pane again")
    terminal.keys("Right", "Right", "O")  # from the mark column: `mailbox`
    terminal.wait(lambda s: "sorted by mailbox ↓" in s, "the sort")
    rows = [
        line.split()[1]
        for line in terminal.screen().splitlines()
        if "@contoso-agency.gov" in line.split("│")[0]
    ]
    assert len(rows) > 5 and rows == sorted(rows, reverse=True)


def _status_row(screen: str) -> int:
    status = next(line for line in screen.splitlines() if " · row " in line)
    return int(status.split(" · row ")[1].split()[0].replace(",", ""))
