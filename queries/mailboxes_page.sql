-- returns: one page of the Mailboxes pane (the `mailboxes` table built from mailboxes.sql), worst first, for the current filter (with the analyst's verdict, note and mark)
-- Parameters: the filter's (spliced at the marker), then LIMIT and OFFSET. The analyst's sort (`o`/`O`),
-- when there is one, goes at the ORDER marker ahead of the pane's own order, which then breaks its ties.
SELECT *
FROM mailboxes_marked
WHERE (/*FILTER*/ TRUE)
ORDER BY /*ORDER*/ sev_rank DESC, flagged_accesses DESC, accesses DESC, mailbox
LIMIT ? OFFSET ?
