-- returns: one page of the Drift pane (the `drift` table built from drift.sql), highest score first, for the current filter (with the analyst's verdict, note and mark)
-- Parameters: the filter's (spliced at the marker), then LIMIT and OFFSET.
SELECT *
FROM drift_marked
WHERE (/*FILTER*/ TRUE)
ORDER BY drift_score DESC, window_events DESC, "user"
LIMIT ? OFFSET ?
