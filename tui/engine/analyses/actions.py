"""What the attacker did (SPEC §10): the action indicators' hits as one table, and their roll-ups.

- `actions`: one row per (action event, code), the columns of `actions.csv` plus `sev_rank` and
  `mailbox` (the mailbox the change acted on, when the record names one by address). `target` is the
  clean target `action_facts` made (`mailbox\\rule` for an inbox rule), filled where the loader found
  none; `params` the parameters as the export kept them, whole (however long, however malformed).
- The Mailboxes pane gains `actions` (the codes of the changes made to each mailbox, worst first):
  a mailbox with a forwarding rule or a granted permission is listed even if no read of it is
  loaded, and its severity is the worst of its reads and of those changes.
- A user's worst action reaches the Drift pane through `user_identity` (`sessions.py`); a session's
  and a mailbox's detail list their actions (`explain_identity.session_action_rows`,
  `mailbox_action_rows`).
"""

from __future__ import annotations

import duckdb

from tui.engine.indicators.actions import ACTION_CODES

ACTIONS_COLUMNS = (
    'ts, "user", operation, code, severity, target, params, client_ip, session_id, evidence, '
    "source, source_row"
)
# actions.csv's order and the detail panel's: time order; ties by where the record sits, then code
ACTIONS_ORDER = "ts NULLS LAST, source, source_row, code"


def build_actions(con: duckdb.DuckDBPyConnection) -> None:
    """The `actions` table (the module's docstring); empty when no action indicator fired."""
    con.execute(
        """CREATE OR REPLACE TABLE actions AS
        SELECT f.ts, f.usr AS "user", f.operation, i.code, i.severity, i.sev_rank,
               f.tgt AS target, f.params, f.ip AS client_ip,
               f.sid AS session_id, i.evidence, f.source, f.source_row, f.mbx AS mailbox
        FROM row_indicators i JOIN action_facts f USING (source, source_row)
        WHERE list_contains(?, i.code)""",
        [list(ACTION_CODES)],
    )


def add_mailbox_actions(con: duckdb.DuckDBPyConnection) -> None:
    """`mailboxes.actions`, and a row for each mailbox changed but never read (see the docstring)."""
    con.execute(
        """CREATE OR REPLACE TABLE mailboxes AS
        WITH per AS (
            SELECT mailbox, max(sev_rank) AS sev_rank,
                   array_to_string(list_transform(
                       list_sort(list(DISTINCT CAST(5 - sev_rank AS VARCHAR) || code)), lambda c: c[2:]), ';')
                       AS actions
            FROM (SELECT mailbox, code, max(sev_rank) AS sev_rank FROM actions WHERE mailbox IS NOT NULL
                  GROUP BY ALL)
            GROUP BY mailbox
        )
        SELECT coalesce(m.mailbox, a.mailbox) AS mailbox,
               coalesce(_severity_name(greatest(m.sev_rank, a.sev_rank)), 'none') AS severity,
               coalesce(greatest(m.sev_rank, a.sev_rank), 0) AS sev_rank,
               coalesce(m.indicators, '') AS indicators, coalesce(m.accesses, 0) AS accesses,
               coalesce(m.items, 0) AS items, m.folders, coalesce(m.flagged_accesses, 0) AS flagged_accesses,
               coalesce(m.flagged_tokens, 0) AS flagged_tokens, m.first_access, m.last_access, m.identities,
               m.ips, m.app_ids, coalesce(a.actions, '') AS actions
        FROM mailboxes m FULL OUTER JOIN per a ON a.mailbox = m.mailbox
        ORDER BY sev_rank DESC, flagged_accesses DESC, accesses DESC, mailbox"""
    )


__all__ = ["ACTIONS_COLUMNS", "ACTIONS_ORDER", "add_mailbox_actions", "build_actions"]
