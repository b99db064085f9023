"""Spark reads the inputs; the DuckDB loader's detection says how (SPEC §9: the same detection).

`detect(paths, options)` runs the engine's own loader (`ingest.load`) on a DuckDB connection, as
`triage inspect` does: it sniffs each file, names its kind and maps its columns from a sample, and
builds the SELECT that turns the file's rows into events (`normalise.events_select`). That SELECT's
text is kept (`Detected.selects`). `read(con, detected)` then has Spark read each file into the
view the SELECT reads (`src_<i>`: the file's columns and `source_row`, its 1-based row number),
runs the very SELECT on Spark (transpiled by `SparkCon`) as `ev_<i>`, and unions them with the
loader's own `_union` (countries looked up once per distinct IP, `ingest.geo`).

Spark reads (`READS`: gateway logs, the Purview audit CSV, Entra sign-ins, Entra audit records and
risk detections): Parquet (`source_row` from Spark's row index in the file), delimited text (every
column as text, as DuckDB's `all_varchar` reads it; one partition per file, so the rows keep the
file's order and number; a UTF-8 byte-order mark kept out of the first column's name) and a
`{"value": [...]}` JSON document (its whole text as `doc_<i>`; the loader's own statements, kept by
`detect` as `Detected.records`, make its records `raw_<i>`, one text column per member `data_<i>`,
and `src_<i>` from it, transpiled). A CSV file DuckDB found malformed rows in is not read here
(DuckDB leaves those rows out and counts them; Spark would read them differently), nor a JSON
document the loader read another way (a copy of its list, a byte-order mark, compressed):
`Unsupported` says so.

The loader reads each file once to count its rows for the manifest (what `triage inspect` does):
on a laptop that is the DuckDB engine's first pass; past one machine it is the next thing to move.

Imports `core`, `ingest` and this package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tui.engine.core.options import Options
from tui.engine.spark.con import SparkCon

_EVENTS = re.compile(r"\s*CREATE\s+(?:VIEW|TABLE)\s+(ev_\d+)\s+AS\s", re.I)
# a JSON file's records as the loader makes them from its document `doc_<i>` (`ingest.readers`,
# `ingest.records`): its list's elements (`raw_<i>`), one text column per member (`data_<i>`), `src_<i>`
_RECORDS = re.compile(r"\s*CREATE\s+(?:VIEW|TABLE)\s+(?:raw|data|src)_(\d+)\s+AS\s", re.I)


class Unsupported(Exception):
    """The inputs need something the Spark engine does not do yet; one line, exit 2."""


class _Recorder:
    """A DuckDB connection that keeps the text of each `CREATE VIEW|TABLE ev_<i> AS <select>`."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.selects: dict[str, str] = {}
        self.records: dict[str, list[str]] = {}

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        found = _EVENTS.match(sql)
        if found:
            self.selects[found.group(1)] = sql
        records = _RECORDS.match(sql)
        if records:
            self.records.setdefault(f"src_{records.group(1)}", []).append(sql)
        return self.con.execute(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


@dataclass
class Detected:
    report: Any  # ingest.load_report.LoadReport
    selects: dict[str, str] = field(default_factory=dict)  # ev_<i> → its CREATE … AS SELECT
    records: dict[str, list[str]] = field(default_factory=dict)  # src_<i> → a JSON file's statements


def detect(paths: list[str], options: Options) -> Detected:
    """Each input's format, kind and mapping, named by the DuckDB loader (`LoadReport`)."""
    from tui.engine.core.db import connect
    from tui.engine.ingest.load import load

    con = connect()
    try:
        recorder = _Recorder(con)
        report = load(recorder, paths, options)  # type: ignore[arg-type]
        return Detected(report, recorder.selects, recorder.records)
    finally:
        con.close()


# (format, kind) the Spark engine reads, by the loader's names
READS = {
    ("parquet", "http"),
    ("csv", "http"),
    ("csv", "purview_audit"),
    ("json {value: [...]}", "entra_signin"),
    ("json {value: [...]}", "entra_audit"),
    ("json {value: [...]}", "risk_detection"),
}


def check_supported(detected: Detected) -> None:
    """Refuse, by name, an input the Spark engine does not read yet."""
    for f in detected.report.files:
        if f.error:
            raise Unsupported(f"cannot read {f.path}: {f.error}")
        if not f.view:  # a key list, or a file left out with a note: not an event log
            continue
        kinds = ", ".join(k for k, _ in f.kinds) if f.parts else f.kind
        if (f.format, f.kind) not in READS or f.parts or f.events_view not in detected.selects:
            raise Unsupported(
                f"{f.path}: {kinds} ({f.format}) is not yet read by the Spark engine "
                "(it reads gateway logs, the Purview audit CSV, and Entra sign-ins, audit records and "
                "risk detections as {value: [...]} JSON so far); use --engine duckdb"
            )
        if f.format.startswith("json") and not _json_layout(f, detected.records.get(f.view, [])):
            raise Unsupported(
                f"{f.path}: this JSON layout is not yet read by the Spark engine; use --engine duckdb"
            )
        if f.bad_rows:
            raise Unsupported(
                f"{f.path}: {f.bad_rows:,} malformed rows, which the Spark engine does not read "
                "as the DuckDB engine does yet; use --engine duckdb"
            )


def _source(spark: Any, f: Any) -> Any:
    """The file as the loader's `src_<i>`: `source_row` (1-based) and the file's columns."""
    from pyspark.sql import functions as F

    path = str(f.path)
    if f.format == "parquet":
        frame = spark.read.parquet(path)
        return frame.select((F.col("_metadata.row_index") + 1).alias("source_row"), *frame.columns)
    if f.format == "csv":
        from tui.engine.ingest.formats import sniff

        sniffed = sniff(f.path)
        if sniffed.fields or sniffed.skip or sniffed.compression:
            raise Unsupported(f"{f.path}: this CSV layout is not yet read by the Spark engine")
        frame = (
            spark.read.option("header", True)
            .option("sep", sniffed.delimiter or ",")
            .option("quote", '"')
            .option("escape", '"')
            .option("multiLine", True)  # quoted newlines; one partition per file: rows in file order
            .option("encoding", sniffed.encoding)
            .option("mode", "FAILFAST")
            .csv(path)
        )
        if frame.columns and frame.columns[0].startswith("\ufeff"):  # a BOM Spark keeps in the name
            frame = frame.withColumnRenamed(frame.columns[0], frame.columns[0].removeprefix("\ufeff"))
        numbered = frame.withColumn("source_row", F.monotonically_increasing_id() + 1)
        return numbered.select("source_row", *frame.columns)
    raise Unsupported(f"{f.path}: {f.format} is not yet read by the Spark engine")


# the loader's records of a `{"value": [...]}` document (`records.list_records_sql`)
_LISTED = re.compile(
    r"\s*CREATE\s+TABLE\s+raw_\d+\s+AS\s+SELECT\s+unnest\(range\(1,.*json_extract\(j, '\$\.\w+\[\*\]'\)", re.S
)


def _json_layout(f: Any, statements: list[str]) -> bool:
    """Whether the Spark engine reads this JSON file as the loader did: a `{"value": [...]}` document
    in UTF-8 without a byte-order mark, uncompressed, read whole (not from a copy of its list)."""
    from tui.engine.ingest.formats import sniff

    sniffed = sniff(f.path)
    plain = not (sniffed.compression or sniffed.bom) and sniffed.encoding == "utf-8"
    return plain and bool(statements) and _LISTED.match(statements[0]) is not None


def _json_records(con: SparkCon, f: Any, statements: list[str]) -> None:
    """A JSON document's records as the loader's `src_<i>`: Spark reads the file's text whole as
    `doc_<i>(j)`, and the loader's own statements (`Detected.records`) make the rest from it."""
    doc = f"doc_{f.view.removeprefix('src_')}"
    text = con.spark.read.text(str(f.path), wholetext=True)
    con.keep(doc, text.selectExpr("value AS j"))
    for sql in statements:
        con.execute(sql)
    con.execute(f"DROP TABLE {doc}")
    con.execute(f"DROP TABLE IF EXISTS raw_{f.view.removeprefix('src_')}")


def read(con: SparkCon, detected: Detected) -> None:
    """`events_union`, `ip_country` and `events_base` on Spark, as the loader makes them on DuckDB."""
    from tui.engine.ingest.load import _union

    views = []
    for f in detected.report.files:
        if not f.view:
            continue
        if f.format.startswith("json"):
            _json_records(con, f, detected.records[f.view])
        else:
            _source(con.spark, f).createOrReplaceTempView(f.view)
            con.kinds[f.view.lower()] = "view"
        con.execute(detected.selects[f.events_view])
        views.append(f.events_view)
    _union(con, views, countries=True)  # type: ignore[arg-type]
