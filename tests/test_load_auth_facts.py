"""The authentication facts of sign-ins (SPEC §10) from Graph beta JSON, an Event Hub record and a
Sentinel CSV export, each written with the field names those exports really use (DOMAIN.md §8;
the shapes follow Microsoft's Graph `signIn` and `authenticationDetail` docs, the Log Analytics
table schemas and public Event Hub test records)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from load_kinds import OID, SID, TID, events, run, write_csv

from tui.engine.analyses.filter import compile_filter
from tui.engine.core.schema import EVENT_COLUMNS


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


PASSWORD = {
    "authenticationStepDateTime": "2023-06-15T03:55:00Z",
    "authenticationMethod": "Password",
    "authenticationMethodDetail": "Password in the cloud",
    "succeeded": True,
    "authenticationStepResultDetail": "Correct password",
    "authenticationStepRequirement": "Primary authentication",
}
AUTHENTICATOR = {
    "authenticationStepDateTime": "2023-06-15T03:55:09Z",
    "authenticationMethod": "Authenticator App",
    "authenticationMethodDetail": "",
    "succeeded": True,
    "authenticationStepResultDetail": "MFA successfully completed",
    "authenticationStepRequirement": "Multifactor authentication",
}
BY_CLAIM = {
    "authenticationStepDateTime": "2023-06-15T04:10:00+00:00",
    "authenticationMethod": "Previously satisfied",
    "succeeded": True,
    "authenticationStepResultDetail": "MFA requirement satisfied by claim in the token",
    "authenticationStepRequirement": "Multi-factor authentication",
}


def beta(**extra: Any) -> dict[str, Any]:
    """A Graph beta `signIn` as the portal and Graph PowerShell export it."""
    rec: dict[str, Any] = {
        "id": "14d5478d-ab40-438f-ba8d-39ec57bd8c00",
        "createdDateTime": "2023-06-15T03:55:00Z",
        "userPrincipalName": "adele.vance@contoso.gov",
        "userId": OID,
        "appId": "29d9ed98-a469-4536-ade2-f981bc1d605e",
        "ipAddress": "98.168.115.27",
        "clientAppUsed": "Browser",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0.0.0",
        "correlationId": "62f3d716-bf3d-425a-a28d-b3264c85b48e",
        "conditionalAccessStatus": "success",
        "isInteractive": True,
        "tokenIssuerType": "AzureAD",
        "resourceTenantId": TID,
        "uniqueTokenIdentifier": "jUfVFECrj0O6jTnsV72MAA",
        "sessionId": SID,
        "incomingTokenType": "none",
        "authenticationProtocol": "deviceCode",
        "originalTransferMethod": "deviceCodeFlow",
        "authenticationRequirement": "multiFactorAuthentication",
        "signInTokenProtectionStatus": "unbound",
        "signInEventTypes": ["interactiveUser"],
        "status": {"errorCode": 0, "failureReason": "Other.", "additionalDetails": None},
        "deviceDetail": {"deviceId": "909c8bc6-16de-4a97-85d2-4c82e0a37666", "operatingSystem": "Windows10"},
        "authenticationDetails": [PASSWORD, AUTHENTICATOR],
    }
    rec.update(extra)
    return rec


def test_graph_beta_signin_carries_every_authentication_fact(tmp_path: Path) -> None:
    path = tmp_path / "signins_beta.json"
    # Graph PowerShell on Windows PowerShell writes a byte-order mark
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"value": [beta()]}).encode())
    con, report = run([path])
    assert report.files[0].kind == "entra_signin"
    (ev,) = events(con)
    assert {k: ev[k] for k in ("category", "interactive", "device_id", "request_id", "mfa")} == {
        "category": "interactiveUser",
        "interactive": True,
        "device_id": "909c8bc6-16de-4a97-85d2-4c82e0a37666",
        "request_id": "14d5478d-ab40-438f-ba8d-39ec57bd8c00",
        "mfa": "performed",
    }
    assert ev["auth_steps"] == (
        "Password [Primary authentication] ok: Correct password; "
        "Authenticator App [Multifactor authentication] ok: MFA successfully completed"
    )
    assert (ev["auth_requirement"], ev["auth_protocol"], ev["transfer_method"]) == (
        "multiFactorAuthentication",
        "deviceCode",
        "deviceCodeFlow",
    )
    assert (ev["incoming_token_type"], ev["token_protection"], ev["client_app_used"], ev["ca_status"]) == (
        "none",
        "unbound",
        "Browser",
        "success",
    )


def test_mfa_of_each_record_says_what_its_steps_show_and_unknown_when_they_are_missing(
    tmp_path: Path,
) -> None:
    records = [
        beta(id="performed"),
        beta(
            id="claim",
            isInteractive=False,
            signInEventTypes=["nonInteractiveUser"],
            authenticationDetails=[BY_CLAIM],
        ),
        beta(
            id="single",
            authenticationDetails=[PASSWORD],
            authenticationRequirement="singleFactorAuthentication",
        ),
        beta(id="empty", authenticationDetails=[]),  # exported empty: the data is missing, not "no MFA"
        # no steps, but the status says how the requirement was met
        beta(
            id="hint",
            authenticationDetails=[],
            status={"errorCode": 0, "additionalDetails": "MFA requirement satisfied by claim in the token"},
        ),
        # the MFA step failed: a password alone got through nothing more
        beta(id="failed", authenticationDetails=[PASSWORD, {**AUTHENTICATOR, "succeeded": False}]),
        # a v1.0 record has no authenticationDetails member at all
        {k: v for k, v in beta(id="v1").items() if k != "authenticationDetails"},
    ]
    path = tmp_path / "signins.json"
    path.write_text(json.dumps(records))
    con, _ = run([path])
    got = {ev["request_id"]: (ev["mfa"], ev["category"]) for ev in events(con)}
    assert got == {
        "performed": ("performed", "interactiveUser"),
        "claim": ("by_claim", "nonInteractiveUser"),
        "single": ("single_factor", "interactiveUser"),
        "empty": ("unknown", "interactiveUser"),
        "hint": ("by_claim", "interactiveUser"),
        "failed": ("single_factor", "interactiveUser"),
        "v1": ("unknown", "interactiveUser"),
    }


def test_event_hub_record_takes_its_category_from_the_envelope(tmp_path: Path) -> None:
    """A non-interactive sign-in as a diagnostic setting streams it (Elastic's test record's shape:
    `authenticationDetails` empty, `deviceId` empty, `+00:00` times with 7 digits)."""
    record = {
        "time": "2022-01-24T05:10:14.1875602Z",
        "resourceId": f"/tenants/{TID}/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": "NonInteractiveUserSignInLogs",
        "tenantId": TID,
        "resultType": "0",
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": "1.128.3.4",
        "correlationId": "22382f6f-ecde-4221-8666-22c452e88ebb",
        "identity": "elastic testing",
        "Level": 4,
        "location": "IN",
        "properties": {
            "id": "290faffa-477b-4b28-ae92-579daae7b000",
            "createdDateTime": "2022-01-24T05:10:14.1875602+00:00",
            "userPrincipalName": "mpliftrelastic20210901@outlook.com",
            "userId": "2ce85a15-8640-465d-b916-d2eac620a717",
            "appId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
            "ipAddress": "1.128.3.4",
            "status": {"errorCode": 0},
            "clientAppUsed": "Browser",
            "deviceDetail": {
                "deviceId": "",
                "operatingSystem": "Windows10",
                "browser": "Rich Client 4.40.0.0",
            },
            "conditionalAccessStatus": "notApplied",
            "isInteractive": False,
            "authenticationDetails": [],
            "authenticationRequirement": "singleFactorAuthentication",
            "uniqueTokenIdentifier": "MjkwZmFmZmEtNDc3Yi00YjI4LWFlOTItNTc5ZGFhZTdiMDAw",
            "incomingTokenType": "none",
            "authenticationProtocol": "none",
        },
    }
    path = tmp_path / "PT1H.json"
    path.write_text(json.dumps(record) + "\n")
    con, report = run([path])
    assert report.files[0].kind == "entra_signin"
    (ev,) = events(con)
    assert (ev["category"], ev["interactive"], ev["device_id"], ev["mfa"], ev["auth_steps"]) == (
        "nonInteractiveUser",
        False,
        None,
        "unknown",
        None,
    )
    assert (ev["request_id"], ev["ca_status"], ev["auth_requirement"]) == (
        "290faffa-477b-4b28-ae92-579daae7b000",
        "notApplied",
        "singleFactorAuthentication",
    )


def test_sentinel_csv_reads_json_string_columns_and_keeps_a_malformed_one(tmp_path: Path) -> None:
    """AADNonInteractiveUserSignInLogs exported from Log Analytics: `DeviceDetail` and
    `AuthenticationDetails` are JSON strings; one row's details are cut short (an anonymised export)."""
    header = [
        "TimeGenerated [UTC]",
        "Type",
        "Category",
        "Id",
        "UserPrincipalName",
        "IPAddress",
        "SessionId",
        "UniqueTokenIdentifier",
        "IsInteractive",
        "AuthenticationRequirement",
        "AuthenticationDetails",
        "DeviceDetail",
        "IncomingTokenType",
        "ConditionalAccessStatus",
        "ResultType",
    ]
    claim = json.dumps([BY_CLAIM])
    rows = [
        [
            "6/15/2023, 4:10:00.000 AM",
            "AADNonInteractiveUserSignInLogs",
            "NonInteractiveUserSignInLogs",
            "r1",
            "adele.vance@contoso.gov",
            "98.168.115.27",
            SID,
            "u1",
            "false",
            "multiFactorAuthentication",
            claim,
            json.dumps({"deviceId": "909c8bc6-16de-4a97-85d2-4c82e0a37666"}),
            "primaryRefreshToken",
            "success",
            "0",
        ],
        [
            "6/15/2023, 4:11:00.000 AM",
            "AADNonInteractiveUserSignInLogs",
            "NonInteractiveUserSignInLogs",
            "r2",
            "adele.vance@contoso.gov",
            "98.168.115.27",
            "not-a-guid-session",
            "u2",
            "false",
            "singleFactorAuthentication",
            '[{"authenticationMethod": "Previously sat',
            "{}",
            "refreshToken",
            "notApplied",
            "0",
        ],
    ]
    path = write_csv(tmp_path / "AADNonInteractiveUserSignInLogs.csv", header, rows)
    con, report = run([path])
    assert report.files[0].kind == "entra_signin"
    r1, r2 = sorted(events(con), key=lambda e: e["request_id"])
    assert (r1["category"], r1["mfa"], r1["device_id"], r1["incoming_token_type"]) == (
        "nonInteractiveUser",
        "by_claim",
        "909c8bc6-16de-4a97-85d2-4c82e0a37666",
        "primaryRefreshToken",
    )
    assert r1["auth_steps"] == (
        "Previously satisfied [Multi-factor authentication] ok: "
        "MFA requirement satisfied by claim in the token"
    )
    # read as far as it goes: the row loads, its details are shown as they are, its MFA is unknown
    assert (r2["mfa"], r2["session_id"], r2["token_id"]) == ("unknown", "not-a-guid-session", "u2")
    assert r2["auth_steps"] == 'unreadable: [{"authenticationMethod": "Previously sat'


def test_the_filter_language_reaches_the_authentication_facts(tmp_path: Path) -> None:
    path = tmp_path / "signins.json"
    records = [
        beta(id="a"),
        beta(id="b", authenticationDetails=[PASSWORD], originalTransferMethod="none"),
        beta(id="c", authenticationDetails=[PASSWORD]),
    ]
    path.write_text(json.dumps(records))
    con, _ = run([path])
    columns = dict(EVENT_COLUMNS)
    compiled = compile_filter("mfa=single_factor transfer_method=deviceCodeFlow interactive=true", columns)
    got = con.execute(
        f"SELECT request_id FROM events_base WHERE {compiled.where}", compiled.params
    ).fetchall()
    assert got == [("c",)]
