"""Alike small JSON / JSON Lines files read as one (tui.engine.ingest.load_groups): the same events, row
numbers, bad-record reports and per-file counts as reading each file alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from load_kinds import events, isolated_cache, mia_audit, one, run  # noqa: F401 (fixture)

from tui.engine.case.session import Session
from tui.engine.core.options import Options


def _audit(n: int, hour: int) -> dict[str, Any]:
    return mia_audit(Id=f"id-{n}", CreationTime=f"2023-06-15T{hour:02d}:05:03", UserId=f"user{n}@contoso.gov")


def _blobs(folder: Path) -> list[Path]:
    """Three Management-Activity-style blobs; the second holds a record that is not an object."""
    folder.mkdir()
    records: list[list[Any]] = [
        [_audit(1, 1), _audit(2, 2)],
        [_audit(3, 3), 5, _audit(4, 4), _audit(5, 5)],
        [_audit(6, 6)],
    ]
    paths = []
    for n, recs in enumerate(records):
        path = folder / f"blob{n}.json"
        path.write_text(json.dumps(recs))
        paths.append(path)
    return paths


def _alone(paths: list[Path]) -> list[dict[str, Any]]:
    """Each file's events when it is the only input, in (source, source_row) order."""
    rows = []
    for path in sorted(paths, key=str):
        con, _ = run([path])
        rows.extend(events(con))
    return rows


def test_alike_json_arrays_are_read_together_with_the_events_of_each_alone(tmp_path: Path) -> None:
    paths = _blobs(tmp_path / "blobs")
    con, report = run([tmp_path / "blobs"])
    reports = [one(report, p.name) for p in paths]
    assert len({r.view for r in reports}) == 1 and reports[0].view is not None  # one read for the three
    assert [r.rows for r in reports] == [2, 3, 1]
    assert [r.bad_rows for r in reports] == [0, 1, 0]
    assert reports[1].bad_examples == ("record 2: 5",)
    assert {r.kind for r in reports} == {"management_activity"}
    got = events(con)
    assert [(Path(e["source"]).name, e["source_row"], e["user"]) for e in got] == [
        ("blob0.json", 1, "user1@contoso.gov"),
        ("blob0.json", 2, "user2@contoso.gov"),
        ("blob1.json", 1, "user3@contoso.gov"),
        ("blob1.json", 3, "user4@contoso.gov"),  # record 2 was the bad one: numbers are the file's
        ("blob1.json", 4, "user5@contoso.gov"),
        ("blob2.json", 1, "user6@contoso.gov"),
    ]
    assert got == _alone(paths)


def test_alike_json_lines_files_are_read_together(tmp_path: Path) -> None:
    folder = tmp_path / "lines"
    folder.mkdir()
    a = folder / "a.jsonl"
    a.write_text("\n".join(json.dumps(_audit(n, n)) for n in (1, 2)) + "\n")
    b = folder / "b.jsonl"
    b.write_text(json.dumps(_audit(3, 3)) + "\nnot json\n" + json.dumps(_audit(4, 4)) + "\n")
    con, report = run([folder])
    ra, rb = one(report, "a.jsonl"), one(report, "b.jsonl")
    assert ra.view == rb.view and ra.format == "jsonl"
    assert (ra.rows, rb.rows, ra.bad_rows, rb.bad_rows) == (2, 2, 0, 1)
    assert rb.bad_examples == ("record 2: not json",)
    assert events(con) == _alone([a, b])


def test_a_group_with_a_broken_file_falls_back_to_one_file_at_a_time(tmp_path: Path) -> None:
    paths = _blobs(tmp_path / "blobs")
    broken = tmp_path / "blobs" / "blob9.json"
    broken.write_text(json.dumps([_audit(7, 7)])[:-1] + ', {"CreationTime": ')  # cut mid-record
    _, alone = run([broken])
    con, report = run([tmp_path / "blobs"])
    assert one(report, "blob9.json").error == one(alone, "blob9.json").error is not None
    assert [one(report, p.name).rows for p in paths] == [2, 3, 1]
    assert events(con) == _alone(paths)


def test_files_whose_first_records_differ_are_read_apart(tmp_path: Path) -> None:
    """A sign-in export beside audit blobs keeps its own detection (its kind, its columns)."""
    paths = _blobs(tmp_path / "mixed")
    signin = tmp_path / "mixed" / "signins.json"
    signin.write_text(
        json.dumps(
            [
                {
                    "createdDateTime": "2023-06-15T03:55:00Z",
                    "userPrincipalName": "victim@contoso.gov",
                    "appId": "00000002-0000-0ff1-ce00-000000000000",
                    "ipAddress": "203.0.113.9",
                }
            ]
        )
    )
    _, report = run([tmp_path / "mixed"])
    s = one(report, "signins.json")
    assert s.kind == "entra_signin" and s.rows == 1 and s.view != one(report, paths[0].name).view
    assert s.mapping == one(run([signin])[1], "signins.json").mapping


def test_a_session_counts_each_file_of_a_group_from_the_stored_rows(tmp_path: Path) -> None:
    paths = _blobs(tmp_path / "blobs")
    session = Session.open([str(tmp_path / "blobs")], Options())
    try:
        reports = [one(session.report, p.name) for p in paths]
        assert [(r.rows, r.bad_rows, r.counts["mail_items_accessed"]) for r in reports] == [
            (2, 0, 2),
            (3, 1, 3),
            (1, 0, 1),
        ]
        stored = session.con.execute(
            "SELECT source, count(*) FROM events_t GROUP BY source ORDER BY source"
        ).fetchall()
        assert [(Path(s).name, n) for s, n in stored] == [
            ("blob0.json", 2),
            ("blob1.json", 3),
            ("blob2.json", 1),
        ]
    finally:
        session.close()


def test_groups_are_bounded_in_files_and_bytes(tmp_path: Path, monkeypatch: Any) -> None:
    from tui.engine.ingest import load_groups

    paths = sorted(_blobs(tmp_path / "blobs"), key=str)

    def names() -> list[list[str]]:
        return [[m.path.name for m in group] for group in load_groups.plan(paths)]

    assert names() == [["blob0.json", "blob1.json", "blob2.json"]]
    monkeypatch.setattr(load_groups, "GROUP_MAX_FILES", 2)
    assert names() == [["blob0.json", "blob1.json"], ["blob2.json"]]
    monkeypatch.setattr(load_groups, "GROUP_MAX_FILES", 2000)
    size = [p.stat().st_size for p in paths]
    monkeypatch.setattr(load_groups, "GROUP_MAX_TOTAL", size[0] + size[1] - 1)
    assert names() == [["blob0.json"], ["blob1.json", "blob2.json"]]
    monkeypatch.setattr(load_groups, "GROUP_MAX_BYTES", size[1])  # blob1 is the largest: alone
    assert names() == [["blob0.json", "blob2.json"], ["blob1.json"]]


def _purview(folder: Path, files: int = 3) -> list[Path]:
    """Purview audit search exports (UTF-8 with BOM, CR LF), 2 + n rows each."""
    from load_kinds import write_csv

    folder.mkdir()
    paths = []
    for f in range(files):
        rows = []
        for n in range(2 + f):
            record = _audit(10 * f + n, n)
            rows.append(
                [record["CreationTime"] + "Z", record["UserId"], "MailItemsAccessed", json.dumps(record)]
            )
        paths.append(
            write_csv(folder / f"audit{f}.csv", ["CreationDate", "UserIds", "Operations", "AuditData"], rows)
        )
    return paths


def test_alike_csv_exports_are_read_together(tmp_path: Path) -> None:
    paths = _purview(tmp_path / "purview")
    con, report = run([tmp_path / "purview"])
    reports = [one(report, p.name) for p in paths]
    assert len({r.view for r in reports}) == 1
    assert [(r.rows, r.kind) for r in reports] == [
        (2, "purview_audit"),
        (3, "purview_audit"),
        (4, "purview_audit"),
    ]
    got = events(con)
    assert [(Path(e["source"]).name, e["source_row"]) for e in got][:3] == [
        ("audit0.csv", 1),
        ("audit0.csv", 2),
        ("audit1.csv", 1),
    ]
    assert got == _alone(paths)


def test_a_rejected_csv_row_sends_the_group_back_to_one_file_at_a_time(tmp_path: Path) -> None:
    paths = _purview(tmp_path / "purview")
    broken = paths[1]
    lines = broken.read_bytes().split(b"\r\n")
    lines.insert(2, b'"2023-06-15T01:00:00Z,"unclosed')  # a quote never closed, between two records
    broken.write_bytes(b"\r\n".join(lines))
    _, alone = run([broken])
    con, report = run([tmp_path / "purview"])
    got, expected = one(report, broken.name), one(alone, broken.name)
    assert (got.rows, got.bad_rows, got.bad_examples) == (
        expected.rows,
        expected.bad_rows,
        expected.bad_examples,
    )
    assert got.bad_rows >= 1 and got.view != one(report, paths[0].name).view
    assert events(con) == _alone(paths)


def test_a_file_that_alone_would_be_read_otherwise_leaves_the_group(tmp_path: Path) -> None:
    """Same first record, but a later record carries bearer tokens: alone, that file has a token
    column; the group keeps the files that agree and loads this one by itself."""
    from load_kinds import JWT

    paths = _blobs(tmp_path / "blobs")
    odd = tmp_path / "blobs" / "blob3.json"
    odd.write_text(json.dumps([_audit(8, 8), {**_audit(9, 9), "Token": JWT}]))
    con, report = run([tmp_path / "blobs"])
    group = {one(report, p.name).view for p in paths}
    assert len(group) == 1 and one(report, "blob3.json").view not in group
    assert one(report, "blob3.json").mapping == one(run([odd])[1], "blob3.json").mapping
    assert "token" in one(report, "blob3.json").mapping
    assert one(report, "blob3.json").counts["tokens"] == 1
    assert events(con) == _alone([*paths, odd])


def test_the_open_reports_its_progress_from_zero_naming_the_files(tmp_path: Path) -> None:
    """What the TUI header shows while opening (`panes.progress_adapter` over `Session.open`)."""
    from tui.engine.analyses.panes import progress_adapter

    paths = _blobs(tmp_path / "blobs")
    (tmp_path / "blobs" / "other.jsonl").write_text(json.dumps({"time": "2023-06-01T00:00:00Z"}) + "\n")
    seen: list[tuple[str, float]] = []
    session = Session.open([str(tmp_path / "blobs")], Options(), progress_adapter(lambda *a: seen.append(a)))
    session.close()
    assert seen[0] == (f"reading {paths[0].name}", 0.0)  # the group of three, then the other file
    assert seen[1] == ("reading other.jsonl", 0.95 * 0.5 * 3 / 4)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 0.95


def _parts(folder: Path, rows: list[int], *, tokens: bool = True) -> list[Path]:
    """Gateway Parquet part files (as Spark or an export job writes a table), `rows[k]` rows each."""
    import duckdb
    from load_kinds import JWT

    folder.mkdir(exist_ok=True)
    paths = []
    start = len(list(folder.glob("*.parquet")))
    for k, n in enumerate(rows, start=start):
        path = folder / f"part-{k:05d}.parquet"
        token = f"'Bearer {JWT}'" if tokens else "NULL::VARCHAR"
        duckdb.sql(
            f"""COPY (SELECT TIMESTAMPTZ '2023-06-15 04:00:00+00' + INTERVAL (range + {10 * k}) MINUTE
                        AS time,
                        '203.0.113.' || (range + {k}) || ':443' AS client,
                        'https://outlook.office.com/owa/service.svc?action=GetItem' AS url,
                        {token} AS hdr,
                        'SMTP:boss{k}@contoso.gov' AS x_anchormailbox
                 FROM range({n})) TO '{path}' (FORMAT parquet)"""
        )
        paths.append(path)
    return paths


def test_parquet_part_files_are_one_view_with_the_events_of_each_alone(tmp_path: Path) -> None:
    paths = _parts(tmp_path / "table", [3, 1, 2])
    (tmp_path / "table" / "part-00009.parquet").write_bytes(b"PAR1 not really")  # read alone: its error
    con, report = run([tmp_path / "table"])
    reports = [one(report, p.name) for p in paths]
    assert len({r.view for r in reports}) == 1 and reports[0].format == "parquet"
    assert [(r.rows, r.kind, r.counts["tokens"]) for r in reports] == [
        (3, "http", 3),
        (1, "http", 1),
        (2, "http", 2),
    ]
    assert one(report, "part-00009.parquet").error is not None
    got = events(con)
    assert [(Path(e["source"]).name, e["source_row"], e["client_ip"]) for e in got][:4] == [
        ("part-00000.parquet", 1, "203.0.113.0"),
        ("part-00000.parquet", 2, "203.0.113.1"),
        ("part-00000.parquet", 3, "203.0.113.2"),
        ("part-00001.parquet", 1, "203.0.113.1"),
    ]
    assert got == _alone(paths)


def test_a_parquet_part_that_alone_reads_otherwise_is_read_alone(tmp_path: Path) -> None:
    """Same columns, but no token in its rows: the token column is found by its values (`hdr`), so
    alone this file has none, and it leaves the group."""
    paths = _parts(tmp_path / "table", [2, 2])
    odd = _parts(tmp_path / "table", [2], tokens=False)[0]
    con, report = run([tmp_path / "table"])
    assert one(report, paths[0].name).view == one(report, paths[1].name).view != one(report, odd.name).view
    assert "token" not in one(report, odd.name).mapping and "token" in one(report, paths[0].name).mapping
    assert events(con) == _alone([*paths, odd])


def test_graph_pages_saved_one_per_file_are_read_together(tmp_path: Path) -> None:
    """A script that saves each Graph page (`{"@odata.context", "value": [...], "@odata.nextLink"}`)
    leaves one document per page; their record lists are read as one, numbered per file."""
    folder = tmp_path / "pages"
    folder.mkdir()
    paths = []
    for page, records in enumerate(
        [[_audit(1, 1), _audit(2, 2)], [_audit(3, 3), 7, _audit(4, 4)], [_audit(5, 5)]]
    ):
        doc = {"@odata.context": "https://graph.microsoft.com/beta/$metadata#x", "value": records}
        doc["@odata.nextLink"] = f"https://graph.microsoft.com/beta/x?$skiptoken={page}]"
        path = folder / f"page{page}.json"
        path.write_text(json.dumps(doc))
        paths.append(path)
    con, report = run([folder])
    reports = [one(report, p.name) for p in paths]
    assert len({r.view for r in reports}) == 1
    assert [(r.format, r.rows, r.bad_rows) for r in reports] == [
        ("json {value: [...]}", 2, 0),
        ("json {value: [...]}", 2, 1),
        ("json {value: [...]}", 1, 0),
    ]
    assert reports[1].bad_examples == ("record 2: 7",)
    assert events(con) == _alone(paths)


def test_a_record_list_document_too_large_for_one_piece_is_read_from_its_list(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """SPEC §2: files bigger than memory work. DuckDB reads a document in one piece (384 MB at most
    here), an array element by element: a larger `{"value": [...]}` is read from a copy of its list."""
    import gzip

    from tui.engine.ingest import readers

    records = [_audit(1, 1), 5, {**_audit(2, 2), "Note": '] } , "value": ['}]
    doc = {"@odata.context": "x", "value": records, "@odata.nextLink": "https://g/x?$skiptoken=a]b"}
    plain = tmp_path / "big.json"
    plain.write_text("\ufeff" + json.dumps(doc, indent=1))  # PowerShell's BOM: read from a transcoded copy
    packed = tmp_path / "big.json.gz"
    packed.write_bytes(gzip.compress(json.dumps(doc).encode()))
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({**doc, "more": {"a": [1]}}))
    expected = {}
    for path in (plain, packed):
        con, report = run([path])
        expected[path.name] = (one(report, path.name).rows, [{**e, "source": ""} for e in events(con)])
    monkeypatch.setattr(readers, "MAX_JSON_DOC", 256)
    for path in (plain, packed):
        con, report = run([path])
        f = one(report, path.name)
        assert (f.format, f.rows, f.bad_rows, f.bad_examples) == (
            "json {value: [...]}",
            2,
            1,
            ("record 2: 5",),
        )
        assert "its record list read from a copy in the cache" in (f.note or "")
        assert (f.rows, [{**e, "source": ""} for e in events(con)]) == expected[path.name]
    _, report = run([nested])
    assert one(report, "nested.json").error == (
        "a JSON document too large to read in one piece, with more after its record list"
    )


def test_records_with_a_member_named_like_the_readers_columns_are_read_alone(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    paths = []
    for n in (1, 2):
        record = {
            "time": f"2023-06-0{n}T00:00:00Z",
            "source_file": "x",
            "source_row": 7,
            "user": f"u{n}@x.com",
        }
        paths.append(folder / f"f{n}.json")
        paths[-1].write_text(json.dumps([record]))
    con, report = run([folder])
    assert one(report, "f1.json").view != one(report, "f2.json").view
    assert events(con) == _alone(paths)
