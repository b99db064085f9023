"""`triage inspect` end to end through the CLI: per-file facts, answers, JSON, exit codes, inert output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_data import shared_data
from typer.testing import CliRunner

from tui.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def audit_csv(path: Path, rows: int) -> Path:
    lines = ["CreationDate,UserIds,Operations,AuditData"]
    data = '"{""Operation"":""MailItemsAccessed"",""AppAccessContext"":{""UniqueTokenId"":""u1""}}"'
    lines += [
        f"2023-06-15T04:{i // 60 % 60:02d}:{i % 60:02d}Z,a@x.com,MailItemsAccessed,{data}"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_text_report(tmp_path: Path) -> None:
    audit_csv(tmp_path / "audit.csv", 3)
    (tmp_path / "signins.json").write_text(
        json.dumps(
            {
                "value": [
                    {
                        "createdDateTime": "2023-06-15T04:00:00Z",
                        "userPrincipalName": "a@x.com",
                        "appId": "x",
                        "uniqueTokenIdentifier": "u1",
                    }
                ]
            }
        )
    )
    result = runner.invoke(app, ["inspect", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "format: csv   kind: purview_audit   rows: 3   rows that failed to parse: 0" in out
    assert "time (UTC): 2023-06-15 04:00:00 .. 2023-06-15 04:00:02" in out
    assert "    token_id         <- AuditData.AppAccessContext.UniqueTokenId" in out
    assert "  token ids (uti):    yes, 4 rows" in out
    assert "  MailItemsAccessed:  yes, 3 rows" in out
    assert "sign-ins:           sign-ins cover the whole period of the other events (to within 2 h" in out
    assert "  raw bearer tokens:  no raw tokens" in out


def test_sign_ins_ending_hours_before_the_mail_access_cover_only_part(tmp_path: Path) -> None:
    audit_csv(tmp_path / "audit.csv", 3)
    signin = {
        "createdDateTime": "2023-06-14T22:00:00Z",
        "userPrincipalName": "a@x.com",
        "uniqueTokenIdentifier": "u1",
    }
    (tmp_path / "signins.json").write_text(json.dumps({"value": [signin]}))
    out = runner.invoke(app, ["inspect", str(tmp_path)]).output
    assert "sign-ins:           sign-ins do not overlap the other events" in out
    signin2 = dict(signin, createdDateTime="2023-06-15T04:00:01Z")
    (tmp_path / "signins.json").write_text(json.dumps({"value": [signin, signin2]}))
    (tmp_path / "later.csv").write_text("time,user\n2023-06-20T09:00:00Z,a@x.com\n")
    out = runner.invoke(app, ["inspect", str(tmp_path)]).output
    assert "sign-ins:           sign-ins cover only part of the period of the other events" in out


def test_json_report_and_truncation(tmp_path: Path) -> None:
    audit_csv(tmp_path / "page.csv", 5000)
    result = runner.invoke(app, ["inspect", "--json", str(tmp_path / "page.csv")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    (f,) = doc["files"]
    assert (f["kind"], f["rows"], f["likely_truncated"]) == ("purview_audit", 5000, True)
    assert doc["answers"]["likely_truncated"] == [str(tmp_path / "page.csv")]
    assert (
        doc["answers"]["sign_ins"]["verdict"] == "no sign-in logs: tokens cannot be matched to their issuance"
    )
    assert (
        f["ts_min"] == "2023-06-15 04:00:00"
        and f["mapping"]["operation"] == "Operations | AuditData.Operation"
    )


def test_unreadable_input_exit_2_after_reporting_the_rest(tmp_path: Path) -> None:
    audit_csv(tmp_path / "good.csv", 2)
    (tmp_path / "zero.csv").write_bytes(b"")
    result = runner.invoke(app, ["inspect", str(tmp_path)])
    assert result.exit_code == 2
    assert "zero.csv\n  UNREADABLE (?): empty file" in result.output
    assert "kind: purview_audit   rows: 2" in result.output


def test_nothing_found_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["inspect", str(tmp_path / "missing*.csv")])
    assert result.exit_code == 2
    assert f"NOT FOUND: {tmp_path / 'missing*.csv'} (no such file)" in result.output


def test_escape_sequences_in_data_are_inert(tmp_path: Path) -> None:
    path = tmp_path / "evil.json"
    path.write_bytes(
        b'{"TimeGenerated":"2023-06-15T04:00:00Z","Operation":"x"}\n\x1b[2J\x1b]0;pwned\x07 not json\n'
    )
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "failed: record 2: \\x1b[2J\\x1b]0;pwned\\x07 not json" in result.output
    doc = json.loads(runner.invoke(app, ["inspect", "--json", str(path)]).output)
    assert doc["files"][0]["bad_rows"] == 1


def test_real_m365_folder() -> None:
    result = runner.invoke(app, ["inspect", "--json", str(shared_data("m365"))])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    kinds = {Path(f["path"]).name: f["kind"] for f in doc["files"]}
    assert kinds["OfficeActivityEvents.json"] == "sentinel_officeactivity"
    assert kinds["README.md"] is None
    assert doc["rows"] == 1386 and doc["answers"]["mail_items_accessed"] == 2


def test_a_time_past_the_calendar_in_the_display_zone(tmp_path: Path) -> None:
    """9999-12-31 23:59:59 shown in Tokyo is past year 9999: printed in UTC alone (it raised)."""
    path = tmp_path / "odd.csv"
    path.write_text("time,user\n2023-06-01T00:00:00Z,a@x.com\n9999-12-31T23:59:59Z,b@x.com\n")
    result = runner.invoke(app, ["inspect", str(path), "--tz", "Asia/Tokyo"])
    assert result.exit_code == 0, result.output
    assert (
        "time (UTC): 2023-06-01 00:00:00 (2023-06-01 09:00:00+09:00 Asia/Tokyo) .. 9999-12-31 23:59:59   as"
        in result.output
    )


def _hourly(path: Path, header: str, row: str, hours: list[int]) -> Path:
    """A CSV with one event at the start of each of `hours` (hours after 2023-06-01 00:00 UTC)."""
    from datetime import datetime, timedelta

    start = datetime(2023, 6, 1)
    lines = [header] + [row.format(t=(start + timedelta(hours=h)).isoformat() + "Z") for h in hours]
    path.write_text("\n".join(lines) + "\n")
    return path


def _gateway(path: Path, hours: list[int]) -> Path:
    import jwt

    token = jwt.encode({"upn": "a@x.com", "uti": "u1"}, "k" * 32, algorithm="HS256")
    return _hourly(path, "time,client,authorization", f"{{t}},10.0.0.1:443,Bearer {token}", hours)


def _audit(path: Path, hours: list[int]) -> Path:
    data = '"{{""Operation"":""MailItemsAccessed"",""UserId"":""a@x.com""}}"'
    header = "CreationDate,UserIds,Operations,AuditData"
    return _hourly(path, header, f"{{t}},a@x.com,MailItemsAccessed,{data}", hours)


def test_gaps_are_a_kinds_silences_while_the_other_evidence_goes_on(tmp_path: Path) -> None:
    """The audit log has no event for two days while the gateway log has one every hour: a gap, with
    its bounds and how many of its hours the other evidence covers. A weekend every kind is silent
    over is the organisation's, not a gap; alone, a kind's silence is one from 72 h."""
    week = list(range(0, 24 * 7))
    weekend = set(range(24 * 5, 24 * 7 - 1))  # both logs silent from day 5 to the last hour
    _gateway(tmp_path / "gw.csv", [h for h in week if h not in weekend])
    _audit(tmp_path / "audit.csv", [h for h in week if h not in weekend and not 30 <= h < 78])
    out = runner.invoke(app, ["inspect", str(tmp_path)]).output
    assert (
        "  gaps:               purview_audit has no event 2023-06-02 05:00:00 .. 2023-06-04 06:00:00 "
        "(49 h, while other evidence has events in 47 of those hours)"
    ) in out
    assert "http has no event" not in out  # the weekend both share
    data = json.loads(runner.invoke(app, ["inspect", "--json", str(tmp_path)]).output)
    assert data["gaps"] == {
        "purview_audit": [
            {
                "from": "2023-06-02 05:00:00",
                "to": "2023-06-04 06:00:00",
                "hours": 49.0,
                "hours_others_active": 47,
            }
        ]
    }

    # `triage scan` (and the TUI's notes) say the longest gap of each kind
    scanned = runner.invoke(
        app,
        [
            "scan",
            str(tmp_path / "gw.csv"),
            str(tmp_path / "audit.csv"),
            "--out",
            str(tmp_path.parent / f"{tmp_path.name}-findings"),
        ],
    )
    assert (
        "  note: gap: purview_audit has no event 2023-06-02 05:00 .. 2023-06-04 06:00 UTC (49 h, while other "
        "evidence has events in 47 of those hours): a collection gap to rule out"
    ) in scanned.output

    alone = tmp_path / "alone"
    alone.mkdir()
    _gateway(alone / "gw.csv", [0, 1, 40, 41, 200, 201])  # 39 h: a weekend's length; 159 h: a gap
    out = runner.invoke(app, ["inspect", str(alone)]).output
    assert "  gaps:               http has no event 2023-06-02 17:00:00 .. 2023-06-09 08:00:00 (159 h)" in out
    assert "2023-06-01 01:00:00 .. " not in out

    shared = tmp_path / "shared"
    shared.mkdir()
    _gateway(shared / "gw.csv", [h for h in week if h not in weekend])
    _audit(shared / "audit.csv", [h for h in week if h not in weekend])
    out = runner.invoke(app, ["inspect", str(shared)]).output
    assert "  gaps:               none: no kind of evidence is silent for a day while the others go on" in out


def test_inspect_lists_the_kinds_of_a_mixed_file_and_what_the_identity_evidence_can_answer(
    tmp_path: Path,
) -> None:
    """An event hub file with sign-ins of two categories (one with a malformed AuthenticationDetails
    string, one with a session id that is no GUID) and an audit record."""
    signin = {
        "time": "2022-01-24T05:10:14.1875602Z",
        "category": "NonInteractiveUserSignInLogs",
        "callerIpAddress": "1.128.3.4",
        "properties": {
            "id": "290faffa-477b-4b28-ae92-579daae7b000",
            "createdDateTime": "2022-01-24T05:10:14.1875602+00:00",
            "userPrincipalName": "mpliftrelastic20210901@outlook.com",
            "uniqueTokenIdentifier": "MjkwZmFmZmEtNDc3Yi00YjI4LWFlOTItNTc5ZGFhZTdiMDAw",
            "sessionId": "anon-session-1",
            "isInteractive": False,
            "authenticationDetails": [],
            "signInEventTypesX": "newEnumValue",
        },
    }
    interactive = json.loads(json.dumps(signin))
    interactive["category"] = "SignInLogs"
    interactive["properties"].update(
        id="r2", isInteractive=True, sessionId=None, authenticationDetails='[{"authenticationMethod": "Passw'
    )
    audit = {
        "time": "2019-10-18T15:30:51.0273716Z",
        "category": "AuditLogs",
        "correlationId": "8a4de8b5-095c-47d0-a96f-a75130c61d53",
        "properties": {
            "activityDateTime": "2019-10-18T15:30:51.0273716+00:00",
            "activityDisplayName": "Update device",
            "category": "Device",
            "correlationId": "8a4de8b5-095c-47d0-a96f-a75130c61d53",
            "targetResources": [{"displayName": "LAPTOP-12", "modifiedProperties": []}],
        },
    }
    path = tmp_path / "eventhub.json"
    path.write_text(json.dumps({"records": [signin, audit, interactive]}))
    result = runner.invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "  kinds (each record's own category): entra_signin 2, entra_audit 1" in out
    assert "  mapping of entra_audit (AuditLogs; times as written: ISO 8601 with zone" in out
    assert "    request_id       <- properties.correlationId | correlationId" in out
    assert (
        "  note: 1 sign-in(s) with authentication details that cannot be read (kept as written after "
        "`unreadable:` in auth_steps; MFA unknown); 1 event(s) with a session id that is not a GUID "
        "(e.g. anon-session-1): kept as written, sessions group by it"
    ) in out
    assert (
        "  sign-in categories: interactiveUser 1, nonInteractiveUser 1; no servicePrincipal, "
        "managedIdentity: not loaded, not proof of none"
    ) in out
    assert "  session ids / uti:  entra_audit: 0 of 1 with a session id, 0 with a uti" in out
    assert "                      entra_signin: 1 of 2 with a session id, 2 with a uti" in out
    assert (
        "  auth details:       0 of 2 sign-ins list their steps; MFA unknown for 2 (no steps: missing "
        "data, not 'no MFA'); 1 unreadable (shown as `unreadable:` in auth_steps)"
    ) in out
    data = json.loads(runner.invoke(app, ["inspect", "--json", str(path)]).output)
    assert data["files"][0]["kinds"] == [
        {"kind": "entra_signin", "rows": 2},
        {"kind": "entra_audit", "rows": 1},
    ]
    assert data["answers"]["sign_in_categories"] == {"interactiveUser": 1, "nonInteractiveUser": 1}
    assert data["answers"]["authentication_details"] == {
        "sign_ins": 2,
        "with_steps": 0,
        "mfa_unknown": 2,
        "unreadable": 1,
        "read_in_part": 0,
    }
    assert data["answers"]["unknown_values"] == {"session_id": {"rows": 1, "examples": ["anon-session-1"]}}
