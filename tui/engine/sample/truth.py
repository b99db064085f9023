"""truth.json of the sample incident: every planted forgery, the victims and the honest decoys."""

from __future__ import annotations

from datetime import datetime, timezone

from tui.engine.sample.keys import CONSUMER_TID, SigningKey
from tui.engine.sample.tokens import Issued
from tui.engine.sample.world import APP_EXCHANGE, END, ROTATION, START, WINDOW_START, World

KIND_LABEL = {
    "a": "consumer key signing an enterprise token",
    "b": "stolen MSA key (kid 1LTMzakihiRla_8z2BEJVXeWMqo) after its 2021 retirement",
    "c": "consumer (MSA) token used against an enterprise mailbox",
}
SEVERITY_RANK = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
GENUINE_MUST_NOT_FIRE = (
    "USED_EXPIRED",
    "USED_BEFORE_NBF",
    "LONG_LIFETIME",
    "SUBJECT_MISMATCH",
    "TOKEN_REPLAY",
    "NO_SIGNIN_RECORD",
    "KEY_SCOPE_MISMATCH",
    "KNOWN_BAD_KEY",
    "BAD_SIGNATURE",
    "UNKNOWN_KEY",
    "IOC_IP",
    "IOC_UA",
    "CONSUMER_TOKEN_ENTERPRISE",
    "ISS_TID_MISMATCH",
    "MALFORMED",
)


def _iso(value: datetime | int) -> str:
    if isinstance(value, int):
        value = datetime.fromtimestamp(value, timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _expected(tok: Issued, countries: dict[str, str]) -> tuple[list[str], list[str], str]:
    """Indicators the raw token must get, those its audit-only uti must get, and the worst severity."""
    raw = ["IOC_IP", "IOC_UA"]
    audit = ["IOC_IP", "IOC_UA", "NEW_APP_FOR_MAILBOX"]
    if tok.forged in ("a", "b"):
        # Only a token claiming the organisation's own tenant should have an Entra sign-in; a
        # consumer (MSA) token is never in the tenant's sign-in log, forged or not.
        raw += ["KEY_SCOPE_MISMATCH", "NO_SIGNIN_RECORD"]
        audit.append("NO_SIGNIN_RECORD")
    if tok.forged == "b":
        raw.append("KNOWN_BAD_KEY")
    if tok.forged == "c":
        raw.append("CONSUMER_TOKEN_ENTERPRISE")
        audit.append("CONSUMER_TOKEN_ENTERPRISE")
    if tok.exp - tok.iat > 28 * 3600:
        raw.append("LONG_LIFETIME")
    if len({countries[ip] for ip in tok.ips}) > 1:
        raw.append("TOKEN_REPLAY")
    worst = "critical" if tok.forged in ("a", "b") else "high"
    return sorted(raw), sorted(audit), worst


def build_truth(
    *,
    world: World,
    keys: dict[str, SigningKey],
    seed: int,
    rows: int,
    genuine: list[Issued],
    forged: list[Issued],
    forged_stats: dict[str, dict[str, int]],
    tickets: list[tuple[str, int]],
    countries: dict[str, str],
    counts: dict[str, int],
    audit_ops: dict[str, int],
    identity: dict[str, object],
) -> dict[str, object]:
    """The answer key later tests and the golden scan compare against (no raw token in it)."""
    by_upn = {u.upn: u for u in world.users}
    forged_out = []
    for tok in forged:
        raw, audit, worst = _expected(tok, countries)
        key = next(k for k in keys.values() if k.kid == tok.kid)
        forged_out.append(
            {
                "tok_sha256": tok.sha256,
                "uti": tok.uti,
                "kind": tok.forged,
                "kind_label": KIND_LABEL[str(tok.forged)],
                "kid": tok.kid,
                "signing_key": key.name,
                "signing_key_issuer": key.issuer,
                "iss": f"https://sts.windows.net/{world.tenant}/"
                if tok.forged != "c"
                else f"https://login.microsoftonline.com/{CONSUMER_TID}/v2.0",
                "tid": tok.tid,
                "oid": tok.oid,
                "victim": tok.user.upn,
                "app_id": APP_EXCHANGE,
                "iat": _iso(tok.iat),
                "exp": _iso(tok.exp),
                "ips": list(tok.ips),
                "countries": [countries[ip] for ip in tok.ips],
                "user_agent": tok.ua,
                **forged_stats[tok.sha256],
                "in_signins": False,
                "expected_indicators": raw,
                "expected_audit_indicators": audit,
                "expected_severity": worst,
            }
        )
    victims = []
    for upn in world.victims:
        mine = [f for f in forged_out if f["victim"] == upn]
        victims.append(
            {
                "mailbox": upn,
                "mailbox_guid": by_upn[upn].mailbox_guid,
                "forged_tokens": [f["tok_sha256"] for f in mine],
                "forged_items_read": sum(int(str(f["items_read"])) for f in mine),
            }
        )
    traveller = by_upn[world.traveller]
    travel_tokens = [t for t in genuine if t.place == world.travel_place]
    guest_tokens = [t for t in genuine if t.user.guest]
    old, new = keys["enterprise-1"], keys["enterprise-2"]
    return {
        "generator": {"command": "triage sample", "seed": seed, "rows_requested": rows, "format": 1},
        "organisation": {
            "tenant_id": world.tenant,
            "domain": world.domain,
            "members": sum(1 for u in world.users if not u.guest),
            "consumer_tenant_id": CONSUMER_TID,
            "partner_tenant_id": world.partner_tenant,
            "partner_domain": world.partner_domain,
        },
        "period": {
            "start": _iso(START),
            "end": _iso(END),
            "window_start": _iso(WINDOW_START),
            "window_end": _iso(END),
            "window_days": 14,
        },
        "files": counts,
        "purview_operations": audit_ops,
        "keys": [
            {
                "kid": k.kid,
                "role": k.name,
                "scope": k.scope,
                "issuer": k.issuer,
                "signs": {
                    "enterprise-1": f"genuine tokens issued before {_iso(ROTATION)}",
                    "enterprise-2": f"genuine tokens issued from {_iso(ROTATION)}",
                    "msa-stolen": "forgeries of kind b",
                    "msa-2": "forgeries of kinds a and c",
                    "msa-3": "forgeries of kinds a and c",
                }[k.name],
            }
            for k in keys.values()
        ],
        "forged_tokens": forged_out,
        "opaque_bearers": [
            {
                "sha256": sha,
                "gateway_rows": n,
                "expected_indicators": ["MALFORMED"],
                "ip": "51.89.156.153",
                "status": 401,
            }
            for sha, n in tickets
        ],
        "victim_mailboxes": victims,
        "drifted_users": sorted([*world.victims, world.traveller, *_identity_victims(identity)]),
        "genuine": {
            "tokens": len(genuine),
            "in_signins": True,
            "max_severity": "medium",
            "must_not_fire": list(GENUINE_MUST_NOT_FIRE),
        },
        "decoys": {
            "traveller": {
                "user": traveller.upn,
                "home_country": traveller.places[0].site.country,
                "country": world.travel_place.site.country,
                "ip": world.travel_place.ip,
                "from": _iso(world.travel_days[0]),
                "until": _iso(world.travel_days[1]),
                "tokens": len(travel_tokens),
                "note": "genuine tokens with sign-ins from a new country in the window: high drift, token "
                "severity at most medium",
                "max_severity": "medium",
            },
            "guest": {
                "user": world.guest,
                "tid": world.partner_tenant,
                "tokens": len(guest_tokens),
                "note": "B2B guest from the partner tenant; genuine, signed by the common enterprise keys",
                "expected_indicators": ["FOREIGN_TENANT"],
                "max_severity": "low",
            },
            "key_rotation": {
                "at": _iso(ROTATION),
                "old_kid": old.kid,
                "new_kid": new.kid,
                "note": "a new enterprise kid appears mid-period; both keys are the tenant's own and genuine",
                "max_severity": "info",
            },
        },
        "ioc_ips_used": sorted({ip for t in forged for ip in t.ips} | {"51.89.156.153"}),
        "identity": identity,
    }


def _identity_victims(identity: dict[str, object]) -> list[str]:
    """The users whose own sessions an identity intrusion used (not the spray's mere targets)."""
    intrusions = identity["intrusions"]
    assert isinstance(intrusions, list)
    return [upn for entry in intrusions for upn in entry["users"]]
