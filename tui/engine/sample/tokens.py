"""Access tokens of the sample incident: the genuine ones Entra issued and the forged ones the actor made."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from tui.engine.sample.keys import CONSUMER_ISSUER, CONSUMER_TID, SigningKey
from tui.engine.sample.world import (
    APP_EXCHANGE,
    APP_GRAPH,
    APP_NAMES,
    APP_OWA,
    END,
    IOC_UAS,
    ROTATION,
    START,
    Place,
    User,
    World,
    b64id,
    rand_uuid,
)

AUD = {APP_EXCHANGE: "https://outlook.office.com", APP_GRAPH: "https://graph.microsoft.com"}
SCP = {
    APP_EXCHANGE: "Calendars.ReadWrite Contacts.ReadWrite EWS.AccessAsUser.All Mail.ReadWrite Mail.Send "
    "MailboxSettings.ReadWrite User.Read",
    APP_GRAPH: "Calendars.ReadWrite Files.ReadWrite.All Mail.ReadWrite Mail.Send Sites.ReadWrite.All "
    "User.Read",
}


@dataclass(frozen=True)
class Issued:
    """One token and everything the logs will say about it."""

    user: User
    app: str  # the client (appid / azp)
    resource: str  # APP_EXCHANGE or APP_GRAPH
    iat: int
    exp: int
    place: Place
    ua: str
    uti: str
    sid: str | None
    tid: str
    oid: str
    token: str
    kid: str
    interactive: bool
    rows: int  # gateway requests planned with it
    forged: str | None = None  # None, "a", "b" or "c"
    ips: tuple[str, ...] = ()  # forged: the actor's IPs, in order of use

    @property
    def sha256(self) -> str:
        """The token's public identity (hex SHA-256 of the compact JWT)."""
        return hashlib.sha256(self.token.encode()).hexdigest()


def _sign(claims: dict[str, object], key: SigningKey, v1: bool) -> str:
    """RS256 (PKCS#1 v1.5, deterministic) with Entra's header members."""
    headers: dict[str, object] = {"typ": "JWT", "kid": key.kid}
    if v1:
        headers["x5t"] = key.kid
    return jwt.encode(claims, key.private, algorithm="RS256", headers=headers)


def v1_claims(
    rng: random.Random,
    user: User,
    app: str,
    resource: str,
    iat: int,
    exp: int,
    ip: str,
    uti: str,
    sid: str | None,
    tid: str,
) -> dict[str, object]:
    """Claims of a v1.0 Exchange/Graph access token, in the order Entra writes them."""
    given, _, family = user.name.partition(" ")
    claims: dict[str, object] = {
        "aud": AUD[resource],
        "iss": f"https://sts.windows.net/{tid}/",
        "iat": iat,
        "nbf": iat,
        "exp": exp,
        "acct": 0,
        "acr": "1",
        "aio": b64id(rng, 42),
        "amr": ["pwd", "mfa"],
        "app_displayname": APP_NAMES[app],
        "appid": app,
        "appidacr": "0",
        "family_name": family,
        "given_name": given,
        "idtyp": "user",
        "ipaddr": ip,
        "name": user.name,
        "oid": user.oid,
        "puid": user.puid,
        "rh": "0.A" + b64id(rng, 30),
        "scp": SCP[resource],
        "sub": b64id(rng, 32),
        "tid": tid,
        "unique_name": user.upn,
        "upn": user.upn,
        "uti": uti,
        "ver": "1.0",
    }
    if sid:
        claims["sid"] = sid
    return claims


def _workday_time(rng: random.Random, user: User, offset: int, day: datetime) -> datetime:
    """A moment of the user's own working day (sometimes an evening) on `day`, in UTC."""
    hour = user.start_hour + rng.uniform(0.0, 9.0) if rng.random() < 0.95 else rng.uniform(19.0, 22.5)
    return day + timedelta(hours=hour - offset)


def plan_genuine(
    world: World, keys: dict[str, SigningKey], count: int, mean_rows: float, rng: random.Random
) -> list[Issued]:
    """`count` genuine tokens over six weeks; each user's first tokens cover all their IPs and apps."""
    days = [START + timedelta(days=d) for d in range((END - START).days)]
    day_w = [1.0 if d.weekday() < 5 else 0.08 for d in days]
    users = list(world.users)
    per_user: dict[str, list[datetime]] = {u.upn: [] for u in users}
    minimum = 6
    for u in users:  # everyone appears in the baseline (4, enough to cover all combos) and the window (2)
        offset = u.places[0].site.utc_offset
        for i in range(minimum):
            span = days[2:26] if i < 4 else days[29:]
            per_user[u.upn].append(
                _workday_time(rng, u, offset, rng.choice([d for d in span if d.weekday() < 5]))
            )
    traveller = next(u for u in users if u.upn == world.traveller)
    trip = [d for d in days if world.travel_days[0] <= d < world.travel_days[1] and d.weekday() < 5]
    for _ in range(4):  # a conference week abroad: more than the usual handful of sign-ins
        per_user[traveller.upn].append(
            _workday_time(rng, traveller, world.travel_place.site.utc_offset, rng.choice(trip))
        )
    weights = [u.weight for u in users]
    for _ in range(max(0, count - minimum * len(users))):
        u = rng.choices(users, weights)[0]
        day = rng.choices(days, day_w)[0]
        per_user[u.upn].append(_workday_time(rng, u, u.places[0].site.utc_offset, day))
    out: list[Issued] = []
    sessions: dict[tuple[str, int, str], str] = {}
    for u in users:
        times = sorted(per_user[u.upn])
        combos = [(p, a) for a in u.apps for p in u.places]
        seen_days: set[tuple[int, str]] = set()
        for i, when in enumerate(times):
            if i < len(combos):
                place, app = combos[i]  # the earliest tokens all fall in the baseline
            else:
                app = u.apps[0] if len(u.apps) == 1 or rng.random() < 0.6 else u.apps[1]
                place = u.places[0] if len(u.places) == 1 or rng.random() < 0.65 else u.places[1]
            if u.upn == world.traveller and world.travel_days[0] <= when < world.travel_days[1]:
                place = world.travel_place
            if when > END - timedelta(
                hours=2
            ):  # a west-coast evening on the last day would spill past the end
                when = END - timedelta(hours=rng.uniform(2.5, 9.0))
            iat = int(when.timestamp())
            lifetime = rng.randrange(3600, 5400)
            resource = APP_EXCHANGE if app == APP_OWA else APP_GRAPH
            week = (when - START).days // 7
            sid = sessions.setdefault((u.upn, week, app), rand_uuid(rng))
            uti = b64id(rng)
            key = keys["enterprise-2"] if when >= ROTATION else keys["enterprise-1"]
            claims = v1_claims(rng, u, app, resource, iat, iat + lifetime, place.ip, uti, sid, u.tid)
            day_key = ((when - START).days, app)
            interactive = day_key not in seen_days
            seen_days.add(day_key)
            rows = 3 + min(150, int(rng.expovariate(1.0 / max(1.0, mean_rows - 3))))
            ua = u.browser if app == APP_OWA else u.office_ua
            out.append(
                Issued(
                    u,
                    app,
                    resource,
                    iat,
                    iat + lifetime,
                    place,
                    ua,
                    uti,
                    sid,
                    u.tid,
                    u.oid,
                    _sign(claims, key, True),
                    key.kid,
                    interactive,
                    rows,
                )
            )
    out.sort(key=lambda t: (t.iat, t.uti))
    return out


# (kind, victim index, key name, start, lifetime seconds, actor IPs, user-agent index)
FORGERIES = (
    ("a", 0, "msa-2", datetime(2023, 5, 30, 6, 12, tzinfo=timezone.utc), 4500, (0,), 0),
    ("a", 1, "msa-3", datetime(2023, 6, 1, 7, 41, tzinfo=timezone.utc), 48 * 3600, (1, 3), 1),
    ("c", 1, "msa-2", datetime(2023, 6, 2, 5, 3, tzinfo=timezone.utc), 4200, (6,), 0),
    ("a", 2, "msa-2", datetime(2023, 6, 5, 8, 27, tzinfo=timezone.utc), 3900, (4,), 1),
    ("b", 0, "msa-stolen", datetime(2023, 6, 6, 4, 55, tzinfo=timezone.utc), 5100, (0, 5), 0),
    ("b", 3, "msa-stolen", datetime(2023, 6, 8, 9, 30, tzinfo=timezone.utc), 4800, (2,), 1),
    ("c", 3, "msa-3", datetime(2023, 6, 9, 3, 48, tzinfo=timezone.utc), 3600, (7,), 0),
)


def plan_forged(
    world: World, keys: dict[str, SigningKey], reads: int, rng: random.Random, storm_ips: tuple[str, ...]
) -> list[Issued]:
    """The actor's tokens: (a) consumer key, enterprise claims; (b) the stolen kid; (c) consumer tokens."""
    by_upn = {u.upn: u for u in world.users}
    out: list[Issued] = []
    for kind, vic, key_name, start, lifetime, ip_idx, ua_idx in FORGERIES:
        victim = by_upn[world.victims[vic]]
        key = keys[key_name]
        ips = tuple(storm_ips[i] for i in ip_idx)
        iat = int(start.timestamp()) - rng.randrange(60, 600)
        uti = b64id(rng)
        if kind in ("a", "b"):
            sid: str | None = rand_uuid(rng)
            tid, oid = world.tenant, victim.oid
            claims = v1_claims(
                rng, victim, APP_EXCHANGE, APP_EXCHANGE, iat, iat + lifetime, ips[0], uti, sid, tid
            )
            token = _sign(claims, key, True)
        else:
            sid, tid = None, CONSUMER_TID
            oid = f"00000000-0000-0000-{rng.getrandbits(16):04x}-{rng.getrandbits(48):012x}"
            claims = {
                "aud": AUD[APP_EXCHANGE],
                "iss": CONSUMER_ISSUER,
                "iat": iat,
                "nbf": iat,
                "exp": iat + lifetime,
                "aio": b64id(rng, 42),
                "azp": APP_EXCHANGE,
                "azpacr": "0",
                "idp": "live.com",
                "name": victim.name,
                "oid": oid,
                "preferred_username": victim.upn,
                "puid": f"{rng.getrandbits(64):016X}",
                "scp": SCP[APP_EXCHANGE],
                "sub": b64id(rng, 32),
                "tid": tid,
                "uti": uti,
                "ver": "2.0",
            }
            token = _sign(claims, key, False)
        out.append(
            Issued(
                victim,
                APP_EXCHANGE,
                APP_EXCHANGE,
                iat,
                iat + lifetime,
                victim.places[0],
                IOC_UAS[ua_idx],
                uti,
                sid,
                tid,
                oid,
                token,
                key.kid,
                False,
                reads + 1,
                kind,
                ips,
            )
        )
    return out


def opaque_tickets(rng: random.Random, n: int = 3) -> list[str]:
    """Opaque MSA bearer values (`EwB…`): not JWTs, so they must be counted as MALFORMED."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return [
        "EwB" + "".join(rng.choice(alphabet) for _ in range(rng.randrange(900, 1300))) + "=" for _ in range(n)
    ]
