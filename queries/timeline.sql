-- returns: events per hour (UTC) for the current filter, with how many of them are flagged (severity medium or worse)
-- Parameters: those of the filter spliced in at the marker (its WHERE clause compiled to `?` placeholders).
SELECT
    time_bucket(INTERVAL 1 HOUR, ts) AS hour,
    count(*) AS events,
    count(*) FILTER (WHERE sev_rank >= 3) AS flagged
FROM events_marked
WHERE ts IS NOT NULL AND (/*FILTER*/ TRUE)
GROUP BY hour
ORDER BY hour
