"""Nothing of the evidence is left behind, however a run ends (issue 26, point 1).

Copies of inputs in the cache (a `.gz` input decompressed, text transcoded, a document's record list
unwrapped) hold every raw bearer token the input holds. A run removes its own at exit, and SIGTERM
and SIGHUP end it as cleanly as Ctrl-C (exit 143 / 129, one line); what a SIGKILL (or an
out-of-memory kill) leaves, the next run removes. Real `triage` processes, real signals.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tui.engine.core.db import COPY_FOLDERS, PER_PROCESS_FOLDERS, prune_dead

REPO = Path(__file__).resolve().parents[1]
JWT_HEAD = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0."

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and process ids")


def gz_gateway(folder: Path, rows: int = 200_000) -> Path:
    """A gateway Parquet with a bearer JWT per row, gzip-compressed (`.parquet.gz`): DuckDB cannot
    read it as it is, so the loader decompresses a copy into the cache."""
    folder.mkdir(parents=True)
    plain = folder.parent / "plain.parquet"
    duckdb.execute(
        f"""COPY (SELECT TIMESTAMP '2023-06-01' + INTERVAL (i) SECOND AS time,
                  '10.0.' || (i % 250) || '.' || (i % 200) AS client, 'GET' AS method,
                  '/owa/service.svc?action=GetItem&n=' || i AS url,
                  'Bearer {JWT_HEAD}' || repeat(md5((i // 50)::VARCHAR), 8) || '.' || md5(i::VARCHAR)
                      AS authorization
                FROM range({int(rows)}) t(i)) TO ? (FORMAT parquet)""",
        [str(plain)],
    )
    target = folder / "gateway.parquet.gz"
    with plain.open("rb") as src, gzip.open(target, "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst)
    plain.unlink()
    return target


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TRIAGE_CACHE_DIR": str(tmp_path / "cache"),
        "TRIAGE_STATE_DIR": str(tmp_path / "state"),
        "TZ": "UTC",
    }


def triage(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui.cli", *args]


def copies(cache: Path, pid: int | None = None) -> list[Path]:
    """The copies of inputs in the cache (of one process when `pid` is given)."""
    prefix = f"{pid}-" if pid is not None else ""
    return sorted(p for folder in COPY_FOLDERS for p in (cache / folder).glob(f"{prefix}*"))


def wait_for_copy(child: subprocess.Popen[str], cache: Path, timeout: float = 90) -> Path:
    """Poll until the child's decompressed copy exists and has content: it is mid-load."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in copies(cache, child.pid) if p.stat().st_size > 1 << 20]
        if found:
            return found[0]
        assert child.poll() is None, f"the run ended first: {child.communicate()}"
        time.sleep(0.05)
    raise AssertionError("no copy of the input appeared in the cache")


def token_text_in(folder: Path) -> list[Path]:
    """Files under `folder` holding `eyJ` (the start of every JWT), whatever they are."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                if b"eyJ" in fh.read():
                    found.append(path)
    return found


def test_the_next_run_removes_what_a_killed_scan_left(tmp_path: Path) -> None:
    """SIGKILL (as the out-of-memory killer sends) mid-load leaves the decompressed copy, with every
    raw token in it; the next command, whatever it is, removes it."""
    gz = gz_gateway(tmp_path / "evidence")
    env, cache = environment(tmp_path), tmp_path / "cache"
    child = subprocess.Popen(
        triage("scan", str(gz.parent), "--out", str(tmp_path / "out")),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    copy = wait_for_copy(child, cache)
    time.sleep(0.3)  # a little further into the load (the spill folder exists too)
    child.kill()
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert copy.is_file() and copy.name.endswith("-gateway.parquet.gz")
    assert copy in token_text_in(cache)  # what the issue is about: the tokens stayed behind
    assert list((cache / "spill").glob(f"{child.pid}-*"))

    other = tmp_path / "other" / "notes.csv"
    other.parent.mkdir()
    other.write_text("time,user\n2023-06-01T00:00:00Z,a@b.c\n", encoding="utf-8")
    nxt = subprocess.run(
        triage("inspect", str(other)), cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert nxt.returncode == 0, nxt.stderr
    assert not copy.exists() and copies(cache) == []
    assert [p for f in PER_PROCESS_FOLDERS for p in (cache / f).glob("*")] == []  # its own went at exit
    assert token_text_in(cache) == []


@pytest.mark.parametrize(
    ("signum", "code", "said"),
    [(signal.SIGTERM, 143, "stopped by SIGTERM"), (signal.SIGHUP, 129, "stopped by SIGHUP")],
)
def test_sigterm_and_sighup_stop_a_scan_as_cleanly_as_ctrl_c(
    tmp_path: Path, signum: int, code: int, said: str
) -> None:
    gz = gz_gateway(tmp_path / "evidence")
    env, cache, out = environment(tmp_path), tmp_path / "cache", tmp_path / "out"
    child = subprocess.Popen(
        triage("scan", str(gz.parent), "--out", str(out)),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    copy = wait_for_copy(child, cache)
    child.send_signal(signum)
    stdout, stderr = child.communicate(timeout=60)
    assert (child.returncode, stderr, stdout) == (code, f"triage scan: {said}\n", "")
    assert not copy.exists()  # removed by the run itself, no next run needed
    assert [p for f in PER_PROCESS_FOLDERS for p in (cache / f).glob("*")] == []
    assert token_text_in(cache) == []
    assert not out.exists()


def test_prune_dead_removes_only_entries_of_processes_that_are_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(gone.stdout)  # that process has exited
    made: dict[str, Path] = {}
    for folder in PER_PROCESS_FOLDERS:
        (tmp_path / folder).mkdir()
        for who, pid in (("dead", dead), ("alive", os.getpid())):
            entry = tmp_path / folder / f"{pid}-x1-input.json"
            if folder == "spill":
                entry.mkdir()
                (entry / "work.duckdb").write_bytes(b"eyJ")
            else:
                entry.write_bytes(b"eyJ")
            made[f"{folder}/{who}"] = entry
        keep = tmp_path / folder / "README"  # no pid prefix: not ours to judge
        keep.write_text("x")
        made[f"{folder}/other"] = keep
    unrelated = tmp_path / "notes" / f"{dead}-mine.txt"  # not a per-process folder
    unrelated.parent.mkdir()
    unrelated.write_text("x")

    removed = prune_dead()
    assert sorted(removed) == sorted(made[f"{f}/dead"] for f in PER_PROCESS_FOLDERS)
    assert sorted(p for p in made.values() if p.exists()) == sorted(
        p for name, p in made.items() if not name.endswith("/dead")
    )
    assert unrelated.exists()


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_end_the_tui_as_q_does(tmp_path: Path, signum: int, code: int) -> None:
    """`triage open` in a real terminal (tmux), signalled while it loads a `.gz` input: it gives the
    terminal back, says one line, exits with 128 + the signal, and its copy of the input is gone."""
    import shlex

    gz = gz_gateway(tmp_path / "evidence")
    cache, done = tmp_path / "cache", tmp_path / "exit_code"
    env = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in {
            "TRIAGE_CACHE_DIR": str(cache),
            "TRIAGE_STATE_DIR": str(tmp_path / "state"),
            "TERM": "xterm-256color",
            "PYTHONPATH": str(REPO),
        }.items()
    )
    run = (
        f"env -u COLUMNS -u LINES {env} {shlex.quote(sys.executable)} -m tui.cli open {shlex.quote(str(gz))}"
    )
    command = f"cd {shlex.quote(str(REPO))} && {run}; echo $? > {shlex.quote(str(done))}; sleep 30"
    socket = f"triage-stops-{os.getpid()}"

    def tmux(*args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=10
        ).stdout

    tmux("new-session", "-d", "-s", "stops", "-x", "160", "-y", "40", command)
    try:
        deadline = time.monotonic() + 90
        mine: list[Path] = []
        while not mine and time.monotonic() < deadline:
            mine = [p for p in copies(cache) if p.stat().st_size > 1 << 20]
            time.sleep(0.05)
        assert mine, "the TUI made no copy of the input"
        pid = int(mine[0].name.split("-", 1)[0])
        time.sleep(0.5)
        os.kill(pid, signum)
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done.read_text().strip() == str(code)
        screen = tmux("capture-pane", "-p", "-t", "stops")
        assert f"triage open: stopped by {signal.Signals(signum).name}" in screen
        assert copies(cache) == [] and token_text_in(cache) == []
        assert [p for f in PER_PROCESS_FOLDERS for p in (cache / f).glob("*")] == []
    finally:
        tmux("kill-server")
