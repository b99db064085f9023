"""What the TUI's five panes show, fetched page by page — no Textual here, so it is testable headless.

Each pane reads one table (`tokens`, `mailboxes`, `drift`, `sessions`) or the `events` view through its named
page and count queries, with the analyst's compiled filter spliced in. A page is at most a few
hundred rows; only pages are ever turned into Python values, so the Events pane can move through
ten million rows while holding only the pages on screen. Every displayed string is made inert here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from tui.engine.analyses import tables as analyses
from tui.engine.analyses.actions import add_mailbox_actions, build_actions
from tui.engine.analyses.marks import ensure_marks
from tui.engine.analyses.pane_specs import PaneSpec
from tui.engine.analyses.sessions import build_identity_tables, build_sessions
from tui.engine.analyses.tables import TOKENS_ORDER, Where
from tui.engine.core import timefmt
from tui.engine.core.queries import named_query
from tui.engine.core.safe import inert_cell
from tui.engine.core.secrets import holds_token, mask_text
from tui.engine.core.sql import ident

PAGE_SIZE = 500
FLAGGED_RANK = 3  # medium or worse, as the queries count "flagged"


MAX_WIDTH = 40


@dataclass(frozen=True)
class Page:
    """Rows `offset … offset+len(rows)-1` of a pane under one filter: shown cells and raw values."""

    offset: int
    columns: tuple[str, ...]  # display columns, in display order
    cells: tuple[tuple[object, ...], ...]  # inert str / int / float per display column
    raw: tuple[dict[str, Any], ...]  # every fetched column, Python values (never shown directly)
    keys: tuple[str, ...]  # each row's mark key


def display_columns(spec: PaneSpec, fetched: Sequence[str]) -> tuple[str, ...]:
    """The lead columns that exist, then the rest in query order, without the hidden ones."""
    lead = [c for c in spec.lead if c in fetched]
    rest = [c for c in fetched if c not in lead and c not in spec.hidden and c != "token"]
    return (*lead, *rest)


def display_value(value: object) -> object:
    """A cell as the table shows it: numbers stay numbers, everything else one inert line, with any
    raw bearer value in it shown by its key (`core.secrets`: the TUI never shows a raw token)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, datetime):
        return timefmt.show(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return inert_cell(", ".join("" if v is None else str(display_value(v)) for v in value))
    return inert_cell(mask_text(str(value)))  # a raw token in any column: shown by its key


def row_key(spec: PaneSpec, row: dict[str, Any]) -> str:
    """The key a mark on this row is stored under (matches `spec.key_sql`)."""
    if spec.name == "events":
        return f"{row.get('source')}#{row.get('source_row')}"
    column = {"tokens": "tkey", "mailboxes": "mailbox", "drift": "user", "sessions": "session_id"}[spec.name]
    return "" if row.get(column) is None else str(row[column])


def to_page(spec: PaneSpec, table: pa.Table, offset: int) -> Page:
    """Turn one fetched page (a few hundred rows) into display cells, raw values and keys."""
    columns = display_columns(spec, table.column_names)
    raw = tuple(table.to_pylist())
    cells = tuple(tuple(display_value(r.get(c)) for c in columns) for r in raw)
    return Page(offset, columns, cells, raw, tuple(row_key(spec, r) for r in raw))


@dataclass(frozen=True)
class Order:
    """A pane sorted by one of its columns (`o` ascending, `O` descending), ahead of its own order."""

    column: str
    descending: bool = False

    def label(self) -> str:
        return f"sorted by {self.column} {'↓' if self.descending else '↑'}"


def order_sql(spec: PaneSpec, order: Order | None, columns: Sequence[str]) -> str:
    """The ORDER BY terms for `order` on this pane ("" for its own order).

    The column must be one the pane's table has and shows (the allow-list the filter uses) and is
    quoted; the direction comes from code. `severity` sorts by its rank, not its name. Empty
    values sort last both ways. The Events pane keeps its time order: sorting ten million rows
    for every page would make scrolling wait; raises ValueError."""
    if order is None:
        return ""
    if spec.name == "events":
        raise ValueError("the Events pane stays in time order")
    if order.column not in columns or order.column in spec.hidden or order.column == "token":
        raise ValueError(f"no column {order.column!r} to sort by")
    column = "sev_rank" if order.column == "severity" else order.column
    return f"{ident(column)} {'DESC' if order.descending else 'ASC'} NULLS LAST, "


def fetch_page(
    con: duckdb.DuckDBPyConnection,
    spec: PaneSpec,
    where: Where,
    offset: int,
    limit: int = PAGE_SIZE,
    order: str = "",
) -> Page:
    """One page of the pane under the filter (LIMIT/OFFSET pushed into DuckDB), in `order` (`order_sql`)."""
    if spec.name == "events" and where.sql == "TRUE" and not where.params:
        # Unfiltered, rows `offset …` are the stored row numbers: a range read, not a sort of every row.
        where = Where("rn >= ? AND rn < ?", (offset, offset + limit))
        table = analyses.run(con, spec.page_query, [limit, 0], where)
        return to_page(spec, table, offset)
    table = analyses.run(con, spec.page_query, [limit, offset], where, order)
    return to_page(spec, table, offset)


# A token subject's place (0-based) in the Tokens pane's order (tokens_page.sql's, `TOKENS_ORDER`,
# after the analyst's sort when there is one).
_TOKEN_POSITION = f"""SELECT n FROM (
    SELECT tkey, row_number() OVER (ORDER BY {analyses.ORDER_MARKER} {TOKENS_ORDER}) - 1 AS n
    FROM tokens_marked WHERE {analyses.FILTER_MARKER}) WHERE tkey = ?"""


def token_position(con: duckdb.DuckDBPyConnection, where: Where, tkey: str, order: str = "") -> int | None:
    """Where the token subject `tkey` stands in the Tokens pane under the filter (None: filtered out).

    The full Tokens table replaces the preview in another order (uses are known then): the pane
    puts its cursor back on the token the analyst had selected."""
    sql, params = analyses.splice(analyses.ordered(_TOKEN_POSITION, order), where, [tkey])
    cursor = con.cursor()
    try:
        row = cursor.execute(sql, params).fetchone()
    finally:
        cursor.close()
    return int(row[0]) if row else None


def flagged_neighbour(con: duckdb.DuckDBPyConnection, where: Where, rn: int, forward: bool) -> int | None:
    """The place in the Events pane (under the filter) of the next (`forward`) or previous flagged
    event — severity medium or worse, as the timeline marks them — from the event numbered `rn`;
    None when there is none that way. `n` / `N` on the Events pane, as lnav's `e` / `E` jump
    between errors: the rows around a forged token's use stay in view, which a severity filter hides."""
    query = "events_flagged_after" if forward else "events_flagged_before"
    found = analyses.run(con, query, [rn, FLAGGED_RANK], where).column("rn")[0].as_py()
    if found is None:
        return None
    return int(analyses.run(con, "events_place", [found], where).column("n")[0].as_py())


def build_table(con: duckdb.DuckDBPyConnection, pane: str, split: object) -> None:
    """Create one pane's table (as `analyses.build` does, one at a time so the first pane shows first)."""
    if pane == "drift":
        analyses.build_drift(con, split)
    elif pane == "sessions":
        build_sessions(con)
    elif pane in ("tokens", "mailboxes"):
        if pane == "tokens":  # the first pane built: the identity tables its MFA column (and drift) read
            build_identity_tables(con)
        con.execute(f"CREATE OR REPLACE TABLE {pane} AS {named_query(pane).sql}")
        if pane == "mailboxes":  # with the changes made to each mailbox (analyses.actions)
            build_actions(con)
            add_mailbox_actions(con)
    ensure_marks(con)


def count_rows(con: duckdb.DuckDBPyConnection, spec: PaneSpec, where: Where | None = None) -> int:
    """How many rows of the pane match the filter."""
    table = analyses.run(con, spec.count_query, [], where)
    return int(table.column("n")[0].as_py()) if table.num_rows else 0


def flagged_count(con: duckdb.DuckDBPyConnection, spec: PaneSpec) -> int | None:
    """Rows at severity medium or worse (the ⚑ on the pane's tab); None for panes without severity."""
    if spec.name not in ("tokens", "mailboxes", "sessions"):
        return None
    row = con.execute(f"SELECT count(*) FROM {spec.name} WHERE sev_rank >= ?", [FLAGGED_RANK]).fetchone()
    return int(row[0]) if row else 0


def widths(spec: PaneSpec, page: Page) -> tuple[int, ...]:
    """Column widths: the pane's fixed ones, else from the first page, capped at MAX_WIDTH."""
    fixed = dict(spec.widths)
    out = []
    for i, column in enumerate(page.columns):
        longest = max((len(str(row[i])) for row in page.cells), default=0)
        out.append(fixed.get(column) or min(max(longest, len(column)), MAX_WIDTH))
    return tuple(out)


def cell_term(column: str, value: object) -> tuple[str, object] | str:
    """The filter value for `f`/`x` on a cell, or why that cell cannot be one."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            return f"{column} holds {len(value)} values; filter it with {column}:text"
        value = value[0]
    if value is None:
        return column, ""
    if isinstance(value, str) and inert_cell(value) != value:
        return f"{column} holds control characters; filter it with {column}:text"
    if isinstance(value, str) and holds_token(value):  # the filter bar would show it
        return f"{column} holds a raw token; filter it with {column}:text"
    return column, value


# ---- the header line and loading progress --------------------------------------------------


def header_summary(report: Any, annotation: Any = None) -> str:
    """`triage · 3 inputs · 61,010 events · 2023-05-01 → 2023-06-12 UTC · tenant 43bf…df9`."""
    folder = getattr(report, "folder", None)  # a findings folder's (`case.folder.CaseReport`)
    inputs = [f for f in report.files if f.view is not None or (folder is not None and f.error is None)]
    parts = ["triage", f"{len(inputs)} input{'s' if len(inputs) != 1 else ''}", f"{report.rows:,} events"]
    if folder is not None:  # what the Events pane holds of them
        parts = [
            "triage",
            f"findings {folder.name}/",
            *parts[1:-1],
            f"{report.exported:,} of {report.rows:,} events",
        ]
    if report.ts_min is not None and report.ts_max is not None:
        first, last = timefmt.local(report.ts_min), timefmt.local(report.ts_max)
        span = f"{timefmt.stamp(first, '%Y-%m-%d')} → {timefmt.stamp(last, '%Y-%m-%d')}"
        parts.append(f"{span} {timefmt.zone_label(report.ts_max)}")
    org = getattr(annotation, "org", None)
    if org is not None and org.tenants:
        tenant = org.tenants[0]
        short = f"{tenant[:4]}…{tenant[-3:]}" if len(tenant) > 10 else tenant
        more = f" +{len(org.tenants) - 1}" if len(org.tenants) > 1 else ""
        parts.append(f"tenant {short}{more}{' (inferred)' if org.inferred else ''}")
    if report.errors:
        parts.append(f"{len(report.errors)} unreadable")
    return inert_cell(" · ".join(parts))


def progress_adapter(say: Any) -> Any:
    """`Session.open`'s progress (stage, fraction of the open) for the header: the open fills the
    bar to 95%; hashing the inputs and building the pane tables, which follow, the rest.

    (The loader's file-by-file progress reaches here through `Session.open`, already a fraction of
    the open; it was scaled a second time, so the bar started at 60%.)"""

    def progress(stage: str, fraction: float) -> None:
        say(str(stage), 0.95 * float(fraction))

    return progress
