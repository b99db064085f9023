"""`_tok_map`: each distinct bearer value once with its stripped text, found by grouping integers
(`work._token_map`), so every row gets the key of its own token, across files too."""

from __future__ import annotations

from pathlib import Path

import duckdb
import iptocc
import pytest

from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.ingest.load import load

GATEWAY = Path(__file__).resolve().parents[1] / "sample_logs" / "gateway.parquet"


@pytest.fixture(autouse=True)
def _dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))


def _part(tmp_path: Path, name: str, where: str, bearer: str = "request_header_authorization") -> Path:
    """A slice of the sample gateway log (the filter and the column expression are ours)."""
    out = tmp_path / name
    duckdb.sql(
        f"COPY (SELECT * REPLACE ({bearer} AS request_header_authorization) FROM read_parquet('{GATEWAY}') "
        f"WHERE {where}) TO '{out}' (FORMAT parquet)"
    )
    return out


def _expected(paths: list[Path]) -> dict[tuple[str, int], int | None]:
    """(file, row) → hash of the stripped token, computed row by row without the map."""
    con = duckdb.connect()
    out: dict[tuple[str, int], int | None] = {}
    for p in paths:
        rows = con.execute(
            "SELECT file_row_number + 1, CASE WHEN t <> '' THEN hash(t) END FROM (SELECT file_row_number, "
            "trim(regexp_replace(request_header_authorization, '^\\s*bearer\\s+', '', 'i')) AS t "
            f"FROM read_parquet('{p}', file_row_number = true))"
        ).fetchall()
        out.update({(str(p), int(r)): k for r, k in rows})
    return out


def test_rows_of_several_files_get_their_own_tokens_key(tmp_path: Path) -> None:
    # The same tokens in both files, the second spelling the prefix differently for half its rows.
    first = _part(tmp_path, "a.parquet", "status < 400")
    second = _part(
        tmp_path,
        "b.parquet",
        "true",
        "CASE WHEN bytes % 2 = 0 THEN replace(request_header_authorization, 'Bearer ', '  bearer ') "
        "ELSE request_header_authorization END",
    )
    con = connect()
    try:
        load(con, [str(first), str(second)], Options(), materialise=True)
        rows = con.execute("SELECT source, source_row, tok_key FROM events_t").fetchall()
        got = {(s, int(r)): k for s, r, k in rows}
        expected = _expected([first, second])
        assert got == expected
        assert sum(k is not None for k in got.values()) > 100
        # one map row per distinct raw value, however many files carry it
        dup = con.execute("SELECT count(*) - count(DISTINCT raw_key) FROM _tok_map").fetchone()
        assert dup == (0,)
        raws = con.execute(
            "SELECT count(DISTINCT request_header_authorization) FROM read_parquet(?)",
            [[str(first), str(second)]],
        ).fetchone()
        assert con.execute("SELECT count(*) FROM _tok_map").fetchone() == raws
    finally:
        con.close()


@pytest.mark.parametrize("files", [1, 2])
def test_each_stored_row_has_its_ips_country(tmp_path: Path, files: int) -> None:
    # `country` is added after the write, from the stored IPs (work._add_countries); one file in
    # time order is kept as written, two are sorted into a new table.
    paths = [_part(tmp_path, "a.parquet", "true")]
    if files == 2:
        paths.append(_part(tmp_path, "b.parquet", "status >= 400"))
    con = connect()
    try:
        load(con, [str(p) for p in paths], Options(), materialise=True)
        rows = con.execute("SELECT client_ip, country FROM events_t").fetchall()
    finally:
        con.close()
    ips = sorted({ip for ip, _ in rows if ip is not None})
    codes = {ip: c or None for ip, c in zip(ips, iptocc.country_code(ips), strict=True)}
    assert [c for _, c in rows] == [codes.get(ip) if ip is not None else None for ip, _ in rows]
    assert sum(c is not None for _, c in rows) > 100 and len({c for _, c in rows}) > 3
