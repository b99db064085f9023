"""`triage scan --engine spark` and `tui.engine.spark.scan.scan(spark, paths, out, options)` (SPEC §9).

The design (issue 23):
- One definition of the analysis: the DuckDB engine's own SQL, transpiled (`spark.sql`), run by the
  engine's own Python where it can (`spark.tokens` runs `jwt_decode`'s SQL and `verify`'s Python).
- The same detection decides each file's format, kind and column mapping: the DuckDB loader reads
  each file's sample and names them (`ingest.load`, as `triage inspect` does); Spark reads the files.
- Byte-identical findings or none: a scan whose inputs hold a kind or format the Spark engine does not
  yet carry through every findings file stops with one line naming it, and exit 2, before writing
  anything (`Unsupported`), instead of writing findings that could differ from the DuckDB engine's.

What runs on Spark (README "Spark (SPEC §9)"): the session (`session`); reading every kind in
`sample_logs/` (gateway logs in Parquet or CSV, the Purview audit CSV, Entra sign-ins, audit
records and risk detections as `{"value": [...]}` JSON) into the events with the loader's own SQL
(`read`); then the DuckDB scan's own stages through `SparkCon` (`analyse`): the `work` stage,
decoding and verifying the distinct tokens (`spark.tokens`), the indicator catalogue, the analyses
(mailboxes, drift, sessions, actions, the behaviour model); the findings tables are brought to the
driver (`collect`, Arrow) and written by the DuckDB engine's own writer
(`findings.scan.write_findings`), so the files are the same bytes (tests/test_spark_scan.py
compares them with the DuckDB engine's on the whole sample). An indicator whose input is not
loaded is not run, on either engine (`Indicator.needs`).
Not yet: `case/` (what `triage open DIR` reads; the summary lists what was written), and any
other kind or format (`Unsupported`, by name).

Imports `core`, `ingest`, `findings` and this package.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.engine.core.options import Options
from tui.engine.core.safe import inert
from tui.engine.spark.con import SparkCon
from tui.engine.spark.read import Unsupported, check_supported, detect, read
from tui.engine.spark.session import DEFAULT_MASTER, SparkUnavailable, adopt, cause, start
from tui.engine.spark.tokens import verify_tokens

Progress = Callable[[str, float], None]


def unreadable(paths: list[Path]) -> str | None:
    """The first input this process cannot open for reading, with why (a local path)."""
    for path in paths:
        try:
            with open(path, "rb") as f:
                f.read(1)
        except OSError as exc:
            return f"cannot read {path}: {exc.strerror or type(exc).__name__}"
    return None


def scan(spark: Any, paths: list[str], out: Path, options: Options, progress: Progress | None = None) -> str:
    """The findings of `paths` into `out`, computed on `spark` (an existing session: a notebook's, a
    spark-submit job's; it is left running and its settings unchanged). Returns the summary text;
    raises `Unsupported` or `SparkUnavailable` (one line each) when it cannot."""
    run = adopt(spark)
    return _scan(run.spark, paths, out, options, progress)


def _say(progress: Progress | None, text: str, done: float) -> None:
    if progress is not None:
        progress(text, done)


def _scan(spark: Any, paths: list[str], out: Path, options: Options, progress: Progress | None) -> str:
    from datetime import datetime, timezone

    started = datetime.now(timezone.utc)
    _say(progress, "detecting the inputs", 0.02)
    detected = detect(paths, options)
    if not detected.report.files:
        raise Unsupported(f"no input files found in {', '.join(paths)}")
    check_supported(detected)
    con = SparkCon(spark)
    _say(progress, "reading the inputs on Spark", 0.1)
    return analyse(con, detected, options, out, started, _part(progress, 0.1, 1.0))


def prepare(con: SparkCon, detected: Any, options: Options) -> Any:
    """The first stages alone (tests/test_spark_pipeline.py): the events (`events_base`, `events_t`,
    `token_stats`, `ip_country`), the distinct tokens (`token_text`), `token_claims` and
    `token_keys`, each as the DuckDB engine's own code makes them; returns the case (`Case`)."""
    from tui.engine.case.annotate import decode_tokens
    from tui.engine.case.context import Case
    from tui.engine.ingest.work import keep_token_text, materialise

    read(con, detected)
    materialise(con)  # type: ignore[arg-type]
    keep_token_text(con)  # type: ignore[arg-type]
    case = Case.start(options, con).with_key_lists(detected.report.jwks_files)  # type: ignore[arg-type]
    decode_tokens(con, case.key_lists, case.intel, verify_tokens)  # type: ignore[arg-type]
    return case


def analyse(
    con: SparkCon, detected: Any, options: Options, out: Path, started: Any, progress: Progress | None = None
) -> str:
    """The DuckDB scan's stages, each the engine's own code through `SparkCon`: read, annotate (the
    indicator catalogue), the analyses (`analyses.tables.build`: mailboxes, drift, sessions, actions,
    the behaviour model); then the findings tables brought to the driver (`collect`) and written by
    the DuckDB engine's own writer, in its row order. Returns the summary text."""
    from tui.engine.analyses import tables as analyses
    from tui.engine.case.annotate import annotate
    from tui.engine.case.context import Case
    from tui.engine.findings.scan import summary, write_findings

    report = detected.report
    read(con, detected)
    case = Case.start(options, con)  # type: ignore[arg-type]
    annotation = annotate(
        case, report, _part(progress, 0.0, 0.7), materialise_events=False, verify=verify_tokens
    )
    analyses.build(con, annotation.split, _part(progress, 0.7, 0.95))  # type: ignore[arg-type]
    _say(progress, f"writing the findings to {out}", 0.95)
    local = collect(con)
    try:
        # case/ (what `triage open DIR` reads) is not written by the Spark engine yet: no annotation
        files = write_findings(local, out, options, report, started)
        return summary(local, report, out, files, annotation)
    finally:
        local.close()


# The tables the findings files and the summary read, brought from Spark to the driver.
FINDINGS_TABLES = ("tokens", "mailboxes", "drift", "sessions", "actions", "token_text")


def collect(con: SparkCon) -> Any:
    """A local DuckDB holding the findings tables as Spark computed them (Arrow, column types kept):
    the DuckDB engine's own writer (`findings.scan.write_findings`) writes them, in its row order."""
    from tui.engine.core.db import connect

    local = connect()
    for name in FINDINGS_TABLES:
        table = con.spark.table(name).toArrow()
        local.register(f"_spark_{name}", table)
        local.execute(f"CREATE TABLE {name} AS SELECT * FROM _spark_{name}")
        local.unregister(f"_spark_{name}")
    return local


def _part(progress: Progress | None, start: float, end: float) -> Progress | None:
    if progress is None:
        return None
    say = progress
    return lambda stage, fraction: say(stage, start + (end - start) * fraction)


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
    from tui.engine.findings.scan import _inside

    for folder in sorted({Path(os.path.realpath(f)).parent for f in found}):
        if _inside(out, folder):
            return inert(
                f"triage scan: --out {out} is inside the evidence folder {folder}; choose another"
            ), 2
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
