-- returns: one row per mailbox read by a raw token (the mailbox the request names) or in a MailItemsAccessed record, worst first
-- Parameters: none. An access is "flagged" when its event is at severity medium or worse (sev_rank >= 3);
-- a mailbox's severity is the worst severity of any event on it, i.e. of the worst token used on it.
-- Reads `events_rn` (`events_t` with each row's `rn`) with the tables and macros the `events` view uses
-- (tok_severity, uti_severity, row_severity, which is keyed by `rn` and names its codes by a number
-- `cs` in row_codesets):
-- the rows are first grouped on what decides their annotations and fields (mailbox, token, uti, the
-- row's own hits, user, app), ~800k groups at 10M rows, and each group is annotated once, as
-- events_view.py annotates a row. Reading the lazily annotated `events_rows` instead materialised
-- 10M annotated rows in a CTE and scanned it seven times (6.1 s at 10M; this: bench/RESULTS.md).
WITH mail AS NOT MATERIALIZED (
    -- the rows this pane counts: a mailbox read with a raw token, or a MailItemsAccessed record
    SELECT * FROM events_rn
    WHERE mailbox IS NOT NULL AND (tok_key IS NOT NULL OR operation = 'MailItemsAccessed')
),
acc_rows AS (
    SELECT
        e.mailbox,
        e.ts,
        e.tok_key,
        CASE WHEN e.tok_key IS NULL THEN e.token_id END AS uti,
        e.items,
        e."user",
        e.app_id,
        e.client_app_id,
        r.sev_rank AS row_rank,
        r.cs AS row_cs
    FROM mail AS e
    LEFT JOIN row_severity AS r ON r.rn = e.rn
),
grouped AS (
    SELECT
        mailbox, tok_key, uti, "user", app_id, client_app_id, row_rank, row_cs,
        count(*) AS n,
        sum(coalesce(items, 1)) AS items,
        min(ts) AS first_ts,
        max(ts) AS last_ts
    FROM acc_rows
    GROUP BY ALL
),
acc AS (
    -- a group's annotations, with the macros events_view.py annotates a row with
    SELECT
        g.mailbox,
        g.tok_key,
        g.uti,
        g.n,
        g.items,
        g.first_ts,
        g.last_ts,
        _event_rank(t.sev_rank, u.sev_rank, g.row_rank) AS sev_rank,
        _event_indicators(t.indicators, t.codes, u.sev_rank, u.codes, g.row_rank, c.codes) AS indicators,
        coalesce(g."user", lower(t.upn)) AS identity,
        coalesce(g.client_app_id, g.app_id, t.appid) AS app
    FROM grouped AS g
    LEFT JOIN tok_severity AS t ON t.tok_key = g.tok_key
    LEFT JOIN uti_severity AS u ON u.uti = g.uti
    LEFT JOIN row_codesets AS c ON c.cs = g.row_cs
),
codes AS (
    SELECT mailbox, string_agg(DISTINCT code, ';' ORDER BY code) AS indicators
    FROM (SELECT mailbox, unnest(string_split(indicators, ';')) AS code
          FROM (SELECT DISTINCT mailbox, indicators FROM acc WHERE indicators <> ''))
    GROUP BY mailbox
),
ips AS (
    SELECT mailbox, list_sort(list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL)) AS ips
    FROM mail
    GROUP BY mailbox
),
folders AS (
    -- the folders its mail-access records name (`Folders[].Path`; a request names none)
    SELECT mailbox, list_sort(list(DISTINCT folder)) AS folders
    FROM (SELECT mailbox, unnest(string_split(folders, '; ')) AS folder FROM mail WHERE folders IS NOT NULL)
    GROUP BY mailbox
),
per_mailbox AS (
    SELECT
        a.mailbox,
        max(a.sev_rank) AS sev_rank,
        CAST(sum(a.n) AS BIGINT) AS accesses,
        sum(a.items) AS items,
        CAST(coalesce(sum(a.n) FILTER (WHERE a.sev_rank >= 3), 0) AS BIGINT) AS flagged_accesses,
        -- distinct token subjects (tkey), counted on the integer key
        count(DISTINCT a.tok_key) FILTER (WHERE a.sev_rank >= 3)
            + count(DISTINCT a.uti) FILTER (WHERE a.sev_rank >= 3 AND a.tok_key IS NULL) AS flagged_tokens,
        min(a.first_ts) AS first_access,
        max(a.last_ts) AS last_access,
        list_sort(list(DISTINCT a.identity) FILTER (WHERE a.identity IS NOT NULL)) AS identities,
        list_sort(list(DISTINCT a.app) FILTER (WHERE a.app IS NOT NULL)) AS app_ids
    FROM acc AS a
    GROUP BY a.mailbox
)
SELECT
    m.mailbox,
    coalesce(_severity_name(m.sev_rank), 'none') AS severity,
    coalesce(m.sev_rank, 0) AS sev_rank,
    coalesce(c.indicators, '') AS indicators,
    m.accesses,
    m.items,
    f.folders,
    m.flagged_accesses,
    m.flagged_tokens,
    m.first_access,
    m.last_access,
    m.identities,
    i.ips,
    m.app_ids
FROM per_mailbox AS m
LEFT JOIN codes AS c ON c.mailbox = m.mailbox
LEFT JOIN ips AS i ON i.mailbox = m.mailbox
LEFT JOIN folders AS f ON f.mailbox = m.mailbox
ORDER BY coalesce(m.sev_rank, 0) DESC, m.flagged_accesses DESC, m.accesses DESC, m.mailbox
