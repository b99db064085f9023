"""Identity evidence (SPEC §10 inputs): files that mix kinds of records, Entra audit records, risk
detections, Azure Activity and UAL sign-ins. Every record is written with the field names and
shapes those exports really use: Elastic's Event Hub test records, Microsoft's activity-log schema
sample, the Log Analytics table columns, a Search-UnifiedAuditLog export (DOMAIN.md §5, §8)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from load_kinds import events, run, write_csv

TID = "4bbb79f7-5724-4c9e-95f3-de075f6ec090"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def eh_signin(category: str = "NonInteractiveUserSignInLogs", **props: Any) -> dict[str, Any]:
    """A sign-in as a diagnostic setting streams it (Elastic's `test-non-interactive-user-sample`)."""
    properties = {
        "id": "290faffa-477b-4b28-ae92-579daae7b000",
        "createdDateTime": "2022-01-24T05:10:14.1875602+00:00",
        "userPrincipalName": "mpliftrelastic20210901@outlook.com",
        "userId": "2ce85a15-8640-465d-b916-d2eac620a717",
        "appId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "ipAddress": "1.128.3.4",
        "status": {"errorCode": 0},
        "clientAppUsed": "Browser",
        "deviceDetail": {"deviceId": "", "operatingSystem": "Windows10", "browser": "Rich Client 4.40.0.0"},
        "isInteractive": False,
        "authenticationDetails": [],
        "authenticationRequirement": "singleFactorAuthentication",
        "uniqueTokenIdentifier": "MjkwZmFmZmEtNDc3Yi00YjI4LWFlOTItNTc5ZGFhZTdiMDAw",
        "incomingTokenType": "none",
        "authenticationProtocol": "none",
        **props,
    }
    return {
        "time": "2022-01-24T05:10:14.1875602Z",
        "resourceId": f"/tenants/{TID}/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": category,
        "tenantId": TID,
        "resultType": "0",
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": "1.128.3.4",
        "correlationId": "22382f6f-ecde-4221-8666-22c452e88ebb",
        "identity": "elastic testing",
        "Level": 4,
        "location": "IN",
        "properties": properties,
    }


def eh_audit() -> dict[str, Any]:
    """Elastic's `test-auditlogs-raw` record: the envelope's category is `AuditLogs`, the record's
    `Device`."""
    return {
        "category": "AuditLogs",
        "correlationId": "8a4de8b5-095c-47d0-a96f-a75130c61d53",
        "durationMs": 0,
        "identity": "Device Registration Service",
        "level": "Informational",
        "operationName": "Update device",
        "operationVersion": "1.0",
        "properties": {
            "activityDateTime": "2019-10-18T15:30:51.0273716+00:00",
            "activityDisplayName": "Update device",
            "category": "Device",
            "correlationId": "8a4de8b5-095c-47d0-a96f-a75130c61d53",
            "id": "Directory_ESQ",
            "initiatedBy": {
                "user": {
                    "id": "51e26eae-d07b-44e5-bb0b-249f49569a8c",
                    "userPrincipalName": "Admin@Contoso.onmicrosoft.com",
                    "ipAddress": "81.2.69.143",
                }
            },
            "loggedByService": "Core Directory",
            "operationType": "Update",
            "result": "success",
            "resultReason": "",
            "targetResources": [
                {
                    "displayName": "LAPTOP-12",
                    "id": "8a4de8b5-095c-47d0-a96f-a75130c61d53",
                    "modifiedProperties": [
                        {"displayName": "Included Updated Properties", "newValue": '""', "oldValue": ""}
                    ],
                    "type": "Device",
                }
            ],
        },
        "resourceId": f"/tenants/{TID}/providers/Microsoft.aadiam",
        "resultSignature": "None",
        "tenantId": TID,
        "time": "2019-10-18T15:30:51.0273716Z",
    }


RISK_PROPS = {
    "id": "ce0ed07f9ccf5be15e4b97d2979af6569b1f67db87ddc9b88b5bb743ea091e47",
    "requestId": "e1b6d9d7-5fc0-4638-ae1a-e0abceb92200",
    "correlationId": "266133c2-fabb-492f-9ebf-bdf12317b817",
    "riskType": "anonymizedIPAddress",
    "riskEventType": "anonymizedIPAddress",
    "riskState": "atRisk",
    "riskLevel": "high",
    "riskDetail": "none",
    "source": "IdentityProtection",
    "detectionTimingType": "realtime",
    "activity": "signin",
    "ipAddress": "67.43.156.42",
    "activityDateTime": "2022-08-22T18:05:06.133Z",
    "detectedDateTime": "2022-08-22T18:05:06.133Z",
    "lastUpdatedDateTime": "2022-08-22T18:07:16.894Z",
    "userId": "51e26eae-d07b-44e5-bb0b-249f49569a8c",
    "userDisplayName": "Joe Danger",
    "userPrincipalName": "joe.danger@contoso.onmicrosoft.com",
    "additionalInfo": '[{"Key":"userAgent","Value":"Mozilla/5.0 (Windows NT 10.0; rv:91.0) Firefox/91.0"}]',
    "tokenIssuerType": "AzureAD",
}


def eh_risk() -> dict[str, Any]:
    """Elastic's `test-userriskevents-raw` record: a US-format `time`, a 64-hex id."""
    return {
        "time": "8/22/2022 6:07:16 PM",
        "resourceId": "/tenants/5611623b-9128-461e-9d7f-a0d9c270ead2/providers/microsoft.aadiam",
        "operationName": "User Risk Detection",
        "operationVersion": "1.0",
        "category": "UserRiskEvents",
        "tenantId": "5611623b-9128-461e-9d7f-a0d9c270ead2",
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": "67.43.156.42",
        "correlationId": RISK_PROPS["id"],
        "identity": "joe danger",
        "Level": 4,
        "location": "de",
        "properties": RISK_PROPS,
    }


def eh_graph() -> dict[str, Any]:
    """Elastic's `test-activitylogs-raw` record, with the claim-style `c_sid` / `C_DeviceId` members."""
    return {
        "Level": 4,
        "callerIpAddress": "81.2.69.143",
        "category": "MicrosoftGraphActivityLogs",
        "correlationId": "f7839da0-e7d1-4e4f-985a-64937fbge347",
        "durationMs": 1100725,
        "location": "France Central",
        "operationName": "Microsoft Graph Activity",
        "operationVersion": "v1.0",
        "properties": {
            "apiVersion": "v1.0",
            "appId": "a5a68e32-269a-3c91-a5e2-b9254e67hb29",
            "ipAddress": "81.2.69.144",
            "requestMethod": "GET",
            "requestUri": "https://graph.microsoft.com/v1.0/directoryRoles",
            "responseStatusCode": 200,
            "signInActivityId": "sign-in_ActivityId",
            "tenantId": "ab30785b-417f-42a4-b5dc-8f9051718acb",
            "timeGenerated": "2024-03-07T10:24:44.7939418Z",
            "tokenIssuedAt": "2024-03-07T10:19:44Z",
            "userId": "2ce85a15-8640-465d-b916-d2eac620a717",
            "c_sid": "xyz000",
            "C_DeviceId": "abc123",
        },
        "resourceId": "/TENANTS/AB30785B-417F-42A4-B5DC-8F9051718ACB/PROVIDERS/MICROSOFT.AADIAM",
        "resultSignature": "200",
        "tenantId": "ab30785b-417f-42a4-b5dc-8f9051718acb",
        "time": "2024-03-07T10:24:44.7939418Z",
    }


def test_an_event_hub_file_that_mixes_categories_gets_each_records_kind(tmp_path: Path) -> None:
    records = [
        eh_signin(),
        eh_audit(),
        eh_risk(),
        eh_signin("SignInLogs", isInteractive=True, id="r-interactive"),
        eh_graph(),
        eh_signin("ServicePrincipalSignInLogs", userPrincipalName=None, servicePrincipalName="backup-app"),
    ]
    path = tmp_path / "eventhub.json"
    path.write_text(json.dumps({"records": records}))
    con, report = run([path])
    f = report.files[0]
    assert f.kinds == (
        ("entra_signin", 3),
        ("entra_audit", 1),
        ("risk_detection", 1),
        ("sentinel_graphactivity", 1),
    )
    assert (f.kind, f.rows) == ("entra_signin", 6)
    assert f.parts[1].values == ("AuditLogs",)
    # Graph activity's claim-style session and device members
    graph = events(con)[4]
    assert (graph["session_id"], graph["device_id"], graph["token_id"]) == (
        "xyz000",
        "abc123",
        "sign-in_ActivityId",
    )
    assert f.parts[1].mapping["request_id"] == "properties.correlationId | correlationId"
    got = {
        e["source_row"]: (e["kind"], e["category"], e["user"], e["operation"], e["request_id"])
        for e in events(con)
    }
    assert got == {
        1: (
            "entra_signin",
            "nonInteractiveUser",
            "mpliftrelastic20210901@outlook.com",
            "SignIn",
            "290faffa-477b-4b28-ae92-579daae7b000",
        ),
        2: (
            "entra_audit",
            "Device",
            "admin@contoso.onmicrosoft.com",
            "Update device",
            "8a4de8b5-095c-47d0-a96f-a75130c61d53",
        ),
        3: (
            "risk_detection",
            "UserRiskEvents",
            "joe.danger@contoso.onmicrosoft.com",
            "anonymizedIPAddress",
            "e1b6d9d7-5fc0-4638-ae1a-e0abceb92200",
        ),
        4: (
            "entra_signin",
            "interactiveUser",
            "mpliftrelastic20210901@outlook.com",
            "SignIn",
            "r-interactive",
        ),
        5: (
            "sentinel_graphactivity",
            "MicrosoftGraphActivityLogs",
            "2ce85a15-8640-465d-b916-d2eac620a717",
            "GET /v1.0/directoryRoles",
            None,
        ),
        6: (
            "entra_signin",
            "servicePrincipal",
            "backup-app",
            "SignIn",
            "290faffa-477b-4b28-ae92-579daae7b000",
        ),
    }


def test_a_file_of_one_kind_is_not_split(tmp_path: Path) -> None:
    path = tmp_path / "PT1H.json"
    path.write_text("\n".join(json.dumps(r) for r in (eh_signin(), eh_signin("SignInLogs"))) + "\n")
    con, report = run([path])
    f = report.files[0]
    assert (f.kind, f.parts, f.kinds) == ("entra_signin", (), (("entra_signin", 2),))
    assert [e["category"] for e in events(con)] == ["nonInteractiveUser", "interactiveUser"]
    assert not con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'part_%'").fetchone()[0]


def test_entra_audit_records_from_the_event_hub_keep_target_and_changed_properties(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(eh_audit()) + "\n")
    con, report = run([path])
    assert report.files[0].kind == "entra_audit"
    (ev,) = events(con)
    assert (ev["user"], ev["client_ip"], ev["target"], ev["status"], ev["token_object_id"]) == (
        "admin@contoso.onmicrosoft.com",
        "81.2.69.143",
        "LAPTOP-12",
        "success",
        "51e26eae-d07b-44e5-bb0b-249f49569a8c",
    )
    assert json.loads(ev["params"]) == [
        {"displayName": "Included Updated Properties", "newValue": '""', "oldValue": ""}
    ]


def test_graph_directory_audits_take_the_first_targets_upn_and_every_targets_changes(tmp_path: Path) -> None:
    """`Add member to role` in Graph's shape: the user first, the role second, both with changes."""
    record = {
        "id": "Directory_e5bbd943-fcc7-489a-9b91-2844da394a70_FAAG0_14557051",
        "category": "RoleManagement",
        "correlationId": "e5bbd943-fcc7-489a-9b91-2844da394a70",
        "result": "success",
        "resultReason": "",
        "activityDisplayName": "Add member to role",
        "activityDateTime": "2022-06-27T09:56:28.7147707+00:00",
        "loggedByService": "Core Directory",
        "initiatedBy": {
            "user": {
                "id": "30a6c29d-de7c-4830-815f-9b3bb366e975",
                "displayName": None,
                "userPrincipalName": "attacker@securathesis.onmicrosoft.com",
                "ipAddress": "",
            }
        },
        "targetResources": [
            {
                "id": "8c907101-5831-45a1-b703-8a59f190e639",
                "displayName": None,
                "type": "User",
                "userPrincipalName": "victim@securathesis.onmicrosoft.com",
                "modifiedProperties": [
                    {
                        "displayName": "Role.DisplayName",
                        "oldValue": None,
                        "newValue": '"Global Administrator"',
                    }
                ],
            },
            {
                "id": "62e90394-69f5-4237-9190-012177145e10",
                "displayName": "Global Administrator",
                "type": "Role",
                "modifiedProperties": [
                    {"displayName": "Role.WellKnownObjectName", "newValue": '"TenantAdmins"'}
                ],
            },
        ],
    }
    path = tmp_path / "directoryAudits.json"
    path.write_text(json.dumps({"value": [record]}))
    con, report = run([path])
    assert report.files[0].kind == "entra_audit"
    assert report.files[0].mapping["request_id"] == "correlationId"
    (ev,) = events(con)
    assert (ev["ts"].isoformat(), ev["user"], ev["client_ip"], ev["operation"], ev["category"]) == (
        "2022-06-27T09:56:28.714770",
        "attacker@securathesis.onmicrosoft.com",
        None,
        "Add member to role",
        "RoleManagement",
    )
    assert (ev["target"], ev["request_id"]) == (
        "victim@securathesis.onmicrosoft.com",
        "e5bbd943-fcc7-489a-9b91-2844da394a70",
    )
    assert [p["displayName"] for p in json.loads(ev["params"])] == [
        "Role.DisplayName",
        "Role.WellKnownObjectName",
    ]


def test_sentinel_audit_logs_csv_reads_its_json_string_columns(tmp_path: Path) -> None:
    header = [
        "TimeGenerated [UTC]",
        "ActivityDateTime [UTC]",
        "ActivityDisplayName",
        "Category",
        "CorrelationId",
        "InitiatedBy",
        "TargetResources",
        "Result",
        "OperationName",
        "Type",
    ]
    initiated = {"user": {"userPrincipalName": "pgustavo@simulandlabs.com", "ipAddress": None}}
    targets = [
        {
            "displayName": "SimuLandApp",
            "type": "Application",
            "modifiedProperties": [
                {"displayName": "KeyDescription", "oldValue": "[]", "newValue": '["[KeyType=Password]"]'}
            ],
        }
    ]
    row = [
        "8/2/2021, 1:29:25.983 PM",
        "8/2/2021, 1:29:25.983 PM",
        "Update application – Certificates and secrets management ",
        "ApplicationManagement",
        "10065ffb-8199-48bc-8ff5-912cb5b8295a",
        json.dumps(initiated),
        json.dumps(targets),
        "success",
        "Update application – Certificates and secrets management ",
        "AuditLogs",
    ]
    path = write_csv(tmp_path / "AuditLogs.csv", header, [row])
    con, report = run([path])
    assert report.files[0].kind == "entra_audit"
    (ev,) = events(con)
    assert (ev["ts"].isoformat(), ev["user"], ev["operation"], ev["target"], ev["request_id"]) == (
        "2021-08-02T13:29:25.983000",
        "pgustavo@simulandlabs.com",
        "Update application – Certificates and secrets management",
        "SimuLandApp",
        "10065ffb-8199-48bc-8ff5-912cb5b8295a",
    )
    assert json.loads(ev["params"])[0]["displayName"] == "KeyDescription"


RISK_EXPECTED = (
    "joe.danger@contoso.onmicrosoft.com",
    "67.43.156.42",
    "e1b6d9d7-5fc0-4638-ae1a-e0abceb92200",
    "anonymizedIPAddress",
    "high",
    "51e26eae-d07b-44e5-bb0b-249f49569a8c",
)


def _risk(ev: dict[str, Any]) -> tuple[Any, ...]:
    return (
        ev["user"],
        ev["client_ip"],
        ev["request_id"],
        ev["operation"],
        ev["status"],
        ev["token_object_id"],
    )


def test_risk_detections_from_graph_json_and_its_csv_with_a_bom_and_us_dates(tmp_path: Path) -> None:
    graph = tmp_path / "riskDetections.json"
    graph.write_text(json.dumps({"value": [RISK_PROPS]}))
    names = [k for k in RISK_PROPS if k != "additionalInfo"]
    values = [str(RISK_PROPS[k]) for k in names]
    us = {"activityDateTime": "8/22/2022 6:05:06 PM", "detectedDateTime": "8/22/2022 6:05:06 PM"}
    values = [us.get(k, v) for k, v in zip(names, values, strict=True)]
    csv_path = write_csv(tmp_path / "RiskDetections.csv", names, [values], bom=True)
    con, report = run([graph, csv_path])
    assert [f.kind for f in report.files] == ["risk_detection", "risk_detection"]
    by_file = {Path(e["source"]).suffix: e for e in events(con)}
    for ev in by_file.values():
        assert _risk(ev) == RISK_EXPECTED
        assert json.loads(ev["params"]) == {
            "riskState": "atRisk",
            "riskDetail": "none",
            "source": "IdentityProtection",
            "detectionTimingType": "realtime",
        }
    assert by_file[".json"]["ts"].isoformat() == "2022-08-22T18:05:06.133000"
    assert by_file[".csv"]["ts"].isoformat() == "2022-08-22T18:05:06"


def test_sentinel_user_risk_events_name_the_ip_column_ipaddress(tmp_path: Path) -> None:
    header = [
        "TimeGenerated [UTC]",
        "ActivityDateTime [UTC]",
        "UserPrincipalName",
        "IpAddress",
        "RequestId",
        "RiskEventType",
        "RiskLevel",
        "RiskState",
        "RiskDetail",
        "Source",
        "DetectionTimingType",
        "UserId",
        "Type",
    ]
    row = [
        "8/22/2022, 6:07:16.894 PM",
        "8/22/2022, 6:05:06.133 PM",
        "joe.danger@contoso.onmicrosoft.com",
        "67.43.156.42",
        "e1b6d9d7-5fc0-4638-ae1a-e0abceb92200",
        "anonymizedIPAddress",
        "high",
        "atRisk",
        "none",
        "IdentityProtection",
        "realtime",
        "51e26eae-d07b-44e5-bb0b-249f49569a8c",
        "AADUserRiskEvents",
    ]
    con, report = run([write_csv(tmp_path / "AADUserRiskEvents.csv", header, [row])])
    assert report.files[0].kind == "risk_detection"
    (ev,) = events(con)
    assert _risk(ev) == RISK_EXPECTED
    assert ev["ts"].isoformat() == "2022-08-22T18:05:06.133000"
    assert json.loads(ev["params"])["riskState"] == "atRisk"


CLAIMS = {
    "aud": "https://management.core.windows.net/",
    "iss": "https://sts.windows.net/1114444b-7467-4144-a616-e3a5d63e147b/",
    "iat": "1517258551",
    "nbf": "1517258551",
    "exp": "1517262451",
    "http://schemas.microsoft.com/claims/authnclassreference": "1",
    "http://schemas.microsoft.com/claims/authnmethodsreferences": "rsa,mfa",
    "appid": "00001111-aaaa-2222-bbbb-3333cccc4444",
    "appidacr": "2",
    "http://schemas.microsoft.com/2012/01/devicecontext/claims/identifier": (
        "10845a4d-ffa4-4b61-a3b4-e57b9b31cdb5"
    ),
    "ipaddr": "111.111.1.111",
    "name": "Rob Robertson",
    "http://schemas.microsoft.com/identity/claims/objectidentifier": "f409edeb-4d29-44b5-9763-ee9348ad91bb",
    "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
    "http://schemas.microsoft.com/identity/claims/tenantid": "aaaabbbb-0000-cccc-1111-dddd2222eeee",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": "rob@contoso.com",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "Rob@Contoso.com",
    "uti": "IdP3SUJGtkGlt7dDQVRPAA",
    "ver": "1.0",
}
AUTHORIZATION = {
    "action": "Microsoft.Network/networkSecurityGroups/write",
    "scope": (
        "/subscriptions/s1/resourcegroups/myResourceGroup/providers/Microsoft.Network/"
        "networkSecurityGroups/myNSG"
    ),
}


def activity_rest() -> dict[str, Any]:
    """The activity-log schema page's Administrative sample (REST / portal JSON)."""
    return {
        "authorization": AUTHORIZATION,
        "caller": "rob@contoso.com",
        "channels": "Operation",
        "claims": CLAIMS,
        "correlationId": "aaaa0000-bb11-2222-33cc-444444dddddd",
        "eventDataId": "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e",
        "eventName": {"value": "EndRequest", "localizedValue": "End request"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "eventTimestamp": "2018-01-29T20:42:31.3810679Z",
        "level": "Informational",
        "operationId": "04e575f8-48d0-4c43-a8b3-78c4eb01d287",
        "operationName": {
            "value": "Microsoft.Network/networkSecurityGroups/write",
            "localizedValue": "Microsoft.Network/networkSecurityGroups/write",
        },
        "resourceId": AUTHORIZATION["scope"],
        "status": {"value": "Succeeded", "localizedValue": "Succeeded"},
        "subStatus": {"value": "", "localizedValue": ""},
        "submissionTimestamp": "2018-01-29T20:42:50.0724829Z",
        "subscriptionId": "s1",
        "properties": {
            "statusCode": "Created",
            "serviceRequestId": "a4c11dbd",
            "responseBody": "",
            "requestbody": "",
        },
        "relatedEvents": [],
    }


ACTIVITY_EXPECTED = {
    "user": "rob@contoso.com",
    "token_id": "IdP3SUJGtkGlt7dDQVRPAA",
    "token_tenant_id": "aaaabbbb-0000-cccc-1111-dddd2222eeee",
    "token_object_id": "f409edeb-4d29-44b5-9763-ee9348ad91bb",
    "app_id": "00001111-aaaa-2222-bbbb-3333cccc4444",
    "device_id": "10845a4d-ffa4-4b61-a3b4-e57b9b31cdb5",
    "auth_steps": "amr: rsa,mfa",
    "operation": "Microsoft.Network/networkSecurityGroups/write",
    "token": None,
    "mfa": None,
}


def test_azure_activity_claims_are_the_callers_token_and_authorization_is_no_bearer(tmp_path: Path) -> None:
    path = tmp_path / "activity.json"
    path.write_text(json.dumps([activity_rest()]))
    con, report = run([path])
    f = report.files[0]
    assert f.kind == "azure_activity"
    assert "token" not in f.mapping and f.counts["tokens"] == 0
    (ev,) = events(con)
    assert {k: ev[k] for k in ACTIVITY_EXPECTED} == ACTIVITY_EXPECTED
    assert (ev["ts"].isoformat(), ev["token_iat"].isoformat(), ev["client_ip"], ev["status"]) == (
        "2018-01-29T20:42:31.381067",
        "2018-01-29T20:42:31",
        "111.111.1.111",
        "Succeeded",
    )
    assert ev["target"] == AUTHORIZATION["scope"].lower() or ev["target"] == AUTHORIZATION["scope"]
    # nothing of the RBAC object reached the token pass
    assert con.execute("SELECT count(tok_raw) FROM events_union").fetchone() == (0,)


def test_azure_activity_storage_form_and_sentinel_export(tmp_path: Path) -> None:
    """The storage account / event hub form (`identity.claims`, `callerIpAddress`) and Sentinel's
    AzureActivity CSV (`Claims_d`, `Authorization` as JSON text: still no token)."""
    storage = {
        "time": "2018-01-29T20:42:31.3810679Z",
        "resourceId": AUTHORIZATION["scope"],
        "operationName": "Microsoft.Network/networkSecurityGroups/write",
        "category": "Write",
        "resultType": "Success",
        "resultSignature": "Succeeded.Created",
        "durationMs": 2826,
        "callerIpAddress": "111.111.111.11",
        "correlationId": "aaaa6666-bb77-8888-99cc-000000dddddd",
        "identity": {"authorization": {**AUTHORIZATION, "evidence": {"role": "Owner"}}, "claims": CLAIMS},
        "level": "Information",
        "location": "global",
        "properties": {"statusCode": "Created"},
    }
    eh = tmp_path / "activity_eventhub.json"
    eh.write_text(json.dumps({"records": [storage]}))
    header = [
        "TimeGenerated [UTC]",
        "OperationNameValue",
        "Caller",
        "CallerIpAddress",
        "Authorization",
        "Claims",
        "Claims_d",
        "ActivityStatusValue",
        "CorrelationId",
        "Type",
    ]
    row = [
        "1/29/2018, 8:42:31.381 PM",
        "Microsoft.Network/networkSecurityGroups/write",
        "rob@contoso.com",
        "111.111.111.11",
        json.dumps(AUTHORIZATION),
        json.dumps(CLAIMS),
        json.dumps(CLAIMS),
        "Success",
        "aaaa6666-bb77-8888-99cc-000000dddddd",
        "AzureActivity",
    ]
    sentinel = write_csv(tmp_path / "AzureActivity.csv", header, [row])
    con, report = run([eh, sentinel])
    assert [f.kind for f in report.files] == ["azure_activity", "azure_activity"]
    assert all("token" not in f.mapping for f in report.files)
    for ev in events(con):
        assert {k: ev[k] for k in ACTIVITY_EXPECTED} == ACTIVITY_EXPECTED
        assert ev["client_ip"] == "111.111.111.11"
        assert ev["request_id"] == "aaaa6666-bb77-8888-99cc-000000dddddd"


LOGIN_FAILED = {
    "CreationTime": "2023-06-14T13:14:02",
    "Id": "feb15f2c-3b1c-47da-a72c-aaf8451a1b00",
    "Operation": "UserLoginFailed",
    "OrganizationId": "8d4121ed-0008-406d-bff9-0d5bb312183c",
    "RecordType": 15,
    "ResultStatus": "Failed",
    "UserKey": "1abf30d3-7fe7-4e94-a578-a9d52e7a6e9f",
    "UserType": 0,
    "Version": 1,
    "Workload": "AzureActiveDirectory",
    "ClientIP": "2a09:bac5:113:105::1a:a7",
    "ObjectId": "00000002-0000-0000-c000-000000000000",
    "UserId": "Adele@contoso.onmicrosoft.com",
    "AzureActiveDirectoryEventType": 1,
    "ExtendedProperties": [
        {"Name": "ResultStatusDetail", "Value": "UserError"},
        {
            "Name": "UserAgent",
            "Value": "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.2673",
        },
        {"Name": "UserAuthenticationMethod", "Value": "1"},
        {"Name": "RequestType", "Value": "OAuth2:Token"},
    ],
    "ModifiedProperties": [],
    "Actor": [
        {"ID": "1abf30d3-7fe7-4e94-a578-a9d52e7a6e9f", "Type": 0},
        {"ID": "Adele@contoso.onmicrosoft.com", "Type": 5},
    ],
    "ActorContextId": "8d4121ed-0008-406d-bff9-0d5bb312183c",
    "ActorIpAddress": "2a09:bac5:113:105::1a:a7",
    "InterSystemsId": "5a58e4af-2b1b-48c6-92aa-1cc4b896e128",
    "IntraSystemId": "feb15f2c-3b1c-47da-a72c-aaf8451a1b00",
    "SupportTicketId": "",
    "Target": [{"ID": "00000002-0000-0000-c000-000000000000", "Type": 0}],
    "TargetContextId": "8d4121ed-0008-406d-bff9-0d5bb312183c",
    "ApplicationId": "1b730954-1685-4b74-9bfd-dac224a7b894",
    "DeviceProperties": [
        {"Name": "OS", "Value": "Windows 10"},
        {"Name": "BrowserType", "Value": "Other"},
        {"Name": "IsCompliantAndManaged", "Value": "False"},
    ],
    "ErrorNumber": "50126",
    "LogonError": "InvalidUserNameOrPassword",
}
# the second-factor step of a sign-in: DeviceProperties in another order, with the session and device
PROCESS_AUTH = {
    **LOGIN_FAILED,
    "CreationTime": "2022-12-12T17:08:58",
    "Id": "a0958885-bd94-4f03-a018-6ce664614000",
    "Operation": "UserLoggedIn",
    "ResultStatus": "Success",
    "UserId": "admin@M365x23987777.onmicrosoft.com",
    "ClientIP": "155.190.0.11",
    "IntraSystemId": "a0958885-bd94-4f03-a018-6ce664614000",
    "ApplicationId": "80ccca67-54bd-44ab-8625-4b79c4dc7775",
    "ExtendedProperties": [
        {"Name": "ResultStatusDetail", "Value": "Success"},
        {"Name": "KeepMeSignedIn", "Value": "true"},
        {"Name": "UserAgent", "Value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/108.0.1462.42"},
        {"Name": "UserAuthenticationMethod", "Value": "1"},
        {"Name": "RequestType", "Value": "SAS:ProcessAuth"},
    ],
    "DeviceProperties": [
        {"Name": "SessionId", "Value": "bb408fbc-9fe4-42c8-9d66-083fbd27e7c6"},
        {"Name": "Id", "Value": "909c8bc6-16de-4a97-85d2-4c82e0a37666"},
        {"Name": "OS", "Value": "Windows 10"},
    ],
    "ErrorNumber": "0",
}
LOGON_EXPECTED = {
    "feb15f2c-3b1c-47da-a72c-aaf8451a1b00": {
        "user": "adele@contoso.onmicrosoft.com",
        "operation": "UserLoginFailed",
        "client_ip": "2a09:bac5:113:105::1a:a7",
        "user_agent": "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.2673",
        "status": "50126",
        "app_id": "1b730954-1685-4b74-9bfd-dac224a7b894",
        "session_id": None,
        "device_id": None,
        "auth_steps": "RequestType: OAuth2:Token; ResultStatusDetail: UserError; UserAuthenticationMethod: 1",
        "mfa": "unknown",
    },
    "a0958885-bd94-4f03-a018-6ce664614000": {
        "user": "admin@m365x23987777.onmicrosoft.com",
        "operation": "UserLoggedIn",
        "client_ip": "155.190.0.11",
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/108.0.1462.42",
        "status": "0",
        "app_id": "80ccca67-54bd-44ab-8625-4b79c4dc7775",
        "session_id": "bb408fbc-9fe4-42c8-9d66-083fbd27e7c6",
        "device_id": "909c8bc6-16de-4a97-85d2-4c82e0a37666",
        "auth_steps": (
            "RequestType: SAS:ProcessAuth; ResultStatusDetail: Success; UserAuthenticationMethod: 1"
        ),
        "mfa": "performed",
    },
}


def _logons(con: Any) -> dict[str, dict[str, Any]]:
    return {e["request_id"]: {k: e[k] for k in LOGON_EXPECTED[e["request_id"]]} for e in events(con)}


def test_ual_sign_ins_in_a_search_unifiedauditlog_csv(tmp_path: Path) -> None:
    header = [
        "RecordType",
        "CreationDate",
        "UserIds",
        "Operations",
        "AuditData",
        "ResultIndex",
        "ResultCount",
        "Identity",
        "IsValid",
        "ObjectState",
    ]
    rows = [
        [
            "AzureActiveDirectoryStsLogon",
            "6/14/2023 1:14:02 PM",
            r["UserId"],
            r["Operation"],
            json.dumps(r),
            "1",
            "2",
            r["Id"],
            "True",
            "Unchanged",
        ]
        for r in (LOGIN_FAILED, PROCESS_AUTH)
    ]
    con, report = run([write_csv(tmp_path / "ual.csv", header, rows)])
    f = report.files[0]
    assert f.kind == "purview_audit"
    assert f.mapping["session_id"].endswith("AuditData.DeviceProperties[Name=SessionId]")
    assert _logons(con) == LOGON_EXPECTED


def test_ual_sign_ins_in_purview_csv_management_json_and_defender_raw_event_data(tmp_path: Path) -> None:
    purview = write_csv(
        tmp_path / "purview.csv",
        [
            "RecordId",
            "CreationDate",
            "RecordType",
            "Operation",
            "UserId",
            "AuditData",
            "AssociatedAdminUnits",
            "AssociatedAdminUnitsNames",
        ],
        [
            [r["Id"], "6/14/2023 1:14:02 PM", "15", r["Operation"], r["UserId"], json.dumps(r), "", ""]
            for r in (LOGIN_FAILED, PROCESS_AUTH)
        ],
    )
    mgmt = tmp_path / "mgmt.json"
    mgmt.write_text(json.dumps([LOGIN_FAILED, PROCESS_AUTH]))
    defender = tmp_path / "CloudAppEvents.json"
    defender.write_text(
        json.dumps(
            [
                {
                    "Timestamp": "2023-06-14T13:14:02Z",
                    "ActionType": r["Operation"],
                    "Application": "Microsoft 365",
                    "ApplicationId": 11161,
                    "AccountObjectId": r["UserKey"],
                    "IPAddress": r["ClientIP"],
                    "RawEventData": r,
                    "Type": "CloudAppEvents",
                }
                for r in (LOGIN_FAILED, PROCESS_AUTH)
            ]
        )
    )
    for path, kind in (
        (purview, "purview_audit"),
        (mgmt, "management_activity"),
        (defender, "defender_cloudappevents"),
    ):
        con, report = run([path])
        assert report.files[0].kind == kind
        assert _logons(con) == LOGON_EXPECTED, path.name


def test_powershell_flattened_name_value_lists_are_read(tmp_path: Path) -> None:
    """Export-Csv of a flattened record writes each list entry as `@{Name=…; Value=…}` (either order)."""
    flat = {
        **PROCESS_AUTH,
        "ExtendedProperties": (
            "@{Name=UserAgent; Value=Mozilla/5.0 (X11; Linux x86_64)} "
            "@{Value=SAS:ProcessAuth; Name=RequestType}"
        ),
        "DeviceProperties": (
            "@{Name=OS; Value=Windows 10} @{Value=bb408fbc-9fe4-42c8-9d66-083fbd27e7c6; Name=SessionId}"
        ),
    }
    path = tmp_path / "flat.json"
    path.write_text(json.dumps([flat]))
    con, _ = run([path])
    (ev,) = events(con)
    assert (ev["user_agent"], ev["session_id"], ev["mfa"]) == (
        "Mozilla/5.0 (X11; Linux x86_64)",
        "bb408fbc-9fe4-42c8-9d66-083fbd27e7c6",
        "performed",
    )


def test_a_sharepoint_records_application_id_is_not_read_as_a_sign_ins(tmp_path: Path) -> None:
    """In a Purview export only a sign-in's (RecordType 15) `ApplicationId` is its app id: the
    SharePoint records of the same export are read as they were before."""
    record = {
        "CreationTime": "2023-06-09T22:41:01",
        "Id": "b890ea5f-4eb7-4190-9ade-1dcf7ffcb2cc",
        "Operation": "FileAccessed",
        "RecordType": 6,
        "Workload": "SharePoint",
        "UserId": "helena.xiong@contoso-agency.gov",
        "ApplicationId": "d3590ed6-52b3-4102-aeff-aad2292ab01c",
    }
    path = write_csv(
        tmp_path / "purview.csv",
        ["CreationDate", "UserIds", "Operations", "AuditData"],
        [
            ["6/9/2023 10:41:01 PM", r["UserId"], r["Operation"], json.dumps(r)]
            for r in (record, LOGIN_FAILED)
        ],
    )
    con, report = run([path])
    assert report.files[0].mapping["app_id"] == (
        "AuditData.ApplicationId (where AuditData.RecordType is 15 or AzureActiveDirectoryStsLogon)"
    )
    assert [e["app_id"] for e in events(con)] == [None, "1b730954-1685-4b74-9bfd-dac224a7b894"]


def test_a_time_of_day_without_a_date_takes_the_date_of_the_records_other_time(tmp_path: Path) -> None:
    """A Sentinel portal export whose `TimeGenerated` holds only a time of day: the date comes from
    the same record's other time column, the nearest day to it (across midnight too), and the
    file's time profile says so (what `triage inspect` prints as "as written")."""
    header = ["TimeGenerated [UTC]", "Timestamp [UTC]", "AccountUpn", "ActionType"]
    rows = [
        ["4:05:03.000 AM", "6/1/2023, 4:05:01.000 AM", "adele.vance@contoso.gov", "MailItemsAccessed"],
        ["12:00:10.000 AM", "6/1/2023, 11:59:58.000 PM", "adele.vance@contoso.gov", "MailItemsAccessed"],
        ["11:59:59.000 PM", "6/2/2023, 12:00:02.000 AM", "adele.vance@contoso.gov", "MailItemsAccessed"],
    ]
    path = write_csv(tmp_path / "export.csv", header, rows)
    con, report = run([path])
    f = report.files[0]
    assert f.time_format.startswith(
        "TimeGenerated [UTC]: a time of day without a date; the date from Timestamp [UTC]"
    )
    assert [e["ts"] for e in events(con)] == [
        datetime(2023, 6, 1, 4, 5, 3),
        datetime(2023, 6, 2, 0, 0, 10),  # the next day: the other column's time is 12 s before midnight
        datetime(2023, 6, 1, 23, 59, 59),  # the day before: the other column's is 3 s after midnight
    ]
