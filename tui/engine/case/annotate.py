"""Stage 2 of the engine contract: decode, verify, run the indicator catalogue, register `events`.

Design for 10M rows. The loader (`load(..., materialise=True)`, `tui.engine.ingest.work`) writes the
inputs once into `events_t`: every event column but the token text, plus `tok_key = hash(token)`
(UBIGINT), compressed in a DuckDB file in the spill directory; the token text lives once per
*distinct* token in `token_text` (`work.keep_token_text`), and every join is on `tok_key`.
`events_base` is re-pointed at `events_t`, so no later query re-reads or re-normalises the inputs
(bench/RESULTS.md). After the indicators, every row's annotations (with the row's place `rn` in the
Events pane's order) are joined as rows are read or stored once in `events_a` (work database;
`tui.engine.indicators.events_view`); the `events` view reads them and joins only the token text
(`events_rows` is the same without the text, for the analyses):

- `token_claims`   one row per distinct bearer value: its decoded fields, `token_length`, `readable`
  (the header and claims segments decode; their JSON text is decoded again where it is shown,
  `jwt_decode.json_text_sql`), `decode_error`; `sig` filled by verify. No text of the token itself.
- `token_text(tok_key, token)`: the raw token, once per key.
- `token_stats(tok_key UBIGINT, uses BIGINT, first_ts TIMESTAMP, last_ts TIMESTAMP)`.
- `token_use`: one row per subject with its uses, times and sorted user/mailbox/IP/country lists
  (`tui.engine.tokens.subjects`; the Tokens table and the indicators' `_subject` are built from it).
- `token_keys(tok_key UBIGINT, sig VARCHAR, jwk_issuer VARCHAR, jwk_source VARCHAR)`: the JWK used.
- `token_indicators(tkey, code, severity, sev_rank, evidence)`: one row per indicator per subject,
  row-scope indicators rolled up to their subject ("N rows, e.g. …").
- `row_indicators(source, source_row, tkey, code, severity, sev_rank, evidence, rn)`: row-scope hits
  (`rn`: the row's place in the Events pane's order, the integer key the per-row joins use).
- `tok_severity(tok_key, tok_sha256, sev_rank, codes)`, `uti_severity(uti, sev_rank, codes)`,
  `row_severity(rn, sev_rank, cs)`: what the `events` view joins, with `row_codesets(cs, codes)`
  (`codes` is a list of `<5-rank><code>` strings so a plain sort orders by severity, then code;
  one row per distinct list, so no row carries a list of its own).
- view `events`: `events_base.*` + `tok_key`, `tok_sha256`, `tkey`, `sev_rank`, `severity`,
  `indicators`, `rn` (0-based row number in (ts NULLS LAST, source, source_row) order: events_t's
  storage order, kept nearly in events_a's, so a page is an `rn` range that zone maps find). Where
  a row carries a raw token, the fields its log left empty are filled from the token's claims
  (`user` ← upn, `app_id` ← appid, `session_id` ← sid, `token_id` ← uti, `token_tenant_id` ← tid,
  `token_object_id` ← oid, `token_iat` ← iat): a gateway log names no user, but every analysis
  (drift above all) needs to know whose token made the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from tui.engine.analyses.model import set_model_options
from tui.engine.case.context import Case
from tui.engine.core.schema import EVENT_COLUMNS
from tui.engine.core.sql import ident as quote_ident
from tui.engine.indicators.catalogue import CLAIM_CODES
from tui.engine.indicators.events_view import register_events
from tui.engine.indicators.org import Org, infer_org
from tui.engine.indicators.run import prepare, run_catalogue
from tui.engine.indicators.split import Split, drift_split
from tui.engine.ingest.gaps import gap_notes
from tui.engine.ingest.repeats import repeated_records
from tui.engine.ingest.work import DISTINCT_TOKENS, exists, keep_token_text, materialise
from tui.engine.tokens.intel import Intel
from tui.engine.tokens.jwt_decode import build_claims
from tui.engine.tokens.verify import KeyLists, verify_tokens

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Annotation:
    """What annotate found: the organisation, the split, and counts for the summary."""

    org: Org
    split: Split
    intel_version: str
    jwks_files: tuple[Path, ...]
    key_lists_used: tuple[Path, ...]  # those of `jwks_files` that gave keys
    tokens: int
    malformed: int
    signatures: tuple[tuple[str, int], ...]
    indicator_counts: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]


def _say(progress: Progress | None, text: str, done: float) -> None:
    if progress is not None:
        progress(text, done)


def annotate(
    case: Case,
    report: Any,
    progress: Progress | None = None,
    *,
    materialise_events: bool = True,
    decoded: tuple[str, ...] | None = None,
    verify: Verify | None = None,
) -> Annotation:
    """Decode every distinct token, verify it, fire the catalogue and register the `events` view.

    `case`: the context of this open or scan (its intel, and its key lists once `with_key_lists`
    has seen the inputs' JWKS files; they are read here only if nobody read them before).
    Without `materialise_events`, `events` joins every row's annotations as it is read (`triage scan`
    reads it three times, in grouped passes, and never pages it); `events_view.materialise_events(con)` stores
    them later (the TUI does, once its first panes are on screen). `decoded` (the notes
    `preview.build_preview` returned) says the loader's `tokens_ready` already decoded and verified
    the tokens on this connection, built its `_tok` and fired the `CLAIM_CODES` indicators.
    `verify`: what fills `token_keys` and `sig` (`verify_tokens`; the Spark engine's runs the same
    checks in a pandas UDF over the distinct tokens: `tui.engine.spark.tokens`)."""
    con, options = case.con, case.options
    previewed = decoded is not None
    case = case.with_key_lists(getattr(report, "jwks_files", ()))
    rows = f"{getattr(report, 'rows', 0):,} events"
    _say(progress, f"reading {rows}", 0.0)
    _materialise(con)
    keep_token_text(con)
    if decoded is None:
        if progress is not None:  # a count of the distinct tokens: what "how far" is measured in
            (tokens,) = con.execute("SELECT count(*) FROM _tok_map").fetchone() or (0,)
            _say(progress, f"decoding and verifying {tokens:,} distinct tokens", 0.1)
        decoded = decode_tokens(con, case.key_lists, case.intel, verify or verify_tokens)
    _rebase(con, with_token=False)
    notes = (
        list(decoded)
        + list(case.intel.notes)
        + gap_notes(con)
        + [r.text() for r in repeated_records(con, getattr(report, "files", ()))]
    )
    org = infer_org(con, options)
    split = drift_split(con, options)
    _say(progress, f"running indicators on {rows}", 0.5)
    prepare(con, case.intel, org, split, options, previewed=previewed)
    run_catalogue(con, kept=CLAIM_CODES if previewed else ())
    register_events(con, materialise=materialise_events)
    set_model_options(con, options)
    _rebase(con)
    _say(progress, "annotated", 1.0)
    return _summary(con, org, split, case.intel, case.key_lists, notes)


Verify = Callable[[duckdb.DuckDBPyConnection, KeyLists, Intel], tuple[str, ...]]


def decode_tokens(
    con: duckdb.DuckDBPyConnection, key_lists: KeyLists, intel: Intel, verify: Verify | None = None
) -> tuple[str, ...]:
    """`token_claims` from `token_text`, then `token_keys` and each token's `sig` (checked against the
    case's `key_lists`); notes on unreadable key lists.

    Reads only the distinct tokens, so it runs before or after the rows are stored (the TUI's Tokens
    pane shows what it found before the loader writes `events_t`: `tui.engine.case.preview`)."""
    build_claims(con, DISTINCT_TOKENS)
    return (verify or verify_tokens)(con, key_lists, intel)


def _materialise(con: duckdb.DuckDBPyConnection) -> None:
    """`events_t`, `token_stats` and the distinct tokens, unless the loader already made them."""
    if not (exists(con, "events_t", "view") and exists(con, "_tok_map")):
        materialise(con)


def _rebase(con: duckdb.DuckDBPyConnection, with_token: bool = True) -> None:
    """Point the loader's `events_base` view at `events_t`, so org, split and verify read it cheaply too.

    While annotating, the view has `tok_key` instead of the `token` column: DuckDB keeps a LEFT
    JOIN whose columns are unused, and joining the token text (300k × 1.3 KB) into every org/split
    query cost seconds at 10M rows. The finished view (`with_token`) has every event column again.
    """
    if not con.execute("SELECT 1 FROM duckdb_views() WHERE view_name = 'events_base'").fetchall():
        return  # a table someone built by hand (triage decode): leave it
    if not with_token:
        cols = ", ".join(f"b.{quote_ident(n)}" for n, _ in EVENT_COLUMNS if n != "token")
        con.execute(f"CREATE OR REPLACE VIEW events_base AS SELECT {cols}, b.tok_key FROM events_t b")
        return
    cols = ", ".join("c.token" if n == "token" else f"b.{quote_ident(n)}" for n, _ in EVENT_COLUMNS)
    con.execute(
        f"""CREATE OR REPLACE VIEW events_base AS SELECT {cols}
        FROM events_t b LEFT JOIN token_text c ON c.tok_key = b.tok_key"""
    )


def _summary(
    con: duckdb.DuckDBPyConnection,
    org: Org,
    split: Split,
    intel: Intel,
    key_lists: KeyLists,
    notes: list[str],
) -> Annotation:
    row = con.execute("SELECT count(*), count(decode_error) FROM token_claims").fetchone()
    tokens, malformed = row if row else (0, 0)
    sigs = con.execute(
        "SELECT sig, count(*) FROM token_claims WHERE sig IS NOT NULL GROUP BY 1 ORDER BY 1"
    ).fetchall()
    counts = con.execute(
        "SELECT code, count(*) FROM token_indicators GROUP BY code ORDER BY max(sev_rank) DESC, code"
    ).fetchall()
    return Annotation(
        org=org,
        split=split,
        intel_version=intel.version,
        jwks_files=key_lists.paths,
        key_lists_used=key_lists.used,
        tokens=int(tokens),
        malformed=int(malformed),
        signatures=tuple((str(s), int(n)) for s, n in sigs),
        indicator_counts=tuple((str(c), int(n)) for c, n in counts),
        notes=tuple(notes),
    )
