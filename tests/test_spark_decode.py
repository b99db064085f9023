"""The decoder on Spark is DuckDB's own SQL transpiled (tui.engine.spark.sql): the same `token_claims`,
every column of every row, for the sample tokens, the hostile generated ones and the real ones; and the
same signature answers from the pandas UDF over distinct tokens as from DuckDB's path."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from shared_data import SHARED_DATA
from spark_kit import need_spark
from test_tokens_decode import make_token

from tui.engine.tokens import jwt_decode
from tui.engine.tokens.intel import load_intel
from tui.engine.tokens.verify import KeyLists, verify_tokens

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs"
pytestmark = pytest.mark.usefixtures("_spark_ready")


@pytest.fixture
def _spark_ready() -> None:
    need_spark()


def sample_tokens() -> list[str]:
    table = pq.read_table(SAMPLE / "gateway.parquet", columns=["request_header_authorization"])
    values = {v for v in table.column(0).to_pylist() if v}
    return sorted(v.split(" ", 1)[1] if v.lower().startswith("bearer ") else v for v in values)


def hostile_tokens() -> list[str]:
    import random

    rng = random.Random(20230714)  # the generator and seed of test_tokens_decode's differential
    tokens = list(dict.fromkeys(make_token(rng) for _ in range(1500)))
    edge = [
        "EwBAA8l6BAAU",
        "a.b",
        "a.b.c.d",
        "e30.e30.!!!!",
        "W10.e30.",
        "e30.W10.",
        "e30.e31.",
        "e30.e30.AB",
        "e30.e30.AAB",
        "e30.e30.AB==",
        "e30.e30.A",
        "e30==.e30.",
        "",
        "e30.e30.",
        "e30.e3 0.",
        "e30.e3\n0.",
    ]
    return tokens + edge


def real_tokens() -> list[str]:
    path = SHARED_DATA / "tokens" / "tokens.json"
    return [t["token"] for t in json.loads(path.read_text(encoding="utf-8"))] if path.exists() else []


def _duckdb(tokens: list[str], key_lists: KeyLists | None = None) -> tuple[list[str], list, list]:
    con = duckdb.connect()
    jwt_decode.decode_values(con, tokens)
    if key_lists is not None:
        verify_tokens(con, key_lists, load_intel())
    cur = con.execute("SELECT * FROM token_claims ORDER BY tok_key")
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    texts = con.execute("SELECT tok_key, token FROM token_text ORDER BY tok_key").fetchall()
    return names, rows, texts


def _spark(spark: Any, texts: list[tuple], key_lists: KeyLists | None = None) -> tuple[list[str], list]:
    from tui.engine.spark import tokens as spark_tokens

    frame = spark.createDataFrame([(Decimal(k), t) for k, t in texts], "tok_key decimal(20,0), token string")
    claims = spark_tokens.decode(spark, frame)
    if key_lists is not None:
        claims, _ = spark_tokens.verify(spark, claims, frame, key_lists, load_intel())
    rows = claims.orderBy("tok_key").collect()
    return claims.columns, [tuple(int(v) if i == 0 else v for i, v in enumerate(r)) for r in rows]


def _same(spark: Any, tokens: list[str], key_lists: KeyLists | None = None) -> int:
    names, expected, texts = _duckdb(tokens, key_lists)
    got_names, got = _spark(spark, texts, key_lists)
    assert got_names == names
    assert len(got) == len(expected) == len(set(tokens))
    wrong = [
        (texts[i][1][:60], n, e, g)
        for i, (erow, grow) in enumerate(zip(expected, got, strict=True))
        for n, e, g in zip(names, erow, grow, strict=True)
        if e != g
    ]
    assert wrong[:5] == []
    return len(got)


def test_sample_tokens_decode_the_same(spark: Any) -> None:
    tokens = sample_tokens()
    assert len(tokens) > 100
    assert _same(spark, tokens) == len(tokens)


def test_hostile_tokens_decode_the_same(spark: Any) -> None:
    assert _same(spark, hostile_tokens()) >= 1000


def test_real_tokens_decode_and_verify_the_same(spark: Any) -> None:
    tokens = real_tokens()
    if not tokens:
        pytest.skip("../shared/data/tokens not present")
    lists = KeyLists.read(tuple(sorted((SHARED_DATA / "jwks").glob("*.json"))))
    assert _same(spark, tokens, lists) == len(set(tokens))


def test_sample_signatures_are_the_same(spark: Any) -> None:
    lists = KeyLists.read((SAMPLE / "jwks.json",))
    jwts = [t for t in sample_tokens() if t.count(".") == 2]
    # one token with another's signature: a key with its kid exists and does not verify it
    swapped = jwts[0].rsplit(".", 1)[0] + "." + jwts[1].rsplit(".", 1)[1]
    tokens = [*sample_tokens(), swapped]
    names, rows, _ = _duckdb(tokens, lists)
    sigs = {r[names.index("sig")] for r in rows}
    assert {"valid", "invalid"} <= sigs  # both answers a key gives are exercised
    assert _same(spark, tokens, lists) == len(tokens)
