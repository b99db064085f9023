-- returns: the number of events that match the current filter (one row, column n)
-- Parameters: the filter's (spliced at the marker).
SELECT count(*) AS n FROM events_marked WHERE (/*FILTER*/ TRUE)
