"""The sample incident's Entra sign-in log: Graph `signIn` records for the genuinely issued tokens."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from typing import IO

from tui.engine.sample.tokens import Issued
from tui.engine.sample.world import APP_NAMES, APP_OWA, rand_uuid


def signin_record(rng: random.Random, tok: Issued, resource_tenant: str) -> dict[str, object]:
    """The Graph `signIn` resource for one genuinely issued token (same uti, sid, app, IP, agent, place)."""
    u = tok.user
    browser = tok.app == APP_OWA
    os_name = "MacOs" if "Mac" in tok.ua else "Windows10"
    return {
        "id": rand_uuid(rng),
        "createdDateTime": datetime.fromtimestamp(tok.iat, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "userDisplayName": u.name,
        "userPrincipalName": u.upn,
        "userId": u.oid,
        "appId": tok.app,
        "appDisplayName": APP_NAMES[tok.app],
        "ipAddress": tok.place.ip,
        "clientAppUsed": "Browser" if browser else "Mobile Apps and Desktop clients",
        "userAgent": tok.ua,
        "correlationId": rand_uuid(rng),
        "conditionalAccessStatus": "success",
        "isInteractive": tok.interactive,
        "riskLevelAggregated": "none",
        "riskState": "none",
        "resourceDisplayName": APP_NAMES[tok.resource],
        "resourceId": tok.resource,
        "resourceTenantId": resource_tenant,
        "homeTenantId": u.tid,
        "uniqueTokenIdentifier": tok.uti,
        "sessionId": tok.sid,
        "tokenIssuerType": "AzureAD",
        "incomingTokenType": "none" if tok.interactive else "refreshToken",
        "authenticationProtocol": "none",
        "authenticationRequirement": "multiFactorAuthentication"
        if tok.interactive
        else "singleFactorAuthentication",
        "userType": "guest" if u.guest else "member",
        "status": {"errorCode": 0, "failureReason": "Other.", "additionalDetails": None},
        "deviceDetail": {
            "deviceId": "" if u.guest else u.device_id,
            "displayName": "",
            "operatingSystem": os_name,
            "browser": _browser(tok.ua) if browser else "Rich Client 4.52.0",
            "isCompliant": not u.guest,
            "isManaged": not u.guest,
            "trustType": "" if u.guest else "Azure AD joined",
        },
        "location": {
            "city": tok.place.site.city,
            "state": tok.place.site.state,
            "countryOrRegion": tok.place.site.country,
        },
    }


def _browser(ua: str) -> str:
    for marker, name in (
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ):
        if marker in ua:
            return f"{name} {ua.split(marker, 1)[1].split(' ')[0].split('.')[0]}.0.0"
    return "Other"


def write_signins(fh: IO[str], tokens: list[Issued], rng: random.Random, resource_tenant: str) -> int:
    """Graph's `{"value": [...]}` page, newest first (tokens arrive oldest first), one record per line."""
    fh.write('{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[\n')
    for i, tok in enumerate(reversed(tokens)):
        fh.write(",\n" if i else "")
        fh.write(
            json.dumps(signin_record(rng, tok, resource_tenant), separators=(",", ":"), ensure_ascii=False)
        )
    fh.write("\n]}\n")
    return len(tokens)
