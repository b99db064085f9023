-- returns: one page of the Drift pane (the `drift` table built from drift.sql), highest score first, for the current filter
-- Parameters: the filter's (spliced at the marker), then LIMIT and OFFSET.
SELECT *
FROM drift
WHERE (/*FILTER*/ TRUE)
ORDER BY drift_score DESC, window_events DESC, "user"
LIMIT ? OFFSET ?
