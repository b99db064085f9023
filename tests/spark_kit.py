"""Spark for the tests, for real: one local session for the whole run (`spark`), and a standalone
cluster of a master and two workers on 127.0.0.1 (`spark_cluster`), started from pyspark's own
`bin/spark-class` and stopped after the tests that use it, even when they fail.

Skipped when pyspark or Java is missing, unless TRIAGE_REQUIRE_SPARK=1 (`.ci/run` sets it: there the
spark extra and a JRE are installed, so a missing one is a failure)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REQUIRE = "TRIAGE_REQUIRE_SPARK"


def need_spark() -> None:
    """Skip (or fail, when required) unless pyspark and Java are here."""
    import importlib.util
    import shutil

    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (the spark extra)")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        missing.append("Java")
    if missing:
        what = f"no {' and '.join(missing)}"
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{what} ({REQUIRE}=1)", pytrace=False)
        pytest.skip(what)


# The master the session fixture uses: local[2], or the loopback cluster a test started and runs a
# child pytest against (tests/test_spark_scan.py).
MASTER = "TRIAGE_TEST_SPARK_MASTER"


@pytest.fixture(scope="session")
def spark_run() -> Iterator[Any]:
    """One Spark session (local[2]) made by the engine's own `start`, for every Spark test."""
    need_spark()
    from tui.engine.spark.session import start

    run = start(os.environ.get(MASTER, "local[2]"))
    try:
        yield run
    finally:
        run.close()


@pytest.fixture
def spark(spark_run: Any) -> Any:
    return spark_run.spark


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"a Spark daemon exited ({proc.returncode}) before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {seconds:g} s")


def _workers_registered(log: Path, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count("Registering worker") >= count:
            return
        time.sleep(0.3)
    raise RuntimeError(f"{count} workers did not register with the master within {seconds:g} s")


@dataclass(frozen=True)
class Cluster:
    master: str  # spark://127.0.0.1:<port>
    logs: Path  # master.log, worker1.log, worker2.log


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A standalone master and two workers (one core, 1 GB each) on 127.0.0.1."""
    need_spark()
    home = spark_home()
    folder = tmp_path_factory.mktemp("spark-cluster")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder),
        "SPARK_WORKER_DIR": str(folder / "work"),
        "PYSPARK_PYTHON": sys.executable,
    }
    port, web = free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []

    def daemon(name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - closed below
        logs.append(log)
        proc = subprocess.Popen(
            [str(home / "bin" / "spark-class"), *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        procs.append(proc)
        return proc

    master = f"spark://127.0.0.1:{port}"
    try:
        m = daemon(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(web),
        )
        _wait_port(port, m)
        for i in (1, 2):
            daemon(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "1g",
                "--webui-port",
                str(free_port()),
                "--work-dir",
                str(folder / f"work{i}"),
                master,
            )
        _workers_registered(folder / "master.log", 2)
        yield Cluster(master, folder)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
