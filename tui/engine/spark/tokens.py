"""Token decoding and signature checks on Spark: the DuckDB engine's own decoder, transpiled.

`decode(spark, source)` runs `tokens.jwt_decode.decode_sql` — the very SQL DuckDB runs, its macros
expanded and translated by `spark.sql.transpile` — over a view `source(tok_key, token)` of distinct
tokens, giving the DataFrame DuckDB's `token_claims` holds, column for column.

`verify(spark, claims, tokens, key_lists, intel)` fills `sig` as `tokens.verify.verify_tokens` does,
with the same Python (`Verifier.check`: PyJWT), in a pandas UDF over the distinct tokens whose header
was read (`readable`), never per event: each distinct token is checked once, on the executors.

Imports `tokens` and this package's `sql`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd  # the spark extra's; module-level: pandas_udf reads the hints in these globals

from tui.engine.spark.sql import Macros, transpile
from tui.engine.tokens import jwt_decode
from tui.engine.tokens.intel import Intel
from tui.engine.tokens.verify import KeyLists, Verifier

MACROS = Macros.parse(jwt_decode._MACROS, jwt_decode._JSON_MACRO)
# The Spark SQL of the decoder over the view `_triage_tokens` (transpiled once per process).
SOURCE = "_triage_tokens"
_DECODE: dict[str, str] = {}


def decode_spark_sql(source: str = SOURCE) -> str:
    """`jwt_decode.decode_sql(source)` as Spark SQL."""
    if source not in _DECODE:
        _DECODE[source] = transpile(jwt_decode.decode_sql(source), MACROS)
    return _DECODE[source]


def decode(spark: Any, tokens: Any) -> Any:
    """`token_claims` of the DataFrame `tokens(tok_key, token)` (distinct tokens), as a DataFrame."""
    tokens.createOrReplaceTempView(SOURCE)
    return spark.sql(decode_spark_sql(SOURCE))


def _checker(keys: tuple[Any, ...], intel: Intel, have_lists: bool) -> Any:
    """The pandas UDF: (token, alg, kid, x5t, readable) → struct(sig, jwk_issuer, jwk_source)."""
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("sig string, jwk_issuer string, jwk_source string")  # type: ignore[call-overload]
    def check(
        token: pd.Series, alg: pd.Series, kid: pd.Series, x5t: pd.Series, ok: pd.Series
    ) -> pd.DataFrame:
        verifier = Verifier(keys, intel, have_lists=have_lists)  # per batch: its keys are few
        answers = [
            verifier.check(t, _none(a), _none(k), _none(x), bool(r))
            for t, a, k, x, r in zip(token, alg, kid, x5t, ok, strict=True)
        ]
        return pd.DataFrame(answers, columns=["sig", "jwk_issuer", "jwk_source"])

    return check


def _none(value: Any) -> Any:
    """pandas' missing value (None or NaN) as None, for `Verifier`'s `str | None` arguments."""
    return value if isinstance(value, str) else None


def verify(spark: Any, claims: Any, tokens: Any, key_lists: KeyLists, intel: Intel) -> tuple[Any, Any]:
    """(`token_claims` with `sig` filled, `token_keys(tok_key, sig, jwk_issuer, jwk_source)`)."""
    from pyspark.sql import functions as F

    check = _checker(key_lists.keys, intel, bool(key_lists.keys))
    read = claims.where("readable").select(
        "tok_key", "alg", "kid", "x5t", F.expr("decode_error IS NULL").alias("whole")
    )
    keyed = (
        read.join(tokens.select("tok_key", "token"), "tok_key")
        .select("tok_key", check("token", "alg", "kid", "x5t", "whole").alias("k"))
        .select("tok_key", "k.sig", "k.jwk_issuer", "k.jwk_source")
    )
    filled = (
        claims.drop("sig")
        .join(keyed.select("tok_key", "sig"), "tok_key", "left")
        .select(*[F.col(c) for c in claims.columns])
    )
    return filled, keyed


def verify_tokens(con: Any, key_lists: KeyLists, intel: Intel) -> tuple[str, ...]:
    """`tokens.verify.verify_tokens` on a `SparkCon`: `token_keys` and `token_claims.sig` from the
    pandas UDF (`verify`) instead of the driver; the notes on unreadable key lists."""
    spark = con.spark
    filled, keyed = verify(spark, spark.table("token_claims"), spark.table("token_text"), key_lists, intel)
    con.keep("token_keys", keyed)
    con.keep("token_claims", filled)
    return key_lists.notes
