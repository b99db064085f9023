"""SPEC §10's sign-in indicators: the identity half of the one catalogue (`catalogue.CATALOGUE`).

Each fires on the event rows that show it (row scope), so a row's, a session's, a token's and a
user's severity all follow from the same hits. The SQL reads `_iev`, `_signins`, `session_facts`,
`_first_seen`, `_history`, `_identity_params` and `_country_geo` (`identity.prepare_identity` says
what each holds and what "new to the user" means). Bounds are options (`Options.aitm_seconds`,
`spray_users`, `spray_minutes`, `travel_kmh`, `history_days`).

What each needs loaded (`Indicator.needs`): a sign-in record for those reading `_signins`, and for
three reading `session_facts` a value only a loaded sign-in gives it (MFA_CLAIM_UNBACKED: `covered`,
which needs the sign-ins' start; SINGLE_FACTOR_ACCESS: `mfa = 'single_factor'`, from the session's
sign-ins; SESSION_REPLAY: `signin_ts`, its first successful sign-in); a risk detection for
RISK_DETECTION (both its SELECTs read those rows). IMPOSSIBLE_TRAVEL and PASSWORD_SPRAY fire on
other records too (an audit log's logons, failed `UserLoginFailed`).
"""

from __future__ import annotations

from tui.engine.indicators.identity import (
    ACCESS_OPERATIONS,
    FAILED_CREDENTIALS,
    LEGACY_CLIENTS,
    RISK,
    net_sql,
    new_to_user,
)
from tui.engine.indicators.indicator import Indicator, Need


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


_FAILED = (
    f"((e.is_signin AND e.status IN (SELECT unnest({_list(FAILED_CREDENTIALS)}))) "
    "OR lower(e.operation) = 'userloginfailed')"
)
_FAMILY = "(CASE WHEN {0} LIKE '%:%' THEN 6 ELSE 4 END)"
# Another device than the session's own (SESSION_REPLAY): another device id; a sign-in without one
# where the session's had one (a sign-in names its registered device whenever there is one); else,
# for a record that names no device (an audit record, a proxy line), another OS family, or another
# browser where both are browsers (one device's Outlook, Teams and browser differ in user agent,
# and a phone moving from Wi-Fi to cellular keeps its OS).
_OTHER_DEVICE = """(CASE WHEN e.device IS NOT NULL THEN e.device IS DISTINCT FROM s.device
     WHEN s.device IS NOT NULL AND e.is_signin THEN true
     ELSE (e.os IS NOT NULL AND s.os IS NOT NULL AND e.os <> s.os)
          OR (e.browser IS NOT NULL AND s.browser IS NOT NULL AND e.browser <> s.browser) END)"""

# AITM_SIGNIN's time slot of a row: `aitm_seconds` wide, so a window (t, t + aitm_seconds] spans the
# slot of t and the next
_SLOT = "CAST(floor(epoch(ts) / q.aitm_seconds) AS BIGINT)"


IDENTITY: tuple[Indicator, ...] = (
    Indicator(
        "MFA_CLAIM_UNBACKED",
        "high",
        "row",
        "a token or session claims MFA and no loaded sign-in of its session performed it, though "
        "sign-ins cover the session's start (and every sign-in of it shows its steps, or it has none)",
        (
            """SELECT e.source, e.source_row, e.tkey,
                   format('{} claims MFA ({}), but no loaded sign-in of session {} performed it '
                          '(its {} sign-in(s) since {})', _v(e.usr),
                          CASE WHEN e.mfa = 'by_claim' THEN 'satisfied by a claim in the token'
                               ELSE _v(e.auth_steps) END,
                          _v(e.sid), s.signins, _iso(s.first_ts))
            FROM _iev e JOIN session_facts s ON s.sid = e.sid
            WHERE (e.mfa = 'by_claim' OR (e.auth_steps ILIKE 'amr:%' AND e.auth_steps ILIKE '%mfa%'))
              AND e.ok AND s.covered AND NOT s.mfa_unknown
              AND s.mfa IN ('by_claim', 'single_factor', 'no_issuance_record')""",
            """SELECT e.source, e.source_row, e.tkey,
                   format('token amr {} claims MFA, but no loaded sign-in of session {} performed it',
                          _v(t.amr), _v(t.sid))
            FROM _iev e JOIN token_claims t ON t.tok_key = e.tok_key
                 JOIN session_facts s ON s.sid = t.sid
            WHERE list_has_any(string_split(t.amr, ','), ['mfa', 'ngcmfa']) AND s.covered
              AND s.mfa IN ('by_claim', 'single_factor', 'no_issuance_record') AND NOT s.mfa_unknown""",
        ),
        needs=(Need.SIGNINS,),
    ),
    Indicator(
        "SINGLE_FACTOR_ACCESS",
        "medium",
        "row",
        "a mailbox read or change by a session whose sign-ins were all single-factor",
        (
            f"""SELECT e.source, e.source_row, e.tkey,
                   format('{{}} by {{}} in session {{}}, whose {{}} sign-in(s) were all single-factor',
                          _v(e.operation), _v(e.usr), _v(e.sid), s.signins)
            FROM _iev e JOIN session_facts s ON s.sid = e.sid
            WHERE s.mfa = 'single_factor'
              AND lower(e.operation) IN (SELECT unnest({_list(ACCESS_OPERATIONS)}))""",
        ),
        needs=(Need.SIGNINS,),
    ),
    Indicator(
        "DEVICE_CODE_FLOW",
        "medium",
        "row",
        "a sign-in by device code (authenticationProtocol deviceCode / originalTransferMethod "
        "deviceCodeFlow); high when the session is used from an IP or device new to the user",
        (
            # The session's later events are found by equality (its session id), and the sign-in
            # itself beside them: an OR of the two in a correlated subquery compared every
            # device-code sign-in with every event. (A row's network is computed after the join,
            # for the session's rows alone: `_iev.net` is a regex on every row's address.)
            f"""WITH e AS (
                SELECT * FROM _signins
                WHERE lower(auth_protocol) = 'devicecode' OR lower(transfer_method) = 'devicecodeflow'
            ), r AS (
                SELECT e.source, e.source_row, e.usr, e.ts AS since, r.ip, r.device,
                       {net_sql("r.ip")} AS net, r.ts
                FROM e JOIN _iev r ON r.sid = e.sid WHERE r.ok
                UNION ALL
                SELECT source, source_row, usr, ts, ip, device, net, ts FROM e WHERE ok
            ), n AS (
                SELECT r.source, r.source_row, min(coalesce(r.ip, r.device)) AS ip FROM r
                WHERE r.ts >= r.since AND ({new_to_user("net", "r.net", "r.since", "r.ts", "r.usr")}
                                           OR {new_to_user("device", "r.device", "r.since", "r.ts", "r.usr")})
                GROUP BY r.source, r.source_row
            )
            SELECT e.source, e.source_row, e.tkey,
                   format('{{}} signed in by device code (protocol {{}}, transfer {{}}) from {{}}{{}}',
                          _v(e.usr), _v(e.auth_protocol), _v(e.transfer_method), _v(e.ip),
                          CASE WHEN n.ip IS NOT NULL
                               THEN format('; the session is then used from {{}}, new to the user', n.ip)
                               ELSE '' END),
                   CASE WHEN n.ip IS NOT NULL THEN 'high' END
            FROM e LEFT JOIN n ON n.source = e.source AND n.source_row = e.source_row""",
        ),
        graded=True,
        needs=(Need.SIGNINS,),
    ),
    Indicator(
        "PRT_NEW_DEVICE",
        "high",
        "row",
        "a primary refresh token redeemed from a device or IP new to the user (critical when the "
        "token is not bound to the device)",
        (
            f"""SELECT e.source, e.source_row, e.tkey,
                   format('{{}} redeemed a primary refresh token from {{}} (device {{}}){{}}', _v(e.usr),
                          _v(e.ip), _v(e.device),
                          CASE WHEN lower(e.token_protection) = 'unbound' THEN ', token protection unbound'
                               ELSE '' END),
                   CASE WHEN lower(e.token_protection) = 'unbound' THEN 'critical' END
            FROM _signins e
            WHERE lower(e.incoming_token_type) = 'primaryrefreshtoken' AND e.ok
              AND ({new_to_user("net", "e.net", "e.ts", "e.ts")}
                   OR {new_to_user("device", "e.device", "e.ts", "e.ts")})""",
        ),
        graded=True,
        needs=(Need.SIGNINS,),
    ),
    Indicator(
        "SESSION_REPLAY",
        "high",
        "row",
        "one session used after its sign-in from a country or network new to the user (and not its "
        "sign-in's own) and from another device than its own",
        (
            f"""SELECT e.source, e.source_row, e.tkey,
                   format('session {{}} of {{}} signed in {{}} on {{}}; '
                          || 'used at {{}} from {{}} ({{}}) on {{}}',
                          _v(e.sid), _v(e.usr), _iso(s.signin_ts),
                          _v(coalesce(s.device, concat_ws(' ', s.os, s.browser))), _iso(e.ts), _v(e.ip),
                          _v(e.country), _v(coalesce(e.device, concat_ws(' ', e.os, e.browser), 'no device')))
            FROM _iev e JOIN session_facts s ON s.sid = e.sid
            WHERE e.ok AND s.signin_ts IS NOT NULL AND e.ts > s.signin_ts AND {_OTHER_DEVICE}
              AND ({new_to_user("country", "e.country", "s.signin_ts", "e.ts")}
                   OR {new_to_user("net", "e.net", "s.signin_ts", "e.ts")})""",
        ),
        needs=(Need.SIGNINS,),
    ),
    Indicator(
        "IMPOSSIBLE_TRAVEL",
        "medium",
        "row",
        "two successful events of one user from countries farther apart than the speed bound allows "
        "(countries the user used side by side in the baseline, such as a VPN exit, not counted)",
        (
            """WITH b AS (  -- per user, country and 10 minutes: first and last successful event
                SELECT usr, country, time_bucket(INTERVAL 10 MINUTE, ts) AS slot, min(ts) AS t0, max(ts) AS t1
                FROM _iev WHERE ok AND usr IS NOT NULL AND country IS NOT NULL AND ts IS NOT NULL
                  AND usr IN (SELECT usr FROM _first_seen WHERE dim = 'country'
                              GROUP BY usr HAVING count(*) > 1)
                GROUP BY ALL
            ), moves AS (
                SELECT *, lag(country) OVER w AS prev_country, lag(t1) OVER w AS prev_t1 FROM b
                WINDOW w AS (PARTITION BY usr ORDER BY t0, country)
            ), days AS (  -- each user's countries per day of the baseline (one pass over the events)
                SELECT DISTINCT usr, country, CAST(ts AS DATE) AS d FROM _iev, _params p
                WHERE ok AND country IS NOT NULL AND ts < p.baseline_end
                  AND usr IN (SELECT usr FROM b)
            ), side AS (  -- countries used on the same day, on two days or more, in the baseline
                SELECT usr, a.country AS c1, b.country AS c2 FROM days a JOIN days b USING (usr, d)
                WHERE a.country < b.country GROUP BY ALL HAVING count(*) >= 2
            ), dist AS (
                SELECT m.*, CASE WHEN list_contains(g1.borders, g2.cc) THEN 0 ELSE greatest(0,
                           2 * 6371 * asin(sqrt(pow(sin(radians(g2.lat - g1.lat) / 2), 2)
                               + cos(radians(g1.lat)) * cos(radians(g2.lat))
                                 * pow(sin(radians(g2.lon - g1.lon) / 2), 2)))
                           - g1.radius_km - g2.radius_km) END AS km
                FROM moves m JOIN _country_geo g1 ON g1.cc = upper(m.prev_country)
                     JOIN _country_geo g2 ON g2.cc = upper(m.country)
                WHERE m.prev_country IS NOT NULL AND m.prev_country <> m.country
            ), trips AS (
                SELECT d.* FROM dist d, _identity_params q
                WHERE d.km > 0 AND d.km > q.travel_kmh * greatest(epoch(d.t0 - d.prev_t1), 0) / 3600
                  AND NOT EXISTS (SELECT 1 FROM side s WHERE s.usr = d.usr
                                  AND s.c1 = least(d.country, d.prev_country)
                                  AND s.c2 = greatest(d.country, d.prev_country))
            )
            SELECT e.source, e.source_row, e.tkey,  -- the arrival: the first event of the trip's slot
                   format('{} in {} at {} and in {} at {}: at least {} km in {} min', _v(d.usr),
                          d.prev_country, _iso(d.prev_t1), d.country, _iso(d.t0), CAST(round(d.km) AS BIGINT),
                          round(epoch(d.t0 - d.prev_t1) / 60, 1))
            FROM trips d JOIN _iev e ON e.usr = d.usr AND e.country = d.country AND e.ts = d.t0 AND e.ok
            QUALIFY row_number() OVER (PARTITION BY d.usr, d.t0 ORDER BY e.source, e.source_row) = 1""",
        ),
    ),
    Indicator(
        "AITM_SIGNIN",
        "high",
        "row",
        "a sign-in without a device id followed within seconds by the same session or user from "
        "another network",
        (
            # Pairs are found by equality (the same session, or the same user's sign-ins) within the
            # same `aitm_seconds` slot or the next: an OR of the two keys made DuckDB compare every
            # device-less sign-in with every event (100k rows: 15 s; quadratic).
            # (The user's later sign-ins are read from `_signins`, the session's events from `_iev`,
            # their network computed for the pairs alone.)
            f"""WITH e AS (
                SELECT source, source_row, tkey, usr, sid, ip, net, ts, unnest([slot, slot + 1]) AS slot
                FROM (SELECT *, {_SLOT} AS slot
                      FROM _signins, _identity_params q WHERE ok AND device IS NULL AND ip IS NOT NULL)
            ), pairs AS (
                SELECT e.*, r.ts AS r_ts, r.ip AS r_ip, {net_sql("r.ip")} AS r_net,
                       r.sid = e.sid AS same_session
                FROM e JOIN (SELECT sid, ip, ts, {_SLOT} AS slot FROM _iev, _identity_params q
                             WHERE ok AND ip IS NOT NULL AND sid IS NOT NULL) r
                  ON r.sid = e.sid AND r.slot = e.slot
                UNION ALL
                SELECT e.*, r.ts, r.ip, r.net, r.sid = e.sid
                FROM e JOIN (SELECT usr, sid, ip, net, ts, {_SLOT} AS slot FROM _signins, _identity_params q
                             WHERE ok AND ip IS NOT NULL AND usr IS NOT NULL) r
                  ON r.usr = e.usr AND r.slot = e.slot
            )
            SELECT source, source_row, tkey,
                   format('{{}} signed in without a device id from {{}} at {{}}; {{}} s later {{}} from {{}}',
                          _v(usr), _v(ip), _iso(ts), epoch(min(r_ts) - ts),
                          CASE WHEN bool_or(same_session) THEN 'the same session' ELSE 'the same user' END,
                          _v(arg_min(r_ip, (r_ts, r_ip))))  -- two at the same time: the least address
            FROM pairs, _identity_params q
            WHERE r_ts > ts AND r_ts <= ts + to_seconds(q.aitm_seconds) AND r_net IS DISTINCT FROM net
              AND {_FAMILY.format("r_ip")} = {_FAMILY.format("ip")}
            GROUP BY source, source_row, tkey, usr, ip, ts""",
        ),
        needs=(Need.SIGNINS,),
    ),
    Indicator(
        "LEGACY_AUTH",
        "medium",
        "row",
        "a legacy protocol (IMAP, POP, SMTP, Exchange ActiveSync basic, other clients) or ROPC",
        (
            f"""SELECT e.source, e.source_row, e.tkey,
                   format('{{}} signed in with {{}}{{}} from {{}}', _v(e.usr),
                          _v(coalesce(e.client_app_used, e.auth_protocol)),
                          CASE WHEN e.ok THEN '' ELSE ' (failed)' END, _v(e.ip))
            FROM _signins e
            WHERE lower(e.client_app_used) IN (SELECT unnest({_list(LEGACY_CLIENTS)}))
               OR lower(e.auth_protocol) = 'ropc'""",
        ),
        needs=(Need.SIGNINS,),
    ),
    Indicator(
        "PASSWORD_SPRAY",
        "high",
        "row",
        "failed sign-ins from one IP against several users within the window, and what succeeded from it",
        (
            f"""WITH f AS (
                SELECT e.*, count(DISTINCT e.usr) OVER back AS n_back,
                       count(DISTINCT e.usr) OVER ahead AS n_ahead
                FROM _iev e, _identity_params q
                WHERE {_FAILED} AND e.ip IS NOT NULL
                WINDOW back AS (PARTITION BY e.ip ORDER BY e.ts
                                RANGE BETWEEN to_minutes(q.spray_minutes) PRECEDING AND CURRENT ROW),
                       ahead AS (PARTITION BY e.ip ORDER BY e.ts
                                 RANGE BETWEEN CURRENT ROW AND to_minutes(q.spray_minutes) FOLLOWING)
            ), sprays AS (
                SELECT f.ip, min(f.ts) AS t0, max(f.ts) AS t1, count(DISTINCT f.usr) AS users
                FROM f, _identity_params q WHERE greatest(f.n_back, f.n_ahead) >= q.spray_users GROUP BY f.ip
            )
            SELECT f.source, f.source_row, f.tkey,
                   format('{{}} failed ({{}}) from {{}}, which failed for {{}} users {{}} to {{}}', _v(f.usr),
                          _v(coalesce(f.status, f.operation)), f.ip, s.users, _iso(s.t0), _iso(s.t1))
            FROM f JOIN sprays s USING (ip)
            UNION ALL
            SELECT e.source, e.source_row, e.tkey,
                   format('{{}} signed in from {{}}, which failed for {{}} users {{}} to {{}}',
                          _v(e.usr), e.ip, s.users, _iso(s.t0), _iso(s.t1))
            FROM _signins e JOIN sprays s ON s.ip = e.ip, _identity_params q
            WHERE e.ok AND e.ts BETWEEN s.t0 AND s.t1 + to_minutes(q.spray_minutes)""",
        ),
    ),
    Indicator(
        "RISK_DETECTION",
        "medium",
        "row",
        "an Identity Protection detection on the user, on its row and on the sign-in it names; "
        "severity is its risk level",
        (
            f"""SELECT e.source, e.source_row, e.tkey,
                   format('Identity Protection: {{}} ({{}} risk) for {{}} from {{}}, sign-in {{}}',
                          _v(e.operation), _v(e.status), _v(e.usr), _v(e.ip), _v(e.request_id)),
                   CASE WHEN lower(e.status) IN ('low', 'medium', 'high') THEN lower(e.status) END
            FROM _iev e WHERE e.kind = '{RISK}'
            UNION ALL
            SELECT s.source, s.source_row, s.tkey,
                   format('Identity Protection: {{}} ({{}} risk) on this sign-in (request {{}}), '
                          || 'session {{}}',
                          _v(e.operation), _v(e.status), _v(s.request_id), _v(s.sid)),
                   CASE WHEN lower(e.status) IN ('low', 'medium', 'high') THEN lower(e.status) END
            FROM _iev e JOIN _signins s ON s.request_id = e.request_id WHERE e.kind = '{RISK}'""",
        ),
        graded=True,
        needs=(Need.RISKS,),
    ),
)

IDENTITY_CODES = tuple(ind.code for ind in IDENTITY)

__all__ = ["IDENTITY", "IDENTITY_CODES"]
