"""Findings files (SPEC §6): CSV a spreadsheet cannot be tricked by, and a manifest that pins the run.

`write_csv` streams an Arrow table batch by batch through Polars, so a million-row view never
becomes a million Python objects; Python touches only the rare cells holding control characters.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO, Any

import polars as pl
import pyarrow as pa
from polars.datatypes import DataTypeClass

import tui
from tui.engine.core.options import Options
from tui.engine.core.safe import inert_cell, neutralise_formula

# Rows per batch through Polars. Each batch's text lives outside DuckDB's memory cap (Arrow, the
# Polars frame, its formatted columns): `triage scan` at 10M rows peaked at 1.74 GiB while writing
# tokens.csv with 65,536 rows a batch and at 1.51 GiB with 16,384, in the same time (bench/RESULTS.md).
BATCH_ROWS = 16_384
SECRET_COLUMNS = ("token",)  # raw bearer values: written only with include_secrets
# The characters tui.engine.core.safe.inert_cell escapes, in Rust regex syntax for Polars.
_CONTROL = r"[\x00-\x1F\x7F-\x9F\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}\x{061C}]"
_FORMULA = r"^[=+\-@\t\r]"  # tui.engine.core.safe.FORMULA_START
_FRACTION = {"ms": "%.3f", "us": "%.6f", "ns": "%.9f"}
_DIGITS = {"ms": 3, "us": 6, "ns": 9}


def write_csv(table: pa.Table | pa.RecordBatchReader, path: Path, *, include_secrets: bool = False) -> int:
    """Write `table` as findings CSV and return the number of rows written.

    UTF-8 without BOM, a header row, `\\n` line ends, nulls empty. Times are ISO-8601 UTC
    (`2023-06-01T04:05:03Z`, fractions only when present; naive TIMESTAMPs mean UTC). Lists
    are joined with `;`. Every cell that is not a number or boolean is text: a leading
    `= + - @`, tab or CR gets a `'` (neutralise_formula) and then control and bidi characters
    become visible escapes (inert_cell), so `"\\tx"` is written as `'\\x09x`. Numeric columns
    are written as numbers, so `-2` in an integer column stays `-2`. Columns named `token`
    are dropped unless `include_secrets`. The same table always gives the same bytes.
    """
    # A reader is written batch by batch (2M findings rows as one table: ~1 GB outside DuckDB's cap).
    columns = table.schema.names
    keep = [i for i, name in enumerate(columns) if include_secrets or name not in SECRET_COLUMNS]
    names = [f"c{i}" for i in range(len(keep))]
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(_safe_text(columns[i]) for i in keep)
    batches = table.to_batches(max_chunksize=BATCH_ROWS) if isinstance(table, pa.Table) else table
    rows = 0
    with _atomic(path) as out:
        out.write(header.getvalue().encode("utf-8"))
        for batch in batches:
            rows += batch.num_rows
            if keep:
                frame = _cells(pa.RecordBatch.from_arrays([batch.column(i) for i in keep], names=names))
                frame.write_csv(out, include_header=False, line_terminator="\n", null_value="")
            elif batch.num_rows:
                out.write(b"\n" * batch.num_rows)
    return rows


def write_manifest(
    path: Path,
    *,
    inputs: list[dict[str, Any]],
    options: Options,
    outputs: list[str],
    extra: dict[str, Any] | None = None,
    started_at: datetime | None = None,
) -> None:
    """Write manifest.json: tool, inputs, options, outputs and `run.started_at`.

    JSON with sorted keys, indent 2, ASCII escapes and a trailing newline. `inputs` entries are
    written as the caller gives them (path, sha256, rows, kind, format, …); paths become strings
    and datetimes ISO-8601 UTC everywhere. `extra` adds top-level keys (not the fixed ones).
    The run time (`started_at`, else now) is the only field that changes between runs on the
    same input; when the environment variable `SOURCE_DATE_EPOCH` (integer seconds since
    1970-01-01 UTC, as in reproducible builds) is set it replaces the clock and the manifest
    is byte-identical across runs. A malformed `SOURCE_DATE_EPOCH` raises ValueError.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        if not epoch.strip().isdigit():
            raise ValueError(f"SOURCE_DATE_EPOCH must be an integer number of seconds, got {epoch!r}")
        when = datetime.fromtimestamp(int(epoch), timezone.utc)
    else:
        when = started_at or datetime.now(timezone.utc)
    document: dict[str, Any] = {
        "tool": {"name": "triage", "version": tui.__version__},
        "inputs": inputs,
        "options": dataclasses.asdict(options),
        "outputs": outputs,
        "run": {"started_at": when, "clock": "SOURCE_DATE_EPOCH" if epoch is not None else "system"},
    }
    for key, value in (extra or {}).items():
        if key in document:
            raise ValueError(f"manifest key {key!r} is reserved")
        document[key] = value
    text = json.dumps(_jsonable(document), sort_keys=True, indent=2, ensure_ascii=True) + "\n"
    with _atomic(path) as out:
        out.write(text.encode("utf-8"))


def _jsonable(value: object) -> object:
    """Paths as strings, datetimes as ISO-8601 UTC, tuples as lists, recursively."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


@contextmanager
def _atomic(path: Path) -> Iterator[IO[bytes]]:
    """Write next to `path` and rename into place, so a failed export leaves no half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") as out:
            yield out
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def _safe_text(value: str) -> str:
    """One text cell made harmless to a spreadsheet and a terminal."""
    return inert_cell(neutralise_formula(value))


def _cells(batch: pa.RecordBatch) -> pl.DataFrame:
    """A batch with every non-numeric column turned into safe text, ready for write_csv."""
    arrays = [_polars_ready(col) for col in batch.columns]
    frame = pl.from_arrow(pa.RecordBatch.from_arrays(arrays, names=batch.schema.names))
    assert isinstance(frame, pl.DataFrame)
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype.is_numeric() or dtype == pl.Boolean or dtype == pl.Null:
            exprs.append(pl.col(name))
        else:
            text = _text(pl.col(name), dtype)
            exprs.append(pl.when(text.str.contains(_FORMULA)).then("'" + text).otherwise(text).alias(name))
    frame = frame.select(exprs)
    # Which text columns hold a control character at all: one select, so Polars checks the columns
    # in parallel (the regex is the costly part of a batch); only those columns are looked at again.
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    found = (
        frame.select(pl.col(n).str.contains(_CONTROL).any() for n in text_columns).row(0)
        if text_columns
        else ()
    )
    hostile_columns = {name for name, hit in zip(text_columns, found, strict=True) if hit}
    columns = []
    for cells in frame.iter_columns():
        if cells.name in hostile_columns:
            hostile = cells.str.contains(_CONTROL).fill_null(False)
            rows = hostile.arg_true()
            cells = cells.scatter(rows, [inert_cell(v) for v in cells.gather(rows).to_list()])
        columns.append(cells)
    return pl.DataFrame(columns)


def _polars_ready(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Arrow types Polars cannot import or format (intervals, maps, unions) as their string form."""
    kind = array.type
    if pa.types.is_interval(kind) or pa.types.is_map(kind) or pa.types.is_union(kind):
        return pa.array([None if v is None else str(v) for v in array.to_pylist()], pa.string())
    return array


def _text(expr: pl.Expr, dtype: pl.DataType | DataTypeClass) -> pl.Expr:
    """A column of any type as text: UTC ISO times, `;`-joined lists, JSON structs."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            expr = expr.dt.convert_time_zone("UTC")
        # Formatted once with the fraction, which is dropped where it is all zeros (".000000Z" can
        # only be the end of the text): half the cost of formatting both ways and choosing per row.
        unit = dtype.time_unit or "us"
        exact = expr.dt.strftime(f"%Y-%m-%dT%H:%M:%S{_FRACTION[unit]}Z")
        return exact.str.replace(f".{'0' * _DIGITS[unit]}Z", "Z", literal=True)
    if isinstance(dtype, pl.Date):
        return expr.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, (pl.List, pl.Array)):
        inner = dtype.inner
        assert inner is not None
        if isinstance(dtype, pl.Array):
            expr = expr.arr.to_list()
        return expr.list.eval(_text(pl.element(), inner).fill_null("")).list.join(";")
    if isinstance(dtype, pl.Struct):
        return expr.struct.json_encode()
    if isinstance(dtype, pl.Binary):
        return expr.bin.encode("hex")
    return expr.cast(pl.String)
