"""`triage scan --engine spark` and `tui.engine.spark.scan.scan(spark, paths, out, options)` (SPEC §9).

The design (issue 23):
- One definition of the analysis: the DuckDB engine's own SQL, transpiled (`spark.sql`), run by the
  engine's own Python where it can (`spark.tokens` runs `jwt_decode`'s SQL and `verify`'s Python).
- The same detection decides each file's format, kind and column mapping: the DuckDB loader reads
  each file's sample and names them (`ingest.load`, as `triage inspect` does); Spark reads the files.
- Byte-identical findings or none: a scan whose inputs hold a kind or format the Spark engine does not
  yet carry through every findings file stops with one line naming it, and exit 2, before writing
  anything (`Unsupported`), instead of writing findings that could differ from the DuckDB engine's.

What runs on Spark so far (README "Spark (SPEC §9)"): the session (`session`), reading a gateway
log (Parquet or CSV) and its bearer tokens, and decoding and verifying the distinct tokens
(`spark.tokens`, byte-identical `token_claims`, tests/test_spark_decode.py). The findings files are
not yet written by the Spark engine: every scan ends in `Unsupported`, saying so.

Imports `core`, `ingest`, `findings` and this package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.engine.core.options import Options
from tui.engine.core.safe import inert
from tui.engine.spark.session import DEFAULT_MASTER, SparkUnavailable, adopt, cause, start

Progress = Callable[[str, float], None]

# (format, kind) pairs the Spark engine reads itself; everything else is refused by name.
READS = {("parquet", "gateway"), ("csv", "gateway")}


class Unsupported(Exception):
    """The inputs need something the Spark engine does not do yet; one line, exit 2."""


def unreadable(paths: list[Path]) -> str | None:
    """The first input this process cannot open for reading, with why (a local path)."""
    for path in paths:
        try:
            with open(path, "rb") as f:
                f.read(1)
        except OSError as exc:
            return f"cannot read {path}: {exc.strerror or type(exc).__name__}"
    return None


def detect(paths: list[str], options: Options) -> Any:
    """Each input's format, kind and mapping, named by the DuckDB loader from its sample (`LoadReport`)."""
    from tui.engine.core.db import connect
    from tui.engine.ingest.load import load

    con = connect()
    try:
        return load(con, paths, options)
    finally:
        con.close()


def check_supported(report: Any) -> None:
    """Refuse, by name, an input the Spark engine does not read yet."""
    for f in report.files:
        if f.error:
            raise Unsupported(f"cannot read {f.path}: {f.error}")
        if not f.view:  # a key list or a skipped file: not an event log
            continue
        if (f.format, f.kind) not in READS or f.parts:
            kinds = ", ".join(k for k, _ in f.kinds) if f.parts else f.kind
            raise Unsupported(
                f"{f.path}: {kinds} ({f.format}) is not yet read by the Spark engine "
                f"(it reads {', '.join(sorted({k for _, k in READS}))} logs so far); use --engine duckdb"
            )


def scan(spark: Any, paths: list[str], out: Path, options: Options, progress: Progress | None = None) -> str:
    """The findings of `paths` into `out`, computed on `spark` (an existing session: a notebook's, a
    spark-submit job's; it is left running and its settings unchanged). Returns the summary text;
    raises `Unsupported` or `SparkUnavailable` (one line each) when it cannot."""
    run = adopt(spark)
    return _scan(run.spark, paths, out, options, progress)


def _scan(spark: Any, paths: list[str], out: Path, options: Options, progress: Progress | None) -> str:
    if progress is not None:
        progress("detecting the inputs", 0.05)
    report = detect(paths, options)
    if not report.files:
        raise Unsupported(f"no input files found in {', '.join(paths)}")
    check_supported(report)
    raise Unsupported(
        "the Spark engine reads and decodes these inputs but does not write the findings files yet "
        "(SPEC §9 in progress); use --engine duckdb"
    )


def run_scan(
    paths: list[str],
    out: Path,
    options: Options,
    master: str = DEFAULT_MASTER,
    progress: Progress | None = None,
) -> tuple[str, int]:
    """The CLI's `scan --engine spark`: (text, exit code); every failure is one line and exit 2."""
    from tui.engine.ingest.inputs import expand

    found, _skipped, missing = expand(paths)
    if missing:
        return inert(f"triage scan: not found: {', '.join(missing)}"), 2
    why = unreadable(found)
    if why:
        return inert(f"triage scan: {why}"), 2
    try:
        if progress is not None:
            progress(f"starting Spark ({master})", 0.0)
        run = start(master)
    except SparkUnavailable as exc:
        return inert(f"triage scan: {exc}"), 2
    try:
        return _scan(run.spark, paths, out, options, progress), 0
    except (Unsupported, SparkUnavailable) as exc:
        return inert(f"triage scan --engine spark: {exc}"), 2
    except Exception as exc:  # noqa: BLE001 - a Spark failure: its cause in one line, not a JVM trace
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            return inert(f"triage scan --engine spark: Spark failed: {cause(exc, run.log)}"), 2
        raise
    finally:
        run.close()
