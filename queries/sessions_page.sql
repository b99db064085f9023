-- returns: one page of the Sessions pane (the `sessions` table built from sessions.sql), worst first, for the current filter (with the analyst's verdict, note and mark)
-- Parameters: the filter's (spliced at the marker), then LIMIT and OFFSET. The analyst's sort (`o`/`O`),
-- when there is one, goes at the ORDER marker ahead of the pane's own order, which then breaks its ties.
SELECT *
FROM sessions_marked
WHERE (/*FILTER*/ TRUE)
ORDER BY /*ORDER*/ sev_rank DESC, events DESC, first_seen, session_id  -- = scan.SESSIONS_ORDER
LIMIT ? OFFSET ?
