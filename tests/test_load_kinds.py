"""Loader kinds: each export analysts hold, with its real quirks, becomes the right event fields."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tui.engine.db import connect
from tui.engine.load import LoadReport, load
from tui.engine.options import Options

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJ1dGkiOiJ1dGkxIiwidGlkIjoidCJ9.c2lnbmF0dXJl"
TID = "8cf9e5e6-8f03-4bbb-9c67-f75d6ac98c97"
OID = "416c82c8-827f-4431-b820-2625d8b34ded"
APP = "00000002-0000-0ff1-ce00-000000000000"
CLIENT = "9199bf20-a13f-4107-85dc-02114787ef48"
SID = "1e628c01-98b1-4142-b5de-2c54f54e742a"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def run(paths: list[Path], **opts: Any) -> tuple[duckdb.DuckDBPyConnection, LoadReport]:
    con = connect()
    return con, load(con, [str(p) for p in paths], Options(**opts))


def events(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cur = con.execute("SELECT * FROM events_base ORDER BY source, source_row")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def write_csv(path: Path, header: list[str], rows: list[list[str]], bom: bool = True) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode())
    return path


def mia_audit(**extra: Any) -> dict[str, Any]:
    base = {
        "CreationTime": "2023-06-15T04:05:03",
        "Id": "a1",
        "Operation": "MailItemsAccessed",
        "RecordType": 50,
        "UserId": "Victim@Contoso.gov",
        "ClientIPAddress": "[2001:db8::7]:51234",
        "ClientInfoString": "Client=REST;;",
        "AppId": APP,
        "ClientAppId": CLIENT,
        "MailboxOwnerUPN": "Boss@Contoso.gov",
        "SessionId": SID,
        "OperationCount": 12,
        "OperationProperties": [
            {"Name": "MailAccessType", "Value": "Bind"},
            {"Name": "IsThrottled", "Value": "False"},
        ],
        "TokenTenantId": TID,
        "TokenObjectId": OID,
        "AppAccessContext": {
            "UniqueTokenId": "uti-123",
            "AADSessionId": SID,
            "IssuedAtTime": "2023-06-15T03:55:00",
        },
        "ResultStatus": "Succeeded",
    }
    base.update(extra)
    return base


def test_purview_new_layout(tmp_path: Path) -> None:
    header = [
        "RecordId",
        "CreationDate",
        "RecordType",
        "Operation",
        "UserId",
        "AuditData",
        "AssociatedAdminUnits",
        "AssociatedAdminUnitsNames",
    ]
    rows = [
        [
            "a1",
            "6/15/2023 4:05:03 AM",
            "50",
            "MailItemsAccessed",
            "victim@contoso.gov",
            json.dumps(mia_audit()),
            "",
            "",
        ],
        [
            "a2",
            "6/15/2023 4:07:00 PM",
            "15",
            "UserLoggedIn",
            "victim@contoso.gov",
            json.dumps(
                {
                    "CreationTime": "2023-06-15T16:07:00",
                    "ClientIP": "203.0.113.9:443",
                    "Operation": "UserLoggedIn",
                }
            ),
            "",
            "",
        ],
    ]
    con, report = run([write_csv(tmp_path / "purview.csv", header, rows)])
    f = report.files[0]
    assert (f.kind, f.rows, f.time_format) == ("purview_audit", 2, "locale M/D/YYYY h:mm:ss (taken as UTC)")
    assert f.mapping["token_id"] == "AuditData.AppAccessContext.UniqueTokenId"
    first, second = events(con)
    assert first == {
        "ts": datetime(2023, 6, 15, 4, 5, 3),
        "source": str(tmp_path / "purview.csv"),
        "source_row": 1,
        "kind": "purview_audit",
        "user": "victim@contoso.gov",
        "mailbox": "boss@contoso.gov",
        "operation": "MailItemsAccessed",
        "client_ip": "2001:db8::7",
        "country": None,
        "user_agent": "Client=REST;;",
        "app_id": APP,
        "client_app_id": CLIENT,
        "session_id": SID,
        "token_id": "uti-123",
        "token_tenant_id": TID,
        "token_object_id": OID,
        "token_iat": datetime(2023, 6, 15, 3, 55),
        "items": 12,
        "access_type": "Bind",
        "status": "Succeeded",
        "token": None,
    }
    assert (second["ts"], second["client_ip"], second["items"]) == (
        datetime(2023, 6, 15, 16, 7),
        "203.0.113.9",
        None,
    )


def test_purview_classic_layout(tmp_path: Path) -> None:
    rows = [
        ["2023-06-15T04:05:03.0000000Z", "victim@contoso.gov", "MailItemsAccessed", json.dumps(mia_audit())]
    ]
    con, report = run(
        [write_csv(tmp_path / "c.csv", ["CreationDate", "UserIds", "Operations", "AuditData"], rows)]
    )
    assert report.files[0].kind == "purview_audit"
    (ev,) = events(con)
    assert (ev["operation"], ev["token_id"], ev["items"], ev["ts"]) == (
        "MailItemsAccessed",
        "uti-123",
        12,
        datetime(2023, 6, 15, 4, 5, 3),
    )


def test_management_activity_json(tmp_path: Path) -> None:
    recs = [
        dict(mia_audit(), Workload="Exchange"),
        {
            "CreationTime": "2023-06-15T05:00:00",
            "Operation": "Send",
            "Workload": "Exchange",
            "UserId": "x@contoso.gov",
        },
    ]
    path = tmp_path / "ual.json"
    path.write_text(json.dumps(recs, indent=2))
    con, report = run([path])
    assert report.files[0].kind == "management_activity"
    first, second = events(con)
    assert (first["token_id"], first["session_id"], first["access_type"], first["client_ip"]) == (
        "uti-123",
        SID,
        "Bind",
        "2001:db8::7",
    )
    assert (second["operation"], second["token_id"]) == ("Send", None)


def signin(**extra: Any) -> dict[str, Any]:
    rec = {
        "id": "s1",
        "createdDateTime": "2023-06-15T03:55:00Z",
        "userPrincipalName": "Victim@contoso.gov",
        "userId": OID,
        "appId": CLIENT,
        "ipAddress": "2001:db8::7",
        "resourceTenantId": TID,
        "homeTenantId": "11111111-1111-1111-1111-111111111111",
        "uniqueTokenIdentifier": "uti-123",
        "sessionId": SID,
        "status": {"errorCode": 50126, "failureReason": "x"},
        "userAgent": "UA",
    }
    rec.update(extra)
    return rec


def test_entra_signins_graph_json(tmp_path: Path) -> None:
    path = tmp_path / "signins.json"
    path.write_text(json.dumps({"@odata.context": "x", "value": [signin()]}))
    con, report = run([path])
    f = report.files[0]
    assert (f.kind, f.format) == ("entra_signin", "json {value: [...]}")
    (ev,) = events(con)
    assert (ev["user"], ev["token_object_id"], ev["app_id"], ev["token_tenant_id"]) == (
        "victim@contoso.gov",
        OID,
        CLIENT,
        TID,
    )
    assert (ev["token_id"], ev["session_id"], ev["status"], ev["operation"]) == (
        "uti-123",
        SID,
        "50126",
        "SignIn",
    )


def test_entra_signins_portal_csv_quirks(tmp_path: Path) -> None:
    header = [
        "Date (UTC)",
        "Request ID",
        "User",
        "Username",
        "User ID",
        "Application ID ",
        "IP address",
        "Location",
        "Status",
        "Sign-in error code",
        "Unique token identifier",
        "Session ID",
        "Incoming token type",
        "Autonomous system  number",
        "Resource ID ",
        "Resource tenant ID",
        "Incoming token type",
    ]
    row = [
        "2023-06-15T03:55:00Z",
        "r1",
        "Victim Person",
        "victim@contoso.gov",
        OID,
        CLIENT,
        "198.51.100.4",
        "Washington, District of Columbia, US",
        "Failure",
        "50126",
        "uti-123",
        SID,
        "none",
        "7922",
        APP,
        TID,
        "primaryRefreshToken",
    ]
    con, report = run([write_csv(tmp_path / "InteractiveSignIns.csv", header, [row])])
    f = report.files[0]
    assert f.kind == "entra_signin" and "Incoming token type_1" in f.columns
    assert f.mapping["app_id"] == "Application ID" and f.mapping["token_id"] == "Unique token identifier"
    (ev,) = events(con)
    assert (ev["user"], ev["token_object_id"], ev["app_id"], ev["status"], ev["token_id"]) == (
        "victim@contoso.gov",
        OID,
        CLIENT,
        "50126",
        "uti-123",
    )
    asn = con.execute(f'SELECT "Autonomous system  number", "Incoming token type_1" FROM {f.view}').fetchone()
    assert asn == ("7922", "primaryRefreshToken")


def test_sentinel_tables(tmp_path: Path) -> None:
    office = dict(
        mia_audit(),
        Type="OfficeActivity",
        TimeGenerated="2023-06-15T04:05:03Z",
        Client_IPAddress="192.0.2.1:1234",
        Logon_Type="Owner",
        Folders=json.dumps([{"Path": "\\Inbox"}]),
    )
    office.pop("ClientIPAddress")
    office["OperationProperties"] = json.dumps(office["OperationProperties"])
    office["AppAccessContext"] = json.dumps(office["AppAccessContext"])
    (tmp_path / "office.json").write_text(json.dumps(office) + "\n")
    nonint = {
        "Type": "AADNonInteractiveUserSignInLogs",
        "TimeGenerated": "2023-06-15T03:55:00Z",
        "UserPrincipalName": "victim@contoso.gov",
        "UserId": OID,
        "AppId": CLIENT,
        "IPAddress": "192.0.2.1",
        "UniqueTokenIdentifier": "uti-9",
        "Status": json.dumps({"errorCode": 0}),
        "ResultType": "0",
        "LocationDetails": json.dumps({"countryOrRegion": "US"}),
    }
    (tmp_path / "nonint.json").write_text(json.dumps(nonint) + "\n")
    graph = {
        "Type": "MicrosoftGraphActivityLogs",
        "TimeGenerated": "2023-06-15T04:00:00Z",
        "SignInActivityId": "uti-9",
        "TokenIssuedAt": "2023-06-15T03:55:00Z",
        "IPAddress": "192.0.2.1",
        "UserAgent": "python-requests",
        "AppId": CLIENT,
        "RequestUri": "https://graph.microsoft.com/v1.0/users/x/messages?$top=50",
        "RequestMethod": "GET",
        "UserId": OID,
        "TenantId": TID,
        "ResponseStatusCode": 200,
    }
    (tmp_path / "graph.json").write_text(json.dumps(graph) + "\n")
    cae = {
        "Timestamp": "2023-06-15T04:05:03Z",
        "ActionType": "MailItemsAccessed",
        "IPAddress": "192.0.2.1",
        "RawEventData": {
            "UserId": "victim@contoso.gov",
            "MailboxOwnerUPN": "boss@contoso.gov",
            "OperationCount": 3,
            "ClientAppId": CLIENT,
            "OperationProperties": ["@{Value=Sync; Name=MailAccessType}", "@{Value=False; Name=IsThrottled}"],
            "AppAccessContext": {"UniqueTokenId": "uti-5"},
        },
    }
    (tmp_path / "cae.json").write_text(json.dumps(cae) + "\n")
    con, report = run([tmp_path])
    kinds = {f.path.name: f.kind for f in report.files}
    assert kinds == {
        "office.json": "sentinel_officeactivity",
        "nonint.json": "entra_signin",
        "graph.json": "sentinel_graphactivity",
        "cae.json": "defender_cloudappevents",
    }
    ev = {e["source"].rsplit("/", 1)[-1]: e for e in events(con)}
    assert (
        ev["office.json"]["client_ip"],
        ev["office.json"]["token_id"],
        ev["office.json"]["access_type"],
    ) == ("192.0.2.1", "uti-123", "Bind")
    assert (
        ev["nonint.json"]["status"],
        ev["nonint.json"]["token_id"],
        ev["nonint.json"]["token_object_id"],
    ) == ("0", "uti-9", OID)
    g = ev["graph.json"]
    assert (g["token_id"], g["token_iat"], g["token_tenant_id"], g["operation"], g["status"]) == (
        "uti-9",
        datetime(2023, 6, 15, 3, 55),
        TID,
        "GET /v1.0/users/x/messages",
        "200",
    )
    c = ev["cae.json"]
    assert (c["user"], c["mailbox"], c["items"], c["access_type"], c["token_id"], c["client_app_id"]) == (
        "victim@contoso.gov",
        "boss@contoso.gov",
        3,
        "Sync",
        "uti-5",
        CLIENT,
    )


def test_gateway_parquet_is_http(tmp_path: Path) -> None:
    path = tmp_path / "gateway.parquet"
    gen = duckdb.connect()
    gen.execute("SET TimeZone = 'UTC'")
    gen.execute(
        "COPY (SELECT * FROM (VALUES "
        "(TIMESTAMPTZ '2023-06-15 04:05:03+00', '203.0.113.7:50123', 'POST', "
        "'https://outlook.office.com/owa/service.svc?action=GetItem&app=Mail', 200, 'Mozilla/5.0', "
        f"'Bearer {JWT}', 'SMTP:Boss@Contoso.gov', 1234::BIGINT), "
        "(TIMESTAMPTZ '2023-06-15 04:06:00+00', '[2001:db8::9]:443', 'GET', "
        "'https://graph.microsoft.com/v1.0/me/messages?$top=10', 200, 'curl', 'Bearer EwBopaque', "
        "NULL, 10::BIGINT)) "
        "t(time, client, method, url, status, user_agent, request_header_authorization, "
        f"request_header_x_anchormailbox, bytes)) TO '{path}' (FORMAT parquet)"
    )
    con, report = run([path])
    f = report.files[0]
    assert (f.kind, f.mapping["token"], f.mapping["mailbox"]) == (
        "http",
        "request_header_authorization",
        "request_header_x_anchormailbox",
    )
    first, second = events(con)
    assert (first["user"], first["mailbox"], first["operation"], first["client_ip"], first["token"]) == (
        None,
        "boss@contoso.gov",
        "GetItem",
        "203.0.113.7",
        JWT,
    )
    assert (second["operation"], second["client_ip"], second["token"]) == (
        "GET /v1.0/me/messages",
        "2001:db8::9",
        "EwBopaque",
    )


def test_token_and_mailbox_columns_found_by_value(tmp_path: Path) -> None:
    header = ["when", "hdr7", "hdr9", "src"]
    rows = [
        ["2023-06-15T04:05:03Z", JWT, "SMTP:a@contoso.gov", "192.0.2.1"],
        ["2023-06-15T04:05:04Z", f"Bearer {JWT}", "smtp:b@contoso.gov", "192.0.2.2:80"],
    ]
    con, report = run([write_csv(tmp_path / "proxy.csv", header, rows, bom=False)])
    f = report.files[0]
    assert (f.kind, f.mapping["token"], f.mapping["mailbox"]) == ("http", "hdr7", "hdr9")
    assert [(e["token"], e["mailbox"]) for e in events(con)] == [
        (JWT, "a@contoso.gov"),
        (JWT, "b@contoso.gov"),
    ]


def test_generic_table_and_map_override(tmp_path: Path) -> None:
    header = ["stamp", "who", "addr", "what"]
    rows = [["2023-06-15 04:05:03", "ann", "192.0.2.1:9", "x"]]
    path = write_csv(tmp_path / "misc.csv", header, rows, bom=False)
    con, report = run([path])
    f = report.files[0]
    assert (f.kind, f.mapping) == ("generic", {"ts": "stamp", "client_ip": "addr"})
    con2, report2 = run([path], mapping={"user": "WHO", "operation": "what", "token": "nope"})
    assert report2.files[0].mapping["user"] == "who"
    assert report2.files[0].note == "--map token=nope: no such column"
    (ev,) = events(con2)
    assert (ev["user"], ev["operation"], ev["client_ip"]) == ("ann", "x", "192.0.2.1")
