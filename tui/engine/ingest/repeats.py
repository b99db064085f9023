"""Records that are exact copies of another: overlapping exports, counted once per copy.

An analyst exports Purview's audit search in date windows (it stops at 50,000 rows) and the windows
meet or overlap; Search-UnifiedAuditLog's paged sessions can return a record twice; an Extractor
Suite run is repeated into the same folder. Every input row is one event (SPEC §2), so such a copy
counts twice in every use, read and drift figure. Nothing is removed: `triage inspect` lists how
many copies each kind has and in which files, and annotate says it in its notes (the scan summary,
the TUI's notes), so a doubled count is read as one.

Only audit and sign-in records are compared (`KINDS`): each names a unique record (RecordId, Id,
a request id), so two identical ones are one record twice. Two identical lines of a web-server log
(second-resolution times, no port) can be two requests. A copy is the same value in every column
of the file as read (whatever its position or file); files whose columns differ (the classic and
the new Purview layout) are not compared with each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tui.engine.core.schema import Kind
from tui.engine.core.sql import ident
from tui.engine.ingest.load_report import FileReport

KINDS = (
    Kind.PURVIEW,
    Kind.MGMT_ACTIVITY,
    Kind.SIGNIN,
    Kind.OFFICE_ACTIVITY,
    Kind.GRAPH_ACTIVITY,
    Kind.CLOUD_APP_EVENTS,
)
# Columns a registered view adds to the file's own: where a record sits, not what it says.
_PLACES = ("source_row", "source_file")


@dataclass(frozen=True)
class Repeats:
    """A kind's copies: how many rows repeat a record already counted, and the files they are in."""

    kind: str
    copies: int
    files: tuple[Path, ...]

    def said(self) -> str:
        """`N <kind> records are exact copies of another (files): each copy counts as an event`."""
        names = ", ".join(p.name for p in self.files)
        record = "record is an exact copy" if self.copies == 1 else "records are exact copies"
        return f"{self.copies:,} {self.kind} {record} of another ({names}): each copy counts as an event"

    def text(self) -> str:
        """The note annotate adds (the scan summary, the TUI's notes)."""
        return f"repeated records: {self.said()} (overlapping exports?)"


def repeated_records(con: duckdb.DuckDBPyConnection, files: Sequence[FileReport]) -> list[Repeats]:
    """Per kind of `KINDS` with copies, how many and where (one pass over each such file's rows)."""
    views: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for f in files:
        if f.loaded and f.view is not None and f.kind in KINDS:
            views[(f.kind, f.view)].append(f.path)
    if not views:
        return []
    parts: list[str] = []
    params: list[object] = []
    shapes: dict[tuple[str, ...], int] = {}  # files compare only with files of the same columns
    for (kind, view), paths in views.items():
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {ident(view)}").fetchall()]
        own = tuple(n for n in names if n not in _PLACES)
        if not own:
            continue
        shape = shapes.setdefault(own, len(shapes))
        place = "source_file" if "source_file" in names else "?::VARCHAR"
        parts.append(
            f"SELECT ?::VARCHAR AS kind, {shape} AS shape, hash({', '.join(map(ident, own))}) AS h, "
            f"{place} AS f FROM {ident(view)}"
        )
        params += [kind] if place == "source_file" else [kind, str(paths[0])]
    if not parts:
        return []
    # One hash per record, kept; the copies are then few (usually none): only their files are listed.
    con.execute(f"CREATE OR REPLACE TEMP TABLE _records AS {' UNION ALL '.join(parts)}", params)
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _copied AS
            SELECT kind, shape, h, count(*) - 1 AS copies FROM _records GROUP BY ALL HAVING count(*) > 1"""
        )
        rows = con.execute(
            """SELECT c.kind, c.copies, f.files
            FROM (SELECT kind, sum(copies) AS copies FROM _copied GROUP BY kind) c
            JOIN (SELECT kind, list_sort(list(DISTINCT f)) AS files
                  FROM _records r SEMI JOIN _copied USING (kind, shape, h) GROUP BY kind) f USING (kind)
            ORDER BY c.kind"""
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _copied")
        con.execute("DROP TABLE IF EXISTS _records")
    return [Repeats(str(kind), int(n), tuple(Path(p) for p in files)) for kind, n, files in rows]


__all__ = ["KINDS", "Repeats", "repeated_records"]
