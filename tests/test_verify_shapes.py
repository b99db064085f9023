"""verify_tokens settles what (alg, kid, x5t, readable) decides once per combination and verifies
only the rest token by token; every token still gets exactly its own answer."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import duckdb
import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from indicator_kit import event, run, sig, sign, unsigned
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.api_jws import PyJWS

from tui.engine.tokens import jwt_decode
from tui.engine.tokens.intel import load_intel
from tui.engine.tokens.verify import Verifier


def test_each_token_gets_its_own_status_with_shared_headers(keys: dict[str, Any], jwks: Path) -> None:
    good = [sign(keys, uti=f"good-{i}") for i in range(3)]  # one header shape, three tokens
    forged = sign(keys, key="other", uti="forged")  # the same kid and alg: must still be checked
    head, body, _ = forged.split(".")
    broken = f"{head}.{body}.!!"  # same header, unreadable signature segment
    unknown = sign(keys, kid="nobody", uti="unknown")
    hmac = sign(keys, alg="HS256", uti="hmac")
    none = unsigned(uti="none")
    tokens = [*good, forged, broken, unknown, hmac, none]
    con = run([event(token=t) for t in tokens], jwks=jwks)
    assert [sig(con, t) for t in tokens] == [
        "valid",
        "valid",
        "valid",
        "invalid",
        "invalid",
        "unknown_key",
        "unsupported_alg",
        "unsupported_alg",
    ]
    per_token = con.execute("SELECT count(*), count(DISTINCT tok_key) FROM token_keys").fetchone()
    assert per_token == (len(tokens), len(tokens))
    # without key lists nothing is verified and nothing is unknown
    bare = run([event(token=t) for t in tokens])
    assert {sig(bare, t) for t in tokens} == {"no_jwks"}


def test_verdicts_are_pyjwt_decode_complete(keys: dict[str, Any]) -> None:
    """`Verifier.verifies` (the algorithm's own check after the SQL decoder's reading) says what
    `PyJWS.decode_complete` says, for every token the decoder read whole: signed by the key or not,
    tampered, and with headers Python's JSON reads differently from DuckDB's (a duplicated `alg`
    or `b64` member, where Python keeps the last)."""
    ed = ed25519.Ed25519PrivateKey.generate()
    jwks = {
        "RS256": RSAAlgorithm.to_jwk(keys["ent"].public_key(), as_dict=True),
        "PS256": RSAAlgorithm.to_jwk(keys["ent"].public_key(), as_dict=True),
        "ES256": ECAlgorithm.to_jwk(keys["ec"].public_key(), as_dict=True),
        "EdDSA": OKPAlgorithm.to_jwk(ed.public_key(), as_dict=True),
    }
    pyjwk = {alg: jwt.PyJWK(jwk, algorithm=alg) for alg, jwk in jwks.items()}

    def crafted(header: bytes, alg: str, key: Any) -> str:
        # a header written byte for byte, signed as PyJWT signs
        signing = b64u(header) + "." + b64u(json.dumps({"uti": "crafted"}).encode())
        algorithm = jwt.get_algorithm_by_name(alg)
        return signing + "." + b64u(algorithm.sign(signing.encode(), algorithm.prepare_key(key)))

    good = {alg: sign(keys, key="ent", alg=alg) for alg in ("RS256", "PS256")}
    good["ES256"] = sign(keys, key="ec", alg="ES256")
    good["EdDSA"] = jwt.encode({"uti": "ed"}, ed, algorithm="EdDSA", headers={"kid": "ed-1"})
    head, body, tail = good["RS256"].split(".")
    other_body = b64u(json.dumps({"uti": "tampered"}).encode())
    flipped = tail[:10] + ("A" if tail[10] != "A" else "B") + tail[11:]
    cases = [
        (good["RS256"], "RS256", True),
        (good["PS256"], "PS256", True),
        (good["ES256"], "ES256", True),
        (good["EdDSA"], "EdDSA", True),
        (sign(keys, key="other", alg="RS256"), "RS256", False),  # another key
        (f"{head}.{other_body}.{tail}", "RS256", False),  # the payload changed
        (f"{head}.{body}.{flipped}", "RS256", False),  # the signature changed
        (good["RS256"], "PS256", False),  # an RS256 token against the key built for PS256
        (crafted(b'{"alg":"RS256","kid":"k","alg":"HS256"}', "RS256", keys["ent"]), "RS256", False),
        (
            crafted(b'{"alg":"RS256","b64":true,"b64":false,"crit":["b64"]}', "RS256", keys["ent"]),
            "RS256",
            False,
        ),
        (crafted(b'{"alg":"RS256","kid":"k", "typ":"JWT"}', "RS256", keys["ent"]), "RS256", True),
    ]
    con = duckdb.connect()
    jwt_decode.decode_values(con, [t for t, _, _ in cases])
    read = dict(
        con.execute(
            "SELECT t.token, c.alg FROM token_claims c JOIN token_text t USING (tok_key) "
            "WHERE c.decode_error IS NULL"
        ).fetchall()
    )
    assert len(read) == len({t for t, _, _ in cases})  # the decoder read every one whole
    assert read[cases[8][0]] == "RS256" and read[cases[9][0]] == "RS256"  # DuckDB keeps the first member
    verifier = Verifier((), load_intel(), have_lists=True)
    jws = PyJWS()
    for token, alg, expected in cases:
        try:
            jws.decode_complete(token, key=pyjwk[alg], algorithms=[read[token]])
            pyjwt_says = True
        except jwt.PyJWTError:
            pyjwt_says = False
        assert (verifier.verifies(token, read[token], pyjwk[alg]), pyjwt_says) == (expected, expected), token[
            :60
        ]


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
