-- returns: one row per user: what is new in the hunt window against the baseline, and a drift score, highest first
-- Parameters: baseline_start, baseline_end, window_start, window_end (TIMESTAMP, UTC). The baseline is
-- [baseline_start, baseline_end), the hunt window [window_start, window_end] (its end is the last event).
--
-- drift_score, for a user with baseline activity (rounded to 2 decimals):
--     3 × new countries
--   + 2 × new app ids + 2 × new client app ids
--   + 1 × min(new IPs, 5) + 1 × min(new user agents, 3)
--   + 4 × off-hours share (share of window events in UTC hours of the day the user never used in the baseline)
--   + 2 × min(log2(max(volume ratio, 1)), 3)   (volume ratio = window events/day ÷ baseline events/day)
-- A user with no baseline activity cannot drift from it: score 1 and the reason "no baseline activity".
-- Failed sign-ins (an error code, UAL UserLoginFailed) are left out: attempts against a user, not its behaviour.
-- `severity` and `indicators`: the worst identity indicator (SPEC §10) of the user's events and every identity
-- code fired on them (`user_identity`, analyses/sessions.py), so the pane is each user's whole picture.
-- `anomaly_score` and `anomalies`: the behaviour model's (SPEC §11, `model_users`, analyses/model.py): the sum
-- of the user's highest window-event anomalies in bits, and the top reasons with the counts behind them.
-- Order: hard evidence first (the worst identity or action indicator), then the model, then the fixed score.
WITH split AS (
    SELECT ?::TIMESTAMP AS bs, ?::TIMESTAMP AS be, ?::TIMESTAMP AS ws, ?::TIMESTAMP AS we
),
ev AS (
    -- the stored rows with the two fields a row's token fills in (as the `events` view does,
    -- events_view.py): the annotated `events_rows` joined every row's hits too, unread here
    SELECT coalesce(e."user", lower(t.upn)) AS u, e.ts, e.client_ip, e.country,
           coalesce(e.app_id, t.appid) AS app_id, e.client_app_id, e.user_agent, e.ts >= s.ws AS in_window
    FROM events_t AS e LEFT JOIN tok_severity AS t ON t.tok_key = e.tok_key, split AS s
    WHERE coalesce(e."user", lower(t.upn)) IS NOT NULL AND e.ts >= s.bs AND e.ts <= s.we AND (e.ts < s.be OR e.ts >= s.ws)
      -- a failed sign-in is an attempt against the user, not the user's behaviour (a password spray's
      -- attempts from one foreign IP must not make each target look drifted): PASSWORD_SPRAY reads them
      AND NOT ((e.kind = 'entra_signin' AND coalesce(e.status, '0') NOT IN ('0', 'Success', 'success'))
               OR lower(coalesce(e.operation, '')) = 'userloginfailed')
),
dims AS (
    SELECT u, ts, in_window, 'ip' AS dim, client_ip AS v FROM ev WHERE client_ip IS NOT NULL
    UNION ALL SELECT u, ts, in_window, 'country', country FROM ev WHERE country IS NOT NULL
    UNION ALL SELECT u, ts, in_window, 'app', app_id FROM ev WHERE app_id IS NOT NULL
    UNION ALL SELECT u, ts, in_window, 'client_app', client_app_id FROM ev WHERE client_app_id IS NOT NULL
    UNION ALL SELECT u, ts, in_window, 'ua', user_agent FROM ev WHERE user_agent IS NOT NULL
    UNION ALL SELECT u, ts, in_window, 'hour', CAST(hour(ts) AS VARCHAR) FROM ev
),
new_vals AS (
    -- one aggregation: a value is new when no baseline row has it (no DISTINCT + anti join)
    SELECT u, dim, v, first_seen, n
    FROM (
        SELECT u, dim, v, bool_or(NOT in_window) AS in_baseline,
               min(ts) FILTER (WHERE in_window) AS first_seen, count(*) FILTER (WHERE in_window) AS n
        FROM dims
        GROUP BY u, dim, v
    )
    WHERE NOT in_baseline
),
new_lists AS (
    SELECT
        u,
        list(v || ' (first ' || strftime(first_seen, '%Y-%m-%dT%H:%M:%SZ') || ')' ORDER BY first_seen, v)
            FILTER (WHERE dim = 'ip') AS new_ips,
        list(v || ' (first ' || strftime(first_seen, '%Y-%m-%dT%H:%M:%SZ') || ')' ORDER BY first_seen, v)
            FILTER (WHERE dim = 'country') AS new_countries,
        list(v || ' (first ' || strftime(first_seen, '%Y-%m-%dT%H:%M:%SZ') || ')' ORDER BY first_seen, v)
            FILTER (WHERE dim = 'app') AS new_app_ids,
        list(v || ' (first ' || strftime(first_seen, '%Y-%m-%dT%H:%M:%SZ') || ')' ORDER BY first_seen, v)
            FILTER (WHERE dim = 'client_app') AS new_client_app_ids,
        list(v || ' (first ' || strftime(first_seen, '%Y-%m-%dT%H:%M:%SZ') || ')' ORDER BY first_seen, v)
            FILTER (WHERE dim = 'ua') AS new_user_agents,
        coalesce(sum(n) FILTER (WHERE dim = 'hour'), 0) AS new_hour_events
    FROM new_vals
    GROUP BY u
),
per_user AS (
    SELECT
        u,
        count(*) FILTER (WHERE NOT in_window) AS baseline_events,
        count(*) FILTER (WHERE in_window) AS window_events
    FROM ev
    GROUP BY u
),
scored AS (
    SELECT
        p.u AS "user",
        p.baseline_events,
        p.window_events,
        coalesce(n.new_ips, []) AS new_ips,
        coalesce(n.new_countries, []) AS new_countries,
        coalesce(n.new_app_ids, []) AS new_app_ids,
        coalesce(n.new_client_app_ids, []) AS new_client_app_ids,
        coalesce(n.new_user_agents, []) AS new_user_agents,
        CASE WHEN p.window_events > 0 THEN coalesce(n.new_hour_events, 0) / p.window_events ELSE 0 END
            AS off_hours_share,
        CASE WHEN p.baseline_events > 0
             THEN (p.window_events / greatest(epoch(s.we - s.ws) / 86400, 1e-9))
                / (p.baseline_events / greatest(epoch(s.be - s.bs) / 86400, 1e-9))
        END AS volume_ratio,
        s.bs, s.be, s.ws, s.we
    FROM per_user AS p
    CROSS JOIN split AS s
    LEFT JOIN new_lists AS n ON n.u = p.u
    WHERE p.window_events > 0
)
SELECT
    "user",
    CASE WHEN baseline_events = 0 THEN 1.0 ELSE round(
          3 * len(new_countries)
        + 2 * len(new_app_ids) + 2 * len(new_client_app_ids)
        + least(len(new_ips), 5) + least(len(new_user_agents), 3)
        + 4 * off_hours_share
        + 2 * least(log2(greatest(volume_ratio, 1)), 3), 2) END AS drift_score,
    CASE WHEN baseline_events = 0 THEN 'no baseline activity' ELSE concat_ws('; ',
        CASE WHEN len(new_countries) > 0 THEN len(new_countries) || CASE WHEN len(new_countries) = 1 THEN ' new country' ELSE ' new countries' END END,
        CASE WHEN len(new_app_ids) > 0 THEN len(new_app_ids) || CASE WHEN len(new_app_ids) = 1 THEN ' new app id' ELSE ' new app ids' END END,
        CASE WHEN len(new_client_app_ids) > 0 THEN len(new_client_app_ids) || CASE WHEN len(new_client_app_ids) = 1 THEN ' new client app id' ELSE ' new client app ids' END END,
        CASE WHEN len(new_ips) > 0 THEN len(new_ips) || CASE WHEN len(new_ips) = 1 THEN ' new IP' ELSE ' new IPs' END END,
        CASE WHEN len(new_user_agents) > 0 THEN len(new_user_agents) || CASE WHEN len(new_user_agents) = 1 THEN ' new user agent' ELSE ' new user agents' END END,
        CASE WHEN off_hours_share >= 0.005
             THEN CAST(round(100 * off_hours_share) AS INTEGER) || '% in never-used hours' END,
        CASE WHEN volume_ratio >= 2 THEN 'volume ×' || round(volume_ratio, 1) END) END AS reasons,
    new_ips,
    new_countries,
    new_app_ids,
    new_client_app_ids,
    new_user_agents,
    round(off_hours_share, 3) AS off_hours_share,
    round(volume_ratio, 2) AS volume_ratio,
    baseline_events,
    window_events,
    bs AS baseline_start,
    be AS baseline_end,
    ws AS window_start,
    we AS window_end,
    coalesce(i.severity, 'none') AS severity,
    coalesce(i.indicators, '') AS indicators,
    coalesce(m.anomaly_score, 0)::DOUBLE AS anomaly_score,
    coalesce(m.anomalies, '') AS anomalies,
    coalesce(i.sev_rank, 0) AS sev_rank
FROM scored
LEFT JOIN user_identity AS i USING ("user")
LEFT JOIN model_users AS m USING ("user")
ORDER BY sev_rank DESC, anomaly_score DESC, drift_score DESC, window_events DESC, "user"
