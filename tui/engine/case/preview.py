"""The Tokens pane before the events are stored: every distinct token decoded, verified and checked.

Storing the rows (`work.materialise`'s `events_t`: ~6 of the ~18 s a 10M-row export takes to open,
bench/RESULTS.md) and counting their usage come before the full Tokens table can exist. The tokens
themselves are known earlier, once the loader has mapped each distinct bearer value (`_tok_map`).
`build_preview` runs there (`load(..., tokens_ready=…)`): it decodes and verifies the tokens
(`annotate.decode_tokens`, which annotate then does not repeat), fires the indicators that read a
token's claims, header and key alone (`CLAIM_CODES`: the stolen-key, signature, algorithm, header
and lifetime checks, what a forged Storm-0558 token shows) and builds the `tokens` table from them
through the same query as the full one (`queries/tokens.sql`), its usage columns (uses, first and
last seen, users, mailboxes, IPs, countries) empty. The full table replaces it once the rows are
stored and annotated; until then the analyst reads, filters and sorts the tokens (the TUI marks the
pane as pending, and refuses marks and drills).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from tui.engine.analyses.marks import ensure_marks
from tui.engine.analyses.sessions import pending_identity_tables
from tui.engine.case.context import Case
from tui.engine.core.queries import named_query
from tui.engine.indicators.catalogue import CLAIM_CODES, MACROS
from tui.engine.indicators.events_view import severity_name_macro
from tui.engine.indicators.run import run_catalogue, tok_table
from tui.engine.ingest.work import DISTINCT_TOKENS, first_token_text
from tui.engine.tokens.intel_tables import bad_key_table
from tui.engine.tokens.jwt_decode import build_claims
from tui.engine.tokens.subjects import pending_token_use
from tui.engine.tokens.verify import verify_tokens


def build_preview(
    con: duckdb.DuckDBPyConnection,
    case: Case,
    shown: Callable[[bool], object] | None = None,
) -> tuple[str, ...]:
    """Decode and verify the distinct tokens, fire `CLAIM_CODES`, build a `tokens` table of them.

    `case` carries the intel and the key lists (the loader's found ones included); returns
    `decode_tokens`' notes (for annotate's `decoded`). Call where `_tok_map` exists and
    `keep_token_text` has not run. `shown(checking)` is called once the table exists; when a key
    list's keys must check signatures (~25 µs a token: seconds at 300k tokens) it is called first
    with `checking` True, over a table whose tokens still to be checked say `sig = checking`, and
    again when they are checked."""
    intel = case.intel
    first_token_text(con)

    def table(c: duckdb.DuckDBPyConnection, checking: bool) -> None:
        c.execute(MACROS)
        tok_table(c)
        bad_key_table(c, intel)
        run_catalogue(c, CLAIM_CODES)
        severity_name_macro(c)
        pending_token_use(c)
        pending_identity_tables(c)
        c.execute(f"CREATE OR REPLACE TABLE tokens AS {named_query('tokens').sql}")
        ensure_marks(c)
        if shown is not None:
            shown(checking)

    # annotate's `decode_tokens`, with the table shown once the signatures' shapes are settled
    build_claims(con, DISTINCT_TOKENS)
    checking = None if shown is None else lambda c: table(c, True)
    notes = verify_tokens(con, case.key_lists, intel, checking)
    table(con, False)
    return notes


__all__ = ["CLAIM_CODES", "build_preview"]
