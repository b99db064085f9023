"""`triage scan --engine spark`: what a user meets when Spark cannot run (one line, exit 2, no JVM
trace: issue 23 point 6), the refusals of what the Spark engine does not do yet, and the loopback
cluster (a master and two workers, spark_kit) running the same decode as local mode."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from spark_kit import MASTER, free_port, need_spark

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"


def _triage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "scan", "--engine", "spark", "--quiet", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    said = (done.stdout + done.stderr).strip()
    assert done.returncode == 2, said
    assert len(said.splitlines()) == 1, said  # no banner, no stack trace
    assert "Exception" not in said and "at org.apache" not in said
    return said


def test_no_java_is_one_line(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()  # a PATH with no java on it, and no JAVA_HOME
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "scan",
            "--engine",
            "spark",
            "--quiet",
            str(SAMPLE),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**env, "PATH": str(bare)},
        timeout=120,
    )
    said = _one_line(done)
    assert said.startswith("triage scan: no Java:") and "java on PATH" in said
    assert not (tmp_path / "out").exists()


def test_java_home_without_java_is_one_line(tmp_path: Path) -> None:
    done = _triage(str(SAMPLE), "--out", str(tmp_path / "out"), env={"JAVA_HOME": str(tmp_path)})
    assert "JAVA_HOME/bin/java" in _one_line(done)


def test_a_master_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    need_spark()
    port = free_port()  # nothing listens there
    done = _triage(str(SAMPLE), "--out", str(tmp_path / "out"), "--spark-master", f"spark://127.0.0.1:{port}")
    said = _one_line(done)
    assert said == (
        f"triage scan: Spark master spark://127.0.0.1:{port} does not answer (Connection refused)"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.unprivileged  # root reads a chmod-000 file (tests/unprivileged.py)
def test_a_path_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(SAMPLE / "gateway.parquet", logs / "gateway.parquet")
    (logs / "gateway.parquet").chmod(0)
    done = _triage(str(logs), "--out", str(tmp_path / "out"))
    assert _one_line(done) == f"triage scan: cannot read {logs / 'gateway.parquet'}: Permission denied"


def _signins_as_json_lines(folder: Path) -> Path:
    """Two of the sample's sign-ins as JSON Lines, a layout the Spark engine does not read yet."""
    import json

    records = json.loads((SAMPLE / "signins.json").read_text(encoding="utf-8"))["value"][:2]
    (folder / "logs").mkdir()
    path = folder / "logs" / "signins.jsonl"  # beside, not around, the --out folder
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


SAYS = (
    "entra_signin (jsonl) is not yet read by the Spark engine (it reads gateway logs, the Purview audit "
    "CSV, and Entra sign-ins, audit records and risk detections as {value: [...]} JSON so far); "
    "use --engine duckdb"
)


def test_a_kind_not_yet_read_on_spark_is_refused_by_name(spark: Any, tmp_path: Path) -> None:
    from tui.engine.core.options import Options
    from tui.engine.spark.scan import Unsupported, _scan

    lines = _signins_as_json_lines(tmp_path)
    with pytest.raises(Unsupported) as refused:
        _scan(spark, [str(lines)], tmp_path / "out", Options(), None)
    assert str(refused.value) == f"{lines}: {SAYS}"


def test_the_cli_refuses_a_kind_not_yet_read_in_one_line(tmp_path: Path) -> None:
    """`triage scan --engine spark` end to end (its own Spark): sign-ins as JSON Lines, which the
    Spark engine does not read yet, are refused in one line, exit 2, and nothing is written."""
    need_spark()
    lines = _signins_as_json_lines(tmp_path)
    done = _triage(str(lines), "--out", str(tmp_path / "out"), "--spark-master", "local[1]")
    assert _one_line(done) == f"triage scan --engine spark: {lines}: {SAYS}"
    assert not (tmp_path / "out").exists()


FINDINGS = ("tokens.csv", "mailboxes.csv", "drift.csv", "sessions.csv", "actions.csv")


# ~250 Spark statements over little data: 4-6 min on the shared 2-core machine (load 7-18)
@pytest.mark.timeout(900)
def test_the_sample_findings_are_the_duckdb_engines_byte_for_byte(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The differential of SPEC §9 on the whole sample incident (a gateway log in Parquet with its
    key list, a Purview audit CSV, Entra sign-ins, Entra audit records and risk detections, JSON):
    every findings file the Spark engine writes (`scan(spark, …)`, the entry point for an existing
    session) is the DuckDB engine's, byte for byte; the manifests differ only in their start time."""
    import json

    from tui.engine.core.options import Options
    from tui.engine.findings.scan import run_scan as duckdb_scan
    from tui.engine.spark.scan import scan

    monkeypatch.chdir(REPO)  # the sources as `triage scan sample_logs` names them (the goldens')
    said, code = duckdb_scan(["sample_logs"], tmp_path / "duckdb", Options())
    assert code == 0, said
    summary = scan(spark, ["sample_logs"], tmp_path / "spark", Options())

    for name in FINDINGS:
        expected = (tmp_path / "duckdb" / name).read_bytes()
        assert (tmp_path / "spark" / name).read_bytes() == expected, name
    # what they hold, so equal-but-empty on both cannot pass: every kind's findings are there
    tokens = (tmp_path / "duckdb" / "tokens.csv").read_text(encoding="utf-8")
    assert tokens.count(",critical,") >= 5 and "KEY_SCOPE_MISMATCH" in tokens  # the gateway's forgeries
    actions = (tmp_path / "duckdb" / "actions.csv").read_text(encoding="utf-8")
    for code_ in ("INBOX_RULE", "MAIL_FORWARDING", "AUDIT_TAMPERING", "ROLE_ADD", "APP_CONSENT"):
        assert f",{code_}," in actions, code_  # Purview's and the Entra audit log's changes
    sessions = (tmp_path / "duckdb" / "sessions.csv").read_text(encoding="utf-8")
    for code_ in ("AITM_SIGNIN", "PASSWORD_SPRAY", "LEGACY_AUTH", "RISK_DETECTION"):
        assert code_ in sessions, code_  # the sign-ins' and the risk detections'
    drift = (tmp_path / "duckdb" / "drift.csv").read_text(encoding="utf-8")
    assert "never seen for this user" in drift  # the behaviour model's reasons, computed on Spark too
    manifests = [json.loads((tmp_path / e / "manifest.json").read_text()) for e in ("duckdb", "spark")]
    for manifest in manifests:
        manifest["run"].pop("started_at")
    assert manifests[0] == manifests[1]
    # the same summary but for what was written: case/ is the DuckDB engine's alone so far
    assert not (tmp_path / "spark" / "case").exists()
    lines = summary.splitlines()
    assert lines[:-1] == said.splitlines()[:-1]
    assert lines[-1] == f"wrote {', '.join(FINDINGS)}, manifest.json to {tmp_path / 'spark'}"


def test_the_loopback_cluster_decodes_and_verifies_as_duckdb_does(spark_cluster: Any, tmp_path: Path) -> None:
    """The decode differential with the signatures' pandas UDF, on a master and two workers: a child
    pytest whose session fixture connects to the cluster (one SparkContext per process)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "t"),
            "tests/test_spark_decode.py::test_sample_signatures_are_the_same",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, MASTER: spark_cluster.master},
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 passed" in done.stdout
    for worker in ("worker1.log", "worker2.log"):  # both workers ran an executor of the app
        assert "Asked to launch executor" in (spark_cluster.logs / worker).read_text(errors="replace")
