"""The identity half of the sample incident (issue 20 point 6): who is attacked and who is a decoy
(`pick_roles`), the scenarios built for them (`attacks`, `decoys`), and truth.json's `identity`
section saying which sessions and sign-ins should fire which codes and which must not."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone

from tui.engine.sample.attacks import SPRAY_AT, SPRAY_TARGETS, SPRAY_UNTIL, aitm, device_code, spray
from tui.engine.sample.decoys import admin, must_not_fire, phone, vpn
from tui.engine.sample.scenario import IDENTITY_CODES, Scenario
from tui.engine.sample.tokens import Issued
from tui.engine.sample.world import APP_OFFICE, User, World

QUIET_HOURS = 36  # the spray's victim has no genuine activity this close to the attack


@dataclass(frozen=True)
class Roles:
    """The real users of the sample world the identity scenarios happen to."""

    aitm: User
    device_code: User
    spray: User
    targets: tuple[User, ...]
    phone: User
    vpn: User
    admin: User


def pick_roles(world: World, genuine: list[Issued], rng: random.Random) -> Roles:
    """Members untouched by the forged tokens and the traveller: office staff for the phishing and
    the decoys, and for the spray one account that is quiet around the attack (so no impossible
    travel muddles it) and a dozen others."""
    taken = {*world.victims, world.traveller}
    members = [u for u in world.users if not u.guest and u.upn not in taken]
    hq = [u for u in members if u.places[0].site.name == "hq"]
    rng.shuffle(hq)
    aitm_victim = hq.pop(0)
    code_victim = hq.pop(next((i for i, u in enumerate(hq) if APP_OFFICE in u.apps), 0))
    phone_user, vpn_user = hq.pop(0), hq.pop(0)
    admin_user = hq.pop(next((i for i, u in enumerate(hq) if "Windows" in u.browser), 0))
    chosen = {u.upn for u in (aitm_victim, code_victim, phone_user, vpn_user, admin_user)}
    rest = [u for u in members if u.upn not in chosen]
    rng.shuffle(rest)
    lo, hi = SPRAY_AT - QUIET_HOURS * 3600, SPRAY_UNTIL + QUIET_HOURS * 3600
    busy = {t.user.upn for t in genuine if lo <= t.iat <= hi}
    victim = next((u for u in rest if u.upn not in busy), rest[0])
    targets = tuple(u for u in rest if u is not victim)[:SPRAY_TARGETS]
    return Roles(aitm_victim, code_victim, victim, targets, phone_user, vpn_user, admin_user)


def plan_identity(world: World, genuine: list[Issued], seed: int) -> list[Scenario]:
    """The three intrusions, then the three decoys that have records of their own."""
    rng = random.Random(f"triage-sample:{seed}:identity")
    roles = pick_roles(world, genuine, rng)
    return [
        aitm(rng, roles.aitm),
        device_code(rng, roles.device_code),
        spray(rng, roles.spray, list(roles.targets)),
        phone(rng, roles.phone),
        vpn(rng, roles.vpn),
        admin(rng, roles.admin),
    ]


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(sc: Scenario) -> dict[str, object]:
    signins = sorted(sc.signins, key=lambda s: (s.ts, s.uti))
    places = {s.place.ip: s.place.site.country for s in signins}
    ips = list(dict.fromkeys([*places, *(r.ip for r in sc.reads)]))
    times = [s.ts for s in signins] + [t // 1000 for r in sc.reads for t in r.times_ms]
    out: dict[str, object] = {
        "name": sc.name,
        "label": sc.label,
        "users": sc.users,
        "sessions": sc.sessions,
        "ips": ips,
        "countries": [places[ip] for ip in ips],
        "from": _iso(min(times)),
        "until": _iso(max(times)),
        "signins": len(signins),
        "request_ids": [s.request_id for s in signins],
        "items_read": sum(len(r.times_ms) for r in sc.reads),
        "mail_read_sessions": list(dict.fromkeys(r.tok.sid for r in sc.reads)),
        "expected_codes": sorted(sc.expected),
    }
    if sc.audits:
        out["directory_audits"] = [
            {"id": a["id"], "activityDisplayName": a["activityDisplayName"]} for a in sc.audits
        ]
    if not sc.intrusion:
        out["must_not_fire"] = must_not_fire(sc)
    out.update(sc.facts)
    return out


def _traveller(world: World, genuine: list[Issued], ids: dict[str, tuple[str, str]]) -> dict[str, object]:
    """The genuine traveller seen as an identity decoy: every session abroad begins with a fresh MFA
    sign-in on their own device, and they are never in two countries closer in time than a flight."""
    user = next(u for u in world.users if u.upn == world.traveller)
    abroad = [t for t in genuine if t.user.upn == user.upn and t.place == world.travel_place]
    home = [t for t in genuine if t.user.upn == user.upn and t.place != world.travel_place]
    before = [t.iat for t in home if t.iat < abroad[0].iat] if abroad else []
    gap = (abroad[0].iat - max(before)) / 3600 if abroad and before else None
    return {
        "name": "traveller_mfa_abroad",
        "label": "the traveller (decoys.traveller) signs in again abroad with a fresh MFA step on their own "
        "registered device; their sessions abroad start there",
        "users": [user.upn],
        "sessions": list(dict.fromkeys(str(t.sid) for t in abroad)),
        "ips": [world.travel_place.ip],
        "countries": [world.travel_place.site.country],
        "from": _iso(abroad[0].iat) if abroad else None,
        "until": _iso(abroad[-1].iat) if abroad else None,
        "signins": len(abroad),
        "request_ids": [ids[t.uti][0] for t in abroad],
        "fresh_mfa_signins": sum(1 for t in abroad if t.interactive),
        "device_id": user.device_id,
        "hours_since_last_sign_in_at_home": None if gap is None else round(gap, 1),
        "expected_codes": [],
        "must_not_fire": list(IDENTITY_CODES),
    }


def identity_truth(
    scenarios: list[Scenario], world: World, genuine: list[Issued], ids: dict[str, tuple[str, str]]
) -> dict[str, object]:
    """truth.json's `identity` section."""
    intrusions = [_entry(sc) for sc in scenarios if sc.intrusion]
    decoys = [_entry(sc) for sc in scenarios if not sc.intrusion]
    decoys.insert(1, _traveller(world, genuine, ids))
    return {
        "note": "identity attacks without a forged token, and decoys one step short of each sign-in "
        "indicator (SPEC §10): every expected code fires on its intrusion, no decoy fires a code it "
        "must not. Request ids are the sign-ins' `id`; sessions their `sessionId`.",
        "codes": list(IDENTITY_CODES),
        "signins": sum(len(sc.signins) for sc in scenarios),
        "intrusions": intrusions,
        "decoys": decoys,
    }
