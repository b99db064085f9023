"""The Entra admin centre's sign-in "Download" CSV (SPEC §10 inputs): human-readable titles, one
file per category named after it, no category column. The header line is the one public parsers of
those downloads compare verbatim (tui/engine/ingest/field_names.py says where it was found): 55
titles, `Application ID ` and `Resource ID ` with a trailing space, `Autonomous system  number`
with two, `Incoming token type` twice."""

from __future__ import annotations

from pathlib import Path

from load_kinds import events, run, write_csv

PORTAL_HEADER = [
    "Date (UTC)",
    "Request ID",
    "User agent",
    "Correlation ID",
    "User ID",
    "User",
    "Username",
    "User type",
    "Cross tenant access type",
    "Incoming token type",
    "Authentication Protocol",
    "Unique token identifier",
    "Original transfer method",
    "Client credential type",
    "Token Protection - Sign In Session",
    "Token Protection - Sign In Session StatusCode",
    "Application",
    "Application ID ",
    "Resource",
    "Resource ID ",
    "Resource tenant ID",
    "Home tenant ID",
    "Home tenant name",
    "IP address",
    "Location",
    "Status",
    "Sign-in error code",
    "Failure reason",
    "Client app",
    "Device ID",
    "Browser",
    "Operating System",
    "Compliant",
    "Managed",
    "Join Type",
    "Multifactor authentication result",
    "Multifactor authentication auth method",
    "Multifactor authentication auth detail",
    "Authentication requirement",
    "Sign-in identifier",
    "Session ID",
    "IP address (seen by resource)",
    "Through Global Secure Access",
    "Global Secure Access IP address",
    "Autonomous system  number",
    "Flagged for review",
    "Token issuer type",
    "Incoming token type",
    "Token issuer name",
    "Latency",
    "Conditional Access",
    "Managed Identity type",
    "Associated Resource Id",
    "Federated Token Id",
    "Federated Token Issuer",
]
TENANT = "b4b5da2c-804d-44b0-a75f-3e8a43ba1e88"
SESSION = "0b0e2a7c-3c55-4f6c-9d53-7f2f2d1c7a11"
DEVICE = "8f1b6a52-3f0e-4a1c-9a57-0d8b2c4e6f10"


def portal_row(**values: str) -> list[str]:
    """One download row: every title empty but those given (by title; a title written twice gets the
    value in both places)."""
    row: dict[str, str] = {}
    row.update(
        {
            "Date (UTC)": "2025-12-04T08:19:41Z",
            "User ID": "d8ec1506-576d-4172-b96b-e374f1e9c2c9",
            "User": "Faith Sharry",
            "Username": "Faith.Sharry@Contoso.com",
            "User type": "Member",
            "Application": "OfficeHome",
            "Application ID ": "4765445b-32c6-49b0-83e6-1d93765276ca",
            "Resource tenant ID": TENANT,
            "Home tenant ID": TENANT,
            "IP address": "98.168.115.27",
            "Location": "Phoenix, Arizona, US",
            "Status": "Success",
            "Sign-in error code": "0",
            "Session ID": SESSION,
            "Token issuer type": "AzureAD",
        }
    )
    row.update(values)
    return [row.get(title, "") for title in PORTAL_HEADER]


INTERACTIVE = portal_row(
    **{
        "Request ID": "a3bdc22e-6587-4ea7-b90a-28279cae8c00",
        "User agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0",
        "Incoming token type": "none",
        "Authentication Protocol": "deviceCode",
        "Unique token identifier": "LiXsOX4FS0aCV-cXDw0nAA",
        "Original transfer method": "deviceCodeFlow",
        "Token Protection - Sign In Session": "unbound",
        "Client app": "Mobile Apps and Desktop clients",
        "Device ID": DEVICE,
        "Operating System": "Windows10",
        "Multifactor authentication result": "MFA successfully completed",
        "Multifactor authentication auth method": "Mobile app notification",
        "Authentication requirement": "multiFactorAuthentication",
        "Conditional Access": "success",
    }
)
NON_INTERACTIVE = portal_row(
    **{
        "Date (UTC)": "2025-12-04T09:02:10Z",
        "Request ID": "5d0a7d62-90a5-4dd6-9a4e-4e6e2f6f1200",
        "Incoming token type": "primaryRefreshToken",
        "Authentication Protocol": "none",
        "Unique token identifier": "pQhNq9XQ3kS6rY8gq7kHAA",
        "Original transfer method": "none",
        "Token Protection - Sign In Session": "bound",
        "Client app": "Mobile Apps and Desktop clients",
        "Device ID": DEVICE,
        "Multifactor authentication result": "MFA requirement satisfied by claim in the token",
        "Multifactor authentication auth method": "Previously satisfied",
        "Authentication requirement": "multiFactorAuthentication",
        "Conditional Access": "notApplied",
    }
)
FACTS = (
    "category",
    "interactive",
    "request_id",
    "session_id",
    "device_id",
    "token_id",
    "auth_requirement",
    "incoming_token_type",
    "auth_protocol",
    "transfer_method",
    "token_protection",
    "client_app_used",
    "ca_status",
    "mfa",
    "auth_steps",
)


def _downloads(folder: Path) -> tuple[Path, Path]:
    return (
        write_csv(folder / "InteractiveSignIns_2025-12-01_2025-12-04.csv", PORTAL_HEADER, [INTERACTIVE]),
        write_csv(
            folder / "NonInteractiveSignIns_2025-12-01_2025-12-04.csv", PORTAL_HEADER, [NON_INTERACTIVE]
        ),
    )


def test_the_portal_download_puts_each_fact_in_its_column(tmp_path: Path) -> None:
    interactive, non_interactive = _downloads(tmp_path)
    con, report = run([interactive, non_interactive])  # alike files: read as one
    assert [(f.path.name, f.kind, f.rows, f.error) for f in report.files] == [
        ("InteractiveSignIns_2025-12-01_2025-12-04.csv", "entra_signin", 1, None),
        ("NonInteractiveSignIns_2025-12-01_2025-12-04.csv", "entra_signin", 1, None),
    ]
    first, second = events(con)
    assert {k: first[k] for k in FACTS} == {
        "category": "interactiveUser",
        "interactive": True,
        "request_id": "a3bdc22e-6587-4ea7-b90a-28279cae8c00",
        "session_id": SESSION,
        "device_id": DEVICE,
        "token_id": "LiXsOX4FS0aCV-cXDw0nAA",
        "auth_requirement": "multiFactorAuthentication",
        "incoming_token_type": "none",
        "auth_protocol": "deviceCode",
        "transfer_method": "deviceCodeFlow",
        "token_protection": "unbound",
        "client_app_used": "Mobile Apps and Desktop clients",
        "ca_status": "success",
        "mfa": "performed",
        "auth_steps": "MFA method: Mobile app notification; MFA result: MFA successfully completed",
    }
    assert (
        first["user"],
        first["client_ip"],
        first["status"],
        first["app_id"],
        first["token_object_id"],
    ) == (
        "faith.sharry@contoso.com",
        "98.168.115.27",
        "0",
        "4765445b-32c6-49b0-83e6-1d93765276ca",
        "d8ec1506-576d-4172-b96b-e374f1e9c2c9",
    )
    assert {k: second[k] for k in ("category", "interactive", "incoming_token_type", "ca_status", "mfa")} == {
        "category": "nonInteractiveUser",
        "interactive": False,
        "incoming_token_type": "primaryRefreshToken",
        "ca_status": "notApplied",
        "mfa": "by_claim",
    }
    assert second["auth_steps"] == (
        "MFA method: Previously satisfied; MFA result: MFA requirement satisfied by claim in the token"
    )
    mapping = report.files[0].mapping
    assert {
        k: mapping[k] for k in ("token_protection", "incoming_token_type", "auth_steps", "mfa", "app_id")
    } == {
        "token_protection": "Token Protection - Sign In Session",
        "incoming_token_type": "Incoming token type",
        "auth_steps": "Multifactor authentication auth method | Multifactor authentication result",
        "mfa": "Multifactor authentication result",
        "app_id": "Application ID",  # DuckDB reads the title without its trailing space
    }
    # no note: every value is known, every session id a GUID
    assert [f.note for f in report.files] == [None, None]


def test_a_download_read_alone_takes_its_category_from_its_name(tmp_path: Path) -> None:
    _, non_interactive = _downloads(tmp_path)
    con, report = run([non_interactive])
    (ev,) = events(con)
    assert (ev["category"], ev["interactive"]) == ("nonInteractiveUser", False)
    (facet,) = report.files[0].facets
    assert (facet.category, facet.rows, facet.session_ids, facet.token_ids, facet.with_steps) == (
        "nonInteractiveUser",
        1,
        1,
        1,
        1,
    )
    renamed = write_csv(tmp_path / "signins.csv", PORTAL_HEADER, [NON_INTERACTIVE])
    con, _ = run([renamed])
    (ev,) = events(con)
    assert (ev["category"], ev["interactive"], ev["mfa"]) == (None, None, "by_claim")
