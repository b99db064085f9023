"""The first stages on Spark, each the DuckDB engine's own code through `SparkCon`, give the DuckDB
engine's tables: the events of a gateway log read from CSV (every column of every row), the stored rows'
token counts (`token_stats`), the distinct tokens and their claims and signatures. (The same log in
Parquet is carried through every stage to the findings files by tests/test_spark_scan.py.)"""

from __future__ import annotations

from datetime import datetime
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


# DuckDB constructs whose sqlglot translation means something else on Spark (`spark.aggregates`,
# `spark.frames`, `spark.sql`'s window and day rewrites), each answered by both engines over one table
CONSTRUCTS = (
    # list(): NULLs kept, ORDER BY honoured (NULLs last), NULL over no rows; first(… ORDER BY …)
    "SELECT g, list(v ORDER BY k DESC, v), list(v) FILTER (WHERE k > 10), first(v ORDER BY k, v) "
    "FROM t GROUP BY g",
    "SELECT g, list_sort(list(DISTINCT v) FILTER (WHERE v IS NOT NULL)), list_sort(list(k)) "
    "FROM t GROUP BY g",
    # count(DISTINCT) over a frame bounded by a one-row parameter table's setting
    "SELECT g, k, count(DISTINCT v) OVER (PARTITION BY g ORDER BY ts "
    "RANGE BETWEEN to_minutes(p.m) PRECEDING AND CURRENT ROW) FROM t, params p",
    "SELECT k, isodow(ts), dayofweek(ts) FROM t",
    # JSON: a wildcard inside a path (elements without the member left out), text read as a type
    "SELECT j, json_extract_string(j, '$.F[*].P'), json_extract(j, '$.F[*].P'), "
    """from_json(j, '{"F": [{"P": "VARCHAR"}]}') FROM js""",
    # unnests side by side are zipped (the shorter padded with NULLs), not every pair
    "SELECT unnest(['a', 'b', 'c']) AS x, unnest([1, 2]) AS n",
    # dates with one-digit fields (Purview's US locale: `M/d/yyyy h:mm:ss a`); a quoted JSON key
    "SELECT try_strptime('1/5/2023 4:05:03 PM', '%m/%d/%Y %I:%M:%S %p'), "
    "try_strptime('12/11/2023 12:06:46 AM', '%m/%d/%Y %I:%M:%S %p'), "
    """json_extract_string('{"a b": {"c": 1}}', '$."a b"."c"')""",
    # JSON text as the document has it: an object's members in their order (Spark's VARIANT sorts
    # them), a string quoted; a list of what a path with two wildcards reaches, made JSON
    """SELECT json_extract('{"b": {"z": 1, "a": [2, "x"]}}', '$.b'), """
    """json_extract_string('{"b": {"z": 1, "a": 2}, "@o.t": "v"}', ['$."b"', '$."@o.t"']), """
    """to_json(json_extract('[{"m": [{"z": 1, "a": null}]}, {"m": ["s", 2]}, {}]', '$[*]."m"[*]'))""",
    # epoch() of a time difference is a DOUBLE, rounded as DuckDB rounds it (0.85 is 0.8499… in binary)
    "SELECT round(epoch(TIMESTAMP '2023-06-06 15:13:15' - TIMESTAMP '2023-06-06 15:12:24') / 60, 1), "
    "format('{} s', epoch(TIMESTAMP '2023-06-01 14:21:46' - TIMESTAMP '2023-06-01 14:21:37')), "
    "round(epoch(TIMESTAMP '1970-01-01 00:00:01') * 1.25, 1)",
)


def test_transpiled_constructs_answer_as_duckdb(spark: Any) -> None:
    from tui.engine.spark.con import SparkCon

    setup = (
        "CREATE TABLE t AS SELECT * FROM (VALUES "
        "('a', 1, 'x', TIMESTAMP '2024-03-03 10:00:00'), ('a', 2, NULL, TIMESTAMP '2024-03-04 10:30:00'), "
        "('a', 3, 'y', TIMESTAMP '2024-03-04 10:45:00'), ('b', 1, 'y', TIMESTAMP '2024-03-09 09:00:00'), "
        "('b', 2, 'z', TIMESTAMP '2024-03-09 09:59:00'), ('b', NULL, 'x', TIMESTAMP '2024-03-10 23:00:00')) "
        "AS x(g, k, v, ts)"
    )
    params = "CREATE TABLE params AS SELECT ?::INTEGER AS m"
    duck = duckdb.connect()
    con = SparkCon(spark)
    documents = (
        """CREATE TABLE js AS SELECT * FROM (VALUES ('{"F":[{"P":"a"},{"Q":1},{"P":null},{"P":2}]}'), """
        """('{"F":[]}'), ('{}')) AS x(j)"""
    )
    for c in (duck, con):
        c.execute(setup)
        c.execute(params, [60])
        c.execute(documents)
    for sql in CONSTRUCTS:
        expected = _rows(duck, sql)
        assert _rows(con, sql) == expected, sql
    # what the answers are, so equal-but-wrong on both cannot pass
    ordered = {g: (values, first) for g, values, _, first in duck.execute(CONSTRUCTS[0]).fetchall()}
    assert ordered == {"a": (["y", None, "x"], "x"), "b": (["z", "y", "x"], "y")}
    windowed = sorted(duck.execute(CONSTRUCTS[2]).fetchall(), key=lambda r: (r[0], r[1] or 0))
    assert [n for *_, n in windowed] == [1, 0, 1, 1, 1, 2]  # a NULL v is not counted; b: 09:00, 09:59
    texts = {j: (s, t) for j, s, t, _ in duck.execute(CONSTRUCTS[4]).fetchall()}
    assert texts['{"F":[{"P":"a"},{"Q":1},{"P":null},{"P":2}]}'] == (["a", None, "2"], ['"a"', "null", "2"])
    assert texts["{}"] == ([], [])
    assert sorted(duck.execute(CONSTRUCTS[5]).fetchall()) == [("a", 1), ("b", 2), ("c", None)]
    assert duck.execute(CONSTRUCTS[6]).fetchall() == [
        (datetime(2023, 1, 5, 16, 5, 3), datetime(2023, 12, 11, 0, 6, 46), "1")
    ]
    assert duck.execute(CONSTRUCTS[7]).fetchall() == [
        ('{"z":1,"a":[2,"x"]}', ['{"z":1,"a":2}', "v"], '[{"z":1,"a":null},"s",2]')
    ]
    assert duck.execute(CONSTRUCTS[8]).fetchall() == [(0.8, "9.0 s", 1.3)]
    # DESCRIBE of a query (the repeated-records check reads a view's columns so)
    assert con.execute("DESCRIBE SELECT g, k FROM t").fetchall() == [("g", "STRING"), ("k", "INT")]
