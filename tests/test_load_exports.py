"""Exports as the tools that make them write them: Windows PowerShell (BOM, UTF-16, `#TYPE`,
`/Date(ms)/`), Log Analytics (CSV headers and times, the query API), Excel's locale dates, the
advanced hunting APIs, IIS W3C and Exchange HttpProxy logs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from load_kinds import isolated_cache, one, run  # noqa: F401  (isolated_cache: an autouse fixture)


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


def test_search_mailboxauditlog_export(tmp_path: Path) -> None:
    """`Search-MailboxAuditLog -ShowDetails | Export-Csv`: who read the mailbox is a display name
    (`LogonUserDisplayName`; no UPN), the aggregated read count is
    `AuditOperationsCountInAggregatedRecord`, and the access type is written `MailAccessType:Bind`
    in a PowerShell list; the three were null."""
    header = (
        '"Operation","LogonType","ClientInfoString","ClientIPAddress","MailboxOwnerUPN",'
        '"LogonUserDisplayName","LogonUserSid","SessionId","OperationProperties",'
        '"AuditOperationsCountInAggregatedRecord","AppId","ClientAppId","LastAccessed","FolderPathName"'
    )
    row = (
        '"MailItemsAccessed","Delegate","Client=OWA;Mozilla/5.0","195.26.87.219","ana@contoso.com",'
        '"Bo Smith","S-1-5-21-2","s1","{0}","{1}","00000002-0000-0ff1-ce00-000000000000",'
        '"9199bf20-a13f-4107-85dc-02114787ef48","6/1/2023 4:05:0{2} AM","\\Inbox"'
    )
    lines = [
        "#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.MailboxAuditLogRecord",
        header,
        row.format("{MailAccessType:Bind, IsThrottled:False}", 12, 3),
        row.format("{IsThrottled:False, MailAccessType:Sync}", 1, 4),
        row.format("{IsThrottled:True}", "", 5),
    ]
    (tmp_path / "mal.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    con, report = run([tmp_path])
    f = one(report, "mal.csv")
    assert (f.rows, f.mapping["user"], f.mapping["items"]) == (
        3,
        "LogonUserDisplayName",
        "AuditOperationsCountInAggregatedRecord",
    )
    rows = con.execute(
        'SELECT source_row, "user", mailbox, items, access_type, folders FROM events_base ORDER BY source_row'
    ).fetchall()
    assert rows == [
        (1, "bo smith", "ana@contoso.com", 12, "Bind", "\\Inbox"),  # users are compared lower-case
        (2, "bo smith", "ana@contoso.com", 1, "Sync", "\\Inbox"),
        (3, "bo smith", "ana@contoso.com", None, None, "\\Inbox"),
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


def test_w3c_log_whose_fields_change_mid_file(tmp_path: Path) -> None:
    """IIS writes `#Fields:` again after a restart; once the Authorization header is added to the
    logged fields (as a responder does mid-incident) the lines after it have more fields, in
    another order: each part is read by its own names."""
    from tests.hostile import GOOD_CLAIMS, HEADER, jwt

    token = jwt(HEADER, GOOD_CLAIMS)
    lines = [
        "#Software: Microsoft Internet Information Services 10.0",
        "#Fields: date time cs-method cs-uri-stem c-ip sc-status",
        "2023-06-15 04:05:03 GET /owa/ 203.0.113.7 200",
        "#Software: Microsoft Internet Information Services 10.0",
        "#Fields: date time c-ip cs-method cs-uri-stem cs(Authorization) sc-status",
        f"2023-06-15 05:00:00 203.0.113.8 POST /ews/exchange.asmx Bearer+{token} 401",
        "2023-06-15 05:00:01 GET /owa/ 203.0.113.9 200",  # the first part's width: bad here
        "#Fields: date time cs-method cs-uri-stem c-ip sc-status",
        "2023-06-15 06:00:00 GET /owa/ 203.0.113.10 302",
    ]
    (tmp_path / "u_ex230615.log").write_text("\r\n".join(lines) + "\r\n")
    con, report = run([tmp_path])
    f = one(report, "u_ex230615.log")
    assert (f.rows, f.bad_rows, f.bad_examples) == (
        3,
        1,
        ("record 7: 2023-06-15 05:00:01 GET /owa/ 203.0.113.9 200",),
    )
    assert f.note == "2 different #Fields lines: each part read by its own"
    rows = con.execute(
        "SELECT source_row, ts, operation, client_ip, status, token IS NOT NULL FROM events_base ORDER BY 1"
    ).fetchall()
    assert rows == [
        (3, datetime(2023, 6, 15, 4, 5, 3), "GET /owa/", "203.0.113.7", "200", False),
        (6, datetime(2023, 6, 15, 5, 0, 0), "POST /ews/exchange.asmx", "203.0.113.8", "401", True),
        (9, datetime(2023, 6, 15, 6, 0, 0), "GET /owa/", "203.0.113.10", "302", False),
    ]


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
