"""Property tests (issue 7 point 6): the token decoder and the filter compiler on arbitrary input.

The decoder never raises and gives every distinct value one row; the filter compiler raises only
FilterError, and what it returns is SQL in which user text appears only as `?` parameters.
"""

from __future__ import annotations

import base64
import json
import re

import duckdb
import jwt as pyjwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.engine.analyses.filter import FilterError, compile_filter
from tui.engine.tokens.jwt_decode import JSON_FROM, decode_values, json_text_sql

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COLUMNS = {
    "severity": "VARCHAR",
    "user": "VARCHAR",
    "ts": "TIMESTAMP",
    "uses": "BIGINT",
    "ips": "VARCHAR[]",
    "it's": "VARCHAR",  # a hostile allow-listed name: must be quoted, never spliced raw
    "ok": "BOOLEAN",
}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute(
        'CREATE TABLE t (severity VARCHAR, "user" VARCHAR, ts TIMESTAMP, uses BIGINT, ips VARCHAR[], '
        '"it\'s" VARCHAR, ok BOOLEAN)'
    )
    c.execute("INSERT INTO t VALUES ('high', 'a@x', '2023-06-01', 3, ['1.2.3.4'], 'q', true)")
    return c


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


segment = st.one_of(st.binary(max_size=60).map(b64), st.text(max_size=30))
token_text = st.one_of(
    st.text(max_size=200),
    st.lists(segment, min_size=1, max_size=5).map(".".join),
)


@FAST
@given(tokens=st.lists(token_text, min_size=1, max_size=8))
def test_decoder_never_raises_and_keeps_every_value(
    con: duckdb.DuckDBPyConnection, tokens: list[str]
) -> None:
    decode_values(con, tokens)
    rows = con.execute(
        "SELECT t.token, c.decode_error, c.alg FROM token_claims c JOIN token_text t USING (tok_key)"
    ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(set(tokens))
    for token, error, _alg in rows:
        if token.count(".") != 2:
            assert error is not None and error.startswith("not a JWT")


claims = st.dictionaries(
    st.text(max_size=8),
    st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=20)),
    max_size=6,
)


@FAST
@given(payload=claims, upn=st.text(max_size=30))
def test_decoder_agrees_with_pyjwt_on_valid_objects(
    con: duckdb.DuckDBPyConnection, payload: dict, upn: str
) -> None:
    payload = {k: v for k, v in payload.items() if k not in ("upn", "preferred_username", "unique_name")}
    payload["upn"] = upn
    header = {"alg": "RS256", "typ": "JWT"}
    token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(b'sig')}"
    expected = pyjwt.decode(token, options={"verify_signature": False})
    decode_values(con, [token])
    error, got_upn, claims_json = con.execute(
        f"SELECT c.decode_error, c.upn, {json_text_sql('claims')} FROM {JSON_FROM}"
    ).fetchone()
    assert error is None
    assert got_upn == upn
    assert json.loads(claims_json) == expected


FIELDS = st.sampled_from([*COLUMNS, "sev", "ip", "nope", "USER", ""])
OPS = st.sampled_from(["", ":", "=", "!=", ">", "<", ">=", "<="])
VALUES = st.one_of(
    st.text(max_size=15),
    st.sampled_from(
        ["high", "2023-06-01", "2023-06-01T04:00+02:00", "1e999", "9" * 40, "'; DROP TABLE t; --"]
    ),
)
term = st.tuples(st.booleans(), FIELDS, OPS, VALUES, st.booleans()).map(
    lambda t: ("-" if t[0] else "") + t[1] + t[2] + (json.dumps(t[3]) if t[4] else t[3])
)
filter_text = st.one_of(st.text(max_size=60), st.lists(term, max_size=4).map(" ".join))
_IDENTS = sorted(('"' + c.replace('"', '""') + '"' for c in COLUMNS), key=len, reverse=True)


@FAST
@given(text=filter_text)
def test_filter_raises_only_filter_error_and_binds_user_text(
    con: duckdb.DuckDBPyConnection, text: str
) -> None:
    try:
        compiled = compile_filter(text, COLUMNS)
    except FilterError as exc:
        assert isinstance(exc.position, int) and exc.message
        return
    where = compiled.where
    assert where.count("?") == len(compiled.params)
    # Strip allow-listed identifiers and the compiler's own short constants: no quote may remain,
    # so no user text was spliced into the SQL as a literal or an identifier.
    rest = where
    for ident in _IDENTS:
        rest = rest.replace(ident, "")
    rest = re.sub(r"'(info|low|medium|high|critical|)'", "", rest)
    assert "'" not in rest and '"' not in rest and ";" not in rest, where
    con.execute(f"SELECT count(*) FROM t WHERE {where}", list(compiled.params)).fetchone()
