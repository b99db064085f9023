"""The sample incident's identity attacks and decoys (issue 20 point 6) say what truth.json says they
say: read back from the generated files as JSON and CSV, and through the engine's loader."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import iptocc
import pytest

from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.ingest.load import load
from tui.engine.sample.incident import run_sample
from tui.engine.sample.world import APP_AUTH_BROKER, APP_OFFICE_HOME, build_world

REPO = Path(__file__).resolve().parents[1]
SAMPLE_LOGS = REPO / "sample_logs"
CODES = {
    "AITM_SIGNIN",
    "DEVICE_CODE_FLOW",
    "IMPOSSIBLE_TRAVEL",
    "LEGACY_AUTH",
    "MFA_CLAIM_UNBACKED",
    "PASSWORD_SPRAY",
    "PRT_NEW_DEVICE",
    "RISK_DETECTION",
    "SESSION_REPLAY",
    "SINGLE_FACTOR_ACCESS",
}


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("identity")
    text, code = run_sample(out, 3000, 11, (), ())
    assert code == 0, text
    return out


def _truth(d: Path) -> dict:
    return json.loads((d / "truth.json").read_text())


def _scenario(d: Path, name: str) -> dict:
    identity = _truth(d)["identity"]
    return next(sc for sc in [*identity["intrusions"], *identity["decoys"]] if sc["name"] == name)


def _signins(d: Path) -> list[dict]:
    return sorted(json.loads((d / "signins.json").read_text())["value"], key=lambda s: s["createdDateTime"])


def _audit(d: Path) -> list[dict]:
    with (d / "purview_audit.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [json.loads(r["AuditData"]) for r in csv.DictReader(fh)]


def _page(d: Path, name: str) -> list[dict]:
    return json.loads((d / name).read_text())["value"]


def _t(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _mail_reads(d: Path, session: str) -> list[dict]:
    return [
        a
        for a in _audit(d)
        if a["Operation"] == "MailItemsAccessed"
        and a["SessionId"] == session
        and a["AppAccessContext"]["AADSessionId"] == session
    ]


def _ip(audit_ip: str) -> str:
    return audit_ip.rsplit(":", 1)[0].strip("[]") if audit_ip.count(":") == 1 or "]" in audit_ip else audit_ip


def test_truth_names_each_intrusion_and_decoy_with_real_users(incident: Path) -> None:
    truth = _truth(incident)
    identity = truth["identity"]
    world = build_world(11, (), ())
    members = {u.upn for u in world.users if not u.guest}
    assert set(identity["codes"]) == CODES
    assert [sc["name"] for sc in identity["intrusions"]] == [
        "aitm_session_replay",
        "device_code_phishing",
        "password_spray",
    ]
    assert [sc["name"] for sc in identity["decoys"]] == [
        "phone_wifi_cellular",
        "traveller_mfa_abroad",
        "vpn_exit_abroad",
        "admin_device_code",
    ]
    expected = {sc["name"]: set(sc["expected_codes"]) for sc in identity["intrusions"]}
    assert expected["aitm_session_replay"] == {
        "AITM_SIGNIN",
        "SESSION_REPLAY",
        "IMPOSSIBLE_TRAVEL",
        "RISK_DETECTION",
    }
    assert expected["device_code_phishing"] == {
        "DEVICE_CODE_FLOW",
        "PRT_NEW_DEVICE",
        "IMPOSSIBLE_TRAVEL",
        "MFA_CLAIM_UNBACKED",
    }
    assert expected["password_spray"] == {"PASSWORD_SPRAY", "SINGLE_FACTOR_ACCESS", "LEGACY_AUTH"}
    for sc in identity["intrusions"]:
        assert set(sc["expected_severity"]) == set(sc["expected_codes"]) <= CODES, sc["name"]
    assert _scenario(incident, "device_code_phishing")["expected_action_codes"] == ["AUTH_METHOD_CHANGE"]
    assert "RISK_DETECTION" in set().union(*expected.values())
    assert "MFA_CLAIM_UNBACKED" in set().union(*expected.values())
    for sc in identity["decoys"]:
        fired = set(sc["expected_codes"])
        assert set(sc["must_not_fire"]) == CODES - fired
        assert fired == ({"DEVICE_CODE_FLOW"} if sc["name"] == "admin_device_code" else set())
    admin = _scenario(incident, "admin_device_code")
    assert admin["must_not_fire_at"] == {"DEVICE_CODE_FLOW": "high"}
    # real people of the sample world, none of them a forged-token victim or the traveller
    users = [u for sc in [*identity["intrusions"], *identity["decoys"]] for u in sc["users"]]
    assert set(users) <= members and len(set(users)) == len(users)
    assert not set(users) & set(world.victims)
    assert set(_scenario(incident, "password_spray")["targets"]) <= members - set(users)
    # every sign-in truth names is in the file; the intrusions happen inside the hunt window
    ids = {s["id"] for s in _signins(incident)}
    assert all(set(sc["request_ids"]) <= ids for sc in [*identity["intrusions"], *identity["decoys"]])
    window = (_t(truth["period"]["window_start"]), _t(truth["period"]["window_end"]))
    for sc in identity["intrusions"]:
        assert window[0] <= _t(sc["from"]) <= _t(sc["until"]) <= window[1], sc["name"]
        assert sc["sessions"] and sc["items_read"] > 0


def test_aitm_session_is_seen_from_two_ips_in_two_countries_within_30_s(incident: Path) -> None:
    sc = _scenario(incident, "aitm_session_replay")
    (session,) = sc["sessions"]
    signins = [s for s in _signins(incident) if s["sessionId"] == session]
    phish, replay = signins[0], signins[1]
    assert phish["id"] == sc["phishing_request_id"] and phish["isInteractive"] is True
    assert phish["appId"] == APP_OFFICE_HOME and phish["appDisplayName"] == "OfficeHome"
    assert phish["deviceDetail"]["deviceId"] == "" and phish["ipAddress"] == sc["phishing_ip"]
    assert [st["authenticationStepResultDetail"] for st in phish["authenticationDetails"]] == [
        "Correct password",
        "MFA successfully completed",
    ]
    assert 0 < _t(replay["createdDateTime"]) - _t(phish["createdDateTime"]) <= 30
    assert replay["ipAddress"] == sc["replay_ip"] != phish["ipAddress"]
    assert replay["signInEventTypes"] == ["nonInteractiveUser"] and replay["isInteractive"] is False
    assert replay["location"]["countryOrRegion"] != phish["location"]["countryOrRegion"]
    assert iptocc.country_code(replay["ipAddress"]) == replay["location"]["countryOrRegion"]
    assert replay["deviceDetail"]["operatingSystem"] != phish["deviceDetail"]["operatingSystem"]
    assert replay["deviceDetail"]["browser"].split()[0] != phish["deviceDetail"]["browser"].split()[0]
    assert {s["ipAddress"] for s in signins[1:]} == {sc["replay_ip"]}
    reads = _mail_reads(incident, session)
    assert reads and {_ip(a["ClientIPAddress"]) for a in reads} == {sc["replay_ip"]}
    utis = {s["uniqueTokenIdentifier"] for s in signins}
    assert {a["AppAccessContext"]["UniqueTokenId"] for a in reads} <= utis
    assert sum(a["OperationCount"] for a in reads) == sc["items_read"]
    # Identity Protection joins its detections to the sign-ins by request id and correlation id
    risks = {r["requestId"]: r for r in _page(incident, "risk_detections.json")}
    by_id = {s["id"]: s for s in signins}
    assert set(risks) == {d["requestId"] for d in sc["risk_detections"]} <= set(by_id)
    for request_id, risk in risks.items():
        assert risk["correlationId"] == by_id[request_id]["correlationId"]
        assert risk["riskLevel"] == "high" and risk["userPrincipalName"] == sc["users"][0]
        assert risk["ipAddress"] == by_id[request_id]["ipAddress"]
    assert risks[phish["id"]]["riskEventType"] == "unfamiliarFeatures"
    assert phish["riskLevelDuringSignIn"] == "high" and phish["riskEventTypes_v2"] == ["unfamiliarFeatures"]


def test_device_code_then_a_registered_device_then_a_prt_from_a_new_ip(incident: Path) -> None:
    sc = _scenario(incident, "device_code_phishing")
    (victim,) = sc["users"]
    mine = [s for s in _signins(incident) if s["userPrincipalName"] == victim]
    code = next(s for s in mine if s["id"] == sc["device_code_request_id"])
    assert (code["authenticationProtocol"], code["originalTransferMethod"]) == (
        "deviceCode",
        "deviceCodeFlow",
    )
    assert code["appId"] == APP_AUTH_BROKER and code["ipAddress"] in sc["attacker_ips"]
    assert code["deviceDetail"]["deviceId"] == ""
    audits = _page(incident, "entra_audit.json")  # beside the device: other changes, routine records
    (register,) = [a for a in audits if a["activityDisplayName"] == "Register device"]
    (owner,) = [a for a in audits if a["activityDisplayName"] == "Add registered owner to device"]
    assert register["activityDisplayName"] == "Register device" and register["category"] == "Device"
    assert register["initiatedBy"]["user"]["userPrincipalName"] == victim
    details = {d["key"]: d["value"] for d in register["additionalDetails"]}
    assert details["Device Id"] == sc["registered_device_id"]
    assert owner["correlationId"] == register["correlationId"]
    assert json.loads(register["targetResources"][0]["modifiedProperties"][3]["newValue"]) == [
        sc["registered_device_name"]
    ]
    registered = _t(register["activityDateTime"])
    assert _t(code["createdDateTime"]) < registered
    prts = [s for s in mine if s["incomingTokenType"] == "primaryRefreshToken"]
    assert [s["id"] for s in prts] == sc["prt_request_ids"]
    genuine_ips = {s["ipAddress"] for s in mine if s["id"] not in sc["request_ids"]}
    for prt in prts:
        assert _t(prt["createdDateTime"]) > registered
        assert prt["deviceDetail"]["deviceId"] == sc["registered_device_id"]
        assert prt["deviceDetail"]["trustType"] == "Azure AD registered"
        assert prt["ipAddress"] not in genuine_ips | {code["ipAddress"]}
        assert prt["signInTokenProtectionStatus"] == "unbound" and prt["sessionId"] == sc["prt_session"]
    # no sign-in of the PRT's session performed MFA: each says it was satisfied by the claim
    steps = [st for s in mine if s["sessionId"] == sc["prt_session"] for st in s["authenticationDetails"]]
    assert {st["authenticationMethod"] for st in steps} == {"Previously satisfied"}
    # the victim's device-code session is then used from the attacker's host
    reads = _mail_reads(incident, sc["device_code_session"])
    assert reads and {_ip(a["ClientIPAddress"]) for a in reads} == {code["ipAddress"]}
    assert reads[0]["ClientAppId"] == APP_AUTH_BROKER
    assert _mail_reads(incident, sc["prt_session"])


def test_password_spray_one_ip_many_users_one_hour_then_single_factor_imap(incident: Path) -> None:
    sc = _scenario(incident, "password_spray")
    signins = _signins(incident)
    failed = [s for s in signins if s["status"]["errorCode"] == 50126]
    assert [s["id"] for s in failed] == sc["failed_request_ids"]
    assert {s["ipAddress"] for s in failed} == {sc["ip"]}
    assert len({s["userPrincipalName"] for s in failed}) == len(sc["targets"]) == 12
    assert sorted(s["userPrincipalName"] for s in failed) == sc["targets"]
    span = _t(failed[-1]["createdDateTime"]) - _t(failed[0]["createdDateTime"])
    assert span < 3600
    for s in failed:
        assert s["status"]["failureReason"] == (
            "Error validating credentials due to invalid username or password."
        )
        assert [st["succeeded"] for st in s["authenticationDetails"]] == [False]
    session = sc["single_factor_session"]
    found = [s for s in signins if s["sessionId"] == session]
    assert {s["userPrincipalName"] for s in found} == {sc["compromised"]}
    assert (
        _t(failed[0]["createdDateTime"]) < _t(found[0]["createdDateTime"]) < _t(failed[-1]["createdDateTime"])
    )
    for s in found:
        assert s["status"]["errorCode"] == 0 and s["ipAddress"] == sc["ip"]
        assert s["authenticationRequirement"] == "singleFactorAuthentication"
        assert [st["authenticationMethod"] for st in s["authenticationDetails"]] == ["Password"]
    assert {s["clientAppUsed"] for s in found} >= {"IMAP4"}
    assert {s["authenticationProtocol"] for s in found} == {"ropc"}
    reads = _mail_reads(incident, session)
    assert reads and all(a["ClientInfoString"].startswith("Client=IMAP4") for a in reads)
    # the unified audit log holds the same attempts: UserLoginFailed 50126, joined by request id
    logons = {a["Id"]: a for a in _audit(incident) if a["RecordType"] == 15}
    by_id = {s["id"]: s for s in signins}
    for request_id in sc["failed_request_ids"]:
        a = logons[request_id]
        assert (a["Operation"], a["ErrorNumber"], a["ResultStatus"]) == ("UserLoginFailed", "50126", "Failed")
        assert a["InterSystemsId"] == by_id[request_id]["correlationId"]
        assert a["ClientIP"] == sc["ip"] and a["UserId"] == by_id[request_id]["userPrincipalName"]
    ok = [a for a in logons.values() if a["Operation"] == "UserLoggedIn"]
    assert ok and {p["Value"] for a in ok for p in a["DeviceProperties"] if p["Name"] == "SessionId"} == {
        session
    }


def test_phone_decoy_one_device_one_country_two_ips_in_one_session(incident: Path) -> None:
    sc = _scenario(incident, "phone_wifi_cellular")
    window = [s for s in _signins(incident) if s["sessionId"] == sc["window_session"]]
    assert len(window) == 3
    assert {s["deviceDetail"]["deviceId"] for s in window} == {sc["device_id"]}
    assert {s["location"]["countryOrRegion"] for s in window} == {"US"}
    assert [s["ipAddress"] for s in window] == [sc["wifi_ip"], sc["cellular_ips"][1], sc["wifi_ip"]]
    assert (
        _t(window[1]["createdDateTime"]) - _t(window[0]["createdDateTime"])
        == sc["switched_after_seconds"]
        < 30
    )
    assert window[0]["isInteractive"] and window[0]["authenticationDetails"][1]["succeeded"] is True
    reads = _mail_reads(incident, sc["window_session"])
    assert {_ip(a["ClientIPAddress"]) for a in reads} == {sc["wifi_ip"], sc["cellular_ips"][1]}
    # the phone is no stranger: it signed in, and read mail, in the baseline too
    baseline = _truth(incident)["period"]["window_start"]
    earlier = [s for s in _signins(incident) if s["sessionId"] in sc["sessions"][:-1]]
    assert earlier and all(s["createdDateTime"] < baseline for s in earlier)
    assert {s["deviceDetail"]["deviceId"] for s in earlier} == {sc["device_id"]}


def test_vpn_decoy_uses_the_exit_abroad_beside_the_office_every_working_day(incident: Path) -> None:
    sc = _scenario(incident, "vpn_exit_abroad")
    truth = _truth(incident)
    mine = [s for s in _signins(incident) if s["id"] in set(sc["request_ids"])]
    days: dict[str, set[str]] = {}
    for s in mine:
        days.setdefault(s["createdDateTime"][:10], set()).add(s["location"]["countryOrRegion"])
        assert s["deviceDetail"]["deviceId"] == sc["device_id"]
    assert all(countries == {"US", "DE"} for countries in days.values())
    baseline_days = [d for d in days if d < truth["period"]["window_start"]]
    assert len(baseline_days) == sc["baseline_days"] >= 15 and sc["window_days"] >= 3
    for session in sc["sessions"]:
        pair = [s for s in mine if s["sessionId"] == session]
        assert [s["ipAddress"] in (sc["office_ip"], sc["home_ip"]) for s in pair] == [True, False]
        assert pair[1]["ipAddress"] == sc["vpn_exit_ip"] and iptocc.country_code(sc["vpn_exit_ip"]) == "DE"
        assert 0 < _t(pair[1]["createdDateTime"]) - _t(pair[0]["createdDateTime"]) < 3600


def test_admin_and_traveller_decoys(incident: Path) -> None:
    signins = _signins(incident)
    truth = _truth(incident)
    admin = _scenario(incident, "admin_device_code")
    (user,) = admin["users"]
    codes = [
        s for s in signins if s["userPrincipalName"] == user and s["authenticationProtocol"] == "deviceCode"
    ]
    assert (
        len(codes) == 2
        and codes[0]["createdDateTime"] < truth["period"]["window_start"] < codes[1]["createdDateTime"]
    )
    sessions = {s["sessionId"] for s in codes}
    used = [s for s in signins if s["sessionId"] in sessions]
    assert {s["ipAddress"] for s in used} == {admin["office_ip"]}
    assert {s["deviceDetail"]["deviceId"] for s in used} == {admin["device_id"]}
    ordinary = [s for s in signins if s["userPrincipalName"] == user and s["sessionId"] not in sessions]
    assert admin["office_ip"] in {s["ipAddress"] for s in ordinary}
    assert admin["device_id"] in {s["deviceDetail"]["deviceId"] for s in ordinary}

    traveller = _scenario(incident, "traveller_mfa_abroad")
    assert traveller["users"] == [truth["decoys"]["traveller"]["user"]]
    abroad = [s for s in signins if s["id"] in set(traveller["request_ids"])]
    assert {s["location"]["countryOrRegion"] for s in abroad} == {truth["decoys"]["traveller"]["country"]}
    assert {s["deviceDetail"]["deviceId"] for s in abroad} == {traveller["device_id"]}
    for session in traveller["sessions"]:
        first = next(s for s in signins if s["sessionId"] == session)
        assert first["isInteractive"] and first["location"]["countryOrRegion"] == "JP"
        assert [st["authenticationStepResultDetail"] for st in first["authenticationDetails"]] == [
            "Correct password",
            "MFA successfully completed",
        ]
    assert traveller["hours_since_last_sign_in_at_home"] > 13  # Washington–Tokyo at 900 km/h: 12 h


def test_genuine_sign_ins_look_ordinary(incident: Path) -> None:
    truth = _truth(incident)
    planted = {rid for sc in truth["identity"]["intrusions"] for rid in sc["request_ids"]}
    planted |= {
        rid
        for sc in truth["identity"]["decoys"]
        if sc["name"] != "traveller_mfa_abroad"  # the traveller's are genuine tokens' own sign-ins
        for rid in sc["request_ids"]
    }
    genuine = [s for s in _signins(incident) if s["id"] not in planted]
    assert len(genuine) == truth["genuine"]["tokens"]
    for s in genuine:
        steps = [
            (st["authenticationMethod"], st["authenticationStepResultDetail"])
            for st in s["authenticationDetails"]
        ]
        assert s["signInEventTypes"] == ["interactiveUser" if s["isInteractive"] else "nonInteractiveUser"]
        assert (s["authenticationProtocol"], s["originalTransferMethod"]) == ("none", "none")
        assert s["status"]["errorCode"] == 0 and s["authenticationRequirement"] == "multiFactorAuthentication"
        if s["isInteractive"]:
            assert steps[0] == ("Password", "Correct password")
            assert steps[1][1] == "MFA successfully completed" and len(steps) == 2
            assert s["incomingTokenType"] == "none"
        else:
            assert steps == [("Previously satisfied", "MFA requirement satisfied by claim in the token")]
            assert s["incomingTokenType"] == "refreshToken"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict]]:
    if not (SAMPLE_LOGS / "truth.json").exists():
        pytest.skip("sample_logs/ not generated")
    mp = pytest.MonkeyPatch()
    mp.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    con = connect()
    load(con, [str(SAMPLE_LOGS)], Options())
    yield con, _truth(SAMPLE_LOGS)
    con.close()
    mp.undo()


FACTS = (
    "status",
    "mfa",
    "category",
    "device_id",
    "transfer_method",
    "auth_protocol",
    "incoming_token_type",
    "client_app_used",
    "auth_requirement",
    "session_id",
    "client_ip",
    "country",
)


def _facts(con: duckdb.DuckDBPyConnection, request_ids: list[str]) -> dict[str, dict[str, object]]:
    """The events the engine made of these sign-ins, by request id."""
    rows = con.execute(
        f"SELECT request_id, {', '.join(FACTS)} FROM events_base "
        "WHERE kind = 'entra_signin' AND request_id IN (SELECT unnest(?))",
        [request_ids],
    ).fetchall()
    return {r[0]: dict(zip(FACTS, r[1:], strict=True)) for r in rows}


def _pick(fact: dict[str, object], *names: str) -> tuple[object, ...]:
    return tuple(fact[n] for n in names)


def test_the_engine_reads_the_identity_facts_of_sample_logs(
    loaded: tuple[duckdb.DuckDBPyConnection, dict],
) -> None:
    con, truth = loaded
    identity = truth["identity"]
    spray = next(sc for sc in identity["intrusions"] if sc["name"] == "password_spray")
    facts = _facts(con, spray["request_ids"])
    assert len(facts) == len(spray["request_ids"])
    for rid in spray["failed_request_ids"]:
        assert _pick(facts[rid], "status", "mfa", "category", "device_id", "session_id") == (
            "50126",
            "single_factor",
            "interactiveUser",
            None,
            None,
        )
    found = [f for rid, f in facts.items() if rid not in spray["failed_request_ids"]]
    assert {_pick(f, "status", "mfa", "auth_requirement", "session_id", "auth_protocol") for f in found} == {
        ("0", "single_factor", "singleFactorAuthentication", spray["single_factor_session"], "ropc")
    }
    assert "IMAP4" in {f["client_app_used"] for f in found}
    assert {_pick(f, "client_ip", "country") for f in facts.values()} == {(spray["ip"], "LT")}

    code = next(sc for sc in identity["intrusions"] if sc["name"] == "device_code_phishing")
    facts = _facts(con, code["request_ids"])
    assert _pick(
        facts[code["device_code_request_id"]],
        "mfa",
        "category",
        "device_id",
        "transfer_method",
        "auth_protocol",
    ) == ("performed", "interactiveUser", None, "deviceCodeFlow", "deviceCode")
    for rid in code["prt_request_ids"]:
        assert _pick(facts[rid], "mfa", "category", "device_id", "incoming_token_type", "session_id") == (
            "by_claim",
            "nonInteractiveUser",
            code["registered_device_id"],
            "primaryRefreshToken",
            code["prt_session"],
        )

    aitm = next(sc for sc in identity["intrusions"] if sc["name"] == "aitm_session_replay")
    facts = _facts(con, aitm["request_ids"])
    phish = facts.pop(aitm["phishing_request_id"])
    assert _pick(phish, "mfa", "category", "device_id", "client_ip", "country") == (
        "performed",
        "interactiveUser",
        None,
        aitm["phishing_ip"],
        "NL",
    )
    assert {_pick(f, "mfa", "device_id", "client_ip", "country", "session_id") for f in facts.values()} == {
        ("by_claim", None, aitm["replay_ip"], "NG", phish["session_id"])
    }

    phone = next(sc for sc in identity["decoys"] if sc["name"] == "phone_wifi_cellular")
    facts = _facts(con, phone["request_ids"])
    assert {f["device_id"] for f in facts.values()} == {phone["device_id"]}
    assert {f["country"] for f in facts.values()} == {"US"} and len(
        {f["client_ip"] for f in facts.values()}
    ) == 3

    admin = next(sc for sc in identity["decoys"] if sc["name"] == "admin_device_code")
    facts = _facts(con, admin["request_ids"])
    assert {_pick(f, "device_id", "transfer_method", "client_ip") for f in facts.values()} == {
        (admin["device_id"], "deviceCodeFlow", admin["office_ip"])
    }
    # every genuine session's sign-ins include one that performed MFA: nothing claims it unbacked
    unbacked = con.execute(
        "SELECT session_id FROM events_base WHERE kind = 'entra_signin' AND session_id IS NOT NULL "
        "GROUP BY session_id HAVING NOT bool_or(mfa = 'performed') ORDER BY session_id"
    ).fetchall()
    assert sorted(s for (s,) in unbacked) == sorted([spray["single_factor_session"], code["prt_session"]])


def test_every_expected_code_fires_on_its_intrusion_and_none_on_a_decoy(incident: Path) -> None:
    """The answer key against the catalogue itself (tui.engine.indicators): each intrusion's user gets
    every expected code at its expected severity, each decoy none of its must-not codes."""
    from tui.engine.case.annotate import annotate
    from tui.engine.case.context import Case

    con = connect()
    annotate(Case.start(Options(), con), load(con, [str(incident)], Options()))
    fired: dict[str, dict[str, str]] = {}
    ranks = ("info", "low", "medium", "high", "critical")
    for user, code, severity in con.execute(
        "SELECT e.user, r.code, r.severity FROM row_indicators r "
        "JOIN events_base e USING (source, source_row) WHERE list_contains(?, r.code)",
        [sorted(CODES)],
    ).fetchall():
        worst = fired.setdefault(str(user), {})
        if code not in worst or ranks.index(severity) > ranks.index(worst[code]):
            worst[code] = severity
    con.close()
    identity = _truth(incident)["identity"]
    for sc in identity["intrusions"]:
        (user,) = sc["users"]
        got = fired.get(user, {})
        assert {c: got.get(c) for c in sc["expected_codes"]} == sc["expected_severity"], sc["name"]
    spray = _scenario(incident, "password_spray")
    for target in spray["targets"]:
        assert set(fired.get(target, {})) == set(spray["targets_fire"]), target
    for sc in identity["decoys"]:
        (user,) = sc["users"]
        got = fired.get(user, {})
        assert not set(got) & set(sc["must_not_fire"]), (sc["name"], got)
        assert got == sc.get("expected_severity", {}), sc["name"]
