"""Every headless command stopped by Ctrl-C says one line and exits 130, and `scan` writes its
findings as a set (issue 26, point 2). Real `triage` processes and real SIGINTs.

`scan`'s write phase is reached deterministically through its test-only hook
(`TRIAGE_TEST_PAUSE=<step>:<file>`, tui/engine/findings/scan.py `_test_pause`): the scan creates the
file at the step and waits while it exists.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_stops import environment, gz_gateway, triage, wait_for_copy

REPO = Path(__file__).resolve().parents[1]
FINDINGS = ("tokens.csv", "mailboxes.csv", "drift.csv", "sessions.csv", "actions.csv", "manifest.json")

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def gateway_csv(path: Path, tokens: int) -> Path:
    """A small gateway log: `tokens` distinct bearer JWTs, three requests each."""
    import base64
    import json

    def b64(doc: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["time", "client", "method", "url", "authorization"])
        for t in range(tokens):
            claims = {"aud": "https://outlook.office.com", "upn": f"u{t}@contoso.com", "uti": f"uti{t}"}
            jwt = f"{b64({'alg': 'RS256', 'kid': 'k1'})}.{b64(claims)}.c2lnbmF0dXJl"
            for r in range(3):
                out.writerow([f"2023-06-01T0{r}:{t:02d}:00Z", f"10.0.0.{t}", "GET", "/owa/", f"Bearer {jwt}"])
    return path


def scan(inputs: Path, out: Path, env: dict[str, str], **more: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        triage("scan", str(inputs), "--out", str(out)),
        cwd=REPO,
        env={**env, "SOURCE_DATE_EPOCH": "1700000000", **more},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(flag: Path, child: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not flag.exists():
        assert child.poll() is None, f"the scan ended first: {child.communicate()}"
        assert time.monotonic() < deadline, f"{flag.name} never appeared"
        time.sleep(0.02)


def contents(folder: Path) -> dict[str, bytes]:
    """The folder's files, and its case/ (`case/<name>`): each Parquet table as its sorted rows (two
    scans may store the same rows in another order), case.json as its bytes."""
    import duckdb

    found = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    con = duckdb.connect()
    for p in sorted((folder / "case").glob("*")):
        if p.suffix == ".parquet":
            rows = con.execute("SELECT * FROM read_parquet(?)", [str(p)]).fetchall()
            found[f"case/{p.name}"] = repr(sorted(map(repr, rows))).encode()
        else:
            found[f"case/{p.name}"] = p.read_bytes()
    return found


def names(found: dict[str, bytes]) -> list[str]:
    """The entries of the folder `contents` read (case/ once)."""
    return sorted({name.split("/")[0] for name in found})


# the environment, the new inputs, `out`, the old set (with the analyst's file) and the new set
Sets = tuple[dict[str, str], Path, Path, dict[str, bytes], dict[str, bytes]]


@pytest.fixture()
def two_sets(tmp_path: Path) -> Sets:
    """`out` holding an old complete set (3 tokens) and a note of the analyst's; the inputs of a new
    set (5 tokens) and what an uninterrupted scan of them writes."""
    env = environment(tmp_path)
    old_in = gateway_csv(tmp_path / "old" / "proxy.csv", 3).parent
    new_in = gateway_csv(tmp_path / "new" / "proxy.csv", 5).parent
    out = tmp_path / "out"
    for inputs, target in ((old_in, out), (new_in, tmp_path / "reference")):
        child = scan(inputs, target, env)
        assert child.wait(timeout=120) == 0, child.communicate()
    (out / "notes.txt").write_text("the analyst's own notes\n", encoding="utf-8")
    old, new = contents(out), contents(tmp_path / "reference")
    assert names(new) == sorted([*FINDINGS, "case"]) and names(old) == sorted(
        [*FINDINGS, "case", "notes.txt"]
    )
    assert old["tokens.csv"] != new["tokens.csv"] and old["manifest.json"] != new["manifest.json"]
    assert old["case/tokens.parquet"] != new["case/tokens.parquet"]  # 3 tokens, then 5
    assert old["case/case.json"] != new["case/case.json"]
    return env, new_in, out, old, new


def test_a_scan_stopped_while_writing_leaves_the_old_set_whole(tmp_path: Path, two_sets: Sets) -> None:
    """Stopped once the new tokens.csv is written (staged), `out` is exactly as it was: the old
    set, the analyst's file, nothing half written, no staging folder."""
    env, new_in, out, old, _ = two_sets
    flag = tmp_path / "paused"
    child = scan(new_in, out, env, TRIAGE_TEST_PAUSE=f"staged:{flag}")
    wait_for(flag, child)
    staged = [p for p in out.glob(".triage-*/*") if p.name == "tokens.csv"]
    assert len(staged) == 1  # the new tokens.csv exists, beside the old set
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=180)
    assert (child.returncode, stderr, stdout) == (130, "triage scan: interrupted\n", "")
    assert contents(out) == old
    assert sorted(p.name for p in out.iterdir()) == names(old)


def test_a_stop_during_the_swap_waits_for_it_and_leaves_the_new_set_whole(
    tmp_path: Path,
    two_sets: Sets,
) -> None:
    """A Ctrl-C that lands after the first file was renamed into `out` is held until the last one
    is: the new set, whole (byte for byte what an uninterrupted scan writes), beside the analyst's
    file; exit 130 all the same."""
    env, new_in, out, old, new = two_sets
    flag = tmp_path / "paused"
    child = scan(new_in, out, env, TRIAGE_TEST_PAUSE=f"swap:{flag}")
    wait_for(flag, child)
    assert (out / "tokens.csv").read_bytes() == new["tokens.csv"]  # mid-swap: the first file is in,
    assert not (out / "manifest.json").exists()  # and the old manifest is gone (never beside it)
    child.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert child.poll() is None  # the stop waits for the swap
    flag.unlink()
    stdout, stderr = child.communicate(timeout=180)
    assert (child.returncode, stderr) == (130, "triage scan: interrupted\n")
    assert contents(out) == {**new, "notes.txt": old["notes.txt"]}
    assert not list(out.glob(".triage-*"))


def test_a_killed_scan_leaves_the_old_set_and_the_next_scan_its_staging(
    tmp_path: Path,
    two_sets: Sets,
) -> None:
    env, new_in, out, old, new = two_sets
    flag = tmp_path / "paused"
    child = scan(new_in, out, env, TRIAGE_TEST_PAUSE=f"staged:{flag}")
    wait_for(flag, child)
    child.kill()
    child.communicate(timeout=180)
    assert contents(out) == old
    left = list(out.glob(".triage-*"))
    assert len(left) == 1 and left[0].name.startswith(f".triage-{child.pid}-")
    again = scan(new_in, out, env)
    assert again.wait(timeout=120) == 0, again.communicate()
    assert contents(out) == {**new, "notes.txt": old["notes.txt"]}
    assert not list(out.glob(".triage-*"))


def test_ctrl_c_stops_inspect_with_a_line_and_exit_130(tmp_path: Path) -> None:
    gz = gz_gateway(tmp_path / "evidence")
    child = subprocess.Popen(
        triage("inspect", str(gz)),
        cwd=REPO,
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    copy = wait_for_copy(child, tmp_path / "cache")  # mid-load
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=180)
    assert (child.returncode, stderr, stdout) == (130, "triage inspect: interrupted\n", "")
    assert not copy.exists()


def _reading_stdin(pid: int) -> bool | None:
    """Whether the process is blocked in read(2) on fd 0 (x86-64 and arm64 /proc/<pid>/syscall),
    None where that cannot be told."""
    import platform

    number = {"x86_64": "0", "aarch64": "63"}.get(platform.machine())
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return None
    if number is None or not fields:
        return None
    return fields[0] == number and int(fields[1], 16) == 0


def test_ctrl_c_stops_decode_waiting_on_stdin_with_a_line_and_exit_130(tmp_path: Path) -> None:
    child = subprocess.Popen(
        triage("decode"),
        cwd=REPO,
        env=environment(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while _reading_stdin(child.pid) is False and time.monotonic() < deadline:
        time.sleep(0.05)
    if _reading_stdin(child.pid) is None:
        time.sleep(3)  # no /proc/<pid>/syscall to tell: the imports are done by then
    assert child.poll() is None
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=180)
    assert (child.returncode, stderr, stdout) == (130, "triage decode: interrupted\n", "")


def test_ctrl_c_stops_sample_with_a_line_and_exit_130(tmp_path: Path) -> None:
    out, cache = tmp_path / "incident", tmp_path / "cache"
    child = subprocess.Popen(
        triage("sample", str(out), "--rows", "300000"),
        cwd=REPO,
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list((cache / "spill").glob(f"{child.pid}-*")) and time.monotonic() < deadline:
        time.sleep(0.05)  # its connection exists: the incident is being built
    time.sleep(0.5)
    assert child.poll() is None, "sample ended before it could be interrupted"
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=180)
    assert (child.returncode, stderr, stdout) == (130, "triage sample: interrupted\n", "")
