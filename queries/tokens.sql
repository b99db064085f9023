-- returns: one row per token subject (a distinct raw token, or a uti where only identifiers exist), worst first, then by uses
-- Parameters: none. Reads the views `events_rows` (`events` without the token text), `token_claims` and `token_indicators` that annotate registers.
-- The raw token is not copied here: `tok_key` joins `token_claims.token` when secrets are asked for.
WITH ind AS (
    SELECT
        tkey,
        max(sev_rank) AS sev_rank,
        string_agg(code, ';' ORDER BY sev_rank DESC, code) AS indicators,
        string_agg(code || ': ' || evidence, ' | ' ORDER BY sev_rank DESC, code) AS evidence
    FROM token_indicators
    GROUP BY tkey
),
used AS (
    -- grouped on the integer keys (tok_key, or the uti of a row without a raw token) and named after:
    -- the per-row 'sha256:' text of events_rows.tkey is not built for 10M rows
    SELECT
        CASE WHEN g.tok_key IS NOT NULL THEN 'sha256:' || k.tok_sha256 ELSE 'uti:' || g.uti_key END AS tkey,
        g.* EXCLUDE (uti_key)
    FROM (
        SELECT
            tok_key,
            CASE WHEN tok_key IS NULL THEN token_id END AS uti_key,
            any_value(token_id) AS row_uti,
            any_value(token_tenant_id) AS row_tid,
            any_value(token_object_id) AS row_oid,
            min(token_iat) AS row_iat,
            min(ts) AS first_seen,
            max(ts) AS last_seen,
            count(*) AS uses,
            list_sort(list(DISTINCT "user") FILTER (WHERE "user" IS NOT NULL)) AS users,
            list_sort(list(DISTINCT mailbox) FILTER (WHERE mailbox IS NOT NULL)) AS mailboxes,
            list_sort(list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL)) AS ips,
            list_sort(list(DISTINCT country) FILTER (WHERE country IS NOT NULL)) AS countries
        FROM events_rows
        WHERE tok_key IS NOT NULL OR token_id IS NOT NULL
        GROUP BY 1, 2
    ) AS g
    LEFT JOIN (SELECT tok_key, tok_sha256 FROM token_claims) AS k ON k.tok_key = g.tok_key
)
SELECT
    u.tkey,
    c.tok_sha256,
    coalesce(c.uti, u.row_uti) AS uti,
    CASE WHEN i.sev_rank IS NULL THEN 'none'
         ELSE ['info', 'low', 'medium', 'high', 'critical'][i.sev_rank] END AS severity,
    coalesce(i.sev_rank, 0) AS sev_rank,
    coalesce(i.indicators, '') AS indicators,
    coalesce(i.evidence, '') AS evidence,
    c.kid,
    c.alg,
    c.iss,
    coalesce(c.tid, u.row_tid) AS tid,
    c.aud,
    c.appid,
    c.upn,
    coalesce(c.oid, u.row_oid) AS oid,
    coalesce(c.iat, u.row_iat) AS iat,
    c.exp,
    c.sig,
    u.first_seen,
    u.last_seen,
    u.uses,
    u.users,
    u.mailboxes,
    u.ips,
    u.countries,
    u.tok_key
FROM used AS u
LEFT JOIN token_claims AS c ON c.tok_key = u.tok_key
LEFT JOIN ind AS i ON i.tkey = u.tkey
ORDER BY coalesce(i.sev_rank, 0) DESC, u.uses DESC, u.first_seen, u.tkey
