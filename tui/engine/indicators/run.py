"""The indicator catalogue run over the stored events: its helper tables, then each indicator's SQL.

`prepare` builds the temporary tables the catalogue's SQL reads (the organisation's tenants and
domains, the intel, the split, each subject's usage); `run_catalogue` fires every indicator into
`token_indicators` / `row_indicators`; `resplit` re-runs only the split-dependent ones when the
analyst moves the baseline/window split. The intel comes in from the case (loaded once per open).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import duckdb

from tui.engine.core.options import Options
from tui.engine.core.schema import Kind
from tui.engine.indicators.action_facts import prepare_actions
from tui.engine.indicators.catalogue import CATALOGUE, MACROS
from tui.engine.indicators.events_view import events_materialised, register_events
from tui.engine.indicators.identity import prepare_identity
from tui.engine.indicators.indicator import NEEDS, SEVERITIES
from tui.engine.indicators.org import Org
from tui.engine.indicators.split import Split
from tui.engine.ingest.work import WORK_DB, exists, hit_rn_sql
from tui.engine.tokens.intel import Intel
from tui.engine.tokens.intel_tables import intel_tables
from tui.engine.tokens.subjects import build_subject, build_token_use

_NAMES = "[" + ", ".join(f"'{s}'" for s in SEVERITIES) + "]"  # a DuckDB list, 1-based ranks


def prepare(
    con: duckdb.DuckDBPyConnection,
    intel: Intel,
    org: Org,
    split: Split,
    options: Options,
    *,
    subjects: bool = True,
    previewed: bool = False,
) -> None:
    """The helper tables the catalogue reads; `token_use` too unless `subjects` is False (a resplit:
    it does not depend on the split). `previewed`: this connection's `_tok` is the preview's."""
    con.execute(MACROS)
    # These read `events_t`, not `events_base`: once annotate has finished, `events_base` joins every
    # row's token text, and a resplit (the TUI's `[`/`]`) would build that hash table per statement.
    con.execute("CREATE OR REPLACE TEMP TABLE _tok_keys AS SELECT tok_key, tok_sha256 FROM token_claims")
    con.execute(
        """CREATE OR REPLACE TEMP VIEW _ev AS
        SELECT b.*,
               CASE WHEN b.tok_key IS NOT NULL THEN 'sha256:' || k.tok_sha256
                    WHEN b.token_id IS NOT NULL THEN 'uti:' || b.token_id END AS tkey
        FROM events_t b LEFT JOIN _tok_keys k ON k.tok_key = b.tok_key"""
    )
    # A table, not a view: every indicator re-ran the three-way join over token_claims, which at 2M
    # all-distinct tokens ran out of memory under the 1.2 GB cap. No token text: the indicators ask
    # for its length and whether its header and claims were readable, both in token_claims.
    if not previewed:
        tok_table(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _org_tenant AS SELECT unnest(?::VARCHAR[]) AS tid", [list(org.tenants)]
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _org_domain AS SELECT unnest(?::VARCHAR[]) AS domain",
        [list(org.domains)],
    )
    intel_tables(con, intel)
    issuance = list(Kind.ISSUANCE)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _signin_uti AS
        SELECT DISTINCT token_id AS uti FROM events_t WHERE kind IN (SELECT unnest(?::VARCHAR[]))
          AND token_id IS NOT NULL""",
        [issuance],
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _params AS
        SELECT ?::VARCHAR AS consumer, ?::TIMESTAMP AS baseline_start, ?::TIMESTAMP AS baseline_end,
               ?::TIMESTAMP AS window_start, ?::TIMESTAMP AS window_end, ?::INTEGER AS replay_bound,
               (SELECT min(ts) FROM events_t
                WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND token_id IS NOT NULL) AS signin_start,
               (SELECT max(ts) FROM events_t
                WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND token_id IS NOT NULL) AS signin_end""",
        [
            intel.consumer_tenant.lower(),
            split.baseline_start,
            split.baseline_end,
            split.window_start,
            split.window_end,
            options.replay_ip_bound,
            issuance,
            issuance,
        ],
    )
    if subjects:
        build_token_use(con, issuance)
    build_subject(con)
    prepare_identity(con, options)
    prepare_actions(con)


def tok_table(con: duckdb.DuckDBPyConnection) -> None:
    """`_tok` (TEMP): each decoded token with its tkey and its key's issuer and source.

    Nothing in it depends on the rows (no indicator reads a token's uses or times from it: those
    come per subject from `_subject`), so the preview's `_tok` is annotate's (2M tokens: ~2 s)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _tok AS
        SELECT c.*, 'sha256:' || c.tok_sha256 AS tkey, k.jwk_issuer, k.jwk_source
        FROM token_claims c LEFT JOIN token_keys k USING (tok_key)"""
    )


def run_catalogue(
    con: duckdb.DuckDBPyConnection, codes: Collection[str] | None = None, *, kept: Collection[str] = ()
) -> None:
    """`token_indicators` and `row_indicators` from every indicator of the catalogue (or those `codes`).

    `kept`: codes whose hits the tables already hold (the preview's `CLAIM_CODES`, which the stored
    rows cannot change): those rows stay and are not fired again. In one transaction: the TUI's
    detail panel reads `token_indicators` on other cursors and must not see it half filled."""
    hit_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        if kept:
            con.execute(f"DELETE FROM {_TOKEN_HITS} WHERE NOT list_contains(?, code)", [list(kept)])
            con.execute(f"DELETE FROM {_ROW_HITS} WHERE NOT list_contains(?, code)", [list(kept)])
        else:
            con.execute(f"DELETE FROM {_TOKEN_HITS}")
            con.execute(f"DELETE FROM {_ROW_HITS}")
        loaded = Loaded(con)
        for ind in CATALOGUE:
            if (codes is None or ind.code in codes) and ind.code not in kept and loaded.has(ind.needs):
                run_indicator(con, ind)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


# The hits are stored in the work database (compressed on disk) and read through views of the same
# name: at 10M hits `row_indicators` (a file path, a 71-character tkey and a sentence a row) held
# ~3 GB in memory, past the cap, written to the spill uncompressed and read back by every reader
# (bench/RESULTS.md, session 16). Both live there: a transaction writes to one database only.
_TOKEN_HITS = f"{WORK_DB}.token_indicators"
_ROW_HITS = f"{WORK_DB}.row_indicators"


def hit_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The hit tables (empty when new) in the work database and `token_indicators`/`row_indicators`
    views over them; outside the catalogue's transaction, which may write to the work database only."""
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {_TOKEN_HITS}
        (tkey VARCHAR, code VARCHAR, severity VARCHAR, sev_rank INTEGER, evidence VARCHAR)"""
    )
    # `rn`: the row's place in the Events pane's order (`work.hit_rn_sql`), the integer
    # key every per-row join uses (row_severity, the sessions' hits): joining 10M hits on
    # (source VARCHAR, source_row) cost ~4× as much (bench/RESULTS.md, session 15)
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {_ROW_HITS} (source VARCHAR, source_row BIGINT, tkey VARCHAR,
        code VARCHAR, severity VARCHAR, sev_rank INTEGER, evidence VARCHAR, rn BIGINT)"""
    )
    for name, table in (("token_indicators", _TOKEN_HITS), ("row_indicators", _ROW_HITS)):
        if not exists(con, name, "view"):
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM {table}")


class Loaded:
    """Whether what indicators need (`indicator.NEEDS`) is loaded, each asked once: an indicator
    one of whose needs is not is not run (it could return no row)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.known: dict[str, bool] = {}

    def has(self, needs: Collection[str]) -> bool:
        for need in needs:
            if need not in self.known:
                self.known[need] = bool(self.con.execute(NEEDS[need]).fetchall())
            if not self.known[need]:
                return False
        return True


def run_indicator(con: duckdb.DuckDBPyConnection, ind: Any) -> None:
    """Fire one indicator of the catalogue into token_indicators / row_indicators.

    A graded indicator's SQL returns a last column `severity` (a name, or NULL for its default): the
    worst of a row's or subject's hits is kept (RISK_DETECTION is its detection's risk level)."""
    union = " UNION ALL ".join(f"({sql})" for sql in ind.sql)
    rank = f"coalesce(list_position({_NAMES}, lower(h.sev)), ?)" if ind.graded else "?"
    columns = "evidence, sev" if ind.graded else "evidence"
    if ind.scope == "token":
        con.execute(
            f"""INSERT INTO {_TOKEN_HITS}
            SELECT tkey, ?, ({_NAMES})[max(r)], max(r), min(evidence)
            FROM (SELECT *, {rank} AS r FROM ({union}) AS h(tkey, {columns}))
            WHERE tkey IS NOT NULL GROUP BY tkey""",
            [ind.code, ind.rank],
        )
    else:
        # One hit per row and code. The hits are written as they come (no copy of them held: at 10M
        # hits with their evidence one spilled under the memory cap); only when a row was hit several
        # times (a join fanning out, several SQLs), which a grouping of the code's `rn`s finds, are
        # its hits replaced by one, the worst with the least evidence (bench/RESULTS.md, session 15).
        rn, rn_join = hit_rn_sql(con, "h")
        con.execute(
            f"""INSERT INTO {_ROW_HITS}
            SELECT x.source, x.source_row, x.tkey, ?, ({_NAMES})[x.r], x.r, x.evidence, x.rn
            FROM (SELECT h.*, {rank} AS r, {rn} AS rn
                  FROM ({union}) AS h(source, source_row, tkey, {columns}) {rn_join}) AS x""",
            [ind.code, ind.rank],
        )
        several = "SELECT rn FROM row_indicators WHERE code = ? GROUP BY rn HAVING count(*) > 1"
        if con.execute(f"SELECT count(*) FROM ({several})", [ind.code]).fetchone()[0]:  # type: ignore[index]
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE _several AS
                SELECT any_value(source) AS source, any_value(source_row) AS source_row,
                       any_value(tkey) AS tkey, code, ({_NAMES})[max(sev_rank)] AS severity,
                       max(sev_rank) AS sev_rank, min(evidence) AS evidence, rn
                FROM row_indicators WHERE code = ? AND rn IN ({several}) GROUP BY rn, code""",
                [ind.code, ind.code],
            )
            con.execute(
                f"DELETE FROM {_ROW_HITS} WHERE code = ? AND rn IN (SELECT rn FROM _several)", [ind.code]
            )
            con.execute(f"INSERT INTO {_ROW_HITS} SELECT * FROM _several")
            con.execute("DROP TABLE _several")
    if ind.scope == "row":
        con.execute(
            f"""INSERT INTO {_TOKEN_HITS}
            SELECT tkey, code, arg_max(severity, sev_rank), max(sev_rank),
                   CASE WHEN count(*) = 1 THEN min(evidence)
                        ELSE format('{{}} rows, e.g. {{}}', count(*), min(evidence)) END
            FROM row_indicators WHERE code = ? AND tkey IS NOT NULL GROUP BY tkey, code""",
            [ind.code],
        )


# the indicators whose answer depends on the drift split (the baseline IMPOSSIBLE_TRAVEL reads)
SPLIT_CODES = ("NEW_APP_FOR_MAILBOX", "IMPOSSIBLE_TRAVEL")


def resplit(con: duckdb.DuckDBPyConnection, options: Options, intel: Intel, org: Org, split: Split) -> None:
    """Re-run the split-dependent indicators for a moved baseline/window split (the TUI's `[`/`]`).

    Works on any cursor: the temp helpers are rebuilt on it. Callers query the panes again after.
    """
    prepare(con, intel, org, split, options, subjects=False)
    codes = list(SPLIT_CODES)
    con.execute(f"DELETE FROM {_TOKEN_HITS} WHERE list_contains(?, code)", [codes])
    con.execute(f"DELETE FROM {_ROW_HITS} WHERE list_contains(?, code)", [codes])
    loaded = Loaded(con)
    for ind in CATALOGUE:
        if ind.code in SPLIT_CODES and loaded.has(ind.needs):
            run_indicator(con, ind)
    register_events(con, materialise=events_materialised(con))
