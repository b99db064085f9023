"""What registering a file gives (`Registered`), the reading SQL for lines and JSON record lists, and
JSON records expanded into columns: the part of the readers (`tui.engine.ingest.readers`,
`tui.engine.ingest.w3c`) that the multi-file reads (`tui.engine.ingest.load_groups`) share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

from tui.engine.core.safe import inert_cell
from tui.engine.core.sql import ident, literal
from tui.engine.ingest.formats import UnreadableError

# DuckDB sizes its read buffers from this; 16 MB keeps gzip reads well inside the memory cap.
MAX_LINE = 16 * 1024 * 1024
# Two control characters no JSON text may hold unescaped: each JSON Lines line is one cell.
LINE_DELIM = "\x1e\x1f"
# What a record that is not a JSON object looks like in `raw_<i>.j`: a JSON document's element, a
# JSON Lines line (an empty line is no record)
BAD_JSON = "json_type(j) <> 'OBJECT'"
BAD_JSONL = "j IS NOT NULL AND trim(j) <> '' AND NOT coalesce(json_type(try(j::JSON)) = 'OBJECT', false)"


def compression_sql(compression: str | None) -> str:
    return literal(compression or "none")


def lines_sql(files: str, compression: str | None, *, filename: bool = False) -> str:
    """`read_csv` of text files (`files`: a path literal or a list of them) one line a row, in `l`."""
    return (
        f"read_csv({files}, header = false, columns = {{'l': 'VARCHAR'}}, delim = {literal(LINE_DELIM)}, "
        f"quote = '', escape = '', auto_detect = false, max_line_size = {MAX_LINE}, "
        f"compression = {compression_sql(compression)}{', filename = true' if filename else ''})"
    )


def list_records_sql(i: int, path: str, carried: str = "") -> str:
    """The elements of the JSON list at `path` (`$.value`) in each document of `doc_<i>`, numbered
    from 1 in each document, as `source_row, j` (after `carried` columns, e.g. `source_file, `)."""
    return (
        f"SELECT {carried}unnest(range(1, array_length(l) + 1)) AS source_row, unnest(l) AS j "
        f"FROM (SELECT {carried}json_extract(j, {literal(path + '[*]')}) AS l FROM doc_{i})"
    )


MAX_COLUMNS = 2000
# Columns the readers add to a file's own: the record's number in its file and, when several files
# are read as one (`tui.engine.ingest.load_groups`), the file's path.
ROW_COLUMNS = ("source_row", "source_file")


@dataclass(frozen=True)
class Registered:
    """What registering a file produced: its view, columns and the rows that could not be parsed."""

    view: str
    format: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), without source_row
    bad_rows: int = 0
    bad_examples: tuple[str, ...] = ()
    note: str | None = None
    har: bool = False
    # several files read as one (`tui.engine.ingest.load_groups`): each file's own columns, by path, where
    # they are not all of `columns`
    file_columns: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def columns_of(con: duckdb.DuckDBPyConnection, view: str) -> tuple[tuple[str, str], ...]:
    rows = con.execute(f"DESCRIBE {ident(view)}").fetchall()
    return tuple((str(r[0]), str(r[1])) for r in rows if r[0] not in ROW_COLUMNS)


def bad_records(con: duckdb.DuckDBPyConnection, i: int, bad_filter: str) -> tuple[int, tuple[str, ...]]:
    row = con.execute(f"SELECT count(*) FROM raw_{i} WHERE {bad_filter}").fetchone()
    examples = con.execute(
        f"SELECT source_row, left(j::VARCHAR, 80) FROM raw_{i} WHERE {bad_filter} ORDER BY source_row LIMIT 3"
    ).fetchall()
    return (int(row[0]) if row else 0), tuple(inert_cell(f"record {n}: {text}") for n, text in examples)


def records(
    con: duckdb.DuckDBPyConnection,
    i: int,
    fmt: str,
    bad_filter: str,
    note: str | None,
    *,
    grouped: bool = False,
) -> Registered:
    """Expand JSON objects into one text column per top-level key (nested values stay JSON text).

    `grouped`: `raw_<i>` holds several files' records (`source_file`, and `_ord` their order across
    the files); their bad records were counted per file by the caller."""
    bad, examples = (0, ()) if grouped else bad_records(con, i, bad_filter)
    ok = f"NOT ({bad_filter}) AND j IS NOT NULL AND trim(j::VARCHAR) <> ''"
    carried = "source_row, source_file" if grouped else "source_row"
    by_file: dict[str, list[str]] = {}
    if grouped:
        keys, by_file = _keys_by_file(con, i, ok)
    else:
        keys = [
            str(r[0])
            for r in con.execute(
                f"SELECT k FROM (SELECT unnest(json_keys(j::JSON)) AS k, source_row AS s, "
                f"generate_subscripts(json_keys(j::JSON), 1) AS p FROM raw_{i} WHERE {ok}) "
                f"GROUP BY k ORDER BY min(s), min(p) LIMIT {MAX_COLUMNS + 1}"
            ).fetchall()
        ]
    skipped = [k for k in keys if '"' in k or "\\" in k or not k]
    keys = [k for k in keys if k not in skipped][:MAX_COLUMNS]
    names = unique_names(keys)
    if keys:
        paths = "[" + ", ".join(literal(f'$."{k}"') for k in keys) + "]"
        cols = ", ".join(f"v[{n + 1}] AS {ident(name)}" for n, name in enumerate(names))
        con.execute(
            f"CREATE TABLE data_{i} AS SELECT {carried}, {cols} FROM "
            f"(SELECT {carried}, json_extract_string(j::JSON, {paths}) AS v FROM raw_{i} WHERE {ok})"
        )
    else:
        con.execute(f"CREATE TABLE data_{i} AS SELECT {carried} FROM raw_{i} WHERE {ok}")
    con.execute(f"DROP TABLE raw_{i}")
    view = f"src_{i}"
    con.execute(f"CREATE VIEW {view} AS SELECT * FROM data_{i}")
    if skipped:
        note = "; ".join(
            filter(None, [note, f"{len(skipped)} member name(s) with quotes or backslashes not expanded"])
        )
    columns = columns_of(con, view)
    if not grouped:
        return Registered(view, fmt, columns, bad, examples, note)
    if skipped or len(keys) == MAX_COLUMNS or any(k.lower() in ROW_COLUMNS for k in keys):
        # (a member named `source_file` or `source_row` is renamed by DuckDB beside the reader's own)
        raise UnreadableError(
            "member names to leave out, too many or the reader's own: each file is read alone"
        )
    # each file's columns as it would have them alone (its own keys, in its own order)
    name_of = dict(zip(keys, names, strict=True))
    files = {}
    for source, own in by_file.items():
        if unique_names(own) != [name_of[k] for k in own]:
            raise UnreadableError("member names that differ only in case: each file is read alone")
        files[source] = tuple((name_of[k], "VARCHAR") for k in own)
    return Registered(view, fmt, columns, note=note, file_columns=files)


def _keys_by_file(con: duckdb.DuckDBPyConnection, i: int, ok: str) -> tuple[list[str], dict[str, list[str]]]:
    """The records' member names in order of first appearance, across the files and in each file.

    The order is the single-file reader's (the first record holding a name, then its place there);
    `_ord` runs through the files in order, so within one file it orders as `source_row` does."""
    rows = con.execute(
        f"""SELECT source_file, k, min(_ord), min(p) FROM (
            SELECT source_file, _ord, unnest(json_keys(j::JSON)) AS k,
                   generate_subscripts(json_keys(j::JSON), 1) AS p
            FROM raw_{i} WHERE {ok}) GROUP BY 1, 2"""
    ).fetchall()
    first: dict[str, tuple[int, int]] = {}
    per_file: dict[str, list[tuple[int, int, str]]] = {}
    for source, key, o, p in rows:
        o, p, key = int(o), int(p), str(key)
        seen = first.get(key)
        first[key] = (min(seen[0], o), min(seen[1], p)) if seen else (o, p)
        per_file.setdefault(str(source), []).append((o, p, key))
    keys = sorted(first, key=lambda k: (*first[k], k))
    return keys, {s: [k for _, _, k in sorted(found)] for s, found in per_file.items()}


def unique_names(keys: list[str]) -> list[str]:
    """DuckDB names are case-insensitive: `UserId` and `userId` in one file need distinct columns."""
    seen: set[str] = set()
    out: list[str] = []
    for key in keys:
        name, n = key, 0
        while name.lower() in seen or name.lower() == "source_row":
            n += 1
            name = f"{key}_{n}"
        seen.add(name.lower())
        out.append(name)
    return out


__all__ = [
    "BAD_JSON",
    "BAD_JSONL",
    "LINE_DELIM",
    "MAX_LINE",
    "compression_sql",
    "lines_sql",
    "list_records_sql",
    "MAX_COLUMNS",
    "ROW_COLUMNS",
    "Registered",
    "bad_records",
    "columns_of",
    "records",
    "unique_names",
]
