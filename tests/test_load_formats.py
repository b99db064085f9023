"""Loader formats: each container and compression, bad rows counted, bad files reported, others still load."""

from __future__ import annotations

import gzip
import json
import os
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import zstandard

from tui.engine.db import connect
from tui.engine.load import LoadReport, load
from tui.engine.options import Options


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def run(paths: list[Path | str], **opts: object) -> tuple[duckdb.DuckDBPyConnection, LoadReport]:
    con = connect()
    return con, load(con, [str(p) for p in paths], Options(**opts))  # type: ignore[arg-type]


def one(report: LoadReport, name: str):  # noqa: ANN201
    return next(f for f in report.files if f.path.name == name)


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


def test_powershell_json_encodings(tmp_path: Path) -> None:
    """What Windows PowerShell writes: `-Encoding UTF8` puts a byte-order mark before the JSON
    (an array behind it was read as one record, not one row loaded), `>` and `Out-File` write
    UTF-16 (refused). Both are read from a UTF-8 copy in the cache; the inputs stay as they were."""
    import json as _json

    rec = {
        "CreationTime": "2023-06-01T04:05:03",
        "Operation": "MailItemsAccessed",
        "UserId": "ana@contoso.com",
    }
    pretty = _json.dumps([rec, {**rec, "UserId": "bo@contoso.com"}], indent=2).replace("\n", "\r\n")
    files = {
        "bom.json": b"\xef\xbb\xbf" + pretty.encode(),
        "utf16.json": b"\xff\xfe" + pretty.encode("utf-16-le"),
        "utf16.jsonl": b"\xff\xfe" + (_json.dumps(rec) + "\r\n").encode("utf-16-le"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    con, report = run([tmp_path])
    assert [(f.path.name, f.rows, f.bad_rows, f.error, f.note) for f in report.files] == [
        ("bom.json", 2, 0, None, None),
        ("utf16.json", 2, 0, None, "text is utf-16, converted to UTF-8"),
        ("utf16.jsonl", 1, 0, None, "text is utf-16, converted to UTF-8"),
    ]
    users = con.execute('SELECT source, source_row, "user" FROM events_base ORDER BY ALL').fetchall()
    assert [(Path(s).name, r, u) for s, r, u in users] == [
        ("bom.json", 1, "ana@contoso.com"),
        ("bom.json", 2, "bo@contoso.com"),
        ("utf16.json", 1, "ana@contoso.com"),
        ("utf16.json", 2, "bo@contoso.com"),
        ("utf16.jsonl", 1, "ana@contoso.com"),
    ]
    assert {name: (tmp_path / name).read_bytes() for name in files} == files


def test_powershell_export_csv_type_line(tmp_path: Path) -> None:
    """`Search-UnifiedAuditLog | Export-Csv` in Windows PowerShell writes `#TYPE …` before the header
    (the file was "text without a table header"); rows keep their record numbers around a rejected
    one, and the rejected row is shown without the CR LF around it."""
    path = tmp_path / "ual.csv"
    path.write_bytes(
        b"#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.AuditRecord\r\n"
        b'"CreationDate","UserIds","Operations"\r\n'
        b'"6/1/2023 4:05:03 AM","ana@contoso.com","MailItemsAccessed"\r\n'
        b"bad,row,with,more,columns\r\n"
        b'"6/1/2023 4:05:04 AM","bo@contoso.com","MailItemsAccessed"\r\n'
    )
    con, report = run([path])
    f = one(report, "ual.csv")
    assert (f.format, f.rows, f.bad_rows, f.mapping["user"]) == ("csv", 2, 1, "UserIds")
    assert f.bad_examples == ("row 2: TOO MANY COLUMNS: bad,row,with,more,columns",)
    rows = con.execute('SELECT source_row, "user", ts FROM events_base ORDER BY source_row').fetchall()
    assert rows == [
        (1, "ana@contoso.com", datetime(2023, 6, 1, 4, 5, 3)),
        (3, "bo@contoso.com", datetime(2023, 6, 1, 4, 5, 4)),
    ]


def test_powershell_json_dates(tmp_path: Path) -> None:
    """Windows PowerShell's ConvertTo-Json writes DateTime as `\\/Date(ms)\\/` (UTC milliseconds; an
    offset after them only names the writer's zone): such exports had no readable time."""
    text = (
        '[{"CreationDate": "\\/Date(1685592303000)\\/", "UserIds": "ana@contoso.com"},'
        ' {"CreationDate": "\\/Date(1685592304123+0200)\\/", "UserIds": "bo@contoso.com"},'
        ' {"CreationDate": "\\/Date(-62135596800000)\\/", "UserIds": "min@contoso.com"}]'
    )
    (tmp_path / "ual.json").write_text(text)
    con, report = run([tmp_path / "ual.json"])
    assert one(report, "ual.json").time_format == "PowerShell /Date(milliseconds)/ (UTC)"
    assert dict(con.execute('SELECT "user", ts FROM events_base').fetchall()) == {
        "ana@contoso.com": datetime(2023, 6, 1, 4, 5, 3),
        "bo@contoso.com": datetime(2023, 6, 1, 4, 5, 4, 123000),
        "min@contoso.com": datetime(1, 1, 1),  # DateTime.MinValue, a "no date" PowerShell writes
    }


def test_log_analytics_local_time_export_is_noted(tmp_path: Path) -> None:
    """A Log Analytics export made while the portal showed local times: read as UTC (the zone is
    not in the file), and said so in the file's note (inspect, scan's summary, the TUI's notes)."""
    (tmp_path / "local.csv").write_text(
        'TenantId,"TimeGenerated [Local Time]",OperationName,UserPrincipalName\n'
        't1,"6/1/2023, 6:05:03.000 AM",Sign-in activity,am@contoso.com\n'
    )
    con, report = run([tmp_path])
    f = one(report, "local.csv")
    assert f.mapping["ts"] == "TimeGenerated [Local Time]"
    assert f.note == (
        "TimeGenerated [Local Time]: exported in the portal's local time, read as UTC; "
        "export with the display time zone set to UTC"
    )
    assert con.execute("SELECT ts FROM events_base").fetchone() == (datetime(2023, 6, 1, 6, 5, 3),)


def test_log_analytics_query_api_tables(tmp_path: Path) -> None:
    """Log Analytics' query API answers `{"tables": [{"columns": [...], "rows": [[...]]}]}`: each row
    is a record keyed by the column names (the file was skipped as a single JSON object)."""
    import json as _json

    doc = {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [
                    {"name": "TimeGenerated", "type": "datetime"},
                    {"name": "UserPrincipalName", "type": "string"},
                    {"name": "Status", "type": "dynamic"},
                    {"name": "IPAddress", "type": "string"},
                    {"name": "UniqueTokenIdentifier", "type": "string"},
                ],
                "rows": [
                    [
                        "2023-06-01T04:05:03.123Z",
                        "ana@contoso.com",
                        '{"errorCode":50126}',
                        "203.0.113.7",
                        "u1",
                    ],
                    ["2023-06-01T04:05:04Z", "bo@contoso.com", None, None, None],
                ],
            }
        ]
    }
    (tmp_path / "signins.json").write_text(_json.dumps(doc))
    con, report = run([tmp_path])
    f = one(report, "signins.json")
    assert (f.format, f.kind, f.rows, f.bad_rows) == ("json {tables: [...]}", "entra_signin", 2, 0)
    rows = con.execute('SELECT source_row, ts, "user", status FROM events_base ORDER BY 1').fetchall()
    assert rows == [
        (1, datetime(2023, 6, 1, 4, 5, 3, 123000), "ana@contoso.com", "50126"),
        (2, datetime(2023, 6, 1, 4, 5, 4), "bo@contoso.com", None),
    ]


def test_excel_dotted_dates(tmp_path: Path) -> None:
    """A CSV saved by Excel in a German-style locale: `;` between cells, `01.06.2023 04:05:03`."""
    (tmp_path / "de.csv").write_text(
        "Erstellungsdatum;Benutzer;Vorgang\n01.06.2023 04:05:03;ana@contoso.com;MailItemsAccessed\n"
        "13.06.2023 16:05;bo@contoso.com;MailItemsAccessed\n"
    )
    con, report = run([tmp_path / "de.csv"], mapping={"user": "Benutzer"})
    f = one(report, "de.csv")
    assert (f.mapping["ts"], f.time_format) == ("Erstellungsdatum", "locale D.M.YYYY h:mm:ss (taken as UTC)")
    assert dict(con.execute('SELECT "user", ts FROM events_base').fetchall()) == {
        "ana@contoso.com": datetime(2023, 6, 1, 4, 5, 3),
        "bo@contoso.com": datetime(2023, 6, 13, 16, 5),
    }


@pytest.mark.parametrize(
    ("schema", "results"),
    [("Schema", "Results"), ("schema", "results")],  # Defender XDR's API; Graph's runHuntingQuery
)
def test_advanced_hunting_api_results(tmp_path: Path, schema: str, results: str) -> None:
    """Advanced hunting over an API answers `{"Schema": […], "Results": […]}` (Defender XDR) or
    `{"schema": […], "results": […]}` (Graph): the results are the records (the file was skipped
    as "a single JSON object without a record list")."""
    import json as _json

    row = {
        "Timestamp": "2023-06-01T04:05:03.1234567Z",
        "ActionType": "MailItemsAccessed",
        "IPAddress": "203.0.113.7",
    }
    doc = {
        "Stats": {"ExecutionTime": 0.5},
        schema: [{"Name": "Timestamp", "Type": "DateTime"}],
        results: [row] * 2,
    }
    (tmp_path / "hunting.json").write_text(_json.dumps(doc))
    con, report = run([tmp_path / "hunting.json"])
    f = one(report, "hunting.json")
    assert (f.format, f.rows, f.note, f.error) == (f"json {{{results}: [...]}}", 2, None, None)
    got = con.execute("SELECT source_row, ts, client_ip FROM events_base ORDER BY source_row").fetchall()
    assert got == [(n, datetime(2023, 6, 1, 4, 5, 3, 123456), "203.0.113.7") for n in (1, 2)]


def test_w3c_extended_log(tmp_path: Path) -> None:
    """An IIS / Exchange W3C log with the Authorization and X-AnchorMailbox headers logged: `#`
    directives (again mid-file after a restart), space-separated fields named by `#Fields:`, `+`
    for the spaces of a header, `-` for empty; `source_row` is the line number."""
    from tests.hostile import GOOD_CLAIMS, HEADER, jwt

    token = jwt(HEADER, GOOD_CLAIMS)
    lines = [
        "#Software: Microsoft Internet Information Services 10.0",
        "#Version: 1.0",
        "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) "
        "cs(Authorization) cs(X-AnchorMailbox) sc-status",
        f"2023-06-15 04:05:03 10.0.0.5 POST /owa/service.svc action=GetItem&app=Mail 203.0.113.7 "
        f"Mozilla/5.0+(Windows+NT+10.0) Bearer+{token} SMTP:Ceo@Contoso.com 200",
        "a line cut short",
        "#Software: Microsoft Internet Information Services 10.0",
        "2023-06-15 04:05:09 10.0.0.5 GET /ews/exchange.asmx - 203.0.113.8 - - - 401",
    ]
    (tmp_path / "u_ex230615.log").write_text("\r\n".join(lines) + "\r\n")
    con, report = run([tmp_path])
    f = one(report, "u_ex230615.log")
    assert (f.format, f.kind, f.rows, f.bad_rows) == ("w3c", "http", 2, 1)
    assert f.bad_examples == ("record 5: a line cut short",)
    assert (f.mapping["ts"].split(" | ")[0], f.mapping["token"]) == ("timestamp", "cs(Authorization)")
    rows = con.execute(
        "SELECT source_row, ts, operation, mailbox, client_ip, user_agent, status "
        "FROM events_base ORDER BY source_row"
    ).fetchall()
    assert rows == [
        (
            4,
            datetime(2023, 6, 15, 4, 5, 3),
            "GetItem",
            "ceo@contoso.com",
            "203.0.113.7",
            "Mozilla/5.0 (Windows NT 10.0)",
            "200",
        ),
        (7, datetime(2023, 6, 15, 4, 5, 9), "GET /ews/exchange.asmx", None, "203.0.113.8", None, "401"),
    ]
    assert con.execute("SELECT count(*) FROM events_base WHERE token = ?", [token]).fetchone() == (1,)


def test_exchange_httpproxy_log(tmp_path: Path) -> None:
    """Exchange's HttpProxy logs: W3C directives over a CSV table whose names are the `#Fields:`
    line (it was read as one space-separated field and every row failed)."""
    (tmp_path / "HttpProxy_2023060100-1.LOG").write_bytes(
        b"#Software: Microsoft Exchange Server\r\n#Version: 15.01.2507.006\r\n#Log-type: HttpProxy Logs\r\n"
        b"#Date: 2023-06-01T00:00:00.123Z\r\n"
        b"#Fields: DateTime,RequestId,UrlStem,AnchorMailbox,ClientIpAddress,UserAgent\r\n"
        b'2023-06-01T00:00:01.234Z,r1,/owa/,SMTP:ana@contoso.com,203.0.113.7,"Mozilla/5.0 (X, Y)"\r\n'
        b"bad,row\r\n"
        b"2023-06-01T00:00:02Z,r3,/ews/,SMTP:bo@contoso.com,203.0.113.8,python\r\n"
    )
    con, report = run([tmp_path])
    f = one(report, "HttpProxy_2023060100-1.LOG")
    assert (f.format, f.rows, f.bad_rows, f.bad_examples) == (
        "csv",
        2,
        1,
        ("row 2: MISSING COLUMNS: bad,row",),
    )
    assert (f.mapping["ts"], f.mapping["mailbox"]) == ("DateTime", "AnchorMailbox")
    rows = con.execute("SELECT source_row, ts, mailbox, user_agent FROM events_base ORDER BY 1").fetchall()
    assert rows == [
        (1, datetime(2023, 6, 1, 0, 0, 1, 234000), "ana@contoso.com", "Mozilla/5.0 (X, Y)"),
        (3, datetime(2023, 6, 1, 0, 0, 2), "bo@contoso.com", "python"),
    ]


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


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
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


def test_log_analytics_export_times(tmp_path: Path) -> None:
    """Sentinel/Log Analytics CSV exports name the column `TimeGenerated [UTC]` and write
    `6/1/2023, 4:05:03.000 AM` (a 24-hour, day-first locale: `13/06/2023, 16:05:03.120`)."""
    (tmp_path / "us.csv").write_text(
        'TenantId,"TimeGenerated [UTC]",OperationName,UserPrincipalName\n'
        't1,"6/1/2023, 4:05:03.000 AM",Sign-in activity,am@contoso.com\n'
        't1,"6/1/2023, 4:05:03 PM",Sign-in activity,pm@contoso.com\n'
    )
    (tmp_path / "gb.csv").write_text(
        'TenantId,"TimeGenerated [UTC]",OperationName,UserPrincipalName\n'
        't1,"13/06/2023, 16:05:03.120",Sign-in activity,gb@contoso.com\n'
    )
    con, report = run([tmp_path])
    assert one(report, "us.csv").mapping["ts"] == one(report, "gb.csv").mapping["ts"] == "TimeGenerated [UTC]"
    assert one(report, "gb.csv").time_format == "locale D/M/YYYY h:mm:ss (taken as UTC)"
    got = dict(con.execute('SELECT "user", ts FROM events_base').fetchall())
    assert got == {
        "am@contoso.com": datetime(2023, 6, 1, 4, 5, 3),
        "pm@contoso.com": datetime(2023, 6, 1, 16, 5, 3),
        "gb@contoso.com": datetime(2023, 6, 13, 16, 5, 3, 120000),
    }


def test_events_base_has_exactly_the_event_columns(tmp_path: Path) -> None:
    from tui.engine.schema import EVENT_COLUMNS

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
