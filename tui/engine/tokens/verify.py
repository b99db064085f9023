"""Signature checks with PyJWT, once per distinct token, against offline key lists (JWKS files).

Statuses: `valid` (a key with the token's kid verifies it), `invalid` (a key with that kid exists
and none verifies), `unknown_key` (key lists given, no key has the kid / x5t), `no_jwks` (no key
list given), `unsupported_alg` (`none`, HMAC and anything outside the RS/PS/ES/EdDSA families).
The JWK that matched also yields its `issuer` member for the key-scope check (DOMAIN §3); when no
key list has the kid, the built-in intel's compromised key supplies it. While the TUI's Tokens
preview is shown before the checks are done, a token a key must still check says `checking`
(`verify_tokens(settled=…)`); nothing is written or exported in that state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import jwt
import pyarrow as pa
from jwt.api_jws import PyJWS
from jwt.utils import base64url_decode

from tui.engine.tokens.intel import Intel

SUPPORTED_ALGS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
BATCH = 5000


@dataclass(frozen=True)
class KeyRecord:
    """One public key from a key list, with the file it came from."""

    source: str
    kid: str | None
    x5t: str | None
    issuer: str | None
    jwk: dict[str, Any]


def read_key_lists(paths: tuple[Path, ...]) -> tuple[tuple[KeyRecord, ...], tuple[str, ...]]:
    """Every key of every readable JWKS file; unreadable files are reported, not raised."""
    keys: list[KeyRecord] = []
    notes: list[str] = []
    for path in paths:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            notes.append(f"{Path(path).name}: not a readable key list ({type(exc).__name__})")
            continue
        members = doc.get("keys") if isinstance(doc, dict) and "keys" in doc else doc
        if isinstance(members, dict):
            members = [members]
        if not isinstance(members, list):
            notes.append(f"{Path(path).name}: no 'keys' list")
            continue
        usable = [jwk for jwk in members if isinstance(jwk, dict) and jwk.get("kty")]
        if not usable:
            notes.append(f"{Path(path).name}: no keys (a key list holds JWKs with a 'kty')")
        keys += [
            KeyRecord(
                source=Path(path).name,
                kid=_str(jwk.get("kid")),
                x5t=_str(jwk.get("x5t")),
                issuer=_str(jwk.get("issuer")),
                jwk=jwk,
            )
            for jwk in usable
        ]
    return tuple(keys), tuple(notes)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


class Verifier:
    """Looks keys up by kid/x5t and verifies with PyJWT; PyJWK objects are built once per key and alg."""

    def __init__(self, keys: tuple[KeyRecord, ...], intel: Intel, have_lists: bool) -> None:
        self.keys = keys
        self.have_lists = have_lists
        self.by_id: dict[str, list[KeyRecord]] = {}
        for key in keys:
            for ident in {key.kid, key.x5t} - {None}:
                self.by_id.setdefault(str(ident), []).append(key)
        self.intel_issuer: dict[str, str] = {}
        for bad in intel.bad_keys:
            if bad.issuer:
                self.intel_issuer[bad.kid] = bad.issuer
                self.intel_issuer[bad.x5t] = bad.issuer
        self._pyjwk: dict[tuple[int, str], jwt.PyJWK | None] = {}
        self._jws = PyJWS()

    def candidates(self, kid: str | None, x5t: str | None) -> list[KeyRecord]:
        """Keys named by the token's kid, else by its x5t."""
        if kid is not None:
            return self.by_id.get(kid, [])
        if x5t is not None:
            return self.by_id.get(x5t, [])
        return []

    def _key(self, record: KeyRecord, alg: str) -> jwt.PyJWK | None:
        slot = (id(record), alg)
        if slot not in self._pyjwk:
            try:
                self._pyjwk[slot] = jwt.PyJWK(record.jwk, algorithm=alg)
            except (jwt.PyJWTError, ValueError, TypeError, KeyError):
                self._pyjwk[slot] = None
        return self._pyjwk[slot]

    def settle(
        self, alg: str | None, kid: str | None, x5t: str | None, readable: bool
    ) -> tuple[str | None, str | None, str | None]:
        """(status, JWK issuer, key source) when the token's text cannot change the answer; the
        status is None when a key with its kid/x5t must verify the token itself (`check`)."""
        found = self.candidates(kid, x5t)
        issuer = next((k.issuer for k in found if k.issuer), None)
        source = found[0].source if found else None
        if issuer is None:
            issuer = self.intel_issuer.get(kid or "") or self.intel_issuer.get(x5t or "")
            source = source or ("built-in intel" if issuer else None)
        if not self.have_lists:
            return "no_jwks", issuer, source
        if alg not in SUPPORTED_ALGS:
            return "unsupported_alg", issuer, source
        if not found:
            return "unknown_key", issuer, source
        if not readable:
            return "invalid", issuer, source
        return None, issuer, source

    def check(
        self, token: str, alg: str | None, kid: str | None, x5t: str | None, readable: bool
    ) -> tuple[str, str | None, str | None]:
        """(status, JWK issuer, key source) for one token."""
        status, issuer, source = self.settle(alg, kid, x5t, readable)
        if status is not None:
            return status, issuer, source
        assert alg is not None  # settled otherwise (not a supported alg)
        for record in self.candidates(kid, x5t):
            key = self._key(record, alg)
            if key is None:
                continue
            if self.verifies(token, alg, key):
                return "valid", record.issuer or issuer, record.source
        return "invalid", issuer, source

    def verifies(self, token: str, alg: str, key: jwt.PyJWK) -> bool:
        """PyJWT's verdict, `PyJWS.decode_complete(token, key=key, algorithms=[alg])` succeeding, for
        a token the SQL decoder read whole (`decode_error` NULL, which it is exactly when PyJWT's
        unverified decode accepts the token: tests/test_tokens_decode.py).

        Of decode_complete's ~110 µs on a 1.3 KB token, ~80 µs go to checks that token has passed
        (its segments' alphabet character by character in Python, the payload's decode and JSON);
        what is left is PyJWT's own: the header as Python reads it (where DuckDB's JSON reader
        differs: of a duplicated `alg` or `b64` member Python keeps the last), and the algorithm's
        `verify` of the signing input and signature (25–29 µs in all). `key` is built for `alg`
        (`_key`), as decode_complete requires of a PyJWK. A header that does not read the same
        goes through decode_complete itself."""
        signing_input, crypto = token.encode().rsplit(b".", 1)
        try:
            header = json.loads(base64url_decode(signing_input.split(b".", 1)[0]))
        except (ValueError, RecursionError):
            header = None
        if not isinstance(header, dict) or header.get("alg") != alg or header.get("b64", True) is False:
            try:
                self._jws.decode_complete(token, key=key, algorithms=[alg])
            except jwt.PyJWTError:
                return False
            return True
        return bool(
            key.Algorithm.verify(signing_input, key.Algorithm.prepare_key(key.key), base64url_decode(crypto))
        )


# A token's signature answer depends on its text only when a key with its kid/x5t must verify it;
# everything else follows from these four (Verifier.settle).
SHAPE = ("alg", "kid", "x5t", "readable")
ANSWER = ("sig", "jwk_issuer", "jwk_source")


@dataclass(frozen=True)
class KeyLists:
    """The key lists one case verifies with, read once: their paths, their keys, what was unreadable."""

    paths: tuple[Path, ...] = ()
    keys: tuple[KeyRecord, ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def read(cls, paths: tuple[Path, ...]) -> KeyLists:
        """Every key of every readable file of `paths` (`read_key_lists`)."""
        keys, notes = read_key_lists(paths)
        return cls(paths, keys, notes)

    @property
    def used(self) -> tuple[Path, ...]:
        """The files that gave at least one key."""
        sources = {record.source for record in self.keys}
        return tuple(p for p in self.paths if Path(p).name in sources)


# The tokens whose header was read (`c.readable`), with `readable` here meaning fully decoded.
_CLAIMED = """(SELECT c.tok_key, c.alg, c.kid, c.x5t, c.decode_error IS NULL AS readable FROM token_claims c
    WHERE c.readable)"""
_SAME_SHAPE = " AND ".join(f"c.{n} IS NOT DISTINCT FROM s.{n}" for n in SHAPE)


def verify_tokens(
    con: duckdb.DuckDBPyConnection,
    key_lists: KeyLists,
    intel: Intel,
    settled: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
) -> tuple[str, ...]:
    """Create `token_keys` and fill `token_claims.sig` (`key_lists`: the case's, read once); returns
    the notes about unreadable key lists.

    Answers that (alg, kid, x5t, readable) decide (no key lists, an unsupported alg, an unknown kid,
    …) are settled once per distinct combination and joined back; only the tokens a key must verify
    are read with their text (every token's 1.3 KB through Python cost 0.84 s at 300k tokens).

    Those checks take ~25 µs a token (bench/RESULTS.md: 300k tokens, 7–9 s). With `settled`, when
    there are any, the tables are first filled with what the shapes decide, each token still to be
    checked saying `sig = 'checking'` (its key's issuer and source already known), and
    `settled(con)` runs before the checks: the TUI shows the Tokens preview then.
    """
    verifier = Verifier(key_lists.keys, intel, have_lists=bool(key_lists.keys))
    shapes = con.execute(f"SELECT DISTINCT {', '.join(SHAPE)} FROM {_CLAIMED}").fetchall()
    answers = {tuple(shape): verifier.settle(*shape) for shape in shapes}
    decided = [(*shape, *answer) for shape, answer in answers.items() if answer[0] is not None]
    pending = [shape for shape, answer in answers.items() if answer[0] is None]
    if settled is not None and pending:
        checking = [(*shape, CHECKING, *answers[shape][1:]) for shape in pending]
        _fill(con, decided + checking, _arrow(("tok_key", *ANSWER), []))
        settled(con)
    _fill(con, decided, _check(con, verifier, pending))
    return key_lists.notes


# `sig` of a token whose signature a key list's key is still to check (`verify_tokens(settled=…)`)
CHECKING = "checking"


def _fill(con: duckdb.DuckDBPyConnection, decided: list[tuple[Any, ...]], checked: pa.Table) -> None:
    """`token_keys` from the answers the shapes decide and the tokens checked one by one; `sig`."""
    con.register("_verify_settled", _arrow((*SHAPE, *ANSWER), decided))
    con.register("_verify_checked", checked)
    try:
        con.execute(
            f"""CREATE OR REPLACE TABLE token_keys AS
            SELECT c.tok_key, s.sig, s.jwk_issuer, s.jwk_source
            FROM {_CLAIMED} c JOIN _verify_settled s ON {_SAME_SHAPE}
            UNION ALL SELECT tok_key, sig, jwk_issuer, jwk_source FROM _verify_checked"""
        )
    finally:
        con.unregister("_verify_checked")
        con.unregister("_verify_settled")
    con.execute(
        "UPDATE token_claims SET sig = k.sig FROM token_keys k WHERE token_claims.tok_key = k.tok_key"
    )


def _check(con: duckdb.DuckDBPyConnection, verifier: Verifier, pending: list[tuple[Any, ...]]) -> pa.Table:
    """`(tok_key, sig, jwk_issuer, jwk_source)` of every token whose shape is in `pending`, verified."""
    rows: list[tuple[Any, ...]] = []
    cur = con.cursor()  # a registered table is seen by the connection that registered it
    cur.register("_verify_pending", _arrow(SHAPE, pending))
    try:
        cur.execute(
            f"""SELECT c.tok_key, t.token, c.alg, c.kid, c.x5t, c.readable
            FROM {_CLAIMED} c JOIN _verify_pending s ON {_SAME_SHAPE}
            JOIN token_text t ON t.tok_key = c.tok_key"""
        )
        while batch := cur.fetchmany(BATCH):
            rows.extend((tok_key, *verifier.check(token, *shape)) for tok_key, token, *shape in batch)
    finally:
        cur.unregister("_verify_pending")
        cur.close()
    return _arrow(("tok_key", *ANSWER), rows)


def _arrow(names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> pa.Table:
    """Rows as an Arrow table: `tok_key` UBIGINT, `readable` BOOLEAN, the rest text."""
    kinds = {"tok_key": pa.uint64(), "readable": pa.bool_()}
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table(
        {n: pa.array(list(c), kinds.get(n, pa.string())) for n, c in zip(names, columns, strict=True)}
    )
