"""What an identity attack or decoy of the sample leaves behind (`Scenario`), the places the
attackers work from, and the helpers the builders in `attacks` and `decoys` share."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from tui.engine.sample.gateway import Request
from tui.engine.sample.signins import Device, SignIn, Step
from tui.engine.sample.tokens import Issued
from tui.engine.sample.world import Place, Site, User, b64id, rand_uuid

# The codes of SPEC §10 that judge sign-ins and sessions: what a decoy must not fire.
IDENTITY_CODES = (
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
)


def _site(name: str, country: str, city: str, state: str, utc_offset: int) -> Site:
    return Site(name, country, city, state, utc_offset, ())


# Fixed addresses (iptocc maps each to the country given), none of them a Storm-0558 indicator.
AITM_PROXY = Place("185.107.56.18", _site("aitm-proxy", "NL", "Amsterdam", "North Holland", 2))
AITM_REPLAY = Place("102.89.34.17", _site("aitm-replay", "NG", "Lagos", "Lagos", 1))
DEVICE_CODE_HOST = Place("37.120.235.22", _site("device-code", "RO", "Bucharest", "Bucuresti", 3))
PRT_PROXY = Place("71.90.44.12", _site("residential-proxy", "US", "Saint Louis", "Missouri", -5))
SPRAY_HOST = Place("141.98.10.60", _site("spray", "LT", "Vilnius", "Vilnius", 3))
VPN_EXIT = Place("195.145.12.7", _site("vpn-exit", "DE", "Frankfurt am Main", "Hesse", 2))
CELLULAR = (  # one carrier's addresses, on different days
    Place("172.58.117.4", _site("cellular", "US", "Arlington", "Virginia", -4)),
    Place("172.56.21.88", _site("cellular", "US", "Arlington", "Virginia", -4)),
)

ATTACKER_LINUX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/114.0"
ATTACKER_WINDOWS_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/114.0.0.0 Safari/537.36"
)
POWERSHELL_UA = "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.2673"
LEGACY_UA = "BAV2ROPC"  # what Exchange Online's basic-auth proxy sends for IMAP, POP and SMTP
OUTLOOK_IOS_UA = "Outlook-iOS/709.2226530.prod.iphone (4.2321.0)"
TEAMS_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Teams/1.6.00.12455 "
    "Chrome/98.0.4758.141 Electron/17.4.7 Safari/537.36"
)
AZURE_CLI_UA = "python/3.10.11 (Windows-10-10.0.22621-SP0) msal/1.22.0 azure-cli/2.49.0"

FOLDERS = ("\\Inbox", "\\Inbox", "\\Inbox", "\\Sent Items", "\\Archive", "\\Inbox\\Programme Office")


def at(month: int, day: int, hour: int, minute: int, second: int = 0) -> int:
    """An epoch second in 2023, UTC."""
    return int(datetime(2023, month, day, hour, minute, second, tzinfo=timezone.utc).timestamp())


@dataclass(frozen=True)
class MailRead:
    """Items one session's token read, as MailItemsAccessed Bind records will aggregate them."""

    tok: Issued
    times_ms: tuple[int, ...]
    folders: tuple[str, ...]
    ip: str
    client_info: str
    app_id: str
    client_app_id: str

    def requests(self) -> list[Request]:
        """The reads as the audit builder takes them."""
        return [
            Request(t, "POST", "", 200, 0, f, "read")
            for t, f in zip(self.times_ms, self.folders, strict=True)
        ]


@dataclass(frozen=True)
class Logon:
    """A unified-audit-log `UserLoggedIn` / `UserLoginFailed` record of one sign-in."""

    signin: SignIn
    logon_error: str | None = None


@dataclass
class Scenario:
    """One identity attack or decoy: its records in every log, and what the answer key says of it."""

    name: str
    label: str
    intrusion: bool
    users: list[str]
    signins: list[SignIn] = field(default_factory=list)
    reads: list[MailRead] = field(default_factory=list)
    logons: list[Logon] = field(default_factory=list)
    audits: list[dict[str, object]] = field(default_factory=list)
    risks: list[dict[str, object]] = field(default_factory=list)
    expected: tuple[str, ...] = ()
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def sessions(self) -> list[str]:
        """Session ids in order of first sign-in."""
        return list(dict.fromkeys(s.sid for s in sorted(self.signins, key=lambda s: s.ts) if s.sid))


def new_ids(rng: random.Random) -> dict[str, str]:
    """A sign-in's uti, request id and correlation id, drawn together."""
    return {"uti": b64id(rng), "request_id": rand_uuid(rng), "correlation_id": rand_uuid(rng)}


def sign(
    rng: random.Random,
    ts: int,
    user: User,
    route: tuple[str, str],
    place: Place,
    ua: str,
    sid: str,
    device: Device,
    steps: tuple[Step, ...],
    **facts: Any,
) -> SignIn:
    """An interactive sign-in to `route` (client app, resource) with fresh ids."""
    ids = new_ids(rng)
    return SignIn(
        ts,
        user,
        route[0],
        route[1],
        place,
        ua,
        ids["uti"],
        sid,
        True,
        device,
        steps,
        request_id=ids["request_id"],
        correlation_id=ids["correlation_id"],
        **facts,
    )


def again(rng: random.Random, base: SignIn, ts: int, **changes: Any) -> SignIn:
    """The next sign-in like `base` (a refresh unless told otherwise), with fresh ids and `changes`."""
    changes.setdefault("interactive", False)
    return replace(base, ts=ts, **{**new_ids(rng), **changes})


def token_of(s: SignIn) -> Issued:
    """The token a sign-in issued, as the audit builder needs it (no raw token: none is logged)."""
    return Issued(
        user=s.user,
        app=s.app,
        resource=s.resource,
        iat=s.ts,
        exp=s.ts + 4200,
        place=s.place,
        ua=s.ua,
        uti=s.uti,
        sid=s.sid,
        tid=s.user.tid,
        oid=s.user.oid,
        token="",
        kid="",
        interactive=False,
        rows=0,
    )


def reads(
    rng: random.Random,
    s: SignIn,
    start: int,
    minutes: float,
    n: int,
    client_info: str,
    app_id: str,
    client_app_id: str,
    ip: str | None = None,
) -> MailRead:
    """`n` items read with the token of sign-in `s` over `minutes` from `start` (epoch seconds)."""
    times = sorted(rng.randrange(start * 1000, int((start + minutes * 60) * 1000)) for _ in range(n))
    folders = tuple(rng.choice(FOLDERS) for _ in range(n))
    return MailRead(token_of(s), tuple(times), folders, ip or s.place.ip, client_info, app_id, client_app_id)
