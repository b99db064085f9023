"""Entra's other records of the sample's identity attacks: directory audit events (Graph
`directoryAudit`), Identity Protection detections (Graph `riskDetection`) and the unified audit
log's `UserLoggedIn` / `UserLoginFailed` (AzureActiveDirectoryStsLogon, RecordType 15), each in
the shape its real export has (DOMAIN.md §8; research/identity_schemas.md §4.1, §8, §9.2)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from pathlib import Path

from tui.engine.sample.audit import PurviewBuilder
from tui.engine.sample.scenario import Logon
from tui.engine.sample.signins import SignIn
from tui.engine.sample.world import User, rand_uuid

AUDITS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits"
RISKS_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#identityProtection/riskDetections"


def _iso7(epoch_s: float, rng: random.Random) -> str:
    """Graph's audit times: seven fractional digits (`2023-06-06T15:09:23.4471925Z`)."""
    d = datetime.fromtimestamp(int(epoch_s), timezone.utc)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{rng.randrange(10**7):07d}Z"


def _prop(name: str, value: object) -> dict[str, object]:
    """A modifiedProperty added: old value empty, the new one JSON-encoded text (Q4)."""
    return {"displayName": name, "oldValue": "[]", "newValue": json.dumps([value])}


def register_device(
    rng: random.Random, when: int, user: User, ip: str, device_id: str, name: str, os_version: str
) -> list[dict[str, object]]:
    """`Register device` (Device Registration Service) and the `Add registered owner to device` that
    Core Directory logs beside it, one correlation id for both."""
    correlation = rand_uuid(rng)
    object_id = rand_uuid(rng)
    initiator: dict[str, object] = {
        "user": {
            "id": user.oid,
            "displayName": None,
            "userPrincipalName": user.upn,
            "ipAddress": ip,
            "homeTenantId": None,
            "homeTenantName": None,
        },
        "app": None,
    }
    device = {
        "id": object_id,
        "displayName": name,
        "type": "Device",
        "userPrincipalName": None,
        "groupType": None,
    }
    register: dict[str, object] = {
        "id": f"Directory_{correlation}_{rng.getrandbits(20):05X}_{rng.randrange(10**7, 10**8)}",
        "category": "Device",
        "correlationId": correlation,
        "result": "success",
        "resultReason": "",
        "activityDisplayName": "Register device",
        "activityDateTime": _iso7(when, rng),
        "loggedByService": "Device Registration Service",
        "operationType": "Add",
        "initiatedBy": initiator,
        "userAgent": f"Dsreg/10.0 (Windows {os_version})",
        "targetResources": [
            {
                **device,
                "modifiedProperties": [
                    _prop("CloudAccountEnabled", True),
                    _prop("CloudDeviceOSType", "Windows"),
                    _prop("CloudDeviceOSVersion", os_version),
                    _prop("CloudDisplayName", name),
                    _prop("CloudDeviceTrustType", "Workplace"),
                ],
            }
        ],
        "additionalDetails": [
            {"key": "Device Id", "value": device_id},
            {"key": "Device OS", "value": "Windows"},
            {"key": "Device Trust Type", "value": "Workplace"},
        ],
    }
    owner: dict[str, object] = {
        "id": f"Directory_{correlation}_{rng.getrandbits(20):05X}_{rng.randrange(10**7, 10**8)}",
        "category": "Device",
        "correlationId": correlation,
        "result": "success",
        "resultReason": "",
        "activityDisplayName": "Add registered owner to device",
        "activityDateTime": _iso7(when + 1, rng),
        "loggedByService": "Core Directory",
        "operationType": "Assign",
        "initiatedBy": {"user": None, "app": {"appId": None, "displayName": "Device Registration Service"}},
        "userAgent": None,
        "targetResources": [
            {**device, "modifiedProperties": []},
            {
                "id": user.oid,
                "displayName": None,
                "type": "User",
                "userPrincipalName": user.upn,
                "groupType": None,
                "modifiedProperties": [
                    {"displayName": "Device.ObjectID", "oldValue": None, "newValue": json.dumps(object_id)},
                    {"displayName": "Device.DisplayName", "oldValue": None, "newValue": json.dumps(name)},
                ],
            },
        ],
        "additionalDetails": [],
    }
    return [register, owner]


def _initiated_by(user: User, ip: str) -> dict[str, object]:
    return {
        "user": {
            "id": user.oid,
            "displayName": None,
            "userPrincipalName": user.upn,
            "ipAddress": ip,
            "homeTenantId": None,
            "homeTenantName": None,
        },
        "app": None,
    }


def _changed(name: str, value: str) -> dict[str, object]:
    """A modifiedProperty set, Core Directory style: no old value, the new one a JSON-encoded string."""
    return {"displayName": name, "oldValue": None, "newValue": json.dumps(value)}


def directory_audit(
    rng: random.Random,
    when: int,
    actor: User,
    ip: str,
    ua: str | None,
    change: tuple[str, str, str, str],
    target: dict[str, object],
    details: tuple[tuple[str, str], ...] = (),
    reason: str = "",
) -> dict[str, object]:
    """One Graph `directoryAudit` a user's own session did: `change` is (category, loggedByService,
    activityDisplayName, operationType); `target` the first target resource, modifiedProperties and all."""
    correlation = rand_uuid(rng)
    category, service, activity, operation = change
    return {
        "id": f"Directory_{correlation}_{rng.getrandbits(20):05X}_{rng.randrange(10**7, 10**8)}",
        "category": category,
        "correlationId": correlation,
        "result": "success",
        "resultReason": reason,
        "activityDisplayName": activity,
        "activityDateTime": _iso7(when, rng),
        "loggedByService": service,
        "operationType": operation,
        "initiatedBy": _initiated_by(actor, ip),
        "userAgent": ua,
        "targetResources": [{"groupType": None, **target}],
        "additionalDetails": [{"key": k, "value": v} for k, v in details],
    }


def user_target(user: User, props: list[dict[str, object]]) -> dict[str, object]:
    """A user as a directory change's target resource."""
    return {
        "id": user.oid,
        "displayName": None,
        "type": "User",
        "userPrincipalName": user.upn,
        "modifiedProperties": props,
    }


def risk_detection(
    rng: random.Random, s: SignIn, event_type: str, timing: str, detected_after: int
) -> dict[str, object]:
    """An Identity Protection detection on sign-in `s`: `requestId` is its `id`, `correlationId` its own."""
    activity = _iso7(s.ts, rng)
    detected = _iso7(s.ts + detected_after, rng)
    return {
        "id": f"{rng.getrandbits(256):064x}",
        "requestId": s.request_id,
        "correlationId": s.correlation_id,
        "riskEventType": event_type,
        "riskState": "atRisk",
        "riskLevel": "high",
        "riskDetail": "none",
        "source": "IdentityProtection",
        "detectionTimingType": timing,
        "activity": "signin",
        "tokenIssuerType": "AzureAD",
        "ipAddress": s.place.ip,
        "location": {
            "city": s.place.site.city,
            "state": s.place.site.state,
            "countryOrRegion": s.place.site.country,
            "geoCoordinates": None,
        },
        "activityDateTime": activity,
        "detectedDateTime": detected,
        "lastUpdatedDateTime": detected,
        "userId": s.user.oid,
        "userDisplayName": s.user.name,
        "userPrincipalName": s.user.upn,
        "additionalInfo": json.dumps([{"Key": "userAgent", "Value": s.ua}], separators=(",", ":")),
    }


def sts_logon(purview: PurviewBuilder, logon: Logon, tenant: str, rng: random.Random) -> None:
    """The UAL record of one sign-in: `Id` and `IntraSystemId` its request id, `InterSystemsId` its
    correlation id, the session in `DeviceProperties`, the AADSTS code in `ErrorNumber`."""
    s = logon.signin
    failed = s.error != 0
    op = "UserLoginFailed" if failed else "UserLoggedIn"
    audit = purview.base(rng, s.ts, op, 15, s.user.upn, s.user.oid, "AzureActiveDirectory")
    device = [
        {"Name": "OS", "Value": "Windows 10" if s.device.os.startswith("Windows") else s.device.os},
        {"Name": "BrowserType", "Value": s.device.browser.split(" ")[0] or "Other"},
        {"Name": "IsCompliantAndManaged", "Value": str(s.device.compliant and s.device.managed)},
    ]
    if s.sid:
        device.append({"Name": "SessionId", "Value": s.sid})
    audit.update(
        {
            "Id": s.request_id,
            "ResultStatus": "Failed" if failed else "Success",
            "ClientIP": s.place.ip,
            "ObjectId": s.resource,
            "AzureActiveDirectoryEventType": 1,
            "ExtendedProperties": [
                {"Name": "ResultStatusDetail", "Value": "UserError" if failed else "Success"},
                {"Name": "UserAgent", "Value": s.ua},
                {"Name": "UserAuthenticationMethod", "Value": "1"},
                {"Name": "RequestType", "Value": "OAuth2:Token"},
            ],
            "ModifiedProperties": [],
            "Actor": [{"ID": s.user.oid, "Type": 0}, {"ID": s.user.upn, "Type": 5}],
            "ActorContextId": tenant,
            "ActorIpAddress": s.place.ip,
            "InterSystemsId": s.correlation_id,
            "IntraSystemId": s.request_id,
            "SupportTicketId": "",
            "Target": [{"ID": s.resource, "Type": 0}],
            "TargetContextId": tenant,
            "ApplicationId": s.app,
            "DeviceProperties": device,
        }
    )
    if failed:
        audit.update({"ErrorNumber": str(s.error), "LogonError": logon.logon_error or ""})
    purview.add(s.ts, "AzureActiveDirectoryStsLogon", audit)


def write_page(path: Path, context: str, records: list[dict[str, object]]) -> int:
    """A Graph `{"@odata.context", "value": [...]}` page, one record per line; returns the count."""
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(f'{{"@odata.context":"{context}","value":[\n')
        fh.write(",\n".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in records))
        fh.write("\n]}\n")
    return len(records)
