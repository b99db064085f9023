-- returns: the number of rows of the `sessions` table that match the current filter (one row, column n)
-- Parameters: the filter's (spliced at the marker).
SELECT count(*) AS n FROM sessions_marked WHERE (/*FILTER*/ TRUE)
