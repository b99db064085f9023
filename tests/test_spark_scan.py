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


def test_a_kind_not_yet_read_on_spark_is_refused_by_name(spark: Any, tmp_path: Path) -> None:
    from tui.engine.core.options import Options
    from tui.engine.spark.scan import Unsupported, _scan

    with pytest.raises(Unsupported) as refused:
        _scan(spark, [str(SAMPLE / "signins.json")], tmp_path / "out", Options(), None)
    assert str(refused.value) == (
        f"{SAMPLE / 'signins.json'}: entra_signin (json {{value: [...]}}) is not yet read by the Spark "
        "engine (it reads gateway logs in Parquet or CSV so far); use --engine duckdb"
    )


def test_a_gateway_scan_reads_on_spark_and_says_the_findings_are_not_written_yet(tmp_path: Path) -> None:
    """The CLI end to end on the sample's gateway log: Spark reads, decodes and verifies it, then the
    scan says in one line that the findings files are not written yet, and writes none (exit 2)."""
    need_spark()
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("gateway.parquet", "jwks.json"):
        shutil.copy(SAMPLE / name, logs / name)
    done = _triage(str(logs), "--out", str(tmp_path / "out"), "--spark-master", "local[1]")
    assert _one_line(done) == (
        "triage scan --engine spark: the Spark engine reads these inputs and decodes and verifies their "
        "tokens, but does not write the findings files yet (SPEC §9 in progress); use --engine duckdb"
    )
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "out").exists()


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
