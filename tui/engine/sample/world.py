"""The fictitious organisation of the sample incident: people, places, devices, apps and the calendar."""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

START = datetime(2023, 5, 1, tzinfo=timezone.utc)
END = datetime(2023, 6, 12, tzinfo=timezone.utc)
WINDOW_START = END - timedelta(days=14)
ROTATION = datetime(2023, 5, 22, tzinfo=timezone.utc)  # enterprise-2 signs every token issued from here on

APP_OWA = "9199bf20-a13f-4107-85dc-02114787ef48"
APP_OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
APP_EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"
APP_GRAPH = "00000003-0000-0000-c000-000000000000"
# The clients and resources of the identity attacks and decoys (`identity`)
APP_OFFICE_HOME = "4765445b-32c6-49b0-83e6-1d93765276ca"
APP_AUTH_BROKER = "29d9ed98-a469-4536-ade2-f981bc1d605e"
APP_DRS = "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9"
APP_AAD_POWERSHELL = "1b730954-1685-4b74-9bfd-dac224a7b894"
APP_AAD_GRAPH = "00000002-0000-0000-c000-000000000000"
APP_OUTLOOK_MOBILE = "27922004-5251-4030-b22d-91ecd9a37ea4"
APP_TEAMS = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
APP_TEAMS_SERVICES = "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe"
APP_AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
APP_AZURE_MANAGEMENT = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
APP_NAMES = {
    APP_OWA: "One Outlook Web",
    APP_OFFICE: "Microsoft Office",
    APP_EXCHANGE: "Office 365 Exchange Online",
    APP_GRAPH: "Microsoft Graph",
    APP_OFFICE_HOME: "OfficeHome",
    APP_AUTH_BROKER: "Microsoft Authentication Broker",
    APP_DRS: "Device Registration Service",
    APP_AAD_POWERSHELL: "Azure Active Directory PowerShell",
    APP_AAD_GRAPH: "Windows Azure Active Directory",
    APP_OUTLOOK_MOBILE: "Outlook Mobile",
    APP_TEAMS: "Microsoft Teams",
    APP_TEAMS_SERVICES: "Microsoft Teams Services",
    APP_AZURE_CLI: "Microsoft Azure CLI",
    APP_AZURE_MANAGEMENT: "Windows Azure Service Management API",
}

IOC_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/92.0.4515.159 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/106.0.0.0 Safari/537.36 Edg/106.0.1370.52",
)
IOC_CLIENT_INFO = "Client=REST;Client=RESTSystem;;"
# Storm-0558 infrastructure (DOMAIN §6) usable inside the window, with the country iptocc gives them.
STORM_IPS = (
    "195.26.87.219",  # token web panel, 5/15–6/25
    "185.236.228.183",  # token web panel, 5/24–6/11
    "85.239.63.160",  # token web panel, 6/7–6/11
    "51.89.156.153",  # SoftEther
    "176.31.90.129",
    "137.74.181.100",
    "146.70.157.45",
    "185.158.248.159",
)

BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/113.0.0.0 Safari/537.36 Edg/113.0.1774.50",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/113.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:113.0) Gecko/20100101 Firefox/113.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/114.0.0.0 Safari/537.36",
)
OFFICE_UAS = (
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.16327; Pro)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.16501; Pro)",
    "Microsoft Office/16.0 (Macintosh; Mac OS X 13.4; Microsoft Outlook 16.73; Pro)",
)

FIRST = (
    "Avery Blake Casey Dana Elliot Frances Gabriel Harper Imani Jordan Kendall Logan Morgan Noor Oakley "
    "Parker Quinn Riley Sasha Taylor Umar Valerie Wesley Ximena Yusuf Zara Adrian Beatrix Cyrus Delphine "
    "Emeric Fiona Gideon Helena Ivo Juno Kiran Leona Mateo Nadia Orin Priya"
).split()
LAST = (
    "Abernathy Baptiste Calloway Delacroix Eastwood Fairbanks Galloway Hargreave Ingram Jessup Kowalski "
    "Lindqvist Marchetti Nakamura Okonkwo Pemberton Quintero Rasmussen Sorensen Thibodeaux Underhill "
    "Vasquez Whitlock Xiong Yardley Zielinski Albright Brennan Castellano Dunmore Ellery Fitzroy Greaves "
    "Halvorsen Iverson Jaramillo Kerrigan Lockhart Montoya Northcott Oyelaran"
).split()


@dataclass(frozen=True)
class Site:
    """A place people work from: its egress prefix, country, city and UTC offset in May–June."""

    name: str
    country: str
    city: str
    state: str
    utc_offset: int
    prefixes: tuple[str, ...]  # IPv4 "a.b" or IPv6 "xxxx:xxxx" prefixes iptocc maps to `country`


SITES = {
    "hq": Site("hq", "US", "Washington", "District of Columbia", -4, ("173.66", "108.31")),
    "east-home": Site(
        "east-home", "US", "Arlington", "Virginia", -4, ("71.163", "96.241", "73.133", "2601:140")
    ),
    "west": Site("west", "US", "Seattle", "Washington", -7, ("76.104", "24.18", "67.183")),
    "london": Site("london", "GB", "London", "England", 1, ("86.180", "92.40", "2a00:23c8")),
    "berlin": Site("berlin", "DE", "Berlin", "Berlin", 2, ("84.128", "62.225", "2003:e6")),
    "tokyo": Site("tokyo", "JP", "Tokyo", "Tokyo", 9, ("126.77", "153.156")),
    "ottawa": Site("ottawa", "CA", "Ottawa", "Ontario", -4, ("142.112", "99.231")),
}


@dataclass(frozen=True)
class Place:
    """One IP a person uses, with where it is."""

    ip: str
    site: Site


@dataclass(frozen=True)
class User:
    """A person whose tokens appear in the logs."""

    upn: str
    name: str
    oid: str
    puid: str
    mailbox_guid: str
    tid: str
    places: tuple[Place, ...]  # the IPs used all period (office first)
    browser: str
    office_ua: str
    apps: tuple[str, ...]  # client app ids they use (OWA always first)
    weight: float
    start_hour: float  # local time the working day begins; each person keeps their own rhythm
    device_id: str
    guest: bool = False


@dataclass(frozen=True)
class World:
    """Everything the generators share."""

    tenant: str
    domain: str
    partner_tenant: str
    partner_domain: str
    users: tuple[User, ...]  # organisation members, then the guest last
    victims: tuple[str, ...]  # upns
    traveller: str
    travel_place: Place
    travel_days: tuple[datetime, datetime]
    guest: str


def rand_uuid(rng: random.Random) -> str:
    """A version-4 UUID string from the seeded stream."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def b64id(rng: random.Random, nbytes: int = 16) -> str:
    """A base64url identifier such as a `uti` (16 bytes → 22 chars)."""
    raw = rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def ip_in(site: Site, rng: random.Random) -> str:
    """A host address inside one of the site's prefixes."""
    prefix = rng.choice(site.prefixes)
    if ":" in prefix:
        a, b, c = (rng.randrange(1, 0xFFFF) for _ in range(3))
        return f"{prefix}:{a:x}:{b:x}::{c:x}"
    return f"{prefix}.{rng.randrange(1, 255)}.{rng.randrange(2, 254)}"


def build_world(seed: int, tenants: tuple[str, ...], domains: tuple[str, ...]) -> World:
    """Forty staff at four sites, a partner guest, four victims and one traveller, all from the seed."""
    rng = random.Random(f"triage-sample:{seed}:world")
    tenant = tenants[0].lower() if tenants else rand_uuid(rng)
    partner_tenant = rand_uuid(rng)
    domain = domains[0].lower().lstrip("@") if domains else "contoso-agency.gov"
    firsts = rng.sample(FIRST, 41)
    lasts = rng.sample(LAST, 41)
    hq_ips = [ip_in(SITES["hq"], rng) for _ in range(3)]
    homes = ["hq"] * 27 + ["west"] * 6 + ["london"] * 4 + ["berlin"] * 3
    users: list[User] = []
    for i, home in enumerate(homes):
        first, last = firsts[i], lasts[i]
        if home == "hq":
            places = (
                Place(hq_ips[i % 3], SITES["hq"]),
                Place(ip_in(SITES["east-home"], rng), SITES["east-home"]),
            )
        else:
            site = SITES[home]
            places = (Place(ip_in(site, rng), site), Place(ip_in(site, rng), site))
        apps = (APP_OWA, APP_OFFICE) if rng.random() < 0.65 else (APP_OWA,)
        users.append(
            User(
                upn=f"{first}.{last}@{domain}".lower(),
                name=f"{first} {last}",
                oid=rand_uuid(rng),
                puid=f"{rng.getrandbits(64):016X}",
                mailbox_guid=rand_uuid(rng),
                tid=tenant,
                places=places,
                browser=rng.choice(BROWSERS),
                office_ua=rng.choice(OFFICE_UAS),
                apps=apps,
                weight=rng.uniform(0.6, 1.5),
                start_hour=rng.uniform(7.0, 9.5),
                device_id=rand_uuid(rng),
            )
        )
    partner_domain = "fabrikam-partners.com"
    guest = User(
        upn=f"{firsts[40]}.{lasts[40]}@{partner_domain}".lower(),
        name=f"{firsts[40]} {lasts[40]} (Fabrikam)",
        oid=rand_uuid(rng),
        puid=f"{rng.getrandbits(64):016X}",
        mailbox_guid=rand_uuid(rng),
        tid=partner_tenant,
        places=(Place(ip_in(SITES["ottawa"], rng), SITES["ottawa"]),),
        browser=rng.choice(BROWSERS),
        office_ua=rng.choice(OFFICE_UAS),
        apps=(APP_OFFICE,),
        weight=0.8,
        start_hour=8.5,
        device_id=rand_uuid(rng),
        guest=True,
    )
    hq_people = [u for u in users if u.places[0].site.name == "hq"]
    victims = tuple(u.upn for u in rng.sample(hq_people[:20], 4))
    traveller = next(u.upn for u in hq_people[20:] if u.upn not in victims)
    travel_place = Place(ip_in(SITES["tokyo"], rng), SITES["tokyo"])
    return World(
        tenant=tenant,
        domain=domain,
        partner_tenant=partner_tenant,
        partner_domain=partner_domain,
        users=(*users, guest),
        victims=victims,
        traveller=traveller,
        travel_place=travel_place,
        travel_days=(datetime(2023, 6, 3, tzinfo=timezone.utc), datetime(2023, 6, 10, tzinfo=timezone.utc)),
        guest=guest.upn,
    )
