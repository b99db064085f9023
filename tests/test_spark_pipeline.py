"""The first stages on Spark, each the DuckDB engine's own code through `SparkCon`, give the DuckDB
engine's tables: the events of a gateway log read from CSV (every column of every row), the stored rows'
token counts (`token_stats`), the distinct tokens and their claims and signatures. (The same log in
Parquet is carried through every stage to the findings files by tests/test_spark_scan.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from spark_kit import need_spark

from tui.engine.case.session import Session
from tui.engine.core.options import Options

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs"
EVENTS = "SELECT * EXCLUDE (country), country FROM events_base"
# per token (by its SHA-256: the key itself is each engine's own hash), its uses and time span
STATS = """SELECT c.tok_sha256, s.uses, s.first_ts, s.last_ts
    FROM token_stats s JOIN token_claims c ON c.tok_key = s.tok_key"""
CLAIMS = "SELECT * EXCLUDE (tok_key) FROM token_claims"
KEYS = """SELECT c.tok_sha256, k.sig, k.jwk_issuer, k.jwk_source
    FROM token_keys k JOIN token_claims c ON c.tok_key = k.tok_key"""


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample's gateway log and key list, and the same rows as a CSV (written by DuckDB)."""
    need_spark()
    folder = tmp_path_factory.mktemp("logs")
    parquet = folder / "parquet"
    parquet.mkdir()
    for name in ("gateway.parquet", "jwks.json"):
        (parquet / name).write_bytes((SAMPLE / name).read_bytes())
    csv = folder / "csv"
    csv.mkdir()
    (csv / "jwks.json").write_bytes((SAMPLE / "jwks.json").read_bytes())
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT strftime(time, '%Y-%m-%dT%H:%M:%S.%fZ') AS time, * EXCLUDE (time) "
        f"FROM read_parquet('{parquet / 'gateway.parquet'}')) TO '{csv / 'gateway.csv'}' (HEADER)"
    )
    return {"parquet": parquet, "csv": csv}


def _rows(con: Any, sql: str) -> list[str]:
    return sorted(repr(tuple(r)) for r in con.execute(sql).fetchall())


# Parquet: the findings differential (tests/test_spark_scan.py) reads the same file through every stage
@pytest.mark.parametrize("form", ["csv"])
def test_spark_reads_decodes_and_verifies_as_duckdb_does(
    spark: Any, logs: dict[str, Path], form: str
) -> None:
    from tui.engine.spark.con import SparkCon
    from tui.engine.spark.read import check_supported, detect
    from tui.engine.spark.scan import prepare

    paths = [str(logs[form])]
    detected = detect(paths, Options())
    check_supported(detected)
    assert [(f.format, f.kind) for f in detected.report.files if f.view] == [(form, "http")]
    con = SparkCon(spark)
    prepare(con, detected, Options())

    session = Session.open(paths, Options(), materialise_events=False)
    try:
        duck = session.con
        for what in (EVENTS, STATS, CLAIMS, KEYS):
            expected = _rows(duck, what)
            assert expected, what
            assert _rows(con, what) == expected, what
        sigs = dict(duck.execute("SELECT sig, count(*) FROM token_keys GROUP BY sig").fetchall())
        assert sigs.get("valid", 0) > 100  # the signatures were checked, not only settled by shape
    finally:
        session.close()
