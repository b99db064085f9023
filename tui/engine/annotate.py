"""Stage 2 of the engine contract: decode, verify, run the indicator catalogue, register `events`.

Design for 10M rows. The loader (`load(..., materialise=True)`, `tui.engine.work`) writes the
inputs once into `events_t`: every event column but the token text, plus `tok_key = hash(token)`
(UBIGINT), compressed in a DuckDB file in the spill directory; the token text lives once per
*distinct* token in `token_text` (`work.keep_token_text`), and every join is on `tok_key`.
`events_base` is re-pointed at `events_t`, so no later query re-reads or re-normalises the inputs
(bench/RESULTS.md). After the indicators, every row's annotations (with the row's place `rn` in the
Events pane's order) are joined as rows are read or stored once in `events_a` (work database;
`tui.engine.events_view`); the `events` view reads them and joins only the token text (`events_rows`
is the same without the text, for the analyses):

- `token_claims`   one row per distinct bearer value: its decoded fields, `token_length`, `readable`
  (the header and claims segments decode; their JSON text is decoded again where it is shown,
  `jwt_decode.json_text_sql`), `decode_error`; `sig` filled by verify. No text of the token itself.
- `token_text(tok_key, token)`: the raw token, once per key.
- `token_stats(tok_key UBIGINT, uses BIGINT, first_ts TIMESTAMP, last_ts TIMESTAMP)`.
- `token_use`: one row per subject with its uses, times and sorted user/mailbox/IP/country lists
  (`tui.engine.subjects`; the Tokens table and the indicators' `_subject` are built from it).
- `token_keys(tok_key UBIGINT, sig VARCHAR, jwk_issuer VARCHAR, jwk_source VARCHAR)`: the JWK used.
- `token_indicators(tkey, code, severity, sev_rank, evidence)`: one row per indicator per subject,
  row-scope indicators rolled up to their subject ("N rows, e.g. …").
- `row_indicators(source, source_row, tkey, code, severity, sev_rank, evidence)`: row-scope hits.
- `tok_severity(tok_key, tok_sha256, sev_rank, codes)`, `uti_severity(uti, sev_rank, codes)`,
  `row_severity(source, source_row, sev_rank, codes)`: what the `events` view joins (`codes` is a
  list of `<5-rank><code>` strings so a plain sort orders by severity, then code).
- view `events`: `events_base.*` + `tok_key`, `tok_sha256`, `tkey`, `sev_rank`, `severity`,
  `indicators`, `rn` (0-based row number in (ts NULLS LAST, source, source_row) order: events_t's
  storage order, kept nearly in events_a's, so a page is an `rn` range that zone maps find). Where
  a row carries a raw token, the fields its log left empty are filled from the token's claims
  (`user` ← upn, `app_id` ← appid, `session_id` ← sid, `token_id` ← uti, `token_tenant_id` ← tid,
  `token_object_id` ← oid, `token_iat` ← iat): a gateway log names no user, but every analysis
  (drift above all) needs to know whose token made the request.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from tui.engine.events_view import events_materialised, register_events
from tui.engine.gaps import gap_notes
from tui.engine.indicators import CATALOGUE, CLAIM_CODES, MACROS
from tui.engine.intel import Intel, load_intel
from tui.engine.intel_tables import intel_tables
from tui.engine.jwt_decode import build_claims
from tui.engine.options import Options
from tui.engine.org import Org, infer_org
from tui.engine.repeats import repeated_records
from tui.engine.schema import EVENT_COLUMNS, Kind
from tui.engine.split import Split, drift_split
from tui.engine.sql import ident as quote_ident
from tui.engine.subjects import build_subject, build_token_use
from tui.engine.verify import verify_tokens
from tui.engine.work import DISTINCT_TOKENS, exists, keep_token_text, materialise

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Annotation:
    """What annotate found: the organisation, the split, and counts for the summary."""

    org: Org
    split: Split
    intel_version: str
    jwks_files: tuple[Path, ...]
    tokens: int
    malformed: int
    signatures: tuple[tuple[str, int], ...]
    indicator_counts: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]


def _say(progress: Progress | None, text: str, done: float) -> None:
    if progress is not None:
        progress(text, done)


def annotate(
    con: duckdb.DuckDBPyConnection,
    report: Any,
    options: Options,
    progress: Progress | None = None,
    *,
    materialise_events: bool = True,
    decoded: tuple[str, ...] | None = None,
) -> Annotation:
    """Decode every distinct token, verify it, fire the catalogue and register the `events` view.

    Without `materialise_events`, `events` joins every row's annotations as it is read (`triage scan`
    reads it three times, in grouped passes, and never pages it); `events_view.materialise_events(con)` stores
    them later (the TUI does, once its first panes are on screen). `decoded` (the notes
    `preview.build_preview` returned) says the loader's `tokens_ready` already decoded and verified
    the tokens on this connection, built its `_tok` and fired the `CLAIM_CODES` indicators."""
    previewed = decoded is not None
    intel = load_intel(tuple(options.iocs))
    jwks = key_lists(options, getattr(report, "jwks_files", ()))
    _say(progress, "reading events", 0.0)
    _materialise(con)
    keep_token_text(con)
    if decoded is None:
        _say(progress, "decoding and verifying tokens", 0.1)
        decoded = decode_tokens(con, jwks, intel)
    _rebase(con, with_token=False)
    notes = (
        list(decoded)
        + list(intel.notes)
        + gap_notes(con)
        + [r.text() for r in repeated_records(con, getattr(report, "files", ()))]
    )
    org = infer_org(con, options)
    split = drift_split(con, options)
    _say(progress, "running indicators", 0.5)
    _prepare(con, intel, org, split, options, previewed=previewed)
    run_catalogue(con, kept=CLAIM_CODES if previewed else ())
    register_events(con, materialise=materialise_events)
    _rebase(con)
    _say(progress, "annotated", 1.0)
    return _summary(con, org, split, intel, jwks, notes)


def key_lists(options: Options, found: Sequence[Path]) -> tuple[Path, ...]:
    """The key lists to verify with: `--jwks` files, then those found among the inputs, once each."""
    return tuple(dict.fromkeys([*map(Path, options.jwks), *map(Path, found)]))


def decode_tokens(con: duckdb.DuckDBPyConnection, jwks: tuple[Path, ...], intel: Intel) -> tuple[str, ...]:
    """`token_claims` from `token_text`, then `token_keys` and each token's `sig` (checked against the
    key lists `jwks`); notes on unreadable key lists.

    Reads only the distinct tokens, so it runs before or after the rows are stored (the TUI's Tokens
    pane shows what it found before the loader writes `events_t`: `tui.engine.preview`)."""
    build_claims(con, DISTINCT_TOKENS)
    return verify_tokens(con, jwks, intel)


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


def _prepare(
    con: duckdb.DuckDBPyConnection,
    intel: Intel,
    org: Org,
    split: Split,
    options: Options,
    *,
    subjects: bool = True,
    previewed: bool = False,
) -> None:
    """The helper tables the catalogue reads; `token_use` too unless `subjects` is False (a resplit:
    it does not depend on the split). `previewed`: this connection's `_tok` is the preview's."""
    con.execute(MACROS)
    # These read `events_t`, not `events_base`: once annotate has finished, `events_base` joins every
    # row's token text, and a resplit (the TUI's `[`/`]`) would build that hash table per statement.
    con.execute("CREATE OR REPLACE TEMP TABLE _tok_keys AS SELECT tok_key, tok_sha256 FROM token_claims")
    con.execute(
        """CREATE OR REPLACE TEMP VIEW _ev AS
        SELECT b.*,
               CASE WHEN b.tok_key IS NOT NULL THEN 'sha256:' || k.tok_sha256
                    WHEN b.token_id IS NOT NULL THEN 'uti:' || b.token_id END AS tkey
        FROM events_t b LEFT JOIN _tok_keys k ON k.tok_key = b.tok_key"""
    )
    # A table, not a view: every indicator re-ran the three-way join over token_claims, which at 2M
    # all-distinct tokens ran out of memory under the 1.2 GB cap. No token text: the indicators ask
    # for its length and whether its header and claims were readable, both in token_claims.
    if not previewed:
        tok_table(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _org_tenant AS SELECT unnest(?::VARCHAR[]) AS tid", [list(org.tenants)]
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _org_domain AS SELECT unnest(?::VARCHAR[]) AS domain",
        [list(org.domains)],
    )
    intel_tables(con, intel)
    issuance = list(Kind.ISSUANCE)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _signin_uti AS
        SELECT DISTINCT token_id AS uti FROM events_t WHERE kind IN (SELECT unnest(?::VARCHAR[]))
          AND token_id IS NOT NULL""",
        [issuance],
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _params AS
        SELECT ?::VARCHAR AS consumer, ?::TIMESTAMP AS baseline_start, ?::TIMESTAMP AS baseline_end,
               ?::TIMESTAMP AS window_start, ?::TIMESTAMP AS window_end, ?::INTEGER AS replay_bound,
               (SELECT min(ts) FROM events_t
                WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND token_id IS NOT NULL) AS signin_start,
               (SELECT max(ts) FROM events_t
                WHERE kind IN (SELECT unnest(?::VARCHAR[])) AND token_id IS NOT NULL) AS signin_end""",
        [
            intel.consumer_tenant.lower(),
            split.baseline_start,
            split.baseline_end,
            split.window_start,
            split.window_end,
            options.replay_ip_bound,
            issuance,
            issuance,
        ],
    )
    if subjects:
        build_token_use(con, issuance)
    build_subject(con)


def tok_table(con: duckdb.DuckDBPyConnection) -> None:
    """`_tok` (TEMP): each decoded token with its tkey and its key's issuer and source.

    Nothing in it depends on the rows (no indicator reads a token's uses or times from it: those
    come per subject from `_subject`), so the preview's `_tok` is annotate's (2M tokens: ~2 s)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _tok AS
        SELECT c.*, 'sha256:' || c.tok_sha256 AS tkey, k.jwk_issuer, k.jwk_source
        FROM token_claims c LEFT JOIN token_keys k USING (tok_key)"""
    )


def run_catalogue(
    con: duckdb.DuckDBPyConnection, codes: Collection[str] | None = None, *, kept: Collection[str] = ()
) -> None:
    """`token_indicators` and `row_indicators` from every indicator of the catalogue (or those `codes`).

    `kept`: codes whose hits the tables already hold (the preview's `CLAIM_CODES`, which the stored
    rows cannot change): those rows stay and are not fired again. In one transaction: the TUI's
    detail panel reads `token_indicators` on other cursors and must not see it half filled."""
    con.execute("BEGIN TRANSACTION")
    try:
        if kept:
            con.execute("DELETE FROM token_indicators WHERE NOT list_contains(?, code)", [list(kept)])
            con.execute("DELETE FROM row_indicators WHERE NOT list_contains(?, code)", [list(kept)])
        else:
            con.execute(
                """CREATE OR REPLACE TABLE token_indicators
                (tkey VARCHAR, code VARCHAR, severity VARCHAR, sev_rank INTEGER, evidence VARCHAR)"""
            )
            con.execute(
                """CREATE OR REPLACE TABLE row_indicators (source VARCHAR, source_row BIGINT,
                tkey VARCHAR, code VARCHAR, severity VARCHAR, sev_rank INTEGER, evidence VARCHAR)"""
            )
        for ind in CATALOGUE:
            if (codes is None or ind.code in codes) and ind.code not in kept:
                _run_indicator(con, ind)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _run_indicator(con: duckdb.DuckDBPyConnection, ind: Any) -> None:
    """Fire one indicator of the catalogue into token_indicators / row_indicators."""
    params = [ind.code, ind.severity, ind.rank]
    union = " UNION ALL ".join(f"({sql})" for sql in ind.sql)
    if ind.scope == "token":
        con.execute(
            f"""INSERT INTO token_indicators
            SELECT tkey, ?, ?, ?, min(evidence) FROM ({union}) AS hit(tkey, evidence)
            WHERE tkey IS NOT NULL GROUP BY tkey""",
            params,
        )
    else:
        con.execute(
            f"""INSERT INTO row_indicators
            SELECT source, source_row, any_value(tkey), ?, ?, ?, min(evidence)
            FROM ({union}) AS hit(source, source_row, tkey, evidence)
            GROUP BY source, source_row""",
            params,
        )
    if ind.scope == "row":
        con.execute(
            """INSERT INTO token_indicators
            SELECT tkey, code, any_value(severity), any_value(sev_rank),
                   CASE WHEN count(*) = 1 THEN min(evidence)
                        ELSE format('{} rows, e.g. {}', count(*), min(evidence)) END
            FROM row_indicators WHERE code = ? AND tkey IS NOT NULL GROUP BY tkey, code""",
            [ind.code],
        )


SPLIT_CODES = ("NEW_APP_FOR_MAILBOX",)  # the indicators whose answer depends on the drift split


def resplit(con: duckdb.DuckDBPyConnection, options: Options, org: Org, split: Split) -> None:
    """Re-run the split-dependent indicators for a moved baseline/window split (the TUI's `[`/`]`).

    Works on any cursor: the temp helpers are rebuilt on it. Callers query the panes again after.
    """
    _prepare(con, load_intel(tuple(options.iocs)), org, split, options, subjects=False)
    codes = list(SPLIT_CODES)
    con.execute("DELETE FROM token_indicators WHERE list_contains(?, code)", [codes])
    con.execute("DELETE FROM row_indicators WHERE list_contains(?, code)", [codes])
    for ind in CATALOGUE:
        if ind.code in SPLIT_CODES:
            _run_indicator(con, ind)
    register_events(con, materialise=events_materialised(con))


def _summary(
    con: duckdb.DuckDBPyConnection,
    org: Org,
    split: Split,
    intel: Intel,
    jwks: tuple[Path, ...],
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
        jwks_files=jwks,
        tokens=int(tokens),
        malformed=int(malformed),
        signatures=tuple((str(s), int(n)) for s, n in sigs),
        indicator_counts=tuple((str(c), int(n)) for c, n in counts),
        notes=tuple(notes),
    )
