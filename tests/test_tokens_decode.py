"""Differential test: the SQL decoder agrees with PyJWT's unverified decode on generated tokens."""

from __future__ import annotations

import base64
import json
import math
import random
import re
from datetime import datetime, timedelta
from typing import Any

import duckdb
import jwt
import pytest

from tui.engine.tokens import jwt_decode

FIELDS = (
    "alg",
    "typ",
    "kid",
    "x5t",
    "jku",
    "x5u",
    "iss",
    "tid",
    "aud",
    "oid",
    "uti",
    "sid",
    "ver",
    "idp",
    "scp",
)
HEADER_FIELDS = {"alg", "typ", "kid", "x5t", "jku", "x5u"}
ALPHABET = 'abcXYZ019 -_.:/@#é€中文😀\u00a0"\\'


def b64u(raw: bytes, pad: bool = False) -> str:
    text = base64.urlsafe_b64encode(raw).decode()
    return text if pad else text.rstrip("=")


def rand_text(rng: random.Random, longest: int = 40) -> str:
    if rng.random() < 0.03:
        longest = 20_000
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, longest)))


def rand_time(rng: random.Random) -> Any:
    base = rng.randint(-(10**9), 4 * 10**9)
    return rng.choice(
        [
            base,
            base + 0.75,
            float(base),
            str(base),
            f" {base} ",
            f"{base}.5",
            True,
            None,
            "soon",
            [base],
            -base,
        ]
    )


def rand_claims(rng: random.Random) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for name in (
        "iss",
        "tid",
        "oid",
        "uti",
        "sid",
        "idp",
        "scp",
        "upn",
        "preferred_username",
        "unique_name",
        "appid",
        "azp",
    ):
        if rng.random() < 0.6:
            claims[name] = rand_text(rng)
    if rng.random() < 0.7:
        claims["aud"] = rng.choice([rand_text(rng), [rand_text(rng, 8), rand_text(rng, 8)], 12345])
    if rng.random() < 0.5:
        claims["ver"] = rng.choice(["1.0", "2.0", 2, None, False])
    for name in ("iat", "nbf", "exp"):
        if rng.random() < 0.8:
            claims[name] = rand_time(rng)
    if rng.random() < 0.2:
        claims["nested"] = {"a": [1, 2, {"b": rand_text(rng)}]}
    return claims


def rand_header(rng: random.Random) -> dict[str, Any]:
    header: dict[str, Any] = {"alg": rng.choice(["RS256", "ES256", "PS384", "HS256", "none", "ŝ"])}
    for name in ("typ", "kid", "x5t", "jku", "x5u"):
        if rng.random() < 0.5:
            header[name] = rand_text(rng, 30)
    if rng.random() < 0.1:
        header["jwk"] = {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
    if rng.random() < 0.05:
        header["kid"] = rng.randint(0, 9)
    if rng.random() < 0.05:
        header["crit"] = rng.choice([["b64"], ["exp"], [], "b64"])
        if rng.random() < 0.5:
            header["b64"] = True
    return header


def corrupt(rng: random.Random, token: str) -> str:
    head, body, sig = token.split(".")
    choice = rng.randrange(10)
    if choice == 0:
        return head + "." + body
    if choice == 1:
        return token + ".x"
    if choice == 2:
        pos = rng.randrange(len(body)) if body else 0
        return head + "." + body[:pos] + "!" + body[pos + 1 :] + "." + sig
    if choice == 3:
        return head + "." + body + "a." + sig  # length % 4 == 1 or non-canonical
    if choice == 4:
        return head + "." + b64u(b"\xff\xfe{}") + "." + sig
    if choice == 5:
        return b64u(b"[1,2]") + "." + body + "." + sig
    if choice == 6:
        return head + "." + b64u(b'{"a": 1') + "." + sig
    if choice == 7:
        return head + "." + body + "==." + sig
    if choice == 8:
        return "EwB" + "".join(rng.choice("ABCabc012+/") for _ in range(60))
    return head + "." + body + "." + sig + "%"


def make_token(rng: random.Random) -> str:
    header = rand_header(rng)
    claims = rand_claims(rng)
    ascii_only = rng.random() < 0.5
    raw_h = json.dumps(header, ensure_ascii=ascii_only).encode()
    raw_c = json.dumps(claims, ensure_ascii=ascii_only).encode()
    sig = rng.randbytes(rng.choice([0, 1, 2, 3, 64, 256]))
    pad = rng.random() < 0.15
    token = ".".join((b64u(raw_h, pad), b64u(raw_c, pad), b64u(sig, pad)))
    if rng.random() < 0.25:
        token = corrupt(rng, token)
    return token


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def as_time(value: Any) -> datetime | None:
    """How jwt_decode documents a time claim: PyJWT's `int(value)` on numbers and integer strings."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        secs = int(value)
    elif isinstance(value, int):
        secs = value
    elif isinstance(value, str) and re.fullmatch(
        r"[ \t\n\r\x0b\x0c]*[+-]?[0-9]{1,18}[ \t\n\r\x0b\x0c]*", value
    ):
        secs = int(value)
    else:
        return None
    try:
        return datetime(1970, 1, 1) + timedelta(seconds=secs)
    except OverflowError:
        return None


def pyjwt_view(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    return header, claims


def test_differential_against_pyjwt() -> None:
    rng = random.Random(20230714)
    tokens = list(dict.fromkeys(make_token(rng) for _ in range(1500)))
    assert len(tokens) >= 1000
    con = duckdb.connect()
    jwt_decode.decode_values(con, tokens)
    cols = ["token", *FIELDS, "appid", "upn", "has_jwk", "iat", "nbf", "exp", "decode_error"]
    # the JSON text is decoded again from the token where it is shown (jwt_decode.json_text_sql)
    shown = f"{jwt_decode.json_text_sql('header')}, {jwt_decode.json_text_sql('claims')}"
    rows = {
        r[0]: dict(zip([*cols, "header_json", "claims_json"], r, strict=True))
        for r in con.execute(
            f"SELECT {', '.join(cols)}, {shown} FROM token_claims c JOIN token_text t USING (tok_key)"
        ).fetchall()
    }
    assert len(rows) == len(tokens)
    accepted = refused = 0
    pad_lengths = set()
    for token in tokens:
        row = rows[token]
        expected = pyjwt_view(token)
        if expected is None:
            refused += 1
            assert row["decode_error"] is not None, token[:80]
            continue
        accepted += 1
        pad_lengths.update(len(seg.rstrip("=")) % 4 for seg in token.split("."))
        header, claims = expected
        assert row["decode_error"] is None, (row["decode_error"], token[:80])
        assert json.loads(row["claims_json"]) == claims
        assert json.loads(row["header_json"]) == header
        for name in FIELDS:
            source = header if name in HEADER_FIELDS else claims
            assert row[name] == as_text(source.get(name)), (name, token[:80])
        assert row["appid"] == as_text(claims.get("appid", claims.get("azp")))
        upn = next(
            (claims[k] for k in ("upn", "preferred_username", "unique_name") if claims.get(k) is not None),
            None,
        )
        assert row["upn"] == as_text(upn)
        assert row["has_jwk"] == ("jwk" in header)
        for name in ("iat", "nbf", "exp"):
            assert row[name] == as_time(claims.get(name)), (name, claims.get(name))
    assert accepted >= 1000 and refused >= 100
    assert pad_lengths == {0, 2, 3}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("EwBAA8l6BAAU", "not a JWT: 1 segment"),
        ("a.b", "not a JWT: 2 segments"),
        ("a.b.c.d", "not a JWT: 4 segments"),
        ("e30.e30.!!!!", "signature: invalid base64url"),
        ("W10.e30.", "header: not a JSON object"),
        ("e30.W10.", "payload: not a JSON object"),
        ("e30.e31.", "payload: invalid base64url"),  # non-canonical trailing bits
        ("e30.e30.AB", "signature: invalid base64url"),  # 2 left over: the last must be A, Q, g or w
        ("e30.e30.AAB", "signature: invalid base64url"),  # 3 left over: a multiple of 4
        ("e30.e30.AB==", "signature: invalid base64url"),
        ("e30.e30.A", "signature: invalid base64url"),  # 1 left over is never base64
        ("e30==.e30.", "header: invalid base64url"),  # padding on a segment whose length is not 4k
        ("", "not a JWT: 1 segment"),
    ],
)
def test_malformed_values_are_reported_not_raised(value: str, expected: str) -> None:
    con = duckdb.connect()
    jwt_decode.decode_values(con, [value])
    assert con.execute("SELECT decode_error FROM token_claims").fetchone() == (expected,)
    assert pyjwt_view(value) is None


def test_string_iat_is_read_like_pyjwt_validation() -> None:
    token = ".".join((b64u(b'{"alg":"RS256"}'), b64u(b'{"iat":"1690000000","exp":"soon","nbf":1.9e9}'), ""))
    con = duckdb.connect()
    jwt_decode.decode_values(con, [token])
    got = con.execute("SELECT iat, exp, nbf, decode_error FROM token_claims").fetchone()
    assert got == (datetime(2023, 7, 22, 4, 26, 40), None, datetime(2030, 3, 17, 17, 46, 40), None)


def test_sha256_and_key_are_of_the_compact_token() -> None:
    import hashlib

    token = ".".join((b64u(b'{"alg":"RS256"}'), b64u(b'{"uti":"x"}'), b64u(b"sig")))
    con = duckdb.connect()
    jwt_decode.decode_values(con, [token, token])
    rows = con.execute("SELECT tok_sha256, tok_key = hash(?) FROM token_claims", [token]).fetchall()
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), True)]
