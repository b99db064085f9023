-- returns: one row per mailbox read by a raw token (the mailbox the request names) or in a MailItemsAccessed record, worst first
-- Parameters: none. An access is "flagged" when its event is at severity medium or worse (sev_rank >= 3);
-- a mailbox's severity is the worst severity of any event on it, i.e. of the worst token used on it.
WITH acc AS (
    SELECT
        mailbox,
        ts,
        tok_key,
        CASE WHEN tok_key IS NULL THEN token_id END AS uti,
        sev_rank,
        indicators,
        coalesce(items, 1) AS items,
        "user" AS identity,
        client_ip,
        coalesce(client_app_id, app_id) AS app
    FROM events_rows
    WHERE mailbox IS NOT NULL
      AND (tok_key IS NOT NULL OR operation = 'MailItemsAccessed')
),
codes AS (
    SELECT mailbox, string_agg(DISTINCT code, ';' ORDER BY code) AS indicators
    FROM (SELECT mailbox, unnest(string_split(indicators, ';')) AS code
          FROM (SELECT DISTINCT mailbox, indicators FROM acc WHERE indicators <> ''))
    GROUP BY mailbox
)
SELECT
    a.mailbox,
    CASE WHEN max(a.sev_rank) IS NULL OR max(a.sev_rank) = 0 THEN 'none'
         ELSE ['info', 'low', 'medium', 'high', 'critical'][max(a.sev_rank)] END AS severity,
    coalesce(max(a.sev_rank), 0) AS sev_rank,
    coalesce(any_value(c.indicators), '') AS indicators,
    count(*) AS accesses,
    sum(a.items) AS items,
    count(*) FILTER (WHERE a.sev_rank >= 3) AS flagged_accesses,
    -- distinct token subjects (tkey), counted on the integer key: the 'sha256:' text per row cost ~2 s at 10M
    count(DISTINCT a.tok_key) FILTER (WHERE a.sev_rank >= 3)
        + count(DISTINCT a.uti) FILTER (WHERE a.sev_rank >= 3 AND a.tok_key IS NULL) AS flagged_tokens,
    min(a.ts) AS first_access,
    max(a.ts) AS last_access,
    list_sort(list(DISTINCT a.identity) FILTER (WHERE a.identity IS NOT NULL)) AS identities,
    list_sort(list(DISTINCT a.client_ip) FILTER (WHERE a.client_ip IS NOT NULL)) AS ips,
    list_sort(list(DISTINCT a.app) FILTER (WHERE a.app IS NOT NULL)) AS app_ids
FROM acc AS a
LEFT JOIN codes AS c ON c.mailbox = a.mailbox
GROUP BY a.mailbox
ORDER BY coalesce(max(a.sev_rank), 0) DESC, flagged_accesses DESC, accesses DESC, a.mailbox
