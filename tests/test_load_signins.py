"""Loader kinds, sign-ins and Sentinel: Entra sign-in exports (Graph JSON, portal CSV) and the Sentinel
tables become the right event fields."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from load_kinds import APP, CLIENT, OID, SID, TID, events, mia_audit, run, write_csv


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


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


# What a Graph activity record of the tests gives (a Sentinel row, a diagnostic record)
GRAPH_ACTIVITY = ("uti-9", datetime(2023, 6, 15, 3, 55), TID, "GET /v1.0/users/x/messages", "200")


def _graph_fields(g: dict[str, Any]) -> tuple[Any, ...]:
    return (g["token_id"], g["token_iat"], g["token_tenant_id"], g["operation"], g["status"])


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
    assert _graph_fields(ev["graph.json"]) == GRAPH_ACTIVITY
    c = ev["cae.json"]
    assert (c["user"], c["mailbox"], c["items"], c["access_type"], c["token_id"], c["client_app_id"]) == (
        "victim@contoso.gov",
        "boss@contoso.gov",
        3,
        "Sync",
        "uti-5",
        CLIENT,
    )


def _diagnostic(category: str, properties: dict[str, Any]) -> dict[str, Any]:
    """An Azure Monitor diagnostic record, as Entra ID's diagnostic settings archive them (storage
    account `PT1H.json`, one per line) or stream them (event hub `{"records": [...]}`)."""
    return {
        "time": "2023-06-15T03:55:00.5522137Z",
        "resourceId": f"/tenants/{TID}/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity" if "SignIn" in category else "Microsoft Graph Activity",
        "operationVersion": "1.0",
        "category": category,
        "tenantId": TID,
        "resultType": "50126" if "SignIn" in category else "0",
        "callerIpAddress": "2001:db8::7",
        "correlationId": "c0",
        "identity": "Victim",
        "Level": 4,
        "location": "US",
        "properties": properties,
    }


def test_azure_monitor_diagnostic_records(tmp_path: Path) -> None:
    """Sign-ins kept past Entra's 30 days are often only in a diagnostic-setting archive: the record's
    fields are under `properties` and the log is named by `category`."""
    hour = tmp_path / "y=2023" / "m=06" / "d=15" / "h=03" / "m=00"
    hour.mkdir(parents=True)
    (hour / "PT1H.json").write_text(json.dumps(_diagnostic("SignInLogs", signin())) + "\n")
    hub = tmp_path / "eventhub.json"
    nonint = _diagnostic("NonInteractiveUserSignInLogs", signin(uniqueTokenIdentifier="uti-9"))
    hub.write_text(json.dumps({"records": [nonint]}))
    graph = {
        "timeGenerated": "2023-06-15T04:00:00Z",
        "signInActivityId": "uti-9",
        "tokenIssuedAt": "2023-06-15T03:55:00Z",
        "ipAddress": "192.0.2.1",
        "userAgent": "python-requests",
        "appId": CLIENT,
        "requestUri": "https://graph.microsoft.com/v1.0/users/x/messages?$top=50",
        "requestMethod": "GET",
        "userId": OID,
        "tenantId": TID,
        "responseStatusCode": 200,
    }
    (tmp_path / "graph.json").write_text(json.dumps(_diagnostic("MicrosoftGraphActivityLogs", graph)) + "\n")
    con, report = run([tmp_path])
    assert {f.path.name: f.kind for f in report.files} == {
        "PT1H.json": "entra_signin",
        "eventhub.json": "entra_signin",
        "graph.json": "sentinel_graphactivity",
    }
    ev = {e["source"].rsplit("/", 1)[-1]: e for e in events(con)}
    s = ev["PT1H.json"]
    assert (s["user"], s["token_object_id"], s["app_id"], s["token_tenant_id"], s["client_ip"]) == (
        "victim@contoso.gov",
        OID,
        CLIENT,
        TID,
        "2001:db8::7",
    )
    assert (s["token_id"], s["session_id"], s["status"], s["operation"], s["ts"]) == (
        "uti-123",
        SID,
        "50126",
        "SignIn",
        datetime(2023, 6, 15, 3, 55, 0, 552213),
    )
    assert ev["eventhub.json"]["token_id"] == "uti-9"
    assert _graph_fields(ev["graph.json"]) == GRAPH_ACTIVITY
    g = ev["graph.json"]
    assert (g["user"], g["client_ip"], g["user_agent"]) == (OID.lower(), "192.0.2.1", "python-requests")
