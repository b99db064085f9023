-- returns: the number of rows of the `drift` table that match the current filter (one row, column n)
-- Parameters: the filter's (spliced at the marker).
SELECT count(*) AS n FROM drift_marked WHERE (/*FILTER*/ TRUE)
