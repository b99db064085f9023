-- returns: one page of the Tokens pane (the `tokens` table built from tokens.sql), worst first, for the current filter (with the analyst's verdict, note and mark)
-- Parameters: the filter's (spliced at the marker), then LIMIT and OFFSET. The analyst's sort (`o`/`O`),
-- when there is one, goes at the ORDER marker ahead of the pane's own order, which then breaks its ties.
SELECT * EXCLUDE (tok_key)
FROM tokens_marked
WHERE (/*FILTER*/ TRUE)
ORDER BY /*ORDER*/ sev_rank DESC, uses DESC, first_seen, tok_sha256 NULLS LAST, uti  -- = tkey (scan.TOKENS_ORDER)
LIMIT ? OFFSET ?
