-- returns: the number of rows of the `mailboxes` table that match the current filter (one row, column n)
-- Parameters: the filter's (spliced at the marker).
SELECT count(*) AS n FROM mailboxes_marked WHERE (/*FILTER*/ TRUE)
