-- returns: one row per token subject (a distinct raw token, or a uti where only identifiers exist), unordered
-- (the pane's page query and the findings order them worst first; sorting the table here cost 0.8 s at 2M subjects)
-- Parameters: none. Reads the tables `token_use` (the rows grouped per subject), `token_claims` and `token_indicators` that annotate builds, and its `_severity_name` macro;
-- `signin_mfa`, `signin_span` and `session_facts` (indicators/identity.py) for each token's MFA provenance (SPEC §10):
-- the issuing sign-in's (uti), else its session's, else `no_issuance_record` when the loaded sign-ins cover its issue and none names it,
-- else `unknown` (a v2 token carries no `amr`: unknown, never "no MFA").
-- The raw token is not copied here: `tok_key` joins `token_claims.token` when secrets are asked for.
WITH ind AS (
    -- codes worst first, then by name: one unordered list per subject, sorted as (-rank, code) structs
    -- (string_agg(… ORDER BY …) buffered and sorted every group: 0.57 s at 300k subjects, this 0.20 s)
    SELECT
        tkey,
        sev_rank,
        array_to_string(list_transform(l, lambda x: x.c), ';') AS indicators,
        array_to_string(list_transform(l, lambda x: x.c || ': ' || x.e), ' | ') AS evidence
    FROM (
        SELECT tkey, max(sev_rank) AS sev_rank, list_sort(list({'r': -sev_rank, 'c': code, 'e': evidence})) AS l
        FROM token_indicators
        GROUP BY tkey
    )
),
used AS (
    -- token_use (annotate.py) grouped the rows once per subject, on the integer keys; the rows that
    -- name no user are the token's upn's, as the `events` view fills them. token_claims is joined
    -- once for the name and the claims (joined twice, the second join copied every claim: +0.8 s at
    -- 2M subjects)
    SELECT
        CASE WHEN g.tok_key IS NOT NULL THEN 'sha256:' || c.tok_sha256 ELSE 'uti:' || g.uti_key END AS tkey,
        g.tok_key,
        c.tok_sha256,
        coalesce(c.uti, g.row_uti) AS uti,
        c.kid,
        c.alg,
        c.iss,
        coalesce(c.tid, g.row_tid) AS tid,
        c.aud,
        coalesce(c.appid, g.row_appid) AS appid,
        c.upn,
        coalesce(c.oid, g.row_oid) AS oid,
        coalesce(c.iat, g.row_iat) AS iat,
        c.exp,
        c.sig,
        g.first_ts AS first_seen,
        g.last_ts AS last_seen,
        g.uses,
        CASE WHEN g.rows_without_user > 0 AND c.upn IS NOT NULL
             THEN list_sort(list_distinct(coalesce(g.users, []) || [lower(c.upn)])) ELSE g.users END AS users,
        g.mailboxes,
        g.ips,
        g.countries,
        c.amr,
        coalesce(c.sid, g.row_sid) AS session_id
    FROM token_use AS g
    LEFT JOIN token_claims AS c ON c.tok_key = g.tok_key
)
SELECT
    u.tkey,
    u.tok_sha256,
    u.uti,
    coalesce(_severity_name(i.sev_rank), 'none') AS severity,
    coalesce(i.sev_rank, 0) AS sev_rank,
    coalesce(i.indicators, '') AS indicators,
    coalesce(i.evidence, '') AS evidence,
    u.kid,
    u.alg,
    u.iss,
    u.tid,
    u.aud,
    u.appid,
    u.upn,
    u.oid,
    u.iat,
    u.exp,
    u.sig,
    u.first_seen,
    u.last_seen,
    u.uses,
    u.users,
    u.mailboxes,
    u.ips,
    u.countries,
    u.amr,
    CASE WHEN m.mfa <> 'unknown' THEN m.mfa
         WHEN f.mfa IS NOT NULL AND f.mfa <> 'unknown' THEN f.mfa
         WHEN m.uti IS NULL AND coalesce(u.iat, u.first_seen) BETWEEN sp.start_ts AND sp.end_ts
             THEN 'no_issuance_record'
         ELSE 'unknown' END AS mfa,
    u.session_id,
    u.tok_key
FROM used AS u
LEFT JOIN ind AS i ON i.tkey = u.tkey
LEFT JOIN signin_mfa AS m ON m.uti = u.uti
LEFT JOIN session_facts AS f ON f.sid = u.session_id
LEFT JOIN signin_span AS sp ON true
