"""verify_tokens settles what (alg, kid, x5t, readable) decides once per combination and verifies
only the rest token by token; every token still gets exactly its own answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indicator_kit import event, run, sig, sign, unsigned


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
