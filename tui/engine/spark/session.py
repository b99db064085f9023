"""The Spark session the Spark engine runs in: made here (`start`) or taken from the caller (`adopt`).

A session made here is bound to the loopback interface (driver host and bind address 127.0.0.1),
with no UI, no event log and no console progress bar; the JVM's own output (its banner, its log,
any stack trace) goes to a log file in a private temporary folder, never to the terminal: errors
reach the user as one line (`SparkUnavailable`, exit 2 in the CLI) naming the cause:

- no Java: neither `$JAVA_HOME/bin/java` nor `java` on PATH (checked before Spark is asked);
- a `spark://host:port` master that does not answer: its port is tried first (a 3 s connect), so a
  closed port or a dead host fails in seconds instead of Spark's minute of registration retries;
- a JVM that does not start (the last `Exception`/`Error` line of its log names why).

The analysis runs in its own SQL session (`SparkSession.newSession()`: the same cluster, its own SQL
settings and temporary views), so an adopted session's settings are never changed:
- `spark.sql.ansi.enabled=false`: a list index past the end is NULL, as DuckDB's `list[i]` is (the
  engine's SQL relies on that everywhere); the engine's SQL never relies on a cast raising;
- `spark.sql.session.timeZone=UTC` and `spark.sql.timestampType=TIMESTAMP_NTZ`: the engine's times
  are naive UTC, as DuckDB's `TIMESTAMP` is.

Python workers run this interpreter (`spark.pyspark.python`) with this package importable
(`spark.executorEnv.PYTHONPATH`): the signature checks' pandas UDF imports `tui.engine.tokens.verify`.
On a real cluster the workers need the triage package installed (as any pandas UDF's dependency).

Imports nothing of the engine.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MASTER = "local[*]"
CONNECT_SECONDS = 3.0

# Spark's log: warnings and errors only, to the log file (the JVM's stderr is redirected there too).
_LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.native.name = org.apache.hadoop.util.NativeCodeLoader
logger.native.level = error
"""


class SparkUnavailable(Exception):
    """Spark cannot run the scan; the message is one line naming the cause (exit 2)."""


@dataclass
class SparkRun:
    """The session the analysis runs in, and what to stop when done (only what `start` made)."""

    spark: Any  # pyspark.sql.SparkSession: the analysis' own SQL session
    owned: bool  # made by `start`: `close` stops it
    log: Path | None  # the JVM's log (a session made here)

    def close(self) -> None:
        if self.owned:
            try:
                self.spark.stop()
            finally:
                _stop_gateway(self.spark)
                if self.log is not None:
                    shutil.rmtree(self.log.parent, ignore_errors=True)


def java_executable() -> str | None:
    """The `java` Spark's launcher would run: `$JAVA_HOME/bin/java`, else `java` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def check_master(master: str) -> None:
    """Refuse, in seconds, a `spark://host:port[,host:port]` master none of whose ports answers."""
    if not master.startswith("spark://"):
        return
    hosts = master.removeprefix("spark://").split(",")
    for hostport in hosts:
        host, _, port = hostport.rpartition(":")
        if not host or not port.isdigit():
            raise SparkUnavailable(f"Spark master {master}: not host:port")
        try:
            with socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS):
                return
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            if isinstance(exc, socket.timeout):
                why = f"no answer in {CONNECT_SECONDS:g} s"
    raise SparkUnavailable(f"Spark master {master} does not answer ({why})")


def _base_conf(master: str, log_config: Path) -> dict[str, str]:
    java_opts = f"-Dlog4j2.configurationFile=file:{log_config}"
    here = str(Path(__file__).resolve().parents[3])  # the folder holding the `tui` package
    return {
        "spark.master": master,
        "spark.app.name": "triage",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.eventLog.enabled": "false",
        "spark.driver.extraJavaOptions": java_opts,
        "spark.executor.extraJavaOptions": java_opts,
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        "spark.executorEnv.PYTHONPATH": os.pathsep.join(
            [here, *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        "spark.sql.shuffle.partitions": "8",
        # the driver holds every broadcast side and the findings collected to it: at Spark's 1g the
        # whole-sample scan failed broadcasting a join once a session had run other scans before
        "spark.driver.memory": "2g",
        "spark.network.timeout": "60s",
    }


def start(master: str = DEFAULT_MASTER, extra: dict[str, str] | None = None) -> SparkRun:
    """A new Spark session on `master`, quiet and on the loopback interface; `SparkUnavailable` if not."""
    if java_executable() is None:
        where = "JAVA_HOME/bin/java" if os.environ.get("JAVA_HOME") else "java on PATH"
        raise SparkUnavailable(
            f"no Java: Spark needs a Java runtime (17 or later) and found no {where} "
            "(install one, e.g. apt-get install default-jre-headless, or set JAVA_HOME)"
        )
    check_master(master)
    quiet_python_loggers()
    try:
        from pyspark import SparkConf, SparkContext
        from pyspark.java_gateway import launch_gateway
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(
            "pyspark is not installed: install the spark extra (pip install 'triage[spark]')"
        ) from None
    folder = Path(tempfile.mkdtemp(prefix="triage-spark-"))
    log_config = folder / "log4j2.properties"
    log_config.write_text(_LOG4J, encoding="utf-8")
    log = folder / "spark.log"
    conf = SparkConf(loadDefaults=False)
    for key, value in {**_base_conf(master, log_config), **(extra or {})}.items():
        conf.set(key, value)
    stream = open(log, "ab")  # noqa: SIM115 - the JVM writes to it for its whole life
    try:
        gateway = launch_gateway(conf, popen_kwargs={"stdout": stream, "stderr": stream})
        context = SparkContext(conf=conf, gateway=gateway)
        # pyspark takes the workers' Python from PYSPARK_PYTHON (else `python3`), not from the conf
        context.pythonExec = os.environ.get("PYSPARK_PYTHON") or sys.executable
        session = SparkSession(context)
    except Exception as exc:  # the JVM refused: its log says why
        why = cause(exc, log)
        shutil.rmtree(folder, ignore_errors=True)
        raise SparkUnavailable(f"Spark did not start on {master}: {why}") from None
    finally:
        stream.close()
    return SparkRun(spark=analysis_session(session), owned=True, log=log)


def quiet_python_loggers() -> None:
    """pyspark logs a failed statement's whole JVM trace, as JSON, to stderr from Python
    (`SQLQueryContextLogger`); the error itself is raised and said in one line (`cause`)."""
    import logging

    for name in ("SQLQueryContextLogger", "py4j", "py4j.clientserver", "py4j.java_gateway"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.CRITICAL)
        logger.propagate = False


def adopt(spark: Any) -> SparkRun:
    """The caller's session (a notebook's, a spark-submit job's): the analysis gets its own SQL session
    on it, and the caller's session is left running and unchanged."""
    return SparkRun(spark=analysis_session(spark), owned=False, log=None)


def analysis_session(spark: Any) -> Any:
    """A new SQL session on `spark`'s cluster with the settings the engine's SQL means."""
    own = spark.newSession()
    own.conf.set("spark.sql.ansi.enabled", "false")
    own.conf.set("spark.sql.session.timeZone", "UTC")
    own.conf.set("spark.sql.timestampType", "TIMESTAMP_NTZ")
    # Spark 4.3's constraint propagation fails planning sessions.sql (row hits joined to the rows
    # through the `events_rn` view, under a UNION: "key not found: source_row" in
    # UnionBase.rewriteConstraints); it only infers extra filters, so results are the same without it
    own.conf.set("spark.sql.constraintPropagation.enabled", "false")
    return own


def _stop_gateway(spark: Any) -> None:
    from pyspark import SparkContext

    gateway = getattr(SparkContext, "_gateway", None)
    if gateway is not None:
        proc = getattr(gateway, "proc", None)
        try:
            gateway.shutdown()
        except Exception:  # noqa: BLE001 - already gone
            pass
        if proc is not None:
            proc.stdin.close() if proc.stdin else None
            try:
                proc.wait(timeout=10)
            except Exception:  # noqa: BLE001
                proc.kill()
    SparkContext._gateway = None
    SparkContext._jvm = None


_CAUSE = re.compile(r"(?:^|\s)((?:[\w$]+\.)+[\w$]*(?:Exception|Error)[\w$]*(?::[^\n]*)?)")


def cause(exc: BaseException, log: Path | None = None) -> str:
    """One line for what Spark raised: the Java exception's own message, not its stack."""
    text = str(exc)
    java = getattr(exc, "java_exception", None)
    if java is not None:
        try:
            text = str(java.getMessage() or java.toString())
        except Exception:  # noqa: BLE001 - the gateway is gone
            pass
    found = _CAUSE.search(text)
    line = (found.group(1) if found else text).strip().splitlines()
    first = line[0] if line else type(exc).__name__
    if log is not None and log.is_file() and not found:
        hits = _CAUSE.findall(log.read_text(encoding="utf-8", errors="replace"))
        if hits:
            first = hits[-1].strip()
    return first[:300]
