"""The identity benchmark keeps working (issue 20): `bench/identity.py` on a 4,000-row mix generates
sign-ins of three categories, mail reads of the same sessions and directory changes, measures two
scans and finds their findings byte-identical; the loader reads each file as the kind it imitates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tui.cli import app

REPO = Path(__file__).resolve().parents[1]


def test_the_identity_bench_on_a_tiny_mix(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        str(REPO / "bench" / "identity.py"),
        "--rows",
        "4000",
        "--runs",
        "2",
        "--dir",
        str(tmp_path),
    ]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    text = (tmp_path / "identity-results.md").read_text()
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    # 4,000 rows: 2 directory changes, 65% of the rest sign-ins (16 a session), the others mail reads
    assert (
        "| input: identity-4000r | 2,598 sign-ins (162 sessions, 162 users, 420 addresses), "
        "1,400 mail reads and changes" in text
    )
    assert "floor (bare DuckDB pass, fresh process)" in rows
    scans = rows[f"triage scan ({REPO}): wall / peak RSS per run"]
    assert scans.count(" MiB (load ") == 2, scans
    assert (
        "| findings (tokens, mailboxes, drift, sessions, actions CSVs) | byte-identical across every run |"
        in text
    )

    folder = tmp_path / "inputs" / "identity-4000r"
    data = json.loads(CliRunner().invoke(app, ["inspect", "--json", str(folder)]).output)
    assert [(Path(f["path"]).name, f["kind"], f["rows"]) for f in data["files"]] == [
        ("entra_audit.parquet", "entra_audit", 2),
        ("purview.parquet", "purview_audit", 1400),
        ("signins.parquet", "entra_signin", 2598),
    ]
    answers = data["answers"]
    # a session's first sign-in is interactive, the others refreshes; one row in 20 a service
    # principal's (chosen by the row's hash: these counts are the generator's, fixed for its seed)
    assert answers["sign_in_categories"] == {
        "nonInteractiveUser": 2313,
        "interactiveUser": 152,
        "servicePrincipal": 133,
    }
    assert answers["join_coverage"]["purview_audit"] == {"rows": 1400, "session_ids": 1400, "token_ids": 1400}
    assert answers["unknown_values"] == {}
    sessions = (tmp_path / "scan-identity-0-0" / "sessions.csv").read_text().splitlines()
    assert len(sessions) == 1 + 162
