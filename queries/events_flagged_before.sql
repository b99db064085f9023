-- returns: the row number (rn) of the last flagged event (severity medium or worse) before a given row under the current filter (one row; NULL when none)
-- Parameters: the filter's (spliced at the marker), then the current row's rn and the flagged rank.
SELECT max(rn) AS rn FROM events_marked WHERE (/*FILTER*/ TRUE) AND rn < ? AND sev_rank >= ?
