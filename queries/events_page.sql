-- returns: one page of events with their annotations, in time order, for the current filter (with the analyst's verdict, note and mark)
-- Parameters: the filter's (spliced at the marker), then LIMIT and OFFSET.
SELECT
    ts, severity, indicators, anomaly, kind, operation, "user", mailbox, client_ip, country, user_agent,
    app_id, client_app_id, session_id, token_id, token_tenant_id, token_object_id, token_iat,
    items, access_type, folders, status, verdict, note, mark, tok_sha256, tkey, sev_rank, source, source_row, rn
FROM events_marked
WHERE (/*FILTER*/ TRUE)
-- rn numbers the rows by (ts NULLS LAST, source, source_row) and the table is stored in that order
ORDER BY rn
LIMIT ? OFFSET ?
