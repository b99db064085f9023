"""The one pass over the inputs: `events_t` and the distinct bearer values, in the on-disk work database.

`events_t` holds every event column but the token text, plus `tok_key = hash(token)` (UBIGINT),
stored compressed in a DuckDB file in the spill directory (10M gateway rows: ~200 MB on disk
instead of ~3.5 GB in memory), so no later query re-reads or re-normalises the inputs.

The token text is never transformed per row: rows are grouped on `hash(tok_raw)` (the bearer field
as the log wrote it), the `Bearer ` prefix is stripped once per *distinct* raw value (`_tok_map`),
and each row gets its `tok_key` through an integer join on that map, which annotate then reduces
to one row per key (`keep_token_text`): `token_text`, the only copy of the text, which the decoder
reads (`DISTINCT_TOKENS`). `token_stats` comes from `events_t`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import duckdb

from tui.engine.core.db import spill_dir
from tui.engine.core.schema import EVENT_COLUMNS
from tui.engine.core.sql import ident, literal
from tui.engine.ingest.geo import build_ip_country
from tui.engine.ingest.normalise import bearer_token_sql

WORK_DB = "triage_work"


def attach(con: duckdb.DuckDBPyConnection) -> str:
    """Attach the session's work database (once); returns its name."""
    attached = con.execute(
        "SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [WORK_DB]
    ).fetchone()
    if not attached or not attached[0]:
        con.execute(f"ATTACH {literal(str(spill_dir() / 'work.duckdb'))} AS {WORK_DB}")
    return WORK_DB


def exists(con: duckdb.DuckDBPyConnection, name: str, kind: str = "table") -> bool:
    """Whether a table (or view) of that name exists in any attached database."""
    catalog = "duckdb_tables()" if kind == "table" else "duckdb_views()"
    column = "table_name" if kind == "table" else "view_name"
    row = con.execute(f"SELECT count(*) FROM {catalog} WHERE {column} = ?", [name]).fetchone()
    return bool(row and row[0])


def materialise(
    con: duckdb.DuckDBPyConnection,
    constants: Mapping[str, str] | None = None,
    tokens_ready: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> None:
    """Create `_tok_map` (read through `DISTINCT_TOKENS`), `events_t` (in the work database), `token_stats`.

    `tokens_ready(con)` runs once `_tok_map` exists and before the rows are stored (the TUI decodes
    the tokens there and shows them first: `tui.engine.case.preview`).

    `constants` (event column → typed SQL constant, `load._common_constants`) are the columns every
    input fills with one value: they are not stored, the `events_t` view adds them back (a gateway
    log leaves ten columns NULL; writing them cost 1.8 s at 10M rows). The view also carries the
    stored table's `rowid` as `_rowid` (the Events pane's row number when the rows were sorted).
    """
    constants = {n: sql for n, sql in (constants or {}).items() if n in _STORABLE}
    attach(con)
    union = exists(con, "events_union", "view")
    source = "events_union" if union else "events_base"
    # The loader's union carries `tok_raw`; a hand-built events_base (triage decode) has `token` only.
    raw, stripped = ("tok_raw", bearer_token_sql("raw")) if union else ("token", "raw")
    found = con.execute(f"SELECT DISTINCT source FROM {source} WHERE source IS NOT NULL").fetchall()
    sources = sorted(str(r[0]) for r in found)
    _token_map(con, source, raw, stripped, picked=union, one_source=len(sources) <= 1)
    if tokens_ready is not None:
        tokens_ready(con)
    # The loader's rows are written without `country`; it is added from the stored IPs below.
    later = {"country"} if union else set()
    cols = ", ".join(f"e.{ident(n)}" for n in _STORABLE if n not in constants and n not in later)
    # Stored in the Events pane's order (ts NULLS LAST, source, source_row), so `rowid` is the row
    # number `rn` and a page is a range of it (`rn_sql`); a single file already in that order is
    # not sorted, and its `rn` is the file position. Sorting here is cheap (the token's fields are
    # not joined in yet); `events_a` keeps the number. A source is compared by its place among the
    # sorted sources, not its path text (VARCHAR order is byte order, which Python's is for UTF-8).
    # Joined unordered first, then sorted from that table: one statement joining and sorting ran
    # out of memory under the 1.2 GB cap at 2M all-distinct tokens (the sort then competes with
    # the parquet reads of the 1.3 KB token column); split, the sort reads narrow rows only.
    previous = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(
            f"""CREATE OR REPLACE TABLE {WORK_DB}._events_j AS
            SELECT {cols}, m.tok_key
            FROM {source} e
            LEFT JOIN (SELECT raw_key, tok_key FROM _tok_map) m ON m.raw_key = hash(e.{raw})"""
        )
        if union:
            _add_countries(con, stored_ip="client_ip" not in constants)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW _events_j_all AS "
            f"SELECT {_all(constants)} FROM {WORK_DB}._events_j e"
        )
        parts = _time_ordered_parts(con, sources)
        con.execute("DROP VIEW _events_j_all")
        con.execute(f"DROP TABLE IF EXISTS {WORK_DB}.events_t")
        if parts:
            # Already in the Events pane's order, file after file: no sort; `rn` is the position.
            con.execute(f"ALTER TABLE {WORK_DB}._events_j RENAME TO events_t")
        else:
            con.execute("SET preserve_insertion_order = true")
            con.execute(
                f"""CREATE TABLE {WORK_DB}.events_t AS
                SELECT * FROM {WORK_DB}._events_j e
                ORDER BY {_col("ts", constants)} NULLS LAST,
                         list_position(?::VARCHAR[], {_col("source", constants)}),
                         {_col("source_row", constants)}""",
                [sources],
            )
            con.execute(f"DROP TABLE {WORK_DB}._events_j")
    finally:
        keep = bool(previous[0]) if previous is not None else True
        con.execute(f"SET preserve_insertion_order = {'true' if keep else 'false'}")
    con.execute(
        f"CREATE OR REPLACE VIEW events_t AS "
        f"SELECT {_all(constants)}, e.rowid AS _rowid FROM {WORK_DB}.events_t e"
    )
    con.execute(
        """CREATE OR REPLACE TABLE token_stats AS
        SELECT tok_key, count(*) AS uses, min(ts) AS first_ts, max(ts) AS last_ts
        FROM events_t WHERE tok_key IS NOT NULL GROUP BY 1"""
    )


def _add_countries(con: duckdb.DuckDBPyConnection, stored_ip: bool) -> None:
    """`ip_country` from the stored IPs, then each stored row's `country` from it.

    A distinct-IP pass over the inputs cost 2.0–2.9 s at 10M rows (reading and normalising every
    client again) and the join in the write ~0.3 s; the stored column's distinct IPs take 0.2 s and
    the UPDATE of the added column 0.9 s. When no input has an IP column, `client_ip` is a NULL
    constant and not stored: `ip_country` is empty and every `country` NULL.
    """
    if not stored_ip:
        con.execute("CREATE OR REPLACE TABLE ip_country (ip VARCHAR, country VARCHAR)")
        con.execute(f"ALTER TABLE {WORK_DB}._events_j ADD COLUMN country VARCHAR")
        return
    build_ip_country(con, f"{WORK_DB}._events_j")
    con.execute(f"ALTER TABLE {WORK_DB}._events_j ADD COLUMN country VARCHAR")
    con.execute(
        f"""UPDATE {WORK_DB}._events_j SET country = c.country FROM ip_country c
        WHERE c.ip = {WORK_DB}._events_j.client_ip AND c.country IS NOT NULL"""
    )


def _token_map(
    con: duckdb.DuckDBPyConnection, source: str, raw: str, stripped: str, *, picked: bool, one_source: bool
) -> None:
    """`_tok_map(raw_key, tok_key, token)`: each distinct bearer value once, with its stripped text.

    The loader's rows (`picked`) are grouped on integers only: `hash(raw)` → the first row carrying
    that value (`source`, `source_row`); a second read fetches the text of those rows alone. Grouping
    with `any_value(raw)` held every distinct value's kilobyte of text in the hash table: 1.26 s at
    10M rows / 300k tokens and 27.6 s at 2M all-distinct (2.6 GB of text spilled under the 1.2 GB
    cap), against 0.22 + 0.75 s and 2.1 + 7.4 s this way. A hand-built `events_base` (triage decode:
    a few rows, no row numbers to rely on) is grouped on the text. `(source, source_row)` is unique:
    every reader numbers its rows 1..n (readers.py).
    """
    if not picked:
        con.execute(
            f"""CREATE OR REPLACE TABLE _tok_map AS
            SELECT raw_key, CASE WHEN token IS NOT NULL THEN hash(token) END AS tok_key, token
            FROM (SELECT raw_key, {stripped} AS token
                  FROM (SELECT hash({raw}) AS raw_key, any_value({raw}) AS raw FROM {source}
                        WHERE {raw} IS NOT NULL GROUP BY 1))"""
        )
        return
    # With several files the same value may start in each: the first file (by path) and row wins.
    first = "" if one_source else "QUALIFY row_number() OVER (PARTITION BY raw_key ORDER BY source, pick) = 1"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _tok_pick AS
        SELECT raw_key, source, pick FROM (
            SELECT hash({raw}) AS raw_key, source, min(source_row) AS pick FROM {source}
            WHERE {raw} IS NOT NULL GROUP BY 1, 2) {first}"""
    )
    on = "p.pick = e.source_row" if one_source else "p.pick = e.source_row AND p.source = e.source"
    # The stripping runs above the join, on the picked rows' text only. Not TEMP: it becomes
    # `token_text` (keep_token_text), which the `events` view joins on every cursor.
    con.execute(
        f"""CREATE OR REPLACE TABLE _tok_map AS
        SELECT raw_key, CASE WHEN token IS NOT NULL THEN hash(token) END AS tok_key, token
        FROM (SELECT raw_key, {stripped} AS token
              FROM (SELECT p.raw_key, e.{raw} AS raw FROM {source} e JOIN _tok_pick p ON {on}))"""
    )
    con.execute("DROP TABLE _tok_pick")


# The first `_tok_map` row of each token key: the one whose text `token_text` holds.
_FIRST_ROWS = "SELECT min(rowid) FROM _tok_map WHERE tok_key IS NOT NULL GROUP BY tok_key"


def keep_token_text(con: duckdb.DuckDBPyConnection) -> None:
    """Reduce `_tok_map` to one row per token key and read it as `token_text(tok_key, token)`.

    The only copy of each distinct token's text: the decoder reads it, and the `events` view, the
    signature check, `--include-secrets` and the detail panel join it on `tok_key`. Copying the text
    into `token_claims` cost 3.3 s of the 20.6 s decoding 2M all-distinct tokens (bench/RESULTS.md).
    Several raw values (`Bearer x`, ` bearer x`) may strip to one token: the first map row is kept,
    chosen by grouping integers (200k tokens 0.17 s instead of 0.69 s with any_value(token)).
    """
    con.execute(f"DELETE FROM _tok_map WHERE tok_key IS NULL OR rowid NOT IN ({_FIRST_ROWS})")
    con.execute("CREATE OR REPLACE VIEW token_text AS SELECT tok_key, token FROM _tok_map")


def first_token_text(con: duckdb.DuckDBPyConnection) -> None:
    """`token_text` before `keep_token_text`: the rows it will keep, read through a view.

    While the loader still joins every raw value's row of `_tok_map` (`materialise`), nothing may be
    deleted from it; this view already names exactly the `(tok_key, token)` pairs `keep_token_text`
    keeps (the first map row of each key), so what is decoded from it is what annotate would decode.
    """
    con.execute(
        f"""CREATE OR REPLACE VIEW token_text AS SELECT tok_key, token FROM _tok_map
        WHERE tok_key IS NOT NULL AND rowid IN ({_FIRST_ROWS})"""
    )


# The distinct tokens `(tok_key, token)` the decoder reads (after keep_token_text or first_token_text).
DISTINCT_TOKENS = "token_text"


_STORABLE = tuple(n for n, _ in EVENT_COLUMNS if n != "token")


def _col(name: str, constants: Mapping[str, str], alias: str = "e") -> str:
    """A column of the stored rows, or its constant when it is not stored."""
    return constants.get(name) or f"{alias}.{ident(name)}"


def _all(constants: Mapping[str, str]) -> str:
    """Every event column but the token text, then `tok_key`, over the stored rows `e`."""
    return ", ".join(f"{_col(n, constants)} AS {ident(n)}" for n in _STORABLE) + ", e.tok_key"


def _time_ordered_parts(con: duckdb.DuckDBPyConnection, sources: list[str]) -> list[tuple[str, int, int]]:
    """`(source, its first source_row, the rn of that row)` for each source when `_events_j` needs no
    sort to be in the Events pane's order (ts NULLS LAST, source, source_row); empty when it does.
    `events_order` holds them (`rn_sql` reads it), empty when the rows are to be sorted.

    That is: every row timed; in each source `source_row` contiguous and `ts` non-decreasing along
    it (equal times are ordered by `source_row`, as the pane orders them); and the sources' time
    spans following one another, a span ending where the next begins only when its source comes
    first among the sorted sources (the pane's tie-break). Logs are written in time order, and a
    log rotated daily or hourly is files whose spans follow one another: the sort of every row
    (7–9 s at 10M, bench/RESULTS.md) is skipped after this ~0.4 s check, and a row's `rn` is its
    source's offset plus `source_row - base`. Anything else (overlapping files of different kinds,
    newest-first exports, untimed rows) is sorted.
    """
    con.execute(
        f'CREATE OR REPLACE TABLE {WORK_DB}.events_order (source VARCHAR, base BIGINT, "offset" BIGINT)'
    )
    spans = con.execute(
        """SELECT source, count(*), count(ts), min(source_row), max(source_row), min(ts), max(ts)
        FROM _events_j_all GROUP BY source"""
    ).fetchall()
    if not spans or any(n != timed or last - first + 1 != n for _, n, timed, first, last, _, _ in spans):
        return []
    place = {s: n for n, s in enumerate(sources)}
    spans.sort(key=lambda span: (span[5], place.get(span[0], len(sources))))
    for (before, *_, end), (after, *_, start, _) in zip(spans, spans[1:], strict=False):
        if end > start or (end == start and place.get(before, -1) > place.get(after, -1)):
            return []
    parts, offset = [], 0
    for source, n, _, first, *_ in spans:
        parts.append((str(source), int(first), offset))
        offset += n
    # Then along those positions no time may go back: within each file, and where one file ends
    # and the next begins. One ordering on an integer; a window per file (PARTITION BY source)
    # cost 1.5 s at 10M against ~0.4 s.
    con.executemany(f"INSERT INTO {WORK_DB}.events_order VALUES (?, ?, ?)", parts)
    position, join = rn_sql(con, "e")  # the rn these parts give, on `_events_j` as it stands
    late = con.execute(
        f"SELECT count(*) FROM (SELECT ts < lag(ts) OVER (ORDER BY {position}) AS back "
        f"FROM _events_j_all e {join}) WHERE back"
    ).fetchall()
    if late[0][0]:
        con.execute(f"DELETE FROM {WORK_DB}.events_order")
        return []
    return parts


def rn_sql(con: duckdb.DuckDBPyConnection, alias: str) -> tuple[str, str]:
    """A row's place `rn` in the Events pane's order on `events_t` under `alias`: an expression, and
    the join it needs (empty when none). The stored `_rowid` when the rows were sorted; the file
    position for one file in order; its file's offset plus that for files that follow one another."""
    parts = con.execute(f"SELECT source, base FROM {WORK_DB}.events_order").fetchall()
    if not parts:
        return f"{alias}._rowid", ""
    if len(parts) == 1:
        return f"({alias}.source_row - {int(parts[0][1])})", ""
    join = f"JOIN {WORK_DB}.events_order o ON o.source = {alias}.source"
    return f'({alias}.source_row - o.base + o."offset")', join


def hit_rn_sql(con: duckdb.DuckDBPyConnection, alias: str) -> tuple[str, str]:
    """`rn` of a row known only by its `(source, source_row)` under `alias` (an indicator's hit, not
    an `events_t` row): an expression and the join it needs, as `rn_sql`. The file position when the
    rows are in order (no read of `events_t`); the stored `_rowid`, looked up, when they were sorted.
    `(source, source_row)` is unique (`keep_token_text`), so the lookup finds one row or none."""
    rn, join = rn_sql(con, alias)
    if join or rn != f"{alias}._rowid":
        return rn, join
    return (
        "_hit_x._rowid",
        f"LEFT JOIN events_t _hit_x "
        f"ON _hit_x.source = {alias}.source AND _hit_x.source_row = {alias}.source_row",
    )


__all__ = [
    "DISTINCT_TOKENS",
    "WORK_DB",
    "attach",
    "exists",
    "first_token_text",
    "hit_rn_sql",
    "keep_token_text",
    "materialise",
    "rn_sql",
]
