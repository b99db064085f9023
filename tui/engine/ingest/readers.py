"""Register one input file in DuckDB as the view `src_<i>`: original columns plus `source_row`.

Parquet stays a lazy view; text formats are materialised once as tables (DuckDB spills them
to its temp directory when large), which is also where bad rows are counted. The connection
must have `preserve_insertion_order` on while these run, so that `rowid` is the file order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from tui.engine.core.safe import inert_cell
from tui.engine.core.sql import file_literal, literal
from tui.engine.ingest.cache_copies import decompress_to_cache, unwrap_to_cache
from tui.engine.ingest.formats import RECORD_LISTS, Sniffed, UnreadableError
from tui.engine.ingest.records import (
    BAD_JSON,
    BAD_JSONL,
    MAX_LINE,
    Registered,
    bad_records,
    columns_of,
    compression_sql,
    lines_sql,
    list_records_sql,
    records,
)
from tui.engine.ingest.w3c import register_w3c

# DuckDB reserves about twice the largest object it may read, within the connection's memory cap.
MIN_JSON_DOC = 16 * 1024 * 1024
MAX_JSON_DOC = 384 * 1024 * 1024


def json_objects_sql(files: str, largest: int, compression: str | None, *, filename: bool = False) -> str:
    """`read_json_objects` of JSON files whose largest is `largest` bytes on disk: a document is read
    in one piece, so the object size allowed follows it (estimated ×20 when compressed), within
    MIN_JSON_DOC and MAX_JSON_DOC."""
    limit = json_doc_limit(largest, compression)
    return (
        f"read_json_objects({files}, format = 'auto', maximum_object_size = {limit}, "
        f"compression = {compression_sql(compression)}{', filename = true' if filename else ''})"
    )


def json_doc_size(largest: int, compression: str | None) -> int:
    """The bytes a document of `largest` bytes on disk may take in one piece (×20 when compressed)."""
    return largest * (1 if compression is None else 20) + 1024 * 1024


def json_doc_limit(largest: int, compression: str | None) -> int:
    return min(max(json_doc_size(largest, compression), MIN_JSON_DOC), MAX_JSON_DOC)


class BadEncoding(UnreadableError):
    """DuckDB refused the text's bytes (Latin-1 C1 bytes, invalid UTF-8): worth one transcoded retry."""


_ENCODING_ERRORS = ("not latin-1 encoded", "invalid utf-8", "invalid unicode")


class NotEventLog(Exception):
    """A readable JSON document that holds no records (a key list, a truth file…): skipped, not failed."""

    def __init__(self, reason: str, jwks: bool = False) -> None:
        super().__init__(reason)
        self.jwks = jwks


def register(con: duckdb.DuckDBPyConnection, i: int, path: Path, sniffed: Sniffed) -> Registered:
    """Create `src_<i>` for the file; raises UnreadableError or NotEventLog.

    JSON is read by DuckDB as UTF-8 without a byte-order mark only: UTF-16 (Windows PowerShell's
    `>` and `Out-File`) was refused, and behind a BOM (`-Encoding UTF8`) an array was taken for one
    record, so not one row loaded. Such files are transcoded first (`BadEncoding`)."""
    if sniffed.format in ("json", "jsonl") and (sniffed.encoding != "utf-8" or sniffed.bom):
        raise BadEncoding(f"JSON in {sniffed.encoding}{' with a byte-order mark' if sniffed.bom else ''}")
    try:
        if sniffed.format == "parquet":
            reg = _parquet(con, i, path, sniffed)
        elif sniffed.format in ("csv", "tsv"):
            reg = _csv(con, i, path, sniffed)
        elif sniffed.format == "jsonl":
            reg = _jsonl(con, i, path, sniffed)
        elif sniffed.format == "w3c":
            reg = register_w3c(con, i, path, sniffed)
        else:
            reg = _json(con, i, path, sniffed)
    except duckdb.Error as exc:
        if sniffed.format != "parquet" and any(e in str(exc).lower() for e in _ENCODING_ERRORS):
            raise BadEncoding(_reason(exc)) from exc
        raise UnreadableError(_reason(exc)) from exc
    return reg


def _reason(exc: Exception) -> str:
    """The first meaningful line of a DuckDB error, short enough for one report line."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    return inert_cell(text[:300])


def _parquet(con: duckdb.DuckDBPyConnection, i: int, path: Path, sniffed: Sniffed) -> Registered:
    source = decompress_to_cache(path, sniffed.compression) if sniffed.compression else path
    view = f"src_{i}"
    con.execute(
        f"CREATE VIEW {view} AS SELECT file_row_number + 1 AS source_row, * EXCLUDE (file_row_number) "
        f"FROM read_parquet({file_literal(source)}, file_row_number = true)"
    )
    try:
        con.execute(f"SELECT count(*) FROM {view}").fetchone()
    except duckdb.Error:
        con.execute(f"DROP VIEW IF EXISTS {view}")
        raise
    return Registered(view, "parquet", columns_of(con, view))


def _csv(con: duckdb.DuckDBPyConnection, i: int, path: Path, sniffed: Sniffed) -> Registered:
    """All columns as text; malformed rows go to a per-file rejects table and are counted."""
    common, dialect = csv_options(i, sniffed)
    src = file_literal(path)
    note = sniffed.note
    try:
        con.execute(f"CREATE TABLE data_{i} AS SELECT * FROM read_csv({src}, {common}{dialect})")
    except duckdb.Error:
        # An unusual quoting dialect: let DuckDB's sniffer try before giving up on the file.
        con.execute(f"DROP TABLE IF EXISTS rej_{i}; DROP TABLE IF EXISTS rejscan_{i}")
        con.execute(f"CREATE TABLE data_{i} AS SELECT * FROM read_csv({src}, {common})")
        note = "; ".join(filter(None, [note, "dialect detected by DuckDB's sniffer"]))
    view = f"src_{i}"
    bad = con.execute(f"SELECT count(DISTINCT line) FROM rej_{i}").fetchone()
    rejected = int(bad[0]) if bad else 0
    # DuckDB's `line` counts records with the header as 1 (a spreadsheet's row number, whatever
    # newlines the quoted cells hold), and the lines skipped before the header: a rejected record's
    # own `source_row` is `line - 1 - skip` (`line - skip` when the names come from `#Fields:`).
    first = int(sniffed.skip) + (0 if sniffed.fields else 1)  # the header row counts as a line
    numbered = _csv_rows(i, first) if rejected else f"SELECT rowid + 1 AS source_row, * FROM data_{i}"
    con.execute(f"CREATE VIEW {view} AS {numbered}")
    examples = con.execute(
        f"SELECT line - {first}, any_value(error_type), trim(any_value(csv_line), chr(13) || chr(10)) "
        f"FROM rej_{i} GROUP BY line ORDER BY line LIMIT 3"
    ).fetchall()
    shown = tuple(inert_cell(f"row {n}: {kind}: {str(text)[:80]}") for n, kind, text in examples)
    return Registered(view, sniffed.format, columns_of(con, view), rejected, shown, note)


def csv_options(i: int, sniffed: Sniffed) -> tuple[str, str]:
    """`read_csv`'s options for a sniffed table (rejects kept in `rej_<i>`), and its quoting dialect."""
    # names from a `#Fields:` line (Exchange's logs) instead of a header row
    named = f"header = false, names = {_names(sniffed.fields)}" if sniffed.fields else "header = true"
    common = (
        f"{named}, all_varchar = true, store_rejects = true, rejects_table = 'rej_{i}', "
        f"rejects_scan = 'rejscan_{i}', max_line_size = {MAX_LINE}, "
        f"compression = {compression_sql(sniffed.compression)}, "
        f"encoding = {literal(sniffed.encoding)}, skip = {int(sniffed.skip)}"
    )
    return common, f", delim = {literal(sniffed.delimiter or ',')}, quote = '\"', escape = '\"'"


def _names(fields: Sequence[str]) -> str:
    """A DuckDB list literal of column names."""
    return "[" + ", ".join(literal(f) for f in fields) + "]"


def _csv_rows(i: int, first: int = 1) -> str:
    """The accepted rows of `data_<i>` with their record numbers in the file, rejected rows counted.

    `data_<i>` holds only the accepted rows, so `rowid + 1` is a row's place among those; each
    rejected record before a row moves its number up by one, so `source_row` stays the record's
    number in the file (the header not counted), the one the rejected rows are reported with. An
    ASOF join finds, for the k-th accepted row, how many rejected records come before it (`first`:
    DuckDB's `line` of the first record, 1 + the lines skipped before the header). Only a
    file with rejected rows pays for it: 1M rows with 1,000 rejected, `triage scan` 2.97 s → 3.70 s
    and peak RSS 0.92 → 1.00 GB against the same rows clean (ordered, so the rows and their sample
    are the same in every run).
    """
    return f"""SELECT d.rowid + 1 + coalesce(r.skipped, 0) AS source_row, d.*
        FROM data_{i} d
        ASOF LEFT JOIN (
            SELECT accepted_before, max(skipped) AS skipped
            FROM (SELECT r - row_number() OVER (ORDER BY r) AS accepted_before,
                         row_number() OVER (ORDER BY r) AS skipped
                  FROM (SELECT DISTINCT line - {first} AS r FROM rej_{i}))
            GROUP BY accepted_before
        ) r ON d.rowid + 1 > r.accepted_before
        ORDER BY source_row"""


def _jsonl(con: duckdb.DuckDBPyConnection, i: int, path: Path, sniffed: Sniffed) -> Registered:
    """Each line read as text first, so a line that is not a JSON object is counted, not lost."""
    con.execute(
        f"CREATE TABLE lines_{i} AS SELECT l FROM {lines_sql(file_literal(path), sniffed.compression)}"
    )
    con.execute(f"CREATE TABLE raw_{i} AS SELECT rowid + 1 AS source_row, l AS j FROM lines_{i}")
    con.execute(f"DROP TABLE lines_{i}")
    return records(con, i, "jsonl", BAD_JSONL, sniffed.note)


def _json(con: duckdb.DuckDBPyConnection, i: int, path: Path, sniffed: Sniffed) -> Registered:
    """A JSON array, a `{"value": [...]}`-style document, a HAR, or a key list (skipped)."""
    size = path.stat().st_size
    limit = json_doc_limit(size, sniffed.compression)
    if sniffed.member is not None and json_doc_size(size, sniffed.compression) > MAX_JSON_DOC:
        return _unwrapped(con, i, path, sniffed)
    try:
        con.execute(
            f"CREATE TABLE doc_{i} AS SELECT json AS j "
            f"FROM {json_objects_sql(file_literal(path), size, sniffed.compression)}"
        )
    except duckdb.Error as exc:
        if "maximum_object_size" not in str(exc):
            raise
        if sniffed.member is not None:  # a compressed file larger than its size suggested
            con.execute(f"DROP TABLE IF EXISTS doc_{i}")
            return _unwrapped(con, i, path, sniffed)
        raise UnreadableError(
            f"a JSON document over {limit // 2**20} MB in one piece: export it as JSON Lines"
        ) from exc
    count = con.execute(f"SELECT count(*) FROM doc_{i}").fetchone()
    n = int(count[0]) if count else 0
    shape = "rows"  # a JSON array or concatenated objects: each row is a record
    if n == 1 and not sniffed.array:
        shape = _document_shape(con, i)
    if shape in ("rows", "array"):
        con.execute(f"CREATE TABLE raw_{i} AS SELECT rowid + 1 AS source_row, j FROM doc_{i}")
    elif shape == "tables":
        # Log Analytics' query API: {"tables": [{"columns": [{"name": …}], "rows": [[…], …]}]}; each
        # row becomes an object keyed by the column names (the first table, `PrimaryResult`)
        con.execute(
            f"""CREATE TABLE raw_{i} AS
            SELECT source_row,
                   CAST(to_json(map_from_entries(list_zip(n, json_extract(r, '$[*]')))) AS VARCHAR) AS j
            FROM (SELECT n, unnest(range(1, len(l) + 1)) AS source_row, unnest(l) AS r
                  FROM (SELECT json_extract_string(j, '$.tables[0].columns[*].name') AS n,
                               json_extract(j, '$.tables[0].rows[*]') AS l FROM doc_{i}))"""
        )
    else:
        con.execute(f"CREATE TABLE raw_{i} AS {list_records_sql(i, RECORD_LISTS[shape])}")
    con.execute(f"DROP TABLE doc_{i}")
    if shape == "har":
        return _har(con, i, BAD_JSON)
    fmt = "json" if shape in ("rows", "array") else f"json {{{shape}: [...]}}"
    return records(con, i, fmt, BAD_JSON, sniffed.note)


def _unwrapped(con: duckdb.DuckDBPyConnection, i: int, path: Path, sniffed: Sniffed) -> Registered:
    """A document too large to read in one piece, whose record list the sniffer found: its records
    are read element by element from a copy of the list (`cache_copies.unwrap_to_cache`)."""
    assert sniffed.member is not None
    copy = unwrap_to_cache(path, sniffed.compression, sniffed.member_at)
    con.execute(
        f"CREATE TABLE doc_{i} AS SELECT json AS j FROM read_json_objects("
        f"{file_literal(copy)}, format = 'array', maximum_object_size = {MIN_JSON_DOC}, compression = 'none')"
    )
    con.execute(f"CREATE TABLE raw_{i} AS SELECT rowid + 1 AS source_row, j FROM doc_{i}")
    con.execute(f"DROP TABLE doc_{i}")
    note = f"over {MAX_JSON_DOC // 2**20} MB in one piece: its record list read from a copy in the cache"
    fmt = f"json {{{sniffed.member}: [...]}}"
    return records(con, i, fmt, BAD_JSON, "; ".join(filter(None, [sniffed.note, note])))


def _document_shape(con: duckdb.DuckDBPyConnection, i: int) -> str:
    # One json_type call with a list of paths parses the document once; seven calls parsed it seven
    # times at once and a 100 MB one-line export ran out of memory.
    paths = [
        "$",
        "$.keys",
        "$.keys[0].kty",
        "$.tables[0].columns",
        "$.tables[0].rows",
        *RECORD_LISTS.values(),
    ]
    row = con.execute(f"SELECT json_type(j, ?::VARCHAR[]) FROM doc_{i}", [paths]).fetchone()
    assert row is not None
    top, keys, kty, columns, rows, *lists = row[0]
    if top == "ARRAY":
        return "array"
    for shape, found in zip(RECORD_LISTS, lists, strict=True):
        if found == "ARRAY":
            return shape
    if columns == "ARRAY" and rows == "ARRAY":  # Log Analytics' query API
        return "tables"
    if keys == "ARRAY" and kty is not None:
        raise NotEventLog("key list (JWKS), used for signature checks", jwks=True)
    if top == "OBJECT":
        raise NotEventLog("a single JSON object without a record list: not an event log")
    raise NotEventLog(f"a JSON {str(top).lower()}, not an event log")


def _header(name: str) -> str:
    return (
        "list_filter(json_extract(e, '$.request.headers[*]'), "
        f"lambda h: lower(h->>'$.name') = {literal(name)})[1]->>'$.value'"
    )


def _har(con: duckdb.DuckDBPyConnection, i: int, bad_filter: str) -> Registered:
    """One row per HAR entry; the bearer comes from the Authorization header, the URL or a token response."""
    bad, examples = bad_records(con, i, bad_filter)
    con.execute(
        f"""CREATE TABLE data_{i} AS SELECT source_row,
            e->>'$.startedDateTime' AS "startedDateTime",
            e->>'$.request.method' AS "method",
            e->>'$.request.url' AS "url",
            e->>'$.response.status' AS "status",
            e->>'$.serverIPAddress' AS "serverIPAddress",
            {_header("user-agent")} AS "user_agent",
            {_header("x-anchormailbox")} AS "x_anchormailbox",
            coalesce({_header("authorization")},
                     nullif(regexp_extract(e->>'$.request.url', '[?&#]access_token=([^&#]+)', 1), ''),
                     nullif(regexp_extract(e->>'$.response.content.text',
                                           '"access_token"\\s*:\\s*"([^"]+)"', 1), '')) AS "authorization"
        FROM (SELECT source_row, j::JSON AS e FROM raw_{i} WHERE NOT ({bad_filter}))"""
    )
    con.execute(f"DROP TABLE raw_{i}")
    view = f"src_{i}"
    con.execute(f"CREATE VIEW {view} AS SELECT * FROM data_{i}")
    return Registered(view, "har", columns_of(con, view), bad, examples, None, har=True)
