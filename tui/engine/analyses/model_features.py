"""The behaviour model's features (SPEC §11; `tui.engine.analyses.model` learns and scores them):
each event's user, day and hour, and its country, network, app, client app, user-agent family,
device, operation, mailbox and hour of week, computed once per distinct IP, user agent and
operation (small lookups), never per row in Python.

- network: IPv4 /24, IPv6 /48 (`::` expanded). No ASN: no package ships an offline ASN table fit
  for it (README, "The behaviour model").
- user-agent family: the OS and the browser, else the product token (`python-requests`,
  `Microsoft Office`, `Outlook-iOS`).
- operation: identifiers taken out (message ids, GUIDs, numbers, OData keys, user names, the query):
  `get /v1.0/me/messages/{id}`, so a user's thousand reads are one habit.
- mailbox: `own`, else the other mailbox's address (reading a mailbox the user never reads is the
  surprise).
- hour of week: the UTC hour on a weekday or at the weekend (weekdays pooled: a month of baseline
  holds too few events for each hour of each day; 48 values).
"""

from __future__ import annotations

import duckdb

from tui.engine.core.schema import Kind
from tui.engine.indicators.identity import BROWSER_FAMILY, OS_FAMILY
from tui.engine.indicators.indicator import SEVERITY_RANK

# (feature column in model_combos, its name in explanations)
FEATURES: tuple[tuple[str, str], ...] = (
    ("country", "country"),
    ("net", "network"),
    ("app", "app"),
    ("capp", "client app"),
    ("uaf", "user agent"),
    ("device", "device"),
    ("op", "operation"),
    ("mbx", "mailbox"),
    ("how", "hour"),
)
COLS = ", ".join(c for c, _ in FEATURES)
# what model_combos groups the events by (`hw`: the hour of week as a number, `how` its words)
GROUP = f"u, hw, {COLS.replace(', how', '')}, failed, phase, learn"
HOURS_OF_WEEK = 48
_HIGH = SEVERITY_RANK["high"]

# IPv4 /24; IPv6 /48 with `::` expanded (the first three of the full eight groups, leading zeros dropped)
_V6_GROUPS = "list_filter(string_split(s, ':'), lambda g: g <> '')"
_V6 = """CASE WHEN ip LIKE '%::%' THEN list_concat(
        _m_groups(split_part(ip, '::', 1)),
        list_transform(range(greatest(8 - array_length(_m_groups(split_part(ip, '::', 1)))
                                        - array_length(_m_groups(split_part(ip, '::', 2))), 0)),
                       lambda z: '0'),
        _m_groups(split_part(ip, '::', 2)))
     ELSE string_split(ip, ':') END"""
_NET = r"""CASE WHEN regexp_matches(ip, '^\d+\.\d+\.\d+\.\d+(:\d+)?$')
          THEN regexp_extract(ip, '^(\d+\.\d+\.\d+)\.', 1) || '.0/24'
     WHEN ip LIKE '%:%:%'
     THEN array_to_string(list_transform(_m_v6(ip)[1:3],
                                         lambda g: coalesce(nullif(ltrim(g, '0'), ''), '0')), ':') || '::/48'
     END"""
# the OS and the browser, else the product token (`python-requests`, `Microsoft Office`, `Outlook-iOS`)
_UA_FAMILY = """nullif(concat_ws(' ', os, coalesce(browser,
     nullif(regexp_extract(ua, '^([A-Za-z][A-Za-z0-9 _-]{0,39}?)\\s*(/|\\(|$)', 1), ''))), '')"""
# an operation with the identifiers taken out (a request path's message ids, GUIDs, numbers, OData keys,
# user names, its query): `get /v1.0/me/messages/{id}`, so a user's thousand reads are one habit
_OP = r"""nullif(array_to_string(list_transform(
        string_split(regexp_replace(split_part(lower(op), '?', 1), '\(''[^'']*''\)', '({id})', 'g'), '/'),
        lambda s: CASE WHEN s LIKE '%@%' THEN '{user}'
                       WHEN length(s) >= 20 OR s LIKE '%!%' OR regexp_matches(s, '^[0-9]+$')
                            OR regexp_matches(s, '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$')
                            OR (length(s) >= 8 AND regexp_matches(s, '[0-9]') AND regexp_matches(s, '[a-z]'))
                       THEN '{id}' ELSE s END), '/'), '')"""
# a failed sign-in: an Entra sign-in with an error code, or a UAL UserLoginFailed
_FAILED = f"""((e.kind = '{Kind.SIGNIN}' AND coalesce(e.status, '0') NOT IN ('0', 'Success', 'success'))
              OR lower(coalesce(e.operation, '')) = 'userloginfailed')"""


def macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE OR REPLACE MACRO _m_groups(s) AS {_V6_GROUPS}")
    con.execute(f"CREATE OR REPLACE MACRO _m_v6(ip) AS {_V6}")
    con.execute(f"CREATE OR REPLACE MACRO _m_net(ip) AS {_NET}")
    con.execute(f"CREATE OR REPLACE MACRO _m_uaf(ua, os, browser) AS {_UA_FAMILY}")
    con.execute(f"CREATE OR REPLACE MACRO _m_os(ua) AS {OS_FAMILY}")
    con.execute(f"CREATE OR REPLACE MACRO _m_op(op) AS {_OP}")
    con.execute(f"CREATE OR REPLACE MACRO _m_browser(ua) AS {BROWSER_FAMILY}")
    con.execute("CREATE OR REPLACE MACRO _m_n(x) AS format('{:,}', x)")  # 96,000
    con.execute(  # hour of week in words: 'weekday 09h UTC'
        "CREATE OR REPLACE MACRO _m_how(hw) AS CASE WHEN hw >= 24 THEN 'weekend ' ELSE 'weekday ' END "
        "|| lpad(CAST(hw % 24 AS VARCHAR), 2, '0') || 'h UTC'"
    )


def feature_view(con: duckdb.DuckDBPyConnection) -> None:
    """`model_events`: every event with its model features, phase (`b` baseline, `w` window: before or
    after `model_split`) and `learn`; the features of each distinct IP, user agent and operation are
    looked up (`model_ip`, `model_ua`, `model_op`), built here once per learn."""
    macros(con)
    con.execute(
        "CREATE TABLE IF NOT EXISTS model_options AS "
        "SELECT 3 AS top_k, 5.0::DOUBLE AS prior, 30 AS min_events"
    )
    con.execute(
        """CREATE OR REPLACE TABLE model_ip AS
        SELECT ip, _m_net(ip) AS net
        FROM (SELECT DISTINCT client_ip AS ip FROM events_t WHERE client_ip IS NOT NULL)"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE model_ua AS
        SELECT ua, _m_uaf(ua, _m_os(ua), _m_browser(ua)) AS uaf
        FROM (SELECT DISTINCT user_agent AS ua FROM events_t WHERE user_agent IS NOT NULL)"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE model_op AS
        SELECT op, _m_op(op) AS nop
        FROM (SELECT DISTINCT operation AS op FROM events_t WHERE operation IS NOT NULL)"""
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW model_events AS
        SELECT e.rn, coalesce(e."user", '') AS u, CAST(e.ts AS DATE) AS day,
               CAST(CASE WHEN isodow(e.ts) >= 6 THEN 24 ELSE 0 END + hour(e.ts) AS TINYINT) AS hw,
               e.country, i.net, e.app_id AS app, e.client_app_id AS capp, a.uaf, e.device_id AS device,
               o.nop AS op,
               CASE WHEN e.mailbox IS NULL THEN NULL WHEN e.mailbox = e."user" THEN 'own'
                    ELSE e.mailbox END AS mbx,
               coalesce({_FAILED}, false) AS failed,
               CASE WHEN e.ts IS NULL THEN NULL WHEN e.ts < s.be THEN 'b' ELSE 'w' END AS phase,
               coalesce(e.ts < s.be AND NOT {_FAILED} AND coalesce(e.sev_rank, 0) < {_HIGH}, false) AS learn
        FROM events_rows e
        CROSS JOIN model_split s
        LEFT JOIN model_ip i ON i.ip = e.client_ip
        LEFT JOIN model_ua a ON a.ua = e.user_agent
        LEFT JOIN model_op o ON o.op = e.operation
        WHERE e.kind <> '{Kind.RISK}'  -- a detection about the user, not the user's behaviour"""
    )


__all__ = ["COLS", "FEATURES", "GROUP", "HOURS_OF_WEEK", "feature_view", "macros"]
