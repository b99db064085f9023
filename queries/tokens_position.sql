-- returns: the place (0-based, column n) of one token subject in the Tokens pane's order under the current filter; no row when the filter leaves it out
-- Parameters: the filter's (spliced at the marker), then the subject's tkey.
-- The order is tokens_page.sql's (= scan.TOKENS_ORDER; tests/test_tui_preview.py checks they agree).
SELECT n
FROM (
    SELECT tkey, row_number() OVER (ORDER BY sev_rank DESC, uses DESC, first_seen, tok_sha256 NULLS LAST, uti) - 1 AS n
    FROM tokens_marked
    WHERE (/*FILTER*/ TRUE)
)
WHERE tkey = ?
