-- returns: one page of the Drift pane (the `drift` table built from drift.sql), hard evidence first, then the behaviour model's score, then the fixed drift score, for the current filter (with the analyst's verdict, note and mark)
-- Parameters: the filter's (spliced at the marker), then LIMIT and OFFSET. The analyst's sort (`o`/`O`),
-- when there is one, goes at the ORDER marker ahead of the pane's own order, which then breaks its ties.
SELECT *
FROM drift_marked
WHERE (/*FILTER*/ TRUE)
ORDER BY /*ORDER*/ sev_rank DESC, anomaly_score DESC, drift_score DESC, window_events DESC, "user"
LIMIT ? OFFSET ?
