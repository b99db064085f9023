-- returns: one page of the Tokens pane (the `tokens` table built from tokens.sql), worst first, for the current filter (with the analyst's verdict, note and mark)
-- Parameters: the filter's (spliced at the marker), then LIMIT and OFFSET.
SELECT * EXCLUDE (tok_key)
FROM tokens_marked
WHERE (/*FILTER*/ TRUE)
ORDER BY sev_rank DESC, uses DESC, first_seen, tok_sha256 NULLS LAST, uti  -- = tkey (scan.TOKENS_ORDER)
LIMIT ? OFFSET ?
