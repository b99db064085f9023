"""Change records (SPEC §10's actions) written in every export shape that carries them, with the field
names and value shapes of real exports (/work/research/identity_schemas.md §9-§10): an Exchange
cmdlet's AuditData (`Parameters` name/value strings, `ClientIP` with a port, `ObjectId` a directory
path) in a Purview CSV, a Search-UnifiedAuditLog CSV (`UserIds`, `Operations`), a Management Activity
JSON and a Sentinel `OfficeActivity` CSV (`Parameters` a JSON string); an Entra audit record (Graph
`directoryAudit`, JSON-encoded `modifiedProperties` values) as Graph JSON, Event Hub `AuditLogs`
records and a Sentinel `AuditLogs` CSV; and the same changes as UAL RecordType 8 (`ModifiedProperties`,
bare values, operation names with a trailing dot)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from load_kinds import write_csv

TENANT = "8e5121ed-0008-406d-bff9-0d5bb312183c"
ORG_PATH = "NAMPR10A011.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com"


def exchange(op: str, n: int, params: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    """An Exchange admin cmdlet's AuditData (UAL RecordType 1), as the Huntress and DETENG exports hold it."""
    return {
        "CreationTime": f"2023-09-26T01:{n:02d}:15",
        "Id": f"85d29e27-be28-4f2c-96c8-08dbbe33c4{n:02d}",
        "Operation": op,
        "OrganizationId": TENANT,
        "RecordType": 1,
        "ResultStatus": "True",
        "UserKey": "10032002F222981B",
        "UserType": 2,
        "Version": 1,
        "Workload": "Exchange",
        "ClientIP": "185.73.124.135:19823",
        "ObjectId": f"{ORG_PATH}/f757cb79-dd91-4555-a45e-520c2525d932",
        "UserId": "DebraB@Contoso.com",
        "AppId": "00000002-0000-0ff1-ce00-000000000000",
        "ClientAppId": "",
        "ExternalAccess": False,
        "OrganizationName": "contoso.onmicrosoft.com",
        "OriginatingServer": "CH3PR10MB7864 (15.20.6813.027)",
        "Parameters": [{"Name": k, "Value": v} for k, v in params],
        "SessionId": "9dfdecb6-59a0-4714-846e-86c0fc911104",
        **extra,
    }


def write_exchange_shapes(folder: Path, records: list[dict[str, Any]]) -> dict[str, Path]:
    """The same AuditData records in the four exports that carry Exchange admin records."""
    folder.mkdir(parents=True, exist_ok=True)
    purview = write_csv(
        folder / "purview.csv",
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
            [r["Id"], "9/26/2023 1:56:15 AM", "1", r["Operation"], r["UserId"], json.dumps(r), "", ""]
            for r in records
        ],
    )
    sual = write_csv(
        folder / "sual.csv",
        [
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
        ],
        [
            ["ExchangeAdmin", "9/26/2023 1:56:15 AM", r["UserId"], r["Operation"], json.dumps(r), str(n), "9"]
            + [r["Id"], "True", "Unchanged"]
            for n, r in enumerate(records, 1)
        ],
        bom=False,
    )
    mgmt = folder / "ual.json"
    mgmt.write_text(json.dumps(records, indent=2))
    office = write_csv(
        folder / "OfficeActivity.csv",
        [
            "TimeGenerated [UTC]",
            "OfficeId",
            "Operation",
            "OfficeWorkload",
            "RecordType",
            "UserId",
            "ClientIP",
            "OfficeObjectId",
            "MailboxOwnerUPN",
            "Parameters",
            "OperationProperties",
            "Type",
        ],
        [
            [
                "9/26/2023, 1:56:15.000 AM",
                r["Id"],
                r["Operation"],
                "Exchange",
                "ExchangeAdmin",
                r["UserId"],
                r["ClientIP"],
                r.get("ObjectId", ""),
                r.get("MailboxOwnerUPN", ""),
                json.dumps(r["Parameters"]) if "Parameters" in r else "",
                json.dumps(r["OperationProperties"]) if "OperationProperties" in r else "",
                "OfficeActivity",
            ]
            for r in records
        ],
    )
    return {"purview": purview, "sual": sual, "mgmt": mgmt, "office": office}


def directory_audit(
    activity: str, n: int, target: dict[str, Any], props: list[tuple[str, Any, Any]], category: str
) -> dict[str, Any]:
    """A Graph `directoryAudit` (the shape Sentinel and the event hub keep too): values JSON-encoded."""
    return {
        "id": f"Directory_e5bbd943-fcc7-489a-9b91-2844da394a{n:02d}_FAAG0_14557051",
        "category": category,
        "correlationId": f"e5bbd943-fcc7-489a-9b91-2844da394a{n:02d}",
        "result": "success",
        "resultReason": "",
        "activityDisplayName": activity,
        "activityDateTime": f"2023-11-21T23:{n:02d}:05.7147707+00:00",
        "loggedByService": "Core Directory",
        "operationType": "Assign",
        "initiatedBy": {
            "user": {
                "id": "7dccacb0-c3ff-4b02-964b-dd04c5a8f9fe",
                "displayName": None,
                "userPrincipalName": "stinger@contoso.com",
                "ipAddress": "104.28.196.199",
            }
        },
        "targetResources": [
            {
                **target,
                "modifiedProperties": [
                    {"displayName": name, "oldValue": old, "newValue": new} for name, old, new in props
                ],
            }
        ],
    }


def write_entra_shapes(folder: Path, records: list[dict[str, Any]]) -> dict[str, Path]:
    """The same directory audits as Graph JSON, Event Hub `AuditLogs` records and a Sentinel CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    graph = folder / "directoryAudits.json"
    graph.write_text(json.dumps({"value": records}))
    hub = folder / "PT1H.json"
    hub.write_text(
        "\n".join(
            json.dumps(
                {
                    "time": r["activityDateTime"].replace("+00:00", "Z"),
                    "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
                    "operationName": r["activityDisplayName"],
                    "operationVersion": "1.0",
                    "category": "AuditLogs",
                    "tenantId": TENANT,
                    "resultSignature": "None",
                    "durationMs": 0,
                    "correlationId": r["correlationId"],
                    "level": "Informational",
                    "properties": r,
                }
            )
            for r in records
        )
        + "\n"
    )
    sentinel = write_csv(
        folder / "AuditLogs.csv",
        [
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
        ],
        [
            [
                f"11/21/2023, 11:{r['activityDateTime'][14:16]}:05.714 PM",
                f"11/21/2023, 11:{r['activityDateTime'][14:16]}:05.714 PM",
                r["activityDisplayName"],
                r["category"],
                r["correlationId"],
                json.dumps(r["initiatedBy"]),
                json.dumps(r["targetResources"]),
                r["result"],
                r["activityDisplayName"],
                "AuditLogs",
            ]
            for r in records
        ],
    )
    return {"graph": graph, "hub": hub, "sentinel": sentinel}


def ual_directory(op: str, n: int, target: str, props: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The same change as UAL RecordType 8 keeps it: `ModifiedProperties` with bare values."""
    return {
        "CreationTime": f"2023-11-21T23:{n:02d}:05",
        "Id": f"4ae7e0d5-e96b-4f29-9557-7264d43722{n:02d}",
        "Operation": op,
        "OrganizationId": TENANT,
        "RecordType": 8,
        "ResultStatus": "Success",
        "UserKey": "10032002643F6746@contoso.com",
        "UserType": 0,
        "Version": 1,
        "Workload": "AzureActiveDirectory",
        "ObjectId": target,
        "UserId": "stinger@contoso.com",
        "AzureActiveDirectoryEventType": 1,
        "ExtendedProperties": [{"Name": "additionalDetails", "Value": "{}"}],
        "ModifiedProperties": [{"Name": k, "NewValue": new, "OldValue": old} for k, old, new in props],
        "Actor": [{"ID": "stinger@contoso.com", "Type": 5}],
        "InterSystemsId": "2728a940-3aec-4064-b0b7-ffe0d8ff8d65",
        "IntraSystemId": f"925b4596-89f6-40ad-812f-fcb0aa71eb{n:02d}",
        "Target": [{"ID": target, "Type": 5}],
    }
