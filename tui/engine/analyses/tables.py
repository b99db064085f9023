"""The three answers — tokens, mailboxes, drifted users — as tables built from named queries.

`build` materialises `tokens`, `mailboxes` and `drift` once per session (they are small: one row
per token, mailbox or user), so every pane page and every filter afterwards is a cheap query on
them. `run` executes a named query with the analyst's filter spliced in at the query's
`/*FILTER*/ TRUE` marker: the compiled filter is allow-listed identifiers and `?` placeholders
only, and its values travel as parameters in the right position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from tui.engine.analyses.actions import add_mailbox_actions, build_actions
from tui.engine.analyses.filter import Compiled
from tui.engine.analyses.marks import MARK_COLUMNS, ensure_marks
from tui.engine.analyses.model import learn, score_events
from tui.engine.analyses.sessions import build_identity_tables, build_sessions
from tui.engine.core.queries import named_query

FILTER_MARKER = "/*FILTER*/ TRUE"
# Where a pane's page query takes the analyst's sort (`panes.order_sql`: an allow-listed, quoted
# column and a direction from code), ahead of its own ORDER BY.
ORDER_MARKER = "/*ORDER*/"

# The Tokens pane's order and tokens.csv's: worst first, then by `tkey` ('sha256:<hex>' before
# 'uti:<uti>'), written as the two columns it is made of: the same order without sorting on the
# prefixed text (tokens.csv at 2M rows 4.1 → 3.25 s).
TOKENS_ORDER = "sev_rank DESC, uses DESC, first_seen, tok_sha256 NULLS LAST, uti"
# Drift pane and drift.csv order (SPEC §11): hard evidence (the worst identity or action indicator)
# outranks behaviour; the model's score ranks within and below it; the fixed drift score breaks ties
DRIFT_ORDER = 'sev_rank DESC, anomaly_score DESC, drift_score DESC, window_events DESC, "user"'

# What each pane's filter may name: the columns of the table (or view) it reads.
PANE_TABLES = ("tokens", "mailboxes", "drift", "events", "sessions")


@dataclass(frozen=True)
class Where:
    """A filter ready to splice: SQL over allow-listed columns with `?` placeholders, and their values."""

    sql: str = "TRUE"
    params: tuple[object, ...] = ()

    @classmethod
    def of(cls, compiled: Compiled) -> Where:
        """From the filter language's compiled form."""
        return cls(compiled.where, compiled.params)


def splice(sql: str, where: Where | Compiled | None, params: Sequence[object]) -> tuple[str, list[object]]:
    """Put the filter at the marker and its values among the query's own positional parameters."""
    if isinstance(where, Compiled):
        where = Where.of(where)
    if FILTER_MARKER not in sql:
        if where is not None and where.sql != "TRUE":
            raise ValueError("this query takes no filter")
        return sql, list(params)
    before, after = sql.split(FILTER_MARKER, 1)
    # the placeholders before the marker, not a `?` in a comment (a query's header says what it does)
    n_before = re.sub(r"--[^\n]*", "", before).count("?")
    own = list(params)
    if where is None:
        return before + "TRUE" + after, own
    return (
        before + f"({where.sql})" + after,
        own[:n_before] + list(where.params) + own[n_before:],
    )


def ordered(sql: str, order: str) -> str:
    """`sql` with `order` (`panes.order_sql`, or "" for the query's own order) at its order marker."""
    if not order:
        return sql
    if ORDER_MARKER not in sql:
        raise ValueError("this query takes no sort")
    return sql.replace(ORDER_MARKER, order, 1)


def run(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: Sequence[object] = (),
    where: Where | Compiled | None = None,
    order: str = "",
) -> pa.Table:
    """Execute `queries/<name>.sql` (with an optional filter and sort) and return Arrow."""
    sql, values = splice(ordered(named_query(name).sql, order), where, params)
    # A cursor of its own: DuckDB refuses a new query on a connection with an unfinished result.
    cur = con.cursor()
    try:
        return cur.sql(sql, params=values).to_arrow_table()
    finally:
        cur.close()


def split_params(split: object) -> list[datetime]:
    """The four drift-split bounds in the order drift.sql takes them."""
    return [
        split.baseline_start,  # type: ignore[attr-defined]
        split.baseline_end,  # type: ignore[attr-defined]
        split.window_start,  # type: ignore[attr-defined]
        split.window_end,  # type: ignore[attr-defined]
    ]


Progress = Callable[[str, float], None]  # (stage, fraction done 0..1): `case.session.Progress`

# The analyses in the order `build` runs them, with the share of its time each took on 1M gateway
# rows (the behaviour model's learning and scoring are most of it): the fractions a progress bar shows.
BUILD_STAGES = (
    ("identities", 0.05),
    ("actions", 0.05),
    ("tokens", 0.15),
    ("mailboxes", 0.05),
    ("the behaviour model", 0.4),
    ("drift", 0.05),
    ("scoring events", 0.15),
    ("sessions", 0.1),
)


def _stages(progress: Progress | None) -> Callable[[str], None]:
    """Say `analysing <stage>` at the fraction of `build` done before it (nothing without `progress`)."""
    before = {}
    done = 0.0
    for name, share in BUILD_STAGES:
        before[name] = done
        done += share

    def at(name: str) -> None:
        if progress is not None:
            progress(f"analysing: {name}", before[name])

    return at


def build(con: duckdb.DuckDBPyConnection, split: object, progress: Progress | None = None) -> None:
    """(Re)build the `tokens`, `mailboxes`, `drift`, `sessions` and `actions` tables from their named
    queries (the mailboxes with the actions on them: `analyses.actions`); `progress` hears each
    analysis as it starts (`BUILD_STAGES`) and 1.0 at the end."""
    at = _stages(progress)
    at("identities")
    build_identity_tables(con)
    at("actions")
    build_actions(con)
    at("tokens")
    con.execute(f"CREATE OR REPLACE TABLE tokens AS {named_query('tokens').sql}")
    at("mailboxes")
    con.execute(f"CREATE OR REPLACE TABLE mailboxes AS {named_query('mailboxes').sql}")
    add_mailbox_actions(con)
    build_drift(con, split, at)
    at("sessions")
    build_sessions(con)
    ensure_marks(con)  # the page queries read `<pane>_marked`
    if progress is not None:
        progress("analysed", 1.0)


def build_drift(
    con: duckdb.DuckDBPyConnection, split: object, at: Callable[[str], None] | None = None
) -> None:
    """Re-learn the behaviour model and recompute the drift table, e.g. after the analyst moves the
    baseline/window split (the Events pane's scores follow with `model.score_events`); `at` hears
    each of the three steps (`build`'s progress)."""
    say = at or (lambda name: None)
    say("the behaviour model")
    learn(con, split.baseline_end)  # type: ignore[attr-defined]
    say("drift")
    con.execute(f"CREATE OR REPLACE TABLE drift AS {named_query('drift').sql}", split_params(split))
    say("scoring events")
    score_events(con)


def columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column name → DuckDB type of a pane's table; the allow-list a filter is compiled against."""
    if table not in PANE_TABLES:
        raise ValueError(f"not a pane table: {table}")
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {name: dtype for name, dtype in rows if name != "token"}


def pane_columns(con: duckdb.DuckDBPyConnection, pane: str) -> dict[str, str]:
    """What a pane's filter may name: its table's columns plus verdict, note and mark."""
    return {**columns(con, pane), **MARK_COLUMNS}
