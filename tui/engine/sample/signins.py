"""The sample incident's Entra sign-in log: Graph beta `signIn` records, one per genuinely issued
token and one per sign-in of the identity attacks and decoys (`identity`).

Each record carries what a real beta export does (DOMAIN.md §8): `authenticationDetails` step by
step, `authenticationRequirement`, `signInEventTypes`, `incomingTokenType`, `authenticationProtocol`,
`originalTransferMethod`, `signInTokenProtectionStatus`, the device, the session and the token's uti.
A genuine interactive sign-in shows a password and a completed MFA step; a genuine refresh shows MFA
"previously satisfied" by the claim in its refresh token.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO

from tui.engine.sample.tokens import Issued
from tui.engine.sample.world import APP_NAMES, APP_OWA, Place, User, rand_uuid

PASSWORD_OK = "Correct password"
MFA_DONE = "MFA successfully completed"
BY_CLAIM = "MFA requirement satisfied by claim in the token"
PRIMARY = "Primary authentication"
MFA_STEP = "Multi-factor authentication"
# Every member answers the same way every time: Authenticator push for most, a text for some.
MFA_METHODS = ("Mobile app notification", "Mobile app notification", "Text message", "OATH verification code")


@dataclass(frozen=True)
class Step:
    """One `authenticationDetails` entry, `after` seconds from the sign-in's start."""

    method: str
    requirement: str
    result: str
    succeeded: bool = True
    after: int = 0
    detail: str | None = None


@dataclass(frozen=True)
class Device:
    """`deviceDetail`: an unregistered device has `device_id` ""."""

    device_id: str
    os: str
    browser: str
    trust: str = ""
    compliant: bool = False
    managed: bool = False
    name: str = ""


@dataclass(frozen=True)
class SignIn:
    """One sign-in as Entra records it; `request_id`/`correlation_id` None are drawn when written."""

    ts: int
    user: User
    app: str
    resource: str
    place: Place
    ua: str
    uti: str
    sid: str
    interactive: bool
    device: Device
    steps: tuple[Step, ...]
    requirement: str = "multiFactorAuthentication"
    client_app: str = "Browser"
    incoming: str = "none"
    protocol: str = "none"
    transfer: str = "none"
    protection: str = "none"
    ca_status: str = "success"
    error: int = 0
    failure: str = "Other."
    details: str | None = None
    risk: str = "none"  # riskLevelDuringSignIn
    risk_events: tuple[str, ...] = ()
    request_id: str | None = None
    correlation_id: str | None = None


def password(after: int = 0, ok: bool = True) -> Step:
    """The first factor: a cloud password, right or wrong."""
    if ok:
        return Step("Password", PRIMARY, PASSWORD_OK, True, after, "Password in the cloud")
    bad = "Invalid username or password or Invalid on-premise username or password."
    return Step("Password", PRIMARY, bad, False, after, "Password in the cloud")


def mfa(user: User, after: int) -> Step:
    """The user's own second factor, completed."""
    return Step(MFA_METHODS[int(user.oid[-2:], 16) % len(MFA_METHODS)], MFA_STEP, MFA_DONE, True, after)


def previously_satisfied() -> Step:
    """A refresh: MFA satisfied by the claim in the token presented, no fresh factor."""
    return Step("Previously satisfied", MFA_STEP, BY_CLAIM)


def os_and_browser(ua: str) -> tuple[str, str]:
    """deviceDetail's operatingSystem and browser as Entra derives them from a browser's user agent."""
    os_name = "MacOs" if "Mac OS" in ua else "Linux" if "Linux" in ua else "Windows10"
    for marker, name in (
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ):
        if marker in ua:
            return os_name, f"{name} {ua.split(marker, 1)[1].split(' ')[0].split('.')[0]}.0.0"
    return os_name, "Other"


def from_token(tok: Issued, rng: random.Random) -> SignIn:
    """The sign-in that issued one genuine token (same uti, sid, app, IP, agent and place)."""
    u = tok.user
    browser = tok.app == APP_OWA
    os_name, browser_name = os_and_browser(tok.ua)
    device = Device(
        "" if u.guest else u.device_id,
        os_name,
        browser_name if browser else "Rich Client 4.52.0",
        "" if u.guest else "Azure AD joined",
        not u.guest,
        not u.guest,
    )
    steps = (password(), mfa(u, rng.randrange(6, 26))) if tok.interactive else (previously_satisfied(),)
    return SignIn(
        tok.iat,
        u,
        tok.app,
        tok.resource,
        tok.place,
        tok.ua,
        tok.uti,
        tok.sid or "",
        tok.interactive,
        device,
        steps,
        client_app="Browser" if browser else "Mobile Apps and Desktop clients",
        incoming="none" if tok.interactive else "refreshToken",
    )


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def signin_record(s: SignIn, request_id: str, correlation_id: str, resource_tenant: str) -> dict[str, object]:
    """The Graph beta `signIn` resource, members in the order the portal's JSON download has them."""
    u, d = s.user, s.device
    return {
        "id": request_id,
        "createdDateTime": _iso(s.ts),
        "userDisplayName": u.name,
        "userPrincipalName": u.upn,
        "userId": u.oid,
        "appId": s.app,
        "appDisplayName": APP_NAMES[s.app],
        "ipAddress": s.place.ip,
        "clientAppUsed": s.client_app,
        "userAgent": s.ua,
        "correlationId": correlation_id,
        "conditionalAccessStatus": s.ca_status,
        "isInteractive": s.interactive,
        "tokenIssuerType": "AzureAD",
        "riskDetail": "none",
        "riskLevelAggregated": s.risk,
        "riskLevelDuringSignIn": s.risk,
        "riskState": "atRisk" if s.risk_events else "none",
        "riskEventTypes_v2": list(s.risk_events),
        "resourceDisplayName": APP_NAMES[s.resource],
        "resourceId": s.resource,
        "resourceTenantId": resource_tenant,
        "homeTenantId": u.tid,
        "authenticationRequirement": s.requirement,
        "signInEventTypes": ["interactiveUser" if s.interactive else "nonInteractiveUser"],
        "userType": "guest" if u.guest else "member",
        "uniqueTokenIdentifier": s.uti,
        "sessionId": s.sid,
        "incomingTokenType": s.incoming,
        "authenticationProtocol": s.protocol,
        "signInTokenProtectionStatus": s.protection,
        "originalTransferMethod": s.transfer,
        "status": {"errorCode": s.error, "failureReason": s.failure, "additionalDetails": s.details},
        "deviceDetail": {
            "deviceId": d.device_id,
            "displayName": d.name,
            "operatingSystem": d.os,
            "browser": d.browser,
            "isCompliant": d.compliant,
            "isManaged": d.managed,
            "trustType": d.trust,
        },
        "location": {
            "city": s.place.site.city,
            "state": s.place.site.state,
            "countryOrRegion": s.place.site.country,
        },
        "authenticationDetails": [_step(s.ts, step) for step in s.steps],
    }


def _step(ts: int, step: Step) -> dict[str, object]:
    out: dict[str, object] = {
        "authenticationStepDateTime": _iso(ts + step.after),
        "authenticationMethod": step.method,
    }
    if step.detail is not None:
        out["authenticationMethodDetail"] = step.detail
    out.update(
        {
            "succeeded": step.succeeded,
            "authenticationStepResultDetail": step.result,
            "authenticationStepRequirement": step.requirement,
        }
    )
    return out


def write_signins(
    fh: IO[str], signins: list[SignIn], rng: random.Random, resource_tenant: str
) -> dict[str, tuple[str, str]]:
    """Graph beta's `{"value": [...]}` page, newest first, one record per line; returns each
    sign-in's (id, correlationId) by its uti."""
    fh.write('{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[\n')
    ids: dict[str, tuple[str, str]] = {}
    for i, s in enumerate(sorted(signins, key=lambda s: (s.ts, s.uti), reverse=True)):
        request_id = s.request_id or rand_uuid(rng)
        correlation_id = s.correlation_id or rand_uuid(rng)
        ids[s.uti] = (request_id, correlation_id)
        fh.write(",\n" if i else "")
        record = signin_record(s, request_id, correlation_id, resource_tenant)
        fh.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False))
    fh.write("\n]}\n")
    return ids
