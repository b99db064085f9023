-- returns: one row per session (a sign-in SessionId / AADSessionId, or a raw token's `sid`), unordered
-- (the pane's page query and sessions.csv order them worst first)
-- Parameters: none. Reads `events_t` with the tables the `events` view annotates rows from (tok_severity,
-- uti_severity, row_severity), the indicators' hits (row_indicators, token_indicators, a row's joined on its
-- `rn` through `events_rn`) and `session_facts`
-- (indicators/identity.py: each session's user, own device and MFA provenance).
-- A session's severity is the worst of its events'; its indicators and evidence are those of its rows and
-- of the tokens used in it. The rows are grouped once on what the row shows (session, raw token, kind, IP,
-- country, agent, device, app, user): a token's requests mostly share them, so the lists and the counts
-- are taken per group, and only the rows an indicator fired on are read again. Token ids (uti) are not
-- in that grouping (every sign-in has its own, and an audit record's often changes within a session: a
-- group per row): each session's token subjects are their own distinct set, and the token indicators of
-- the sign-ins' own ids are joined from the rows.
WITH base AS NOT MATERIALIZED (
    SELECT coalesce(e.session_id, t.sid) AS sid, e.tok_key,
           CASE WHEN e.tok_key IS NULL THEN e.token_id END AS uti, e.kind, e.client_ip, e.country,
           e.user_agent, e.device_id, coalesce(e.client_app_id, e.app_id) AS app,
           coalesce(e."user", lower(t.upn)) AS usr, e.ts
    FROM events_t AS e
    LEFT JOIN tok_severity AS t ON t.tok_key = e.tok_key
    WHERE e.session_id IS NOT NULL OR t.sid IS NOT NULL
),
g AS (
    SELECT sid, tok_key, kind, client_ip, country, user_agent, device_id, app, usr,
           count(*) AS n, min(ts) AS t0, max(ts) AS t1
    FROM base
    GROUP BY ALL
),
subjects AS (
    -- each session's token subjects, with their tkey for the token indicators' evidence: raw tokens,
    -- and the token ids of rows without one (a sign-in's own id: joined from the rows, below)
    SELECT s.*,
           CASE WHEN s.tok_key IS NOT NULL THEN 'sha256:' || t.tok_sha256 WHEN s.uti IS NOT NULL THEN 'uti:' || s.uti END
               AS tkey
    FROM (SELECT DISTINCT sid, tok_key, CASE WHEN kind = 'entra_signin' THEN NULL ELSE uti END AS uti,
                 kind = 'entra_signin' AS signin
          FROM base WHERE tok_key IS NOT NULL OR (uti IS NOT NULL AND kind IS DISTINCT FROM 'entra_signin')) AS s
    LEFT JOIN tok_severity AS t ON t.tok_key = s.tok_key
),
tokens AS (
    SELECT sid, count(DISTINCT coalesce(CAST(tok_key AS VARCHAR), 'uti:' || uti)) AS tokens
    FROM subjects WHERE signin IS NOT TRUE GROUP BY sid
),
per AS (
    SELECT
        sid,
        min(t0) AS first_seen,
        max(t1) AS last_seen,
        sum(n) AS events,
        coalesce(sum(n) FILTER (WHERE kind = 'entra_signin'), 0) AS signins,
        list_sort(list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL)) AS ips,
        list_sort(list(DISTINCT country) FILTER (WHERE country IS NOT NULL)) AS countries,
        list_sort(list(DISTINCT user_agent) FILTER (WHERE user_agent IS NOT NULL)) AS user_agents,
        list_sort(list(DISTINCT device_id) FILTER (WHERE device_id IS NOT NULL)) AS devices,
        list_sort(list(DISTINCT app) FILTER (WHERE app IS NOT NULL)) AS apps,
        arg_min(usr, t0) FILTER (WHERE usr IS NOT NULL) AS usr
    FROM g
    GROUP BY sid
),
hit_rows AS (
    -- the rows an indicator fired on (row scope), with their session
    SELECT coalesce(e.session_id, t.sid) AS sid, i.code, i.sev_rank, i.evidence
    FROM row_indicators AS i
    JOIN events_rn AS e ON e.rn = i.rn
    LEFT JOIN tok_severity AS t ON t.tok_key = e.tok_key
),
hits AS (
    SELECT sid, code, max(sev_rank) AS sev_rank, min(evidence) AS evidence
    FROM (
        SELECT sid, code, sev_rank, evidence FROM hit_rows WHERE sid IS NOT NULL
        UNION ALL
        SELECT s.sid, i.code, i.sev_rank, i.evidence FROM subjects AS s JOIN token_indicators AS i USING (tkey)
        UNION ALL
        SELECT b.sid, i.code, i.sev_rank, i.evidence
        FROM base AS b
        JOIN (SELECT substr(tkey, 5) AS uti, code, sev_rank, evidence FROM token_indicators
              WHERE starts_with(tkey, 'uti:')) AS i ON i.uti = b.uti
        WHERE b.kind = 'entra_signin'
    )
    GROUP BY sid, code
),
said AS (
    -- codes worst first, then by name; evidence one sentence per code
    SELECT sid, max(sev_rank) AS sev_rank,
           array_to_string(list_transform(list_sort(list({'r': -sev_rank, 'c': code})), lambda x: x.c), ';')
               AS indicators,
           array_to_string(list_transform(list_sort(list({'r': -sev_rank, 'c': code, 'e': evidence})),
                                          lambda x: x.c || ': ' || x.e), ' | ') AS evidence
    FROM hits
    GROUP BY sid
)
SELECT
    p.sid AS session_id,
    coalesce(f.usr, p.usr) AS "user",
    coalesce(_severity_name(s.sev_rank), 'none') AS severity,
    coalesce(s.sev_rank, 0) AS sev_rank,
    coalesce(s.indicators, '') AS indicators,
    coalesce(s.evidence, '') AS evidence,
    coalesce(f.mfa, 'unknown') AS mfa,
    p.first_seen,
    p.last_seen,
    p.events,
    p.signins,
    coalesce(k.tokens, 0) AS tokens,
    p.ips,
    p.countries,
    p.user_agents,
    p.devices,
    p.apps
FROM per AS p
LEFT JOIN session_facts AS f ON f.sid = p.sid
LEFT JOIN said AS s ON s.sid = p.sid
LEFT JOIN tokens AS k ON k.sid = p.sid
