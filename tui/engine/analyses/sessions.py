"""The identity answers (SPEC §10): sessions, each token's MFA provenance, each user's worst
identity indicator — small tables built once the indicators have run.

- `signin_mfa` and `signin_span` (what tokens.sql reads for a token's MFA) are built with the
  indicators' helpers (`tui.engine.indicators.identity`); the Tokens preview gets empty ones.
- `user_identity("user", sev_rank, severity, indicators)`: per user, the worst identity or action
  indicator of the user's events (the changes the user made: a rule, a role, a consent) and every
  such code fired on them (the Drift pane's whole picture).
- `sessions`: one row per session (queries/sessions.sql), with `session_facts`' MFA provenance.
"""

from __future__ import annotations

import duckdb

from tui.engine.core.queries import named_query
from tui.engine.indicators.actions import ACTION_CODES
from tui.engine.indicators.identity_catalogue import IDENTITY_CODES

# Sessions pane and sessions.csv order: worst first, then the busiest, then by time and id
SESSIONS_ORDER = "sev_rank DESC, events DESC, first_seen, session_id"


def build_identity_tables(con: duckdb.DuckDBPyConnection) -> None:
    """`user_identity`: per user, the worst identity or action indicator and those codes of its events."""
    con.execute(
        """CREATE OR REPLACE TABLE user_identity AS
        SELECT usr AS "user", max(sev_rank) AS sev_rank, _severity_name(max(sev_rank)) AS severity,
               array_to_string(list_transform(list_sort(list(DISTINCT CAST(5 - sev_rank AS VARCHAR) || code)),
                                              lambda c: c[2:]), ';') AS indicators
        FROM (SELECT coalesce(e."user", lower(t.upn)) AS usr, i.code, max(i.sev_rank) AS sev_rank
              FROM row_indicators i JOIN events_t e ON e.source = i.source AND e.source_row = i.source_row
              LEFT JOIN token_claims t ON t.tok_key = e.tok_key
              WHERE list_contains(?, i.code) GROUP BY ALL)  -- a code once, at its worst (graded codes)
        WHERE usr IS NOT NULL GROUP BY usr""",
        [[*IDENTITY_CODES, *ACTION_CODES]],
    )


def pending_identity_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Empty `signin_mfa`, `signin_span` and `session_facts` where none exist yet: the Tokens preview
    (`tui.engine.case.preview`) builds the Tokens table before any sign-in is read."""
    con.execute("CREATE TABLE IF NOT EXISTS signin_mfa (uti VARCHAR, mfa VARCHAR)")
    con.execute("CREATE TABLE IF NOT EXISTS signin_span (start_ts TIMESTAMP, end_ts TIMESTAMP)")
    con.execute("CREATE TABLE IF NOT EXISTS session_facts (sid VARCHAR, mfa VARCHAR)")


def build_sessions(con: duckdb.DuckDBPyConnection) -> None:
    """The `sessions` table (queries/sessions.sql)."""
    con.execute(f"CREATE OR REPLACE TABLE sessions AS {named_query('sessions').sql}")


__all__ = ["SESSIONS_ORDER", "build_identity_tables", "build_sessions", "pending_identity_tables"]
