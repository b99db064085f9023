"""Loader formats: each container and compression, bad rows counted, bad files reported, others still load."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import zstandard
from load_kinds import isolated_cache, one, run  # noqa: F401  (isolated_cache: an autouse fixture)

CSV_TEXT = (
    "TimeGenerated,UserId,ClientIP,Operation,Parameters\r\n"
    '2020-04-18T04:50:30Z,a@x.com,10.0.0.1:5050,Set-Thing,"[\r\n  {""Name"": ""Identity""}\r\n]"\r\n'
    "2020-04-18T04:50:31Z,b@x.com,[2001:db8::1]:443,Get-Thing,plain\r\n"
    "2020-04-18T04:50:32Z,c@x.com,1.2.3.4,Too,many,columns,here\r\n"
    "2020-04-18T04:50:33Z,d@x.com,8.8.8.8,New-Thing,x\r\n"
)


def test_csv_bom_multiline_and_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "exchange.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV_TEXT.encode())
    con, report = run([path])
    f = one(report, "exchange.csv")
    assert (f.format, f.kind, f.rows, f.bad_rows) == ("csv", "generic", 3, 1)
    # the third record (the file's fourth line after the header's, counting the quoted newlines as
    # one record) is rejected and keeps its number: the record after it is the fourth
    assert f.bad_examples[0].startswith("row 3: TOO MANY COLUMNS")
    assert f.mapping["ts"] == "TimeGenerated" and f.mapping["client_ip"] == "ClientIP"
    rows = con.execute(
        'SELECT source_row, "user", client_ip, country FROM events_base ORDER BY source_row'
    ).fetchall()
    assert rows == [
        (1, "a@x.com", "10.0.0.1", None),
        (2, "b@x.com", "2001:db8::1", None),
        (4, "d@x.com", "8.8.8.8", "US"),
    ]
    params = con.execute(f"SELECT Parameters FROM {f.view} WHERE source_row = 1").fetchone()
    assert params == ('[\r\n  {"Name": "Identity"}\r\n]',)


def test_csv_rows_keep_their_numbers_around_rejected_ones(tmp_path: Path) -> None:
    """`source_row` is the record's number in the file (header not counted), rejected records
    counted: two rejected in a row, one after a multi-line cell, one last."""
    path = tmp_path / "audit.csv"
    path.write_text(
        "time,user,note\n"
        '2023-06-01T00:00:01Z,r1@x.com,"two\nlines"\n'  # record 1
        "bad,too,many,columns\n"  # 2
        "bad,again,too,many\n"  # 3
        "2023-06-01T00:00:04Z,r4@x.com,ok\n"  # 4
        'bad,"x\ny",z,w\n'  # 5
        "2023-06-01T00:00:06Z,r6@x.com,ok\n"  # 6
        "2023-06-01T00:00:07Z,r7@x.com,ok\n"  # 7
        "bad,last,one,more\n"  # 8
    )
    con, report = run([path])
    f = one(report, "audit.csv")
    assert (f.rows, f.bad_rows) == (4, 4)
    assert [e.split(":")[0] for e in f.bad_examples] == ["row 2", "row 3", "row 5"]
    rows = con.execute('SELECT source_row, "user" FROM events_base ORDER BY source_row').fetchall()
    assert rows == [(1, "r1@x.com"), (4, "r4@x.com"), (6, "r6@x.com"), (7, "r7@x.com")]
    assert con.execute(f"SELECT note FROM {f.view} WHERE source_row = 1").fetchone() == ("two\nlines",)


@pytest.mark.parametrize(
    ("text", "fmt", "rows"),
    [("[]", "json", 0), ('{"value": []}', "json {value: [...]}", 0), ("[{}, {}]", "json", 2)],
)
def test_json_without_any_column_loads(tmp_path: Path, text: str, fmt: str, rows: int) -> None:
    """An empty export (a query that found nothing) is a log with no rows, not an unreadable file
    (it was reported as 'cannot normalise: Binder Error: SELECT list is empty')."""
    path = tmp_path / "signins.json"
    path.write_text(text)
    con, report = run([path])
    f = one(report, "signins.json")
    assert (f.error, f.format, f.kind, f.rows, f.bad_rows) == (None, fmt, "generic", rows, 0)
    assert con.execute("SELECT count(*) FROM events_base").fetchone() == (rows,)


def test_tsv_and_latin1(tmp_path: Path) -> None:
    path = tmp_path / "proxy.txt"
    path.write_bytes("time\tuser\tnote\n2023-06-15 04:05:03\tjos\xe9\tok\n".encode("latin-1"))
    con, report = run([path])
    f = one(report, "proxy.txt")
    assert f.format == "tsv" and f.rows == 1 and "latin-1" in (f.note or "")
    assert con.execute('SELECT ts, "user" FROM events_base').fetchone() == (
        datetime(2023, 6, 15, 4, 5, 3),
        "josé",
    )


def test_json_array_value_document_and_records(tmp_path: Path) -> None:
    rec = [{"createdDateTime": "2023-06-15T04:05:03Z", "userPrincipalName": "A@X.com", "appId": "x"}] * 2
    (tmp_path / "arr.json").write_text(json.dumps(rec, indent=2))
    (tmp_path / "val.json").write_text(json.dumps({"@odata.context": "c", "value": rec}))
    (tmp_path / "azure.json").write_text(json.dumps({"records": rec}, indent=1))
    _, report = run([tmp_path])
    assert [(f.path.name, f.format, f.rows) for f in report.files] == [
        ("arr.json", "json", 2),
        ("azure.json", "json {records: [...]}", 2),
        ("val.json", "json {value: [...]}", 2),
    ]


def test_jsonl_crlf_counts_invalid_lines_and_keeps_line_numbers(tmp_path: Path) -> None:
    lines = [
        '{"TimeGenerated":"2021-08-02T13:32:07Z","Operation":"A"}',
        "{not json",
        "",
        '{"TimeGenerated":"2021-08-02T13:33:07Z","Operation":"B"}',
        '"a string"',
    ]
    path = tmp_path / "x.json"
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    con, report = run([path])
    f = one(report, "x.json")
    assert (f.format, f.rows, f.bad_rows) == ("jsonl", 2, 2)
    assert f.bad_examples == ("record 2: {not json", 'record 5: "a string"')
    assert con.execute("SELECT source_row, operation FROM events_base ORDER BY 1").fetchall() == [
        (1, "A"),
        (4, "B"),
    ]


def test_compressed_inputs_detected_by_content(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(gzip.compress(CSV_TEXT.encode()))  # gzip without .gz name
    (tmp_path / "b.jsonl.zst").write_bytes(
        zstandard.ZstdCompressor().compress(b'{"time":"2023-01-01T00:00:00+02:00","user":"u"}\n')
    )
    con, report = run([tmp_path / "a.log", tmp_path / "b.jsonl.zst"])
    a, b = one(report, "a.log"), one(report, "b.jsonl.zst")
    assert (a.format, a.compression, a.rows, a.bad_rows) == ("csv", "gzip", 3, 1)
    assert (b.format, b.compression, b.rows) == ("jsonl", "zstd", 1)
    assert b.ts_min == datetime(2022, 12, 31, 22, 0)


def test_parquet_is_a_lazy_view_with_file_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    gen = duckdb.connect()
    gen.execute(
        "COPY (SELECT TIMESTAMP '2023-06-01 00:00:00' + INTERVAL (i) SECOND AS time, 'u' || i AS who "
        f"FROM range(1000) t(i)) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 100)"
    )
    con, report = run([path])
    f = one(report, "p.parquet")
    assert (f.format, f.rows, f.ts_max) == ("parquet", 1000, datetime(2023, 6, 1, 0, 16, 39))
    kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    assert kinds["src_0"] == "VIEW" and kinds["ev_0"] == "VIEW"
    assert con.execute(f"SELECT who FROM {f.view} WHERE source_row = 701").fetchone() == ("u700",)


def test_unreadable_files_are_reported_and_the_rest_loads(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(CSV_TEXT)
    gen = duckdb.connect()
    pq = tmp_path / "trunc.parquet"
    gen.execute(f"COPY (SELECT range AS x FROM range(5000)) TO '{pq}' (FORMAT parquet)")
    pq.write_bytes(pq.read_bytes()[:-100])
    (tmp_path / "garbage.csv").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "bad.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    _, report = run([tmp_path])
    errors = {f.path.name: f.error for f in report.errors}
    assert errors["empty.json"] == "empty file"
    assert errors["garbage.csv"] == "binary data, not a supported log format"
    assert errors["bad.json.gz"] is not None and errors["bad.json.gz"].startswith("corrupt gzip data")
    assert errors["trunc.parquet"]  # DuckDB's reason, e.g. "No magic bytes found at end of file"
    assert set(errors) == {"empty.json", "garbage.csv", "bad.json.gz", "trunc.parquet"}
    assert report.rows == 3 and one(report, "good.csv").loaded


@pytest.mark.unprivileged  # root reads any file (tests/unprivileged.py)
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.csv"
    path.write_text(CSV_TEXT)
    path.chmod(0)
    try:
        _, report = run([path])
    finally:
        path.chmod(0o600)
    assert report.errors[0].error == "permission denied"


def test_documents_that_are_not_event_logs(tmp_path: Path) -> None:
    (tmp_path / "keys.json").write_text(
        json.dumps({"keys": [{"kty": "RSA", "kid": "k", "n": "x", "e": "AQAB"}]})
    )
    (tmp_path / "truth.json").write_text(json.dumps({"planted": {"a": 1}}, indent=2))
    (tmp_path / "README.md").write_text("# notes, not, a, log\n")
    (tmp_path / ".hidden.csv").write_text(CSV_TEXT)
    _, report = run([tmp_path])
    assert report.jwks_files == (tmp_path / "keys.json",)
    assert one(report, "truth.json").note == "a single JSON object without a record list: not an event log"
    assert one(report, "README.md").note == "skipped: .md is not a log format"
    assert not report.errors and report.rows == 0
    assert all(f.path.name != ".hidden.csv" for f in report.files)


def test_globs_and_missing_paths(tmp_path: Path) -> None:
    for n in (1, 2):
        (tmp_path / f"part{n}.csv").write_text(CSV_TEXT)
    _, report = run([str(tmp_path / "part*.csv"), str(tmp_path / "nope.csv"), "https://example.com/x.csv"])
    assert [f.path.name for f in report.files] == ["part1.csv", "part2.csv"]
    assert report.missing == (
        f"{tmp_path / 'nope.csv'} (no such file)",
        "https://example.com/x.csv (only local paths are read)",
    )


def test_har_tokens_from_header_and_url(tmp_path: Path) -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJ1dGkiOiJ4In0.c2ln"
    entries = [
        {
            "startedDateTime": "2023-06-15T06:05:03.120+02:00",
            "request": {
                "method": "POST",
                "url": "https://outlook.office.com/owa/service.svc?action=GetItem&app=Mail",
                "headers": [
                    {"name": "authorization", "value": f"Bearer {jwt}"},
                    {"name": "X-AnchorMailbox", "value": "SMTP:Boss@Contoso.com"},
                ],
            },
            "response": {"status": 200},
        },
        {
            "startedDateTime": "2023-06-15T04:06:00Z",
            "request": {
                "method": "GET",
                "url": f"https://graph.microsoft.com/v1.0/me?access_token={jwt}",
                "headers": [],
            },
            "response": {"status": 401},
        },
    ]
    path = tmp_path / "session.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}, indent=1))
    con, report = run([path])
    f = one(report, "session.har")
    assert (f.format, f.kind, f.rows) == ("har", "har", 2)
    rows = con.execute(
        "SELECT ts, mailbox, operation, status, token FROM events_base ORDER BY source_row"
    ).fetchall()
    assert rows == [
        (datetime(2023, 6, 15, 4, 5, 3, 120000), "boss@contoso.com", "GetItem", "200", jwt),
        (datetime(2023, 6, 15, 4, 6), None, "GET /v1.0/me", "401", jwt),
    ]


def test_time_formats_to_utc(tmp_path: Path) -> None:
    body = (
        "when,op\n1686801903,s\n1686801903123,ms\n2023-06-15T06:05:03+02:00,iso\n2023-06-15 04:05:03,naive\n"
    )
    (tmp_path / "t.csv").write_text(body)
    (tmp_path / "l.csv").write_text("CreationDate,op\n6/15/2023 4:05:03 AM,am\n6/15/2023 4:05:03 PM,pm\n")
    (tmp_path / "d.csv").write_text("CreationDate,op\n15/06/2023 16:05:03,eu\n")
    con, report = run([tmp_path], mapping={"ts": "when", "operation": "op"})
    got = dict(con.execute("SELECT operation, ts FROM events_base").fetchall())
    assert got["s"] == datetime(2023, 6, 15, 4, 5, 3)
    assert got["ms"] == datetime(2023, 6, 15, 4, 5, 3, 123000)
    assert got["iso"] == got["naive"] == got["am"] == datetime(2023, 6, 15, 4, 5, 3)
    assert got["pm"] == got["eu"] == datetime(2023, 6, 15, 16, 5, 3)
    assert one(report, "d.csv").time_format == "locale D/M/YYYY h:mm:ss (taken as UTC)"
    assert "--map ts=when: no such column" in (one(report, "l.csv").note or "")


def test_events_base_has_exactly_the_event_columns(tmp_path: Path) -> None:
    from tui.engine.core.schema import EVENT_COLUMNS

    (tmp_path / "a.csv").write_text(CSV_TEXT)
    con, _ = run([tmp_path / "a.csv"])
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE events_base").fetchall()]
    assert described == list(EVENT_COLUMNS)
    empty_con, report = run([str(tmp_path / "none*.csv")])
    assert report.files == () and empty_con.execute("SELECT count(*) FROM events_base").fetchone() == (0,)


def test_json_array_with_one_record_is_a_log(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(
        json.dumps([{"TimeGenerated": "2021-08-02T13:32:07Z", "Operation": "X"}])
    )
    _, report = run([tmp_path / "one.json"])
    assert (one(report, "one.json").rows, one(report, "one.json").ts_min) == (
        1,
        datetime(2021, 8, 2, 13, 32, 7),
    )


def test_compressed_parquet_is_read_from_a_copy_in_the_cache(tmp_path: Path) -> None:
    plain = tmp_path / "plain.parquet"
    duckdb.sql(
        f"COPY (SELECT TIMESTAMP '2023-06-01' + INTERVAL (range) HOUR AS time, 'u' || range AS user "
        f"FROM range(7)) TO '{plain}' (FORMAT parquet)"
    )
    data = plain.read_bytes()
    folder = tmp_path / "packed"
    folder.mkdir()
    (folder / "g.parquet.gz").write_bytes(gzip.compress(data))
    (folder / "z.parquet.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    con, report = run([folder])
    assert [(f.path.name, f.format, f.compression, f.rows) for f in report.files] == [
        ("g.parquet.gz", "parquet", "gzip", 7),
        ("z.parquet.zst", "parquet", "zstd", 7),
    ]
    assert con.execute('SELECT count(DISTINCT "user") FROM events_base').fetchone() == (7,)
