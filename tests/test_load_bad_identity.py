"""Bad identity input (issue 20): a sign-in with an enumerated value triage does not know, a malformed
`AuthenticationDetails` string, a session id that is not a GUID. Each is read as far as it goes,
counted per file, shown (the load's note, `inspect`), and the rest of the file loads; sessions still
group by a session id that is not a GUID. Records use the real field names (Graph beta `signIn`,
Sentinel's `AADNonInteractiveUserSignInLogs` CSV)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from load_kinds import SID, events, run, write_csv
from test_load_auth_facts import AUTHENTICATOR, BY_CLAIM, PASSWORD, beta
from typer.testing import CliRunner

from tui.cli import app
from tui.engine.ingest.load_report import Odd

runner = CliRunner()


def _records() -> list[dict[str, object]]:
    return [
        beta(id="ca-future", conditionalAccessStatus="unknownFutureValue"),
        beta(id="new-protocol", authenticationProtocol="passkeyGrant", originalTransferMethod="none"),
        beta(id="new-client", clientAppUsed="Outlook Mobile 2030"),
        # a portal-style spelling of known values: Graph's spelling, not an unknown value
        beta(id="spelled", incomingTokenType="Primary Refresh Token", conditionalAccessStatus="Not Applied"),
        beta(id="anon-1", sessionId="session-1", createdDateTime="2023-06-15T04:00:00Z"),
        beta(id="anon-2", sessionId="session-1", createdDateTime="2023-06-15T04:30:00Z", isInteractive=False),
        beta(id="plain"),
    ]


def test_unknown_enum_values_and_non_guid_session_ids_are_kept_counted_and_noted(tmp_path: Path) -> None:
    path = tmp_path / "signins_beta.json"
    path.write_text(json.dumps({"value": _records()}))
    con, report = run([path])
    (f,) = report.files
    assert (f.kind, f.rows, f.error) == ("entra_signin", 7, None)
    by_id = {e["request_id"]: e for e in events(con)}
    assert by_id["ca-future"]["ca_status"] == "unknownFutureValue"
    assert (by_id["new-protocol"]["auth_protocol"], by_id["new-protocol"]["transfer_method"]) == (
        "passkeyGrant",
        "none",
    )
    assert by_id["new-client"]["client_app_used"] == "Outlook Mobile 2030"
    assert (by_id["spelled"]["incoming_token_type"], by_id["spelled"]["ca_status"]) == (
        "primaryRefreshToken",
        "notApplied",
    )
    assert [by_id[i]["session_id"] for i in ("anon-1", "anon-2", "plain")] == ["session-1", "session-1", SID]
    # the rest of each record is read: its MFA, its steps
    assert by_id["ca-future"]["mfa"] == "performed"
    odd = {o.field: o for facet in f.facets for o in facet.odd}
    assert odd == {
        "ca_status": Odd("ca_status", 1, ("unknownFutureValue",)),
        "auth_protocol": Odd("auth_protocol", 1, ("passkeyGrant",)),
        "client_app_used": Odd("client_app_used", 1, ("Outlook Mobile 2030",)),
        "session_id": Odd("session_id", 2, ("session-1",)),
    }
    assert f.note == (
        "values triage does not know, kept as written: ca_status 1 (e.g. unknownFutureValue), "
        "auth_protocol 1 (e.g. passkeyGrant), client_app_used 1 (e.g. Outlook Mobile 2030); "
        "2 event(s) with a session id that is not a GUID (e.g. session-1): kept as written, "
        "sessions group by it"
    )


def test_inspect_shows_the_unknown_values_and_the_json_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "signins_beta.json"
    path.write_text(json.dumps({"value": _records()}))
    out = runner.invoke(app, ["inspect", str(path)]).output
    assert (
        "  note: values triage does not know, kept as written: ca_status 1 (e.g. unknownFutureValue)" in out
    )
    assert (
        "  unknown values:     ca_status: 1 values triage does not know (kept as written; no indicator "
        "reads them), e.g. unknownFutureValue"
    ) in out
    assert (
        "                      session_id: 2 session ids that are not GUIDs (kept; sessions group by them), "
        "e.g. session-1"
    ) in out
    data = json.loads(runner.invoke(app, ["inspect", "--json", str(path)]).output)
    assert data["answers"]["unknown_values"] == {
        "ca_status": {"rows": 1, "examples": ["unknownFutureValue"]},
        "auth_protocol": {"rows": 1, "examples": ["passkeyGrant"]},
        "client_app_used": {"rows": 1, "examples": ["Outlook Mobile 2030"]},
        "session_id": {"rows": 2, "examples": ["session-1"]},
    }


def test_a_session_id_that_is_not_a_guid_still_makes_one_session(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "signins_beta.json").write_text(json.dumps({"value": _records()}))
    result = runner.invoke(app, ["scan", str(evidence), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    with (tmp_path / "out" / "sessions.csv").open(newline="", encoding="utf-8") as fh:
        rows = {r["session_id"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"session-1", SID}
    anon = rows["session-1"]
    assert (anon["events"], anon["signins"], anon["first_seen"][:16], anon["last_seen"][:16]) == (
        "2",
        "2",
        "2023-06-15T04:00",
        "2023-06-15T04:30",
    )
    assert rows[SID]["signins"] == "5"


SENTINEL_HEADER = [
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
    "IncomingTokenType",
    "ConditionalAccessStatus",
    "ResultType",
]
WRONG_TYPE = {**PASSWORD, "succeeded": "yes"}


def _sentinel_row(n: int, details: str) -> list[str]:
    return [
        f"6/15/2023, 4:{n:02d}:00.000 AM",
        "AADNonInteractiveUserSignInLogs",
        "NonInteractiveUserSignInLogs",
        f"r{n}",
        "adele.vance@contoso.gov",
        "98.168.115.27",
        SID,
        f"u{n}",
        "false",
        "multiFactorAuthentication",
        details,
        "refreshToken",
        "success",
        "0",
    ]


def test_malformed_authentication_details_are_read_as_far_as_they_go(tmp_path: Path) -> None:
    """Sentinel's CSV keeps AuthenticationDetails as JSON text: cut short, a bare object (PowerShell
    unwraps a one-element list), entries that are no steps, a `succeeded` of the wrong type, text
    that is no JSON; and one good row."""
    two = json.dumps([PASSWORD, AUTHENTICATOR])
    details = {
        1: two,
        2: two[: two.index('"authenticationMethod": "Authenticator') + 30],  # cut inside the 2nd step
        3: json.dumps(BY_CLAIM),  # one step object, not a list
        4: json.dumps([AUTHENTICATOR, 42, "Password", {}]),
        5: json.dumps([WRONG_TYPE]),
        6: "Password, Authenticator App",
        7: json.dumps([PASSWORD]),
    }
    path = write_csv(
        tmp_path / "AADNonInteractiveUserSignInLogs.csv",
        SENTINEL_HEADER,
        [_sentinel_row(n, d) for n, d in details.items()],
    )
    con, report = run([path])
    (f,) = report.files
    assert (f.kind, f.rows, f.bad_rows) == ("entra_signin", 7, 0)
    got = {e["request_id"]: (e["mfa"], e["auth_steps"]) for e in events(con)}
    password = "Password [Primary authentication] ok: Correct password"
    app_step = "Authenticator App [Multifactor authentication] ok: MFA successfully completed"
    assert got == {
        "r1": ("performed", f"{password}; {app_step}"),
        # the complete first step is read; the cut one is named; no single_factor from half a list
        "r2": (
            "unknown",
            f'{password}; unreadable: cut short at {{"authenticationStepDateTime": "2023-06-15T03:55:09Z", '
            '"authenticationMethod": "Authe',
        ),
        "r3": (
            "by_claim",
            "Previously satisfied [Multi-factor authentication] ok: "
            "MFA requirement satisfied by claim in the token",
        ),
        "r4": ("performed", f"{app_step}; unreadable: 3 of 4 entries"),
        "r5": ("unknown", "unreadable: " + json.dumps([WRONG_TYPE])[:200]),
        "r6": ("unknown", "unreadable: Password, Authenticator App"),
        "r7": ("single_factor", password),
    }
    (facet,) = f.facets
    assert (facet.rows, facet.with_steps, facet.unreadable_steps, facet.partial_steps, facet.mfa_unknown) == (
        7,
        5,
        2,
        2,
        3,
    )
    assert f.note == (
        "2 sign-in(s) with authentication details that cannot be read (kept as written after "
        "`unreadable:` in auth_steps; MFA unknown); 2 sign-in(s) with authentication details read in "
        "part (what was lost is named after `unreadable:` in auth_steps)"
    )
    out = runner.invoke(app, ["inspect", str(path)]).output
    assert (
        "  auth details:       5 of 7 sign-ins list their steps; MFA unknown for 3 (no steps: missing "
        "data, not 'no MFA'); 2 unreadable (shown as `unreadable:` in auth_steps); 2 read in part"
    ) in out
