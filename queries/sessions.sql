-- returns: one row per session (a sign-in SessionId / AADSessionId, or a raw token's `sid`), unordered
-- (the pane's page query and sessions.csv order them worst first)
-- Parameters: none. Reads `events_t` with the tables the `events` view annotates rows from (tok_severity,
-- uti_severity, row_severity), the indicators' hits (row_indicators, token_indicators) and `session_facts`
-- (indicators/identity.py: each session's user, own device and MFA provenance).
-- A session's severity is the worst of its events'; its indicators and evidence are those of its rows and
-- of the tokens used in it. Rows are grouped on what decides their annotations first, as mailboxes.sql does.
WITH rows AS NOT MATERIALIZED (
    SELECT e.*, coalesce(e.session_id, t.sid) AS sid, t.sev_rank AS t_rank, t.codes AS t_codes,
           coalesce(e."user", lower(t.upn)) AS usr, t.tok_sha256
    FROM events_t AS e
    LEFT JOIN tok_severity AS t ON t.tok_key = e.tok_key
    WHERE e.session_id IS NOT NULL OR t.sid IS NOT NULL
),
annotated AS (
    SELECT r.*, u.sev_rank AS u_rank, u.codes AS u_codes, s.sev_rank AS r_rank, s.codes AS r_codes,
           CASE WHEN r.tok_key IS NOT NULL THEN 'sha256:' || r.tok_sha256
                WHEN r.token_id IS NOT NULL THEN 'uti:' || r.token_id END AS tkey
    FROM rows AS r
    LEFT JOIN uti_severity AS u ON u.uti = CASE WHEN r.tok_key IS NULL THEN r.token_id END
    LEFT JOIN row_severity AS s ON s.source = r.source AND s.source_row = r.source_row
),
per AS (
    SELECT
        sid,
        max(_event_rank(t_rank, u_rank, r_rank)) AS sev_rank,
        list_distinct(flatten(list(flatten([coalesce(t_codes, []), coalesce(u_codes, []), coalesce(r_codes, [])]))))
            AS codes,
        min(ts) AS first_seen,
        max(ts) AS last_seen,
        count(*) AS events,
        count(*) FILTER (WHERE kind = 'entra_signin') AS signins,
        count(DISTINCT tkey) FILTER (WHERE kind <> 'entra_signin' OR kind IS NULL) AS tokens,
        list_sort(list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL)) AS ips,
        list_sort(list(DISTINCT country) FILTER (WHERE country IS NOT NULL)) AS countries,
        list_sort(list(DISTINCT user_agent) FILTER (WHERE user_agent IS NOT NULL)) AS user_agents,
        list_sort(list(DISTINCT device_id) FILTER (WHERE device_id IS NOT NULL)) AS devices,
        list_sort(list(DISTINCT coalesce(client_app_id, app_id)) FILTER (WHERE coalesce(client_app_id, app_id) IS NOT NULL))
            AS apps,
        list(DISTINCT tkey) FILTER (WHERE tkey IS NOT NULL) AS tkeys,
        arg_min(usr, ts) FILTER (WHERE usr IS NOT NULL) AS usr
    FROM annotated
    GROUP BY sid
),
said AS (
    -- evidence: one sentence per code (the first by text), from the session's rows and its tokens
    SELECT sid, array_to_string(list_transform(list_sort(list({'r': -rank, 'c': code, 'e': evidence})),
                                               lambda x: x.c || ': ' || x.e), ' | ') AS evidence
    FROM (
        SELECT sid, code, max(sev_rank) AS rank, min(evidence) AS evidence
        FROM (
            SELECT a.sid, i.code, i.sev_rank, i.evidence
            FROM annotated AS a JOIN row_indicators AS i ON i.source = a.source AND i.source_row = a.source_row
            UNION ALL
            SELECT p.sid, i.code, i.sev_rank, i.evidence
            FROM (SELECT sid, unnest(tkeys) AS tkey FROM per) AS p JOIN token_indicators AS i USING (tkey)
        )
        GROUP BY sid, code
    )
    GROUP BY sid
)
SELECT
    p.sid AS session_id,
    coalesce(f.usr, p.usr) AS "user",
    coalesce(_severity_name(p.sev_rank), 'none') AS severity,
    coalesce(p.sev_rank, 0) AS sev_rank,
    coalesce(array_to_string(list_transform(list_sort(p.codes), lambda c: c[2:]), ';'), '') AS indicators,
    coalesce(s.evidence, '') AS evidence,
    coalesce(f.mfa, 'unknown') AS mfa,
    p.first_seen,
    p.last_seen,
    p.events,
    p.signins,
    p.tokens,
    p.ips,
    p.countries,
    p.user_agents,
    p.devices,
    p.apps
FROM per AS p
LEFT JOIN session_facts AS f ON f.sid = p.sid
LEFT JOIN said AS s ON s.sid = p.sid
