"""Files that mix kinds of records, read one kind at a time (SPEC §10: kind per record, not per file).

A diagnostic setting's storage account or event hub writes Entra's sign-ins, audit records, Graph
activity and risk detections into one stream, each record naming its own table in `category`
beside its `properties`; a Log Analytics query that unions tables names each row's in `Type`. Such
a file's records are split by that column into one filtered view per kind, each detected on its
own sample (its own field mapping and time profile), and their events are one `ev_<i>`; a record
keeps its own row number. A file whose column holds one value (nearly every file) costs one
`min`/`max` of that column and is read as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb

from tui.engine.core.sql import ident, literal
from tui.engine.ingest.detect import norm
from tui.engine.ingest.field_names import RECORD_KINDS

# More distinct values than this in the column: not a table name (a generic `Type` column)
MAX_VALUES = 64


@dataclass(frozen=True)
class Part:
    """One kind's records of a mixed file: the rows `where` selects from the registered view.

    `kind` None: records whose column names no kind known here (or none at all), detected from
    their own sample."""

    kind: str | None
    where: str
    values: tuple[str, ...]
    rows: int
    by_source: Mapping[str, int] = field(default_factory=dict)  # several files read as one: per path


def kind_column(columns: Sequence[tuple[str, str]]) -> str | None:
    """The column that names each record's table: a diagnostic record's `category` (beside
    `properties`), a Sentinel export's `Type`."""
    names = {norm(c): c for c, _ in columns}
    if "category" in names and "properties" in names:
        return names["category"]
    return names.get("type")


def split(
    con: duckdb.DuckDBPyConnection, view: str, columns: Sequence[tuple[str, str]], *, grouped: bool
) -> list[Part] | None:
    """The kinds of records in `view`, most first; None when it holds one kind (read it whole).

    `grouped`: the view holds several files (`source_file`), whose counts are kept per file."""
    column = kind_column(columns)
    if column is None:
        return None
    value = f"CAST({ident(column)} AS VARCHAR)"
    ends = con.execute(f"SELECT min({value}), max({value}) FROM {ident(view)}").fetchone()
    if ends is None or ends[0] == ends[1]:
        return None
    by = "source_file, " if grouped else ""
    rows = con.execute(
        f"SELECT {by}{value} AS v, count(*) FROM {ident(view)} GROUP BY ALL LIMIT {MAX_VALUES * 1000}"
    ).fetchall()
    counts: dict[str | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        source, v, n = (str(row[0]), row[1], row[2]) if grouped else ("", row[0], row[1])
        counts[None if v is None else str(v)][source] += int(n)
    if len(counts) > MAX_VALUES:
        return None
    by_kind: dict[str | None, list[str | None]] = defaultdict(list)
    for v in counts:
        by_kind[None if v is None else RECORD_KINDS.get(norm(v))].append(v)
    known = [k for k in by_kind if k is not None]
    if not known or len(by_kind) < 2:
        return None
    named = [v for k in known for v in by_kind[k] if v is not None]
    parts = []
    for kind, values in by_kind.items():
        texts = tuple(sorted(v for v in values if v is not None))
        if kind is None:
            outside = ", ".join(literal(v) for v in named)
            where = f"({value} IS NULL OR {value} NOT IN ({outside}))"
        else:
            where = f"{value} IN ({', '.join(literal(v) for v in texts)})"
        per_source: dict[str, int] = defaultdict(int)
        for v in values:
            for source, n in counts[v].items():
                per_source[source] += n
        total = sum(per_source.values())
        parts.append(Part(kind, where, texts, total, dict(per_source) if grouped else {}))
    return sorted(parts, key=lambda p: (-p.rows, p.kind or "~"))


def part_views(con: duckdb.DuckDBPyConnection, i: int) -> list[str]:
    """The views an earlier load made of file `i`'s kinds (`part_<i>_<n>`)."""
    rows = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE starts_with(view_name, ?)", [f"part_{i}_"]
    ).fetchall()
    return [str(r[0]) for r in rows]


__all__ = ["MAX_VALUES", "Part", "kind_column", "part_views", "split"]
