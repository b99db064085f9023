"""The identity half of the catalogue (SPEC §10): sign-in indicators over sessions and users.

`prepare_identity` builds what they read, once per annotate, from the stored events:

- `_iev` (TEMP VIEW): every event with the identity it belongs to: its user and session (a raw
  token's `upn` and `sid` where the row names none), network (IPv4 /24, IPv6 /48), device (the
  row's device id, else the token's `deviceid` claim), OS and browser family from the user agent,
  whether it is a sign-in, and whether it succeeded (a sign-in's error code 0, a UAL logon that is
  not `UserLoginFailed`; other records count as done).
- `_signins` (TEMP): the sign-in rows alone (a small share of any export); from them `signin_mfa`
  (per uti, what its sign-ins show of MFA) and `signin_span` (when the loaded sign-ins start and end).
- `session_facts` (a table the Sessions pane reads too): per session its user, the device, OS and
  browser family, country and network of its first successful sign-in (interactive first), when it
  started and its MFA
  provenance: `performed` (a sign-in of it completed MFA), `by_claim`, `single_factor` (its
  sign-ins list steps and none is MFA), `no_issuance_record` (sign-ins cover its start and none is
  of it), else `unknown`.
- `_first_seen` (TEMP): per user and value of country, network and device, when the user first
  used it with success; `_history`: when each user's successful history starts. A value is *new to
  the user* at an event when the user first used it at or after the event's session started, and
  the user has at least `history_days` of history before the event (a user whose data starts in
  the window is still being learned: nothing of theirs is "new").
- `_country_geo` (TEMP): each country's centre and radius (countryinfo's data, offline), for
  IMPOSSIBLE_TRAVEL. Two countries are as far apart as their centres less both radii (never less
  than 0; bordering countries 0): the least distance travel between them can take, so a trip is
  called impossible only when even that is too fast.

Failed sign-ins are attempts against a user, not the user's behaviour: they feed PASSWORD_SPRAY and
never `_first_seen`, `_history` or a session's own device.
"""

from __future__ import annotations

import functools
import math

import duckdb

from tui.engine.core.options import Options
from tui.engine.core.schema import Kind

SIGNIN = Kind.SIGNIN
RISK = Kind.RISK
# AADSTS codes of a credential that did not work (DOMAIN §8): bad password, locked, no such user,
# expired password, disabled account
FAILED_CREDENTIALS = ("50126", "50053", "50034", "50055", "50057")
LEGACY_CLIENTS = (
    "imap",
    "imap4",
    "pop",
    "pop3",
    "smtp",
    "authenticated smtp",
    "exchange activesync",
    "other clients",
    # older exports name the protocol after "Other clients; " (Graph beta's `clientAppUsed` values)
    "other clients; imap",
    "other clients; pop",
    "other clients; smtp",
    "other clients; mapi",
    "other clients; older office clients",
)
# Operations a session does with a mailbox or to the directory (SINGLE_FACTOR_ACCESS)
ACCESS_OPERATIONS = (
    "mailitemsaccessed",
    "send",
    "sendas",
    "new-inboxrule",
    "set-inboxrule",
    "updateinboxrules",
    "set-mailbox",
    "add-mailboxpermission",
    "add-recipientpermission",
    "new-transportrule",
)

# OS and browser family of a user agent `ua` (SESSION_REPLAY; the behaviour model's user-agent family)
OS_FAMILY = """CASE WHEN ua ILIKE '%windows%' THEN 'Windows'
     WHEN ua ILIKE '%iphone%' OR ua ILIKE '%ipad%' THEN 'iOS'
     WHEN ua ILIKE '%android%' THEN 'Android' WHEN ua ILIKE '%mac os%' OR ua ILIKE '%macintosh%' THEN 'macOS'
     WHEN ua ILIKE '%linux%' THEN 'Linux' END"""
BROWSER_FAMILY = """CASE WHEN ua ILIKE '%edg/%' THEN 'Edge' WHEN ua ILIKE '%firefox/%' THEN 'Firefox'
     WHEN ua ILIKE '%chrome/%' THEN 'Chrome' WHEN ua ILIKE '%safari/%' THEN 'Safari' END"""


def net_sql(ip: str) -> str:
    """The network of address `ip`: its IPv4 /24, its IPv6 /48."""
    return (
        f"CASE WHEN {ip} LIKE '%:%' THEN array_to_string(string_split({ip}, ':')[1:3], ':') || '::/48' "
        f"ELSE regexp_extract({ip}, '^(\\d+\\.\\d+\\.\\d+)\\.', 1) || '.0/24' END"
    )


_NET = net_sql("ip")


@functools.cache
def country_geo() -> tuple[tuple[str, float, float, float, tuple[str, ...]], ...]:
    """(alpha-2, latitude, longitude, radius km, bordering alpha-2s) of every country countryinfo knows."""
    import countryinfo

    places = [c for c in countryinfo.all_countries() if c.iso() and len(c.latlng() or ()) == 2]
    alpha2 = {c.iso()["alpha3"]: c.iso()["alpha2"] for c in places}
    return tuple(
        (
            c.iso()["alpha2"],
            float(c.latlng()[0]),
            float(c.latlng()[1]),
            math.sqrt(float(c.area() or 0) / math.pi),
            tuple(alpha2[b] for b in (c.borders() or ()) if b in alpha2),
        )
        for c in places
    )


def prepare_identity(con: duckdb.DuckDBPyConnection, options: Options) -> None:
    """The helper relations the identity indicators read (the module's docstring lists them)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _iev AS
        SELECT *, {OS_FAMILY} AS os, {BROWSER_FAMILY} AS browser, {_NET} AS net,
               CASE WHEN kind = '{SIGNIN}' THEN coalesce(status, '0') IN ('0', 'Success', 'success')
                    ELSE coalesce(lower(operation), '') <> 'userloginfailed' END AS ok
        FROM (SELECT e.source, e.source_row, e.tkey, e.tok_key, e.ts, e.kind, e.operation, e.status,
                     e.category,
                     coalesce(e."user", lower(t.upn)) AS usr, coalesce(e.session_id, t.sid) AS sid,
                     e.client_ip AS ip, e.country, e.user_agent AS ua, e.token_id,
                     coalesce(e.device_id, t.deviceid) AS device, e.request_id, e.mfa, e.auth_steps,
                     e.auth_protocol, e.transfer_method, e.incoming_token_type, e.token_protection,
                     e.client_app_used, e.interactive, e.kind = '{SIGNIN}' AS is_signin
              FROM _ev e LEFT JOIN token_claims t ON t.tok_key = e.tok_key)"""
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _signins AS SELECT * FROM _iev WHERE kind = '{SIGNIN}'")
    # Per user, each place (country, network, device) it used and when first: one pass over the
    # events grouped on the user's few combinations, then one row per value (unnesting every row
    # made three rows per event to group).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _places AS
        SELECT usr, country, net, device, min(ts) AS first_ts FROM _iev WHERE ok AND usr IS NOT NULL
        GROUP BY ALL"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _first_seen AS
        SELECT usr, dim, value, min(first_ts) AS first_ts FROM (
            SELECT usr, first_ts, unnest(['country', 'net', 'device']) AS dim,
                   unnest([country, net, device]) AS value
            FROM _places WHERE first_ts IS NOT NULL)
        WHERE value IS NOT NULL GROUP BY ALL"""
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _history AS "
        "SELECT usr, min(first_ts) AS start_ts FROM _places GROUP BY usr"
    )
    con.execute("DROP TABLE _places")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _identity_params AS
        SELECT ?::INTEGER AS aitm_seconds, ?::INTEGER AS spray_users, ?::INTEGER AS spray_minutes,
               ?::DOUBLE AS travel_kmh, ?::INTEGER AS history_days,
               (SELECT min(ts) FROM _signins) AS signin_start,
               (SELECT max(ts) FROM _signins) AS signin_end""",
        [
            options.aitm_seconds,
            options.spray_users,
            options.spray_minutes,
            options.travel_kmh,
            options.history_days,
        ],
    )
    _session_facts(con)
    _signin_mfa(con)
    geo = country_geo()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _country_geo "
        "(cc VARCHAR, lat DOUBLE, lon DOUBLE, radius_km DOUBLE, borders VARCHAR[])"
    )
    con.executemany("INSERT INTO _country_geo VALUES (?, ?, ?, ?, ?)", [list(g) for g in geo])


def _session_facts(con: duckdb.DuckDBPyConnection) -> None:
    """`session_facts`: per session its user, own device, start and MFA provenance."""
    con.execute(
        """CREATE OR REPLACE TABLE session_facts AS
        WITH ses AS (
            SELECT sid, arg_min(usr, ts) FILTER (WHERE usr IS NOT NULL) AS usr, min(ts) AS first_ts,
                   max(ts) AS last_ts
            FROM _iev WHERE sid IS NOT NULL GROUP BY sid
        ), own AS (
            -- the session's own device: that of its first successful sign-in, interactive first
            SELECT sid, arg_min(device, (NOT coalesce(interactive, false), ts)) AS device,
                   arg_min(os, (NOT coalesce(interactive, false), ts)) AS os,
                   arg_min(browser, (NOT coalesce(interactive, false), ts)) AS browser,
                   arg_min(country, (NOT coalesce(interactive, false), ts)) AS country,
                   arg_min(net, (NOT coalesce(interactive, false), ts)) AS net,
                   min(ts) AS signin_ts, count(*) AS signins,
                   bool_or(mfa = 'performed') AS performed, bool_or(mfa = 'by_claim') AS by_claim,
                   bool_or(mfa = 'single_factor') AS single, bool_or(mfa = 'unknown') AS unknown
            FROM _signins WHERE ok AND sid IS NOT NULL GROUP BY sid
        )
        SELECT s.sid, s.usr, s.first_ts, s.last_ts, o.signin_ts, coalesce(o.signins, 0) AS signins,
               o.device, o.os, o.browser, o.country, o.net,
               CASE WHEN o.performed THEN 'performed' WHEN o.by_claim THEN 'by_claim'
                    WHEN o.single AND NOT o.unknown THEN 'single_factor'
                    WHEN o.sid IS NULL AND s.first_ts - INTERVAL 1 DAY >= p.signin_start
                         AND s.first_ts <= p.signin_end THEN 'no_issuance_record'
                    ELSE 'unknown' END AS mfa,
               coalesce(o.performed, false) AS mfa_performed,
               coalesce(o.unknown, false) AS mfa_unknown,  -- a sign-in of it shows nothing of MFA
               -- a session seen first a day or more after the sign-ins start began when it was first
               -- seen (its refreshes would show before): its start is covered
               p.signin_start IS NOT NULL AND p.signin_start <= s.first_ts - INTERVAL 1 DAY AS covered
        FROM ses s LEFT JOIN own o USING (sid), _identity_params p"""
    )


def _signin_mfa(con: duckdb.DuckDBPyConnection) -> None:
    """`signin_mfa(uti, mfa)`: what the sign-ins that issued a token show of MFA (`performed`
    before `by_claim` before `single_factor`, else `unknown`); `signin_span`: when the loaded
    sign-ins start and end (a token issued inside it that no sign-in names: `no_issuance_record`).
    Tables, not TEMP: the Tokens table (queries/tokens.sql) reads them on the pane builders' cursors."""
    con.execute(
        """CREATE OR REPLACE TABLE signin_mfa AS
        SELECT token_id AS uti,
               CASE WHEN bool_or(mfa = 'performed') THEN 'performed'
                    WHEN bool_or(mfa = 'by_claim') THEN 'by_claim'
                    WHEN bool_or(mfa = 'single_factor') THEN 'single_factor' ELSE 'unknown' END AS mfa
        FROM _signins WHERE token_id IS NOT NULL GROUP BY token_id"""
    )
    con.execute(
        "CREATE OR REPLACE TABLE signin_span AS SELECT start_ts, end_ts FROM "
        "(SELECT min(ts) AS start_ts, max(ts) AS end_ts FROM _signins)"
    )


def new_to_user(dim: str, value: str, since: str, at: str, usr: str = "e.usr") -> str:
    """`value` of dimension `dim` is new to the user at `at`: first used at or after `since`, with
    `history_days` of the user's history before `at`."""
    return f"""({value} IS NOT NULL AND EXISTS (
        SELECT 1 FROM _first_seen f, _history h, _identity_params q
        WHERE f.usr = {usr} AND f.dim = '{dim}' AND f.value = {value} AND f.first_ts >= {since}
          AND h.usr = {usr} AND h.start_ts <= {at} - to_days(q.history_days)))"""


__all__ = [
    "ACCESS_OPERATIONS",
    "net_sql",
    "new_to_user",
    "FAILED_CREDENTIALS",
    "LEGACY_CLIENTS",
    "RISK",
    "SIGNIN",
    "country_geo",
    "prepare_identity",
]
