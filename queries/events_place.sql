-- returns: the place (0-based) of the event with a given row number in the Events pane under the current filter: how many of its rows come before it (one row, column n)
-- Parameters: the filter's (spliced at the marker), then the row's rn.
SELECT count(*) AS n FROM events_marked WHERE (/*FILTER*/ TRUE) AND rn < ?
