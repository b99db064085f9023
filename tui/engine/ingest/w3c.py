"""W3C extended logs (IIS, Exchange's HTTP logs): fields named by `#Fields:` lines, read line by line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from tui.engine.core.sql import file_literal, ident
from tui.engine.ingest.formats import Sniffed
from tui.engine.ingest.records import Registered, bad_records, columns_of, lines_sql, unique_names


def register_w3c(con: duckdb.DuckDBPyConnection, i: int, path: Path, sniffed: Sniffed) -> Registered:
    """A W3C extended log, its fields named by `#Fields:`; `source_row` is the line number.

    Lines are read as text and split on spaces (W3C values have none: IIS writes `+`), so a line
    with another number of fields is counted and shown, not lost; `#` directives are skipped.
    `-` is an empty value. Two columns are added: `timestamp` from `date` and `time` (UTC, as W3C
    logs are written) and `url` from `cs-uri-stem` and `cs-uri-query` (OWA's `action=` is in the
    query). In a request header field (`cs(…)`) a `+` is a space.

    IIS writes `#Fields:` again after each restart, and with other fields once logging is changed
    (the Authorization header added during an incident): each line is read by the last `#Fields:`
    before it, and the columns are every field of any of them (NULL where a part lacks one).
    """
    con.execute(
        f"CREATE TABLE lines_{i} AS SELECT rtrim(l, chr(13)) AS l "
        f"FROM {lines_sql(file_literal(path), sniffed.compression)}"
    )
    declared = [
        str(r[0])
        for r in con.execute(
            f"SELECT l FROM lines_{i} WHERE starts_with(l, '#Fields:') GROUP BY l ORDER BY min(rowid)"
        ).fetchall()
    ]
    sets = [line[len("#Fields:") :].split() for line in declared] or [list(sniffed.fields)]
    if len(sets) == 1:
        part = "1"
    else:  # the set in force on each line: the last `#Fields:` line at or before it
        part = (
            "list_position(?::VARCHAR[], last_value(CASE WHEN starts_with(l, '#Fields:') THEN l END "
            "IGNORE NULLS) OVER (ORDER BY rowid ROWS UNBOUNDED PRECEDING))"
        )
    con.execute(
        f"CREATE TABLE raw_{i} AS SELECT rowid + 1 AS source_row, string_split(l, ' ') AS p, l AS j, "
        f"{part} AS k FROM lines_{i}",
        [declared] if len(sets) > 1 else [],
    )
    con.execute(f"DROP TABLE lines_{i}")
    fields = list(dict.fromkeys(f for fs in sets for f in fs))
    width = _by_part([str(len(fs)) for fs in sets])
    entry = "j IS NOT NULL AND NOT starts_with(j, '#') AND trim(j) <> ''"
    bad, examples = bad_records(con, i, f"{entry} AND len(p) IS DISTINCT FROM {width}")
    names = unique_names(fields)
    cols = []
    for logged, name in zip(fields, names, strict=True):
        value = _by_part([f"p[{fs.index(logged) + 1}]" if logged in fs else "NULL" for fs in sets])
        # a request header's `+` are its spaces (`Bearer+eyJ…`, `Mozilla/5.0+(Windows+NT…`)
        text = (
            f"replace(nullif({value}, '-'), '+', ' ')"
            if logged.lower().startswith("cs(")
            else f"nullif({value}, '-')"
        )
        cols.append(f"{text} AS {ident(name)}")
    con.execute(
        f"CREATE TABLE data_{i} AS SELECT source_row, {', '.join(cols)} "
        f"FROM raw_{i} WHERE {entry} AND len(p) = {width}"
    )
    con.execute(f"DROP TABLE raw_{i}")
    lower = {f.lower(): name for f, name in zip(fields, names, strict=True)}
    extra = []
    if "date" in lower and "time" in lower and "timestamp" not in lower:
        extra.append(f"{ident(lower['date'])} || ' ' || {ident(lower['time'])} AS timestamp")
    if "cs-uri-stem" in lower and "url" not in lower:
        query = f" || coalesce('?' || {ident(lower['cs-uri-query'])}, '')" if "cs-uri-query" in lower else ""
        extra.append(f"{ident(lower['cs-uri-stem'])}{query} AS url")
    view = f"src_{i}"
    added = "".join(f", {e}" for e in extra)
    con.execute(f"CREATE VIEW {view} AS SELECT source_row{added}, * EXCLUDE (source_row) FROM data_{i}")
    note = sniffed.note
    if len(sets) > 1:
        note = "; ".join(
            filter(None, [note, f"{len(sets)} different #Fields lines: each part read by its own"])
        )
    return Registered(view, "w3c", columns_of(con, view), bad, examples, note)


def _by_part(values: Sequence[str]) -> str:
    """One SQL value per `#Fields:` set, chosen by the line's set `k` (the value itself when one set)."""
    if len(values) == 1:
        return values[0]
    return "CASE k " + " ".join(f"WHEN {n + 1} THEN {v}" for n, v in enumerate(values)) + " END"


__all__ = ["register_w3c"]
