-- returns: one page of the Mailboxes pane (the `mailboxes` table built from mailboxes.sql), worst first, for the current filter (with the analyst's verdict, note and mark)
-- Parameters: the filter's (spliced at the marker), then LIMIT and OFFSET.
SELECT *
FROM mailboxes_marked
WHERE (/*FILTER*/ TRUE)
ORDER BY sev_rank DESC, flagged_accesses DESC, accesses DESC, mailbox
LIMIT ? OFFSET ?
