"""The `events` and `events_rows` views: every row of `events_t` with its token's claims filled in,
its severity, indicators and its place `rn` in the Events pane's order (annotate, stage 2's end).

The annotations are joined as rows are read (`events_lazy`, what `triage scan` uses: it reads them
in three grouped passes and pages nothing) or stored once in `events_a` in the work database (the
TUI, once its panes are up: `materialise_events`), which makes Events filters and pages fast.
"""

from __future__ import annotations

import duckdb

from tui.engine.core.schema import EVENT_COLUMNS
from tui.engine.core.sql import ident as quote_ident
from tui.engine.indicators.indicator import SEVERITIES
from tui.engine.ingest.work import WORK_DB, rn_sql


def severity_name_macro(con: duckdb.DuckDBPyConnection) -> None:
    """`_severity_name(rank)`: a rank's name (NULL for 0 or NULL). Not TEMP: tokens.sql, mailboxes.sql
    and the `events` views name their severities with it, on the pane builders' cursors."""
    names = ", ".join(f"'{s}'" for s in SEVERITIES)
    con.execute(f"CREATE OR REPLACE MACRO _severity_name(r) AS CASE WHEN r > 0 THEN [{names}][r] END")


def register_events(con: duckdb.DuckDBPyConnection, *, materialise: bool = True) -> None:
    """Per-token/uti/row severities, then `events`/`events_rows` over every row's annotations:
    stored in `events_a` (`materialise`) or joined as the rows are read (`events_lazy`)."""
    severity_name_macro(con)
    con.execute(
        # not TEMP: the lazy `events_lazy` view calls it from every cursor (TEMP is per connection)
        "CREATE OR REPLACE MACRO _codes_text(codes) AS CASE WHEN array_length(codes) > 0 THEN "
        "array_to_string(list_transform(list_sort(list_distinct(codes)), lambda c: c[2:]), ';') END"
    )
    # A row's severity and codes from its token's (t), its uti's (u) and its own (r) hits; the list
    # merge runs only for rows that have a uti or row-level hit. Not TEMP either: mailboxes.sql
    # annotates its groups with them, on the pane builders' cursors.
    con.execute(
        """CREATE OR REPLACE MACRO _event_rank(t_rank, u_rank, r_rank) AS
        CASE WHEN u_rank IS NULL AND r_rank IS NULL THEN coalesce(t_rank, 0)
             ELSE greatest(coalesce(t_rank, 0), coalesce(u_rank, 0), coalesce(r_rank, 0)) END"""
    )
    con.execute(
        """CREATE OR REPLACE MACRO _event_indicators(t_text, t_codes, u_rank, u_codes, r_rank, r_codes) AS
        CASE WHEN u_rank IS NULL AND r_rank IS NULL THEN t_text
             ELSE _codes_text(flatten([coalesce(t_codes, []), coalesce(u_codes, []), coalesce(r_codes, [])]))
        END"""
    )
    coded_all = "list(CAST(5 - sev_rank AS VARCHAR) || code) FILTER (WHERE code IS NOT NULL)"
    coded = "list(DISTINCT CAST(5 - sev_rank AS VARCHAR) || code) FILTER (WHERE code IS NOT NULL)"
    # token_claims holds one row per tok_key (work.keep_token_text), so each token's
    # indicators are grouped first and joined 1:1: grouping token_claims with any_value() of nine
    # claims took 6.1 s at 2M all-distinct tokens (this 1.3 s; 10M/300k 0.55 s -> ~0.15 s).
    con.execute(
        f"""CREATE OR REPLACE TABLE tok_severity AS
        SELECT *, _severity_name(sev_rank) AS severity, _codes_text(codes) AS indicators
        FROM (SELECT c.tok_key, c.tok_sha256, i.sev_rank, i.codes, c.upn, c.appid, c.uti, c.tid, c.oid,
                     c.iat, c.sid
              FROM token_claims c
              LEFT JOIN (SELECT tkey, max(sev_rank) AS sev_rank, list_sort({coded}) AS codes
                         FROM token_indicators WHERE tkey LIKE 'sha256:%' GROUP BY tkey) i
                ON i.tkey = 'sha256:' || c.tok_sha256)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE uti_severity AS
        SELECT substr(tkey, 5) AS uti, max(sev_rank) AS sev_rank, list_sort({coded}) AS codes
        FROM token_indicators WHERE tkey LIKE 'uti:%' GROUP BY tkey"""
    )
    # Cost follows the rows, not the hits: a row with one hit (most, when an indicator fires on
    # every row: an --ioc naming every client IP) takes its rank and its one code as they are; only
    # the rows with several are grouped. `row_indicators` holds one hit per row and code (each code
    # is fired once, grouped per row: `run.run_indicator`), so no DISTINCT is needed. 1M hits: 1.18
    # -> 0.28 s CPU (bench/RESULTS.md, session 13).
    # Keyed by the row's `rn` (an integer: `run.run_indicator` stores it with each hit), which every
    # reader joins on: `events_lazy` and, through `events_rn`, mailboxes.sql and sessions.sql.
    # A row's codes are a number `cs` naming one of the few distinct code lists (`row_codesets`),
    # not a list per row: 10M hits made 10M one-element lists, joined and grouped on by every
    # reader (bench/RESULTS.md, session 16). In the work database (compressed on disk), read
    # through a view.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _row_several AS
        SELECT rn, max(sev_rank) AS sev_rank, list_sort({coded_all}) AS codes
        FROM row_indicators
        WHERE rn IN (SELECT rn FROM row_indicators GROUP BY rn HAVING count(*) > 1)
        GROUP BY rn"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _row_single AS
        SELECT DISTINCT sev_rank, code, [CAST(5 - sev_rank AS VARCHAR) || code] AS codes
        FROM row_indicators WHERE code IS NOT NULL"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE row_codesets AS
        SELECT row_number() OVER (ORDER BY array_to_string(codes, ';')) AS cs, codes
        FROM (SELECT codes FROM _row_single UNION SELECT codes FROM _row_several)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {WORK_DB}.row_severity AS
        SELECT i.rn, i.sev_rank, c.cs
        FROM (SELECT * FROM row_indicators ANTI JOIN _row_several USING (rn)) i
        JOIN _row_single s ON s.sev_rank = i.sev_rank AND s.code = i.code
        JOIN row_codesets c ON c.codes = s.codes
        UNION ALL
        SELECT m.rn, m.sev_rank, c.cs FROM _row_several m JOIN row_codesets c ON c.codes = m.codes"""
    )
    con.execute("DROP TABLE _row_several")
    con.execute("DROP TABLE _row_single")
    con.execute(f"CREATE OR REPLACE VIEW row_severity AS SELECT * FROM {WORK_DB}.row_severity")
    # Every row's annotations are computed once (`events_lazy`) and stored with the row's place in the Events
    # pane's order (`rn`: the stored `_rowid`, or the file position: `work.rn_sql`), so a page is an `rn`
    # range (zone maps: the joins keep each thread's rows in order) and a filter reads stored
    # columns; nothing re-sorts the joined, wider rows. Most rows carry only their token's codes,
    # precomputed per token in tok_severity.
    rn, rn_join = rn_sql(con, "e")
    # `events_t` with each row's `rn`: what the grouped passes over the stored rows (mailboxes.sql,
    # sessions.sql) join `row_severity` and `row_indicators` on
    con.execute(f"CREATE OR REPLACE VIEW events_rn AS SELECT e.*, {rn} AS rn FROM events_t e {rn_join}")
    annotated = f"""
        SELECT e.* EXCLUDE (_rowid) REPLACE (
                   coalesce(e."user", lower(t.upn)) AS "user",
                   coalesce(e.app_id, t.appid) AS app_id,
                   coalesce(e.session_id, t.sid) AS session_id,
                   coalesce(e.token_id, t.uti) AS token_id,
                   coalesce(e.token_tenant_id, t.tid) AS token_tenant_id,
                   coalesce(e.token_object_id, t.oid) AS token_object_id,
                   coalesce(e.token_iat, t.iat) AS token_iat),
               {rn} AS rn, t.tok_sha256,
               NULL::DOUBLE AS anomaly,  -- the behaviour model's bits, once scored (analyses/model.py)
               _event_rank(t.sev_rank, u.sev_rank, rs.sev_rank) AS sev_rank,
               _event_indicators(t.indicators, t.codes, u.sev_rank, u.codes, rs.sev_rank, r.codes)
                   AS indicators
        FROM events_t e {rn_join}
        LEFT JOIN tok_severity t ON t.tok_key = e.tok_key
        LEFT JOIN uti_severity u ON u.uti = CASE WHEN e.tok_key IS NULL THEN e.token_id END
        LEFT JOIN row_severity rs ON rs.rn = {rn}
        LEFT JOIN row_codesets r ON r.cs = rs.cs"""
    con.execute(f"CREATE OR REPLACE VIEW events_lazy AS {annotated}")
    if materialise:
        con.execute(f"CREATE OR REPLACE TABLE {WORK_DB}.events_a AS SELECT * FROM events_lazy")
    else:
        con.execute(f"DROP TABLE IF EXISTS {WORK_DB}.events_a")
    _events_views(con, f"{WORK_DB}.events_a" if materialise else "events_lazy")


def events_materialised(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether every row's annotations are stored (`events_a`) rather than joined as rows are read."""
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = 'events_a'",
            [WORK_DB],
        ).fetchone()[0]  # type: ignore[index]
    )


def materialise_events(con: duckdb.DuckDBPyConnection) -> None:
    """Store every row's annotations (`events_a`) and point `events`/`events_rows` at them, for fast
    Events-pane filters and pages; the rows and their order are unchanged."""
    if events_materialised(con):
        return
    con.execute(f"CREATE OR REPLACE TABLE {WORK_DB}.events_a AS SELECT * FROM events_lazy")
    _events_views(con, f"{WORK_DB}.events_a")


def _events_views(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """`events_rows` and `events` over the annotated rows, stored or lazy."""
    before = ", ".join(f"a.{quote_ident(n)}" for n, _ in EVENT_COLUMNS if n != "token")
    # tkey and severity follow from stored columns: computing them per query is cheaper than storing
    # ~80 bytes more a row in events_a.
    after = (
        "a.tok_key, a.tok_sha256, CASE WHEN a.tok_key IS NOT NULL THEN 'sha256:' || a.tok_sha256 "
        "WHEN a.token_id IS NOT NULL THEN 'uti:' || a.token_id END AS tkey, "
        "_severity_name(a.sev_rank) AS severity, "
        "a.sev_rank, a.indicators, a.anomaly, a.rn"
    )
    # `events_rows`: the same without the token text, for the analyses (a join they never need).
    con.execute(f"CREATE OR REPLACE VIEW events_rows AS SELECT {before}, {after} FROM {source} a")
    con.execute(
        f"""CREATE OR REPLACE VIEW events AS
        SELECT {before}, c.token, {after}
        FROM {source} a
        LEFT JOIN token_text c ON c.tok_key = a.tok_key"""
    )
