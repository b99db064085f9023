"""The detail panel's reads over every event, and the same reads from a findings folder's `case/`.

Three parts of the panel look at events beyond the selected row: a mailbox's "tokens that read it"
and "sessions that read it", and a drifted user's baseline values. A findings folder (SPEC §9:
`scan --out DIR` writes `DIR/case/`) holds only the flagged events, so `scan` stores these three
for every mailbox and drift user (`EXPORTS`, built from the same SQL as the live reads) and a
session opened on the folder reads them from the tables `case_mailbox_tokens`,
`case_mailbox_sessions` and `case_drift_baseline` (`in_case`: the `case_info` table exists). A
token's decoded header and claims come from its raw token's text in a live session, and from the
`header_json` / `claims_json` columns of the folder's `token_claims` (the folder holds no token).
"""

from __future__ import annotations

from typing import Any

import duckdb

from tui.engine.tokens.jwt_decode import JSON_FROM, json_text_sql

BASELINE_VALUES = 8  # per dimension; the panel is for reading, the Events pane for everything
CASE_INFO = "case_info"  # the table a session opened on a findings folder has (`case.folder`)

# The tokens that read a mailbox: per (mailbox, token subject) the worst rank, the reads, the first
# and last, and the folders read. `{where}` selects the rows.
_MAILBOX_TOKENS = """SELECT mailbox, tkey, max(sev_rank) AS rank, count(*) AS n, min(ts) AS first_ts,
    max(ts) AS last_ts,
    list_sort(list_distinct(flatten(list(string_split(folders, '; ')) FILTER (folders IS NOT NULL))))
        AS folders
    FROM events_rows WHERE ({where}) AND tkey IS NOT NULL GROUP BY mailbox, tkey"""
_TOKENS_ORDER = "rank DESC NULLS LAST, n DESC, tkey LIMIT 10"

# The sessions that read a mailbox: per (mailbox, session) its reads.
_MAILBOX_SESSIONS = """SELECT mailbox, session_id, count(*) AS n FROM events_rows
    WHERE ({where}) AND session_id IS NOT NULL GROUP BY mailbox, session_id"""

# A user's baseline values per dimension: how many distinct, the most used (with counts) and, for the
# hours, all of them. Parameters: the baseline's start and end, then BASELINE_VALUES.
_BASELINE = """
WITH ev AS (
    SELECT "user", client_ip, country, app_id, client_app_id, user_agent, CAST(hour(ts) AS VARCHAR) AS h
    FROM events_rows WHERE ({where}) AND ts >= ? AND ts < ?
), vals AS (
    SELECT "user", 'ips' AS dim, client_ip AS v FROM ev WHERE client_ip IS NOT NULL
    UNION ALL SELECT "user", 'countries', country FROM ev WHERE country IS NOT NULL
    UNION ALL SELECT "user", 'app ids', app_id FROM ev WHERE app_id IS NOT NULL
    UNION ALL SELECT "user", 'client app ids', client_app_id FROM ev WHERE client_app_id IS NOT NULL
    UNION ALL SELECT "user", 'user agents', user_agent FROM ev WHERE user_agent IS NOT NULL
    UNION ALL SELECT "user", 'hours (UTC)', lpad(h, 2, '0') FROM ev
), counted AS (
    SELECT "user", dim, v, count(*) AS n FROM vals GROUP BY ALL
)
SELECT "user", dim, count(*) AS distinct_values,
       list(v || ' ×' || n ORDER BY n DESC, v)[1:?] AS top,
       CASE WHEN dim = 'hours (UTC)' THEN list(v ORDER BY v) END AS all_values
FROM counted GROUP BY "user", dim"""

# What `scan` stores in case/ for these reads: table → (SELECT, which parameters it takes:
# "baseline" = the drift split's baseline start and end, then BASELINE_VALUES).
EXPORTS: dict[str, tuple[str, str]] = {
    "case_mailbox_tokens": (_MAILBOX_TOKENS.format(where="mailbox IS NOT NULL"), ""),
    "case_mailbox_sessions": (_MAILBOX_SESSIONS.format(where="mailbox IS NOT NULL"), ""),
    "case_drift_baseline": (
        _BASELINE.format(where='"user" IN (SELECT "user" FROM drift)'),
        "baseline",
    ),
}


def in_case(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this connection holds a findings folder's tables (not the evidence's events)."""
    row = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [CASE_INFO]).fetchone()
    return bool(row and row[0])


def mailbox_tokens(con: duckdb.DuckDBPyConnection, mailbox: str) -> list[tuple[Any, ...]]:
    """(tkey, rank, reads, first, last, folders) of the tokens that read `mailbox`, worst first, ≤ 10."""
    if in_case(con):
        sql = "SELECT * EXCLUDE (mailbox) FROM case_mailbox_tokens WHERE lower(mailbox) = lower(?)"
    else:
        sql = (
            "SELECT * EXCLUDE (mailbox) FROM ("
            + _MAILBOX_TOKENS.format(where="lower(mailbox) = lower(?)")
            + ")"
        )
    return con.execute(f"{sql} ORDER BY {_TOKENS_ORDER}", [mailbox]).fetchall()


def mailbox_sessions_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A relation (session_id, n) of the sessions that read the mailbox given as its one parameter."""
    if in_case(con):
        return "SELECT session_id, n FROM case_mailbox_sessions WHERE mailbox = lower(?)"
    return "SELECT session_id, n FROM (" + _MAILBOX_SESSIONS.format(where="mailbox = lower(?)") + ")"


def baseline_values(
    con: duckdb.DuckDBPyConnection, user: str, start: object, end: object
) -> list[tuple[Any, ...]]:
    """(dim, distinct values, top values with counts, all values for the hours) of `user`'s baseline."""
    if in_case(con):  # stored for the scan's split, the only one a findings folder has
        return con.execute(
            "SELECT dim, distinct_values, top, all_values FROM case_drift_baseline "
            'WHERE lower("user") = lower(?) ORDER BY dim',
            [user],
        ).fetchall()
    sql = _BASELINE.format(where='lower("user") = lower(?)')
    return con.execute(
        f"SELECT dim, distinct_values, top, all_values FROM ({sql}) ORDER BY dim",
        [user, start, end, BASELINE_VALUES],
    ).fetchall()


def token_json_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SELECT alg, kid, sig, decode_error, header JSON, claims JSON of the token whose sha256 is the
    one parameter."""
    if in_case(con):
        return (
            "SELECT c.alg, c.kid, c.sig, c.decode_error, c.header_json, c.claims_json "
            "FROM token_claims c WHERE c.tok_sha256 = ? LIMIT 1"
        )
    return (
        f"SELECT c.alg, c.kid, c.sig, c.decode_error, {json_text_sql('header')}, "
        f"{json_text_sql('claims')} FROM {JSON_FROM} WHERE c.tok_sha256 = ? LIMIT 1"
    )


# token_claims as a findings folder stores it: its columns and the decoded header and claims (never
# the token's text).
TOKEN_CLAIMS_EXPORT = (
    f"SELECT c.*, {json_text_sql('header')} AS header_json, {json_text_sql('claims')} AS claims_json "
    f"FROM {JSON_FROM}"
)

__all__ = [
    "BASELINE_VALUES",
    "CASE_INFO",
    "EXPORTS",
    "TOKEN_CLAIMS_EXPORT",
    "baseline_values",
    "in_case",
    "mailbox_sessions_sql",
    "mailbox_tokens",
    "token_json_sql",
]
