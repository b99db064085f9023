"""The sample incident's persistence (issue 21 point 4): what the identity intruders changed once in,
and an administrator's ordinary changes, say what truth.json's `actions` says they say. Read back from
the generated files in their real export shapes, then through `triage scan` (actions.csv) and the
engine's row indicators: the intrusions fire exactly their codes at their severity, the decoys never
beyond theirs."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tui.cli import app
from tui.engine.case.session import Session
from tui.engine.core.options import Options
from tui.engine.indicators.actions import ACTION_CODES
from tui.engine.ingest.gaps import time_gaps
from tui.engine.sample.incident import run_sample
from tui.engine.sample.scenario import IDENTITY_CODES

RANK = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("actions_sample")
    text, code = run_sample(out, 3000, 11, (), ())
    assert code == 0, text
    return out


def _truth(d: Path) -> dict[str, Any]:
    return json.loads((d / "truth.json").read_text())


def _actions(d: Path) -> list[dict[str, Any]]:
    section = _truth(d)["actions"]
    return [*section["intrusions"], *section["decoys"]]


def _purview(d: Path) -> dict[str, dict[str, str]]:
    with (d / "purview_audit.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r["RecordId"]: r for r in csv.DictReader(fh)}


def _directory(d: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in json.loads((d / "entra_audit.json").read_text())["value"]}


def _t(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_truth_names_each_change_its_user_session_time_and_codes(incident: Path) -> None:
    truth = _truth(incident)
    section = truth["actions"]
    assert tuple(section["codes"]) == ACTION_CODES
    assert [a["name"] for a in section["intrusions"]] == [
        "aitm_forwarding_rule",
        "aitm_mailbox_forwarding",
        "aitm_app_consent",
        "device_code_register_device",
        "device_code_security_info",
        "spray_global_admin",
        "spray_audit_bypass",
    ]
    assert [a["name"] for a in section["decoys"]] == ["admin_newsletter_rule", "admin_helpdesk_role"]
    identity = {sc["name"]: sc for sc in [*truth["identity"]["intrusions"], *truth["identity"]["decoys"]]}
    window_start = _t(truth["period"]["window_start"])
    for a in section["intrusions"]:
        sc = identity[a["scenario"]]
        assert a["user"] in sc["users"] and a["session"] in sc["sessions"], a["name"]
        assert a["ip"] in sc["ips"] and _t(a["time"]) >= window_start, a["name"]
        assert set(a["expected_codes"]) <= set(ACTION_CODES), a["name"]
    # each intrusion's identity entry lists the codes of its changes
    for name, sc in identity.items():
        if name in {a["scenario"] for a in section["intrusions"]}:
            codes = {c for a in section["intrusions"] if a["scenario"] == name for c in a["expected_codes"]}
            assert sc["expected_action_codes"] == sorted(codes), name
    # the worst of them: an audit bypass is critical; a role added by the sprayed account's session
    worst = {c: s for a in section["intrusions"] for c, s in a["expected_codes"].items()}
    assert worst["AUDIT_TAMPERING"] == "critical" and worst["INBOX_RULE"] == "high"
    assert set(worst) == set(ACTION_CODES) - {"MAILBOX_PERMISSION"}
    # the decoys: the IT administrator, in the baseline, from the office IP their sign-ins use
    admin = identity["admin_device_code"]
    for d in section["decoys"]:
        assert d["user"] == admin["users"][0] and d["ip"] == admin["office_ip"], d["name"]
        assert _t(d["time"]) < window_start, d["name"]
        (code,) = d["expected_codes"]
        assert set(d["must_not_fire"]) == (set(ACTION_CODES) | set(IDENTITY_CODES)) - {code}
        assert RANK[d["must_not_fire_at"][code]] > RANK[d["expected_codes"][code]]
    assert section["decoys"][0]["expected_codes"] == {"INBOX_RULE": "medium"}
    assert section["decoys"][0]["must_not_fire_at"] == {"INBOX_RULE": "high"}


def test_exchange_changes_are_admin_records_in_the_purview_export(incident: Path) -> None:
    rows = _purview(incident)
    signins = json.loads((incident / "signins.json").read_text())["value"]
    utis = {s["sessionId"]: set() for s in signins}
    for s in signins:
        utis[s["sessionId"]].add(s["uniqueTokenIdentifier"])
    org = _truth(incident)["organisation"]["domain"]
    mine = [a for a in _actions(incident) if a["source"] == "purview_audit.csv"]
    assert [a["operation"] for a in mine] == [
        "New-InboxRule",
        "Set-Mailbox",
        "Set-MailboxAuditBypassAssociation",
        "New-InboxRule",
    ]
    for a in mine:
        row = rows[a["record_id"]]
        assert (row["RecordType"], row["Operation"], row["UserId"]) == (
            "ExchangeAdmin",
            a["operation"],
            a["user"],
        )
        audit = json.loads(row["AuditData"])
        assert (audit["RecordType"], audit["Workload"], audit["ResultStatus"]) == (1, "Exchange", "True")
        assert audit["CreationTime"] + "Z" == a["time"] and audit["Id"] == a["record_id"]
        assert re.fullmatch(re.escape(a["ip"]) + r":\d{4,5}", audit["ClientIP"]), audit["ClientIP"]
        assert audit["SessionId"] == a["session"] and a["session_in_record"]
        assert audit["AppAccessContext"]["UniqueTokenId"] in utis[a["session"]]
        assert all(set(p) == {"Name", "Value"} and isinstance(p["Value"], str) for p in audit["Parameters"])
        a["params"] = {p["Name"]: p["Value"] for p in audit["Parameters"]}
        a["audit"] = audit
    rule, fwd, bypass, news = mine
    forward_to = rule["params"]["ForwardTo"]
    assert not forward_to.endswith("@" + org)
    assert (rule["params"]["MoveToFolder"], rule["params"]["MarkAsRead"]) == ("RSS Feeds", "True")
    assert rule["audit"]["ObjectId"].endswith("\\" + rule["params"]["Name"])
    assert fwd["params"]["ForwardingSmtpAddress"] == "smtp:" + forward_to
    assert (
        fwd["params"]["Identity"].endswith("/" + fwd["target"]) and fwd["audit"]["ObjectId"] == fwd["target"]
    )
    assert bypass["params"] == {"Identity": bypass["user"], "AuditBypassEnabled": "True"}
    assert news["params"]["MoveToFolder"] == news["params"]["Name"] == "Newsletters"
    assert not {"ForwardTo", "RedirectTo", "DeleteMessage", "MarkAsRead"} & set(news["params"])
    # the replayed session's rule is the victim's own mailbox: its MailItemsAccessed name the same GUID
    boxes = {
        json.loads(r["AuditData"]).get("MailboxGuid")
        for r in rows.values()
        if r["Operation"] == "MailItemsAccessed" and r["UserId"] == fwd["user"]
    }
    assert fwd["target"] in boxes


def test_directory_changes_are_graph_directory_audits(incident: Path) -> None:
    records = _directory(incident)
    times = [r["activityDateTime"] for r in records.values()]
    routine = _truth(incident)["actions"]["routine"]
    assert times == sorted(times) and len(records) == 6 + routine["records"]
    assert sum(routine["activities"].values()) == routine["records"]
    mine = [a for a in _actions(incident) if a["source"] == "entra_audit.json"]
    assert {a["operation"] for a in mine} == {
        "Consent to application",
        "Register device",
        "User registered security info",
        "Add member to role",
    }
    for a in mine:
        r = records[a["record_id"]]
        assert r["id"].startswith("Directory_" + r["correlationId"] + "_")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", r["activityDateTime"])
        assert r["activityDateTime"][:19] + "Z" == a["time"] and r["activityDisplayName"] == a["operation"]
        assert r["initiatedBy"]["user"]["userPrincipalName"] == a["user"]
        assert r["initiatedBy"]["user"]["ipAddress"] == a["ip"] and not a["session_in_record"]
        for p in r["targetResources"][0]["modifiedProperties"]:
            json.loads(p["newValue"])  # JSON-encoded text, as Graph writes it
    roles = {
        a["name"]: {
            p["displayName"]: json.loads(p["newValue"])
            for p in records[a["record_id"]]["targetResources"][0]["modifiedProperties"]
        }
        for a in mine
        if a["operation"] == "Add member to role"
    }
    assert roles["spray_global_admin"]["Role.DisplayName"] == "Global Administrator"
    assert roles["spray_global_admin"]["Role.TemplateId"] == "62e90394-69f5-4237-9190-012177145e10"
    assert roles["admin_helpdesk_role"]["Role.DisplayName"] == "Helpdesk Administrator"
    consent = next(a for a in mine if a["operation"] == "Consent to application")
    props = {
        p["displayName"]: json.loads(p["newValue"])
        for p in records[consent["record_id"]]["targetResources"][0]["modifiedProperties"]
    }
    assert (
        props["ConsentContext.IsAdminConsent"] == "False"
        and "Scope: Mail.ReadWrite" in props["ConsentAction.Permissions"]
    )


@pytest.fixture(scope="module")
def scanned(incident: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    out = tmp_path_factory.mktemp("actions_scan")
    result = CliRunner().invoke(app, ["scan", str(incident), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with (out / "actions.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _row_of(rows: list[dict[str, str]], a: dict[str, Any]) -> list[dict[str, str]]:
    return [
        r
        for r in rows
        if r["operation"] == a["operation"] and r["user"] == a["user"] and r["ts"][:19] + "Z" == a["time"]
    ]


def test_scan_fires_exactly_the_expected_action_codes(scanned: list[dict[str, str]], incident: Path) -> None:
    planted = _actions(incident)
    fired = {(r["source_row"], r["code"]) for r in scanned}
    assert len(fired) == len(scanned) == sum(len(a["expected_codes"]) for a in planted)
    for a in planted:
        rows = _row_of(scanned, a)
        assert {(r["code"], r["severity"]) for r in rows} == set(a["expected_codes"].items()), a["name"]
        for r in rows:
            assert r["client_ip"] == a["ip"] and r["target"] == a["target"], (a["name"], r)
            assert r["session_id"] == (a["session"] if a["session_in_record"] else ""), a["name"]
            for phrase in a["evidence"]:
                assert phrase in r["evidence"], (a["name"], r["evidence"])
            assert r["source"].endswith(a["source"])


@pytest.fixture(scope="module")
def indicators(incident: Path) -> Iterator[dict[tuple[str, str, str], dict[str, str]]]:
    """Every row indicator of a planted change's record: (file, time, operation) → {code: severity}."""
    session = Session.open([str(incident)], Options(), materialise_events=False)
    try:
        # the directory log's everyday records keep it from falling silent for days between them
        assert "entra_audit" not in time_gaps(session.con)
        rows = session.con.execute(
            "SELECT e.source, strftime(e.ts, '%Y-%m-%dT%H:%M:%SZ'), e.operation, i.code, i.severity "
            "FROM events_t e JOIN row_indicators i USING (source, source_row) "
            "WHERE e.operation IN (SELECT unnest(?))",
            [sorted({a["operation"] for a in _actions(incident)})],
        ).fetchall()
    finally:
        session.close()
    out: dict[tuple[str, str, str], dict[str, str]] = {}
    for source, ts, op, code, severity in rows:
        out.setdefault((Path(source).name, ts, op), {})[code] = severity
    yield out


def test_decoys_never_reach_what_they_must_not(
    indicators: dict[tuple[str, str, str], dict[str, str]], incident: Path
) -> None:
    section = _truth(incident)["actions"]
    for d in section["decoys"]:
        got = indicators[(d["source"], d["time"], d["operation"])]
        assert got == d["expected_codes"], d["name"]  # no identity indicator on it either
        assert not set(got) & set(d["must_not_fire"])
        for code, bound in d["must_not_fire_at"].items():
            assert RANK[got[code]] < RANK[bound], d["name"]
    for a in section["intrusions"]:
        got = indicators[(a["source"], a["time"], a["operation"])]
        assert {c: s for c, s in got.items() if c in ACTION_CODES} == a["expected_codes"], a["name"]
