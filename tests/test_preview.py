"""The Tokens preview (`tui.engine.case.preview`): the decoded tokens and their claim and key indicators,
shown before the rows are stored, agree with the full tables built after.

Expected values come from the full open of the same sample (the engine's tables after annotate),
never from the preview itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from tui.engine.analyses.panes import build_table
from tui.engine.case.preview import CLAIM_CODES
from tui.engine.case.session import Session
from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.indicators.catalogue import CATALOGUE
from tui.engine.ingest.load import load

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs"
pytestmark = pytest.mark.skipif(
    not (SAMPLE / "gateway.parquet").is_file(), reason="sample_logs/ not generated"
)

CLAIM_COLUMNS = "tkey, tok_sha256, uti, kid, alg, iss, tid, aud, appid, upn, oid, iat, exp, sig"
USAGE_COLUMNS = ("first_seen", "last_seen", "uses", "users", "mailboxes", "ips", "countries")


def _open(previewed: bool) -> tuple[Session, dict[str, object]]:
    """Open the sample as the TUI does; with `previewed`, what the preview's tables held when it was
    announced (read on another cursor, as the Tokens pane reads them)."""
    con = connect()
    seen: dict[str, object] = {}
    checking: dict[str, object] = {}

    def look(signatures_pending: bool) -> None:
        # announced twice: while the key list's keys check the signatures, and when they are done
        if signatures_pending:
            cursor = con.cursor()
            try:
                checking["tokens"] = cursor.execute(
                    f"SELECT {CLAIM_COLUMNS} FROM tokens WHERE tok_key IS NOT NULL ORDER BY tkey"
                ).fetchall()
                checking["hits"] = cursor.execute(
                    "SELECT tkey, code FROM token_indicators ORDER BY ALL"
                ).fetchall()
                checking["before"] = "tokens" not in seen
            finally:
                cursor.close()
            return
        cursor = con.cursor()
        try:
            q = cursor.execute
            seen["stored"] = q(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'events_t'"
            ).fetchone()
            seen["tokens"] = q(f"SELECT {CLAIM_COLUMNS} FROM tokens ORDER BY tkey").fetchall()
            seen["usage"] = q(
                f"SELECT count(*) FROM tokens WHERE {' OR '.join(USAGE_COLUMNS)} IS NOT NULL"
            ).fetchone()
            seen["hits"] = q(
                "SELECT tkey, code, severity, evidence FROM token_indicators ORDER BY ALL"
            ).fetchall()
            seen["flags"] = q("SELECT tkey, sev_rank, indicators FROM tokens ORDER BY tkey").fetchall()
            seen["marked"] = q("SELECT count(*) FROM tokens_marked").fetchone()
            seen["types"] = q("SELECT column_name, column_type FROM (DESCRIBE tokens)").fetchall()
        finally:
            cursor.close()

    session = Session.open(
        [str(SAMPLE)], Options(), con=con, materialise_events=False, previewed=look if previewed else None
    )
    build_table(con, "tokens", session.annotation.split)
    seen["checking"] = checking
    return session, seen


@pytest.fixture(scope="module")
def opened() -> tuple[Session, dict[str, object], Session]:
    with_preview, seen = _open(True)
    plain, _ = _open(False)
    return with_preview, seen, plain


def test_the_preview_lists_every_decoded_token_before_the_rows_are_stored(opened) -> None:  # type: ignore[no-untyped-def]
    session, seen, _ = opened
    con = session.con
    assert seen["stored"] == (0,)  # announced before `events_t` was written
    raw = con.execute(
        f"SELECT {CLAIM_COLUMNS} FROM tokens WHERE tok_key IS NOT NULL ORDER BY tkey"
    ).fetchall()
    assert seen["tokens"] == raw  # every raw token, with the claims and signature the full table has
    assert len(raw) == con.execute("SELECT count(*) FROM token_claims").fetchone()[0] == 673
    assert seen["usage"] == (0,)  # usage is pending: no uses, times, users, mailboxes, IPs or countries
    assert seen["marked"] == (673,)  # the pane's page query reads it already


def test_the_preview_table_has_the_full_tables_columns_and_types(opened) -> None:  # type: ignore[no-untyped-def]
    """The pane compiles its filters against the preview's columns and keeps them for the full table:
    `subjects.pending_token_use` must type every usage column as `build_token_use` does."""
    session, seen, _ = opened
    full = session.con.execute("SELECT column_name, column_type FROM (DESCRIBE tokens)").fetchall()
    assert seen["types"] == full
    assert ("uses", "BIGINT") in full and ("ips", "VARCHAR[]") in full


def test_the_preview_fires_exactly_the_claim_indicators_the_full_catalogue_fires(opened) -> None:  # type: ignore[no-untyped-def]
    session, seen, _ = opened
    full = session.con.execute(
        "SELECT tkey, code, severity, evidence FROM token_indicators "
        "WHERE list_contains(?, code) ORDER BY ALL",
        [list(CLAIM_CODES)],
    ).fetchall()
    assert seen["hits"] == full
    # The sample's forged tokens (truth.json): each shows in the preview with the claim indicators
    # expected of it, critical where it carries KEY_SCOPE_MISMATCH or KNOWN_BAD_KEY; the two consumer
    # tokens are flagged only once their use against the organisation's mailboxes is known.
    truth = json.loads((SAMPLE / "truth.json").read_text())
    flags = {tkey: (rank, codes) for tkey, rank, codes in seen["flags"]}  # type: ignore[attr-defined]
    early = 0
    for forged in truth["forged_tokens"]:
        expected = [c for c in sorted(forged["expected_indicators"]) if c in CLAIM_CODES]
        rank, codes = flags["sha256:" + forged["tok_sha256"]]
        assert sorted(filter(None, codes.split(";"))) == expected, forged["kind_label"]
        assert rank == (5 if expected else 0)
        early += bool(expected)
    assert (early, len(truth["forged_tokens"])) == (5, 7)


def test_an_open_with_the_preview_builds_the_tables_an_open_without_it_builds(opened) -> None:  # type: ignore[no-untyped-def]
    with_preview, _, plain = opened
    assert with_preview.annotation == plain.annotation
    for table in ("token_claims", "token_keys", "token_indicators", "row_indicators", "token_use", "tokens"):
        a = with_preview.con.execute(f"SELECT * FROM {table}").fetchall()
        b = plain.con.execute(f"SELECT * FROM {table}").fetchall()
        assert sorted(map(repr, a)) == sorted(map(repr, b)), table
    text = "SELECT tok_key, token FROM token_text ORDER BY tok_key"
    assert with_preview.con.execute(text).fetchall() == plain.con.execute(text).fetchall()


# a relation read (`IS DISTINCT FROM x` compares, it reads nothing)
_RELATION = re.compile(r"\b(?<!DISTINCT )(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def test_the_claim_indicators_are_those_that_read_only_a_tokens_claims_and_key() -> None:
    """`_tok` (claims, header, signature, key; its usage columns are NULL in the preview) and
    `_bad_key`: any other relation would need the stored rows."""

    def reads(ind: object) -> set[str]:
        return {m.group(1) for sql in ind.sql for m in _RELATION.finditer(sql)}  # type: ignore[attr-defined]

    claims_only = {ind.code for ind in CATALOGUE if reads(ind) <= {"_tok", "_bad_key"}}
    assert claims_only == set(CLAIM_CODES)
    # ... and none of them reads the usage `_tok` carries after the rows are stored
    for ind in CATALOGUE:
        if ind.code in CLAIM_CODES:
            assert not re.search(r"\b(uses|first_ts|last_ts)\b", " ".join(ind.sql)), ind.code


def test_an_interrupted_load_stops_instead_of_looking_for_a_bad_file() -> None:
    """The TUI interrupts the connection when the analyst quits; DuckDB then raises InterruptException
    in whatever the loader runs (here the preview, as the first statement after the token map). The
    loader used to take it for a file that cannot be normalised: a per-file check and a second
    write, the preview built again, seconds after `q`."""
    calls: list[int] = []

    def interrupted(con: object, keys: object) -> None:
        calls.append(1)
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")

    with pytest.raises(duckdb.InterruptException):
        load(
            connect(),
            [str(SAMPLE / "gateway.parquet")],
            Options(),
            materialise=True,
            tokens_ready=interrupted,
        )
    assert calls == [1]


def test_while_the_key_lists_check_signatures_the_preview_says_checking(opened) -> None:  # type: ignore[no-untyped-def]
    """With a key list holding the tokens' kids (the sample's jwks.json), the preview is announced
    first with every token its keys must check saying `sig = checking` and every other column as
    the full table has it, then again once the signatures are checked (~25 µs a token: seconds at
    300k tokens, bench/RESULTS.md)."""
    session, seen, _ = opened
    early = seen["checking"]
    assert early["before"]  # announced before the checked table
    final = {row[0]: row for row in seen["tokens"]}
    shown = {row[0]: row for row in early["tokens"]}
    assert shown.keys() == final.keys()
    assert {k: row[:-1] for k, row in shown.items()} == {k: row[:-1] for k, row in final.items()}
    pairs = sorted({(shown[k][-1], final[k][-1]) for k in final}, key=str)
    assert pairs == [("checking", "valid"), (None, None)]  # the 3 opaque EwB tickets have no signature
    assert sum(row[-1] == "checking" for row in shown.values()) == 670
    # the claim and key indicators do not wait for the signatures (none fires on `checking`)
    assert early["hits"] == [(tkey, code) for tkey, code, _, _ in seen["hits"]]
