"""The sample's identity intrusions (DOMAIN.md §8, "Attack shapes seen in real incidents"): an
adversary-in-the-middle session replay, a device-code phishing that registers a device and redeems
a PRT, and a password spray that finds one single-factor account. No forged token in any of them:
only the victims' own sign-ins, sessions and audit records, used by someone else."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from tui.engine.sample.entra_records import register_device, risk_detection
from tui.engine.sample.scenario import (
    AITM_PROXY,
    AITM_REPLAY,
    ATTACKER_LINUX_UA,
    ATTACKER_WINDOWS_UA,
    DEVICE_CODE_HOST,
    LEGACY_UA,
    POWERSHELL_UA,
    PRT_PROXY,
    SPRAY_HOST,
    Logon,
    Scenario,
    again,
    at,
    reads,
    sign,
)
from tui.engine.sample.signins import Device, mfa, os_and_browser, password, previously_satisfied
from tui.engine.sample.world import (
    APP_AAD_GRAPH,
    APP_AAD_POWERSHELL,
    APP_AUTH_BROKER,
    APP_DRS,
    APP_EXCHANGE,
    APP_GRAPH,
    APP_OFFICE,
    APP_OFFICE_HOME,
    APP_OWA,
    User,
    rand_uuid,
)

AITM_AT = at(6, 1, 14, 21, 37)
DEVICE_CODE_AT = at(6, 6, 15, 7, 12)
SPRAY_AT = at(6, 7, 2, 4, 11)
SPRAY_UNTIL = at(6, 8, 1, 40)
SPRAY_TARGETS = 12
DESKTOP = "Mobile Apps and Desktop clients"
OWA_CLIENT = "Client=OWA;Action=ViaProxy"
REST_CLIENT = "Client=REST;;"
IMAP_CLIENT = "Client=IMAP4;Protocol=IMAP4"
BAD_PASSWORD = "Error validating credentials due to invalid username or password."
BAD_PASSWORD_DETAIL = (
    "The user didn't enter the right credentials. It's expected to see some number of these errors in "
    "the logs due to users making mistakes."
)
CLAIM = (previously_satisfied(),)


def aitm(rng: random.Random, victim: User) -> Scenario:
    """A phishing proxy relays the victim's OfficeHome sign-in, MFA and all, then replays the session
    cookie from another country nine seconds later and reads mail with it."""
    t0 = AITM_AT
    os_name, browser = os_and_browser(victim.browser)
    phish = sign(
        rng,
        t0,
        victim,
        (APP_OFFICE_HOME, APP_OFFICE_HOME),
        AITM_PROXY,
        victim.browser,  # the proxy passes the victim's own browser through
        rand_uuid(rng),
        Device("", os_name, browser),
        (password(), mfa(victim, 17)),
        risk="high",
        risk_events=("unfamiliarFeatures",),
    )
    attacker = Device("", "Linux", "Firefox 114.0.0")
    replay = {"place": AITM_REPLAY, "ua": ATTACKER_LINUX_UA, "device": attacker, "steps": CLAIM}
    home = again(rng, phish, t0 + 9, risk="none", risk_events=(), **replay)
    owa = again(rng, home, t0 + 27, app=APP_OWA, resource=APP_EXCHANGE)
    later = again(rng, owa, t0 + 3 * 3600 + 731, incoming="refreshToken")
    sc = Scenario(
        "aitm_session_replay",
        "adversary-in-the-middle: an OfficeHome sign-in relayed by a phishing proxy (no device id), "
        "its session cookie replayed from another country 9 s later, then mail read with it",
        True,
        [victim.upn],
        signins=[phish, home, owa, later],
        expected=("AITM_SIGNIN", "IMPOSSIBLE_TRAVEL", "RISK_DETECTION", "SESSION_REPLAY"),
    )
    sc.reads = [
        reads(rng, owa, t0 + 70, 22, 38, OWA_CLIENT, APP_OWA, APP_OWA),
        reads(rng, later, later.ts + 40, 15, 21, OWA_CLIENT, APP_OWA, APP_OWA),
    ]
    sc.risks = [
        risk_detection(rng, phish, "unfamiliarFeatures", "realtime", 41),
        risk_detection(rng, owa, "anomalousToken", "offline", 4 * 3600 + 1207),
    ]
    sc.facts = {
        "expected_severity": {
            "AITM_SIGNIN": "high",
            "IMPOSSIBLE_TRAVEL": "medium",
            "RISK_DETECTION": "high",
            "SESSION_REPLAY": "high",
        },
        "phishing_ip": AITM_PROXY.ip,
        "replay_ip": AITM_REPLAY.ip,
        "phishing_request_id": phish.request_id,
        "replayed_after_seconds": home.ts - phish.ts,
        "risk_detections": [
            {"id": r["id"], "riskEventType": r["riskEventType"], "requestId": r["requestId"]}
            for r in sc.risks
        ],
    }
    return sc


def device_code(rng: random.Random, victim: User) -> Scenario:
    """The victim types the attacker's device code: a deviceCode sign-in from the attacker's host,
    a device registered with its token, a PRT redeemed from that device at a new IP, mail read."""
    t0 = DEVICE_CODE_AT
    code = sign(
        rng,
        t0,
        victim,
        (APP_AUTH_BROKER, APP_DRS),
        DEVICE_CODE_HOST,
        ATTACKER_WINDOWS_UA,
        rand_uuid(rng),
        Device("", "Windows10", "Chrome 114.0.0"),
        (password(), mfa(victim, 23)),
        client_app=DESKTOP,
        protocol="deviceCode",
        transfer="deviceCodeFlow",
    )
    refresh = again(
        rng, code, t0 + 48, resource=APP_GRAPH, steps=CLAIM, protocol="none", incoming="refreshToken"
    )
    device_id = rand_uuid(rng)
    name = "DESKTOP-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(7))
    audits = register_device(rng, t0 + 131, victim, DEVICE_CODE_HOST.ip, device_id, name, "10.0.19045.2965")
    prt = again(
        rng,
        refresh,
        t0 + 312,
        app=APP_OFFICE,
        place=PRT_PROXY,
        sid=rand_uuid(rng),
        device=Device(device_id, "Windows10", "Chrome 114.0.0", "Azure AD registered", name=name),
        incoming="primaryRefreshToken",
        protection="unbound",
        transfer="none",
    )
    prt_next = again(rng, prt, at(6, 7, 13, 55, 3))
    sc = Scenario(
        "device_code_phishing",
        "device-code phishing: a deviceCode sign-in to the Authentication Broker from the attacker's host, "
        "a device registered with that token, a PRT redeemed from the new device at a new IP, mail read "
        "through both sessions",
        True,
        [victim.upn],
        signins=[code, refresh, prt, prt_next],
        audits=audits,
        expected=("DEVICE_CODE_FLOW", "IMPOSSIBLE_TRAVEL", "MFA_CLAIM_UNBACKED", "PRT_NEW_DEVICE"),
    )
    sc.reads = [
        reads(rng, refresh, t0 + 75, 5, 12, REST_CLIENT, APP_GRAPH, APP_AUTH_BROKER),
        reads(rng, prt, t0 + 360, 34, 30, REST_CLIENT, APP_GRAPH, APP_OFFICE),
        reads(rng, prt_next, prt_next.ts + 30, 20, 18, REST_CLIENT, APP_GRAPH, APP_OFFICE),
    ]
    sc.facts = {
        # the PRT's token protection is unbound: SPEC §10 raises PRT_NEW_DEVICE above high
        "expected_severity": {
            "DEVICE_CODE_FLOW": "high",
            "IMPOSSIBLE_TRAVEL": "medium",
            "MFA_CLAIM_UNBACKED": "high",
            "PRT_NEW_DEVICE": "critical",
        },
        "expected_action_codes": ["AUTH_METHOD_CHANGE"],
        "device_code_request_id": code.request_id,
        "device_code_session": code.sid,
        "attacker_ips": [DEVICE_CODE_HOST.ip, PRT_PROXY.ip],
        "registered_device_id": device_id,
        "registered_device_name": name,
        "prt_request_ids": [prt.request_id, prt_next.request_id],
        "prt_session": prt.sid,
        "note": "the device-code session then reads mail from the attacker's host, an IP new to the user "
        "(DEVICE_CODE_FLOW high); the PRT's session claims MFA by the claim in the PRT and no sign-in of "
        "it performed MFA (MFA_CLAIM_UNBACKED); the device registration (entra_audit.json) is the action "
        "indicator AUTH_METHOD_CHANGE",
    }
    return sc


def spray(rng: random.Random, victim: User, targets: list[User]) -> Scenario:
    """One IP tries one password against thirteen accounts in under an hour (ROPC, Azure AD
    PowerShell); the one account without MFA lets it in, and its session reads mail over IMAP4."""
    sid = rand_uuid(rng)
    template = sign(
        rng,
        SPRAY_AT,
        victim,
        (APP_AAD_POWERSHELL, APP_AAD_GRAPH),
        SPRAY_HOST,
        POWERSHELL_UA,
        sid,
        Device("", "Windows10", ""),
        (password(),),
        requirement="singleFactorAuthentication",
        client_app=DESKTOP,
        protocol="ropc",
        ca_status="notApplied",
    )
    failed = {
        "sid": "",
        "steps": (password(ok=False),),
        "error": 50126,
        "failure": BAD_PASSWORD,
        "details": BAD_PASSWORD_DETAIL,
    }
    attempts = []
    t = SPRAY_AT
    for user in [*targets[:8], victim, *targets[8:]]:  # one password, one account after another
        if user is victim:
            attempts.append(again(rng, template, t, interactive=True))
        else:
            attempts.append(again(rng, template, t, user=user, interactive=True, **failed))
        t += rng.randrange(150, 231)
    found = next(s for s in attempts if s.user is victim)
    office = again(rng, found, found.ts + 233, app=APP_OFFICE, resource=APP_EXCHANGE, interactive=True)
    legacy = {"app": APP_EXCHANGE, "resource": APP_EXCHANGE, "ua": LEGACY_UA, "client_app": "IMAP4"}
    imap = [
        again(rng, found, when, device=Device("", "", ""), interactive=True, **legacy)
        for when in (found.ts + 371, at(6, 8, 1, 12, 40))
    ]
    sc = Scenario(
        "password_spray",
        "password spray: one IP, one password, failed sign-ins (50126) against many users within an hour; "
        "one account signs in single-factor and its session reads mail over IMAP4 (legacy authentication)",
        True,
        [victim.upn],
        signins=[*attempts, office, *imap],
        expected=("LEGACY_AUTH", "PASSWORD_SPRAY", "SINGLE_FACTOR_ACCESS"),
    )
    sc.logons = [Logon(s, "InvalidUserNameOrPassword" if s.error else None) for s in sc.signins]
    sc.reads = [
        reads(rng, imap[0], imap[0].ts + 20, 26, 44, IMAP_CLIENT, APP_EXCHANGE, APP_EXCHANGE),
        reads(rng, imap[1], imap[1].ts + 15, 15, 25, IMAP_CLIENT, APP_EXCHANGE, APP_EXCHANGE),
    ]
    failures = [s for s in attempts if s.error]
    sc.facts = {
        "expected_severity": {
            "LEGACY_AUTH": "medium",
            "PASSWORD_SPRAY": "high",
            "SINGLE_FACTOR_ACCESS": "medium",
        },
        "ip": SPRAY_HOST.ip,
        "country": SPRAY_HOST.site.country,
        "compromised": victim.upn,
        "targets": sorted(u.upn for u in targets),
        "targets_fire": ["LEGACY_AUTH", "PASSWORD_SPRAY"],
        "targets_note": "the targets' failed attempts are ROPC (legacy authentication) from the spraying IP; "
        "none of them signed in",
        "failed_request_ids": [s.request_id for s in failures],
        "failed_error_code": 50126,
        "attempts_from": _iso(attempts[0].ts),
        "attempts_until": _iso(attempts[-1].ts),
        "single_factor_session": sid,
        "legacy_client_app": "IMAP4",
    }
    return sc


def _iso(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
