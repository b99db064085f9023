"""Signature checks with PyJWT, once per distinct token, against offline key lists (JWKS files).

Statuses: `valid` (a key with the token's kid verifies it), `invalid` (a key with that kid exists
and none verifies), `unknown_key` (key lists given, no key has the kid / x5t), `no_jwks` (no key
list given), `unsupported_alg` (`none`, HMAC and anything outside the RS/PS/ES/EdDSA families).
The JWK that matched also yields its `issuer` member for the key-scope check (DOMAIN §3); when no
key list has the kid, the built-in intel's compromised key supplies it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import jwt
import pyarrow as pa
from jwt.api_jws import PyJWS

from tui.engine.intel import Intel

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
        for jwk in members:
            if isinstance(jwk, dict) and jwk.get("kty"):
                keys.append(
                    KeyRecord(
                        source=Path(path).name,
                        kid=_str(jwk.get("kid")),
                        x5t=_str(jwk.get("x5t")),
                        issuer=_str(jwk.get("issuer")),
                        jwk=jwk,
                    )
                )
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

    def check(
        self, token: str, alg: str | None, kid: str | None, x5t: str | None, readable: bool
    ) -> tuple[str, str | None, str | None]:
        """(status, JWK issuer, key source) for one token."""
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
        for record in found:
            key = self._key(record, alg)
            if key is None:
                continue
            try:
                self._jws.decode_complete(token, key=key, algorithms=[alg])
            except jwt.PyJWTError:
                continue
            return "valid", record.issuer or issuer, record.source
        return "invalid", issuer, source


def verify_tokens(
    con: duckdb.DuckDBPyConnection, jwks_paths: tuple[Path, ...], intel: Intel
) -> tuple[str, ...]:
    """Create `token_keys` and fill `token_claims.sig`; returns notes about unreadable key lists."""
    keys, notes = read_key_lists(jwks_paths)
    verifier = Verifier(keys, intel, have_lists=bool(keys))
    cur = con.cursor()
    cur.execute(
        """SELECT tok_key, token, alg, kid, x5t, decode_error IS NULL FROM token_claims
        WHERE header_json IS NOT NULL"""
    )
    out: dict[str, list[Any]] = {"tok_key": [], "sig": [], "jwk_issuer": [], "jwk_source": []}
    while batch := cur.fetchmany(BATCH):
        for tok_key, token, alg, kid, x5t, readable in batch:
            status, issuer, source = verifier.check(token, alg, kid, x5t, readable)
            out["tok_key"].append(tok_key)
            out["sig"].append(status)
            out["jwk_issuer"].append(issuer)
            out["jwk_source"].append(source)
    arrow = pa.table(
        {
            "tok_key": pa.array(out["tok_key"], pa.uint64()),
            "sig": pa.array(out["sig"], pa.string()),
            "jwk_issuer": pa.array(out["jwk_issuer"], pa.string()),
            "jwk_source": pa.array(out["jwk_source"], pa.string()),
        }
    )
    con.register("_token_keys_arrow", arrow)
    con.execute("CREATE OR REPLACE TABLE token_keys AS SELECT * FROM _token_keys_arrow")
    con.unregister("_token_keys_arrow")
    con.execute(
        "UPDATE token_claims SET sig = k.sig FROM token_keys k WHERE token_claims.tok_key = k.tok_key"
    )
    return notes
