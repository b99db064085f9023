"""The sample's identity decoys: genuine behaviour one step short of each sign-in indicator (the near
misses of issue 20 point 4). A phone that moves between Wi-Fi and cellular inside one session, a
VPN exit abroad used every day beside the office, an administrator's ordinary device-code sign-in.
(The traveller who signs in again abroad with MFA on her own device is the genuine `World.traveller`.)
"""

from __future__ import annotations

import random
from datetime import timedelta

from tui.engine.sample.attacks import CLAIM, DESKTOP
from tui.engine.sample.scenario import (
    AZURE_CLI_UA,
    CELLULAR,
    IDENTITY_CODES,
    OUTLOOK_IOS_UA,
    TEAMS_UA,
    VPN_EXIT,
    Scenario,
    again,
    at,
    reads,
    sign,
)
from tui.engine.sample.signins import Device, mfa, os_and_browser, password
from tui.engine.sample.world import (
    APP_AZURE_CLI,
    APP_AZURE_MANAGEMENT,
    APP_EXCHANGE,
    APP_OUTLOOK_MOBILE,
    APP_TEAMS,
    APP_TEAMS_SERVICES,
    START,
    WINDOW_START,
    Place,
    User,
    rand_uuid,
)

OUTLOOK_IOS_CLIENT = "Client=OutlookService;Outlook-iOS/2.0;"


def phone(rng: random.Random, user: User) -> Scenario:
    """Outlook on the user's registered iPhone: sessions signed in on home Wi-Fi with MFA, refreshed
    over cellular; in the window, the phone leaves the Wi-Fi 26 s after signing in and comes back."""
    device_id = rand_uuid(rng)
    iphone = Device(device_id, "Ios", "", "Azure AD registered", name="iPhone")
    wifi = user.places[1]
    sc = Scenario(
        "phone_wifi_cellular",
        "one phone, one session, two networks: home Wi-Fi and the carrier's cellular addresses, same "
        "device id and country throughout (mail reads from either carry no device id: audit records "
        "never do)",
        False,
        [user.upn],
        expected=(),
    )
    plans: list[tuple[int, list[tuple[int, Place]]]] = [
        (at(5, 9, 23, 14, 2), [(0, wifi), (13 * 3600 + 1050, CELLULAR[0])]),
        (at(5, 23, 22, 40, 51), [(0, wifi), (9 * 3600 + 415, wifi)]),
        (at(6, 8, 22, 10, 5), [(0, wifi), (26, CELLULAR[1]), (1605, wifi)]),
    ]
    for start, hops in plans:
        first = sign(
            rng,
            start,
            user,
            (APP_OUTLOOK_MOBILE, APP_EXCHANGE),
            wifi,
            OUTLOOK_IOS_UA,
            rand_uuid(rng),
            iphone,
            (password(), mfa(user, 14)),
            client_app=DESKTOP,
        )
        session = [first] + [
            again(rng, first, start + after, place=place, steps=CLAIM, incoming="refreshToken")
            for after, place in hops[1:]
        ]
        for s in session:
            n = rng.randrange(5, 11)
            sc.reads.append(
                reads(rng, s, s.ts + 5, 4, n, OUTLOOK_IOS_CLIENT, APP_OUTLOOK_MOBILE, APP_OUTLOOK_MOBILE)
            )
        sc.signins += session
    window = sc.signins[-3:]
    sc.facts = {
        "device_id": device_id,
        "wifi_ip": wifi.ip,
        "cellular_ips": [p.ip for p in CELLULAR],
        "window_session": window[0].sid,
        "switched_after_seconds": window[1].ts - window[0].ts,
        "near_miss": "another IP 26 s after a sign-in, in the same session, from a network new to the user "
        "(AITM_SIGNIN, SESSION_REPLAY): but the sign-in has a device id and every sign-in of the session "
        "the same one, in one country",
    }
    return sc


def vpn(rng: random.Random, user: User) -> Scenario:
    """Teams on the user's own laptop, signed in at the office (at home on Fridays) every working day
    of the baseline and refreshed through the corporate VPN's exit in Frankfurt within the hour; the
    same in the window."""
    office, home = user.places[0], user.places[1]
    laptop = Device(user.device_id, "Windows10", "Rich Client 4.44.0", "Azure AD joined", True, True)
    sc = Scenario(
        "vpn_exit_abroad",
        "a corporate VPN exit in another country, used every working day of the baseline side by side "
        "with the office IP (the home IP on Fridays; same session, same device), and the same in the window",
        False,
        [user.upn],
    )
    days = [START + timedelta(days=d) for d in range(1, 26)]
    days += [WINDOW_START + timedelta(days=d) for d in (3, 7, 9, 11)]  # June 1, 5, 7, 9
    for day in (d for d in days if d.weekday() < 5):
        local = user.start_hour + rng.uniform(0.2, 1.5)
        t1 = int((day + timedelta(hours=local - office.site.utc_offset)).timestamp())
        first = sign(
            rng,
            t1,
            user,
            (APP_TEAMS, APP_TEAMS_SERVICES),
            home if day.weekday() == 4 else office,
            TEAMS_UA,
            rand_uuid(rng),
            laptop,
            (password(), mfa(user, rng.randrange(6, 20))),
            client_app=DESKTOP,
        )
        exit_ = again(
            rng, first, t1 + rng.randrange(1500, 3300), place=VPN_EXIT, steps=CLAIM, incoming="refreshToken"
        )
        sc.signins += [first, exit_]
    in_window = [s for s in sc.signins if s.ts >= WINDOW_START.timestamp()]
    sc.facts = {
        "office_ip": office.ip,
        "home_ip": home.ip,
        "vpn_exit_ip": VPN_EXIT.ip,
        "vpn_exit_country": VPN_EXIT.site.country,
        "device_id": user.device_id,
        "baseline_days": sum(1 for s in sc.signins if s.interactive and s.ts < WINDOW_START.timestamp()),
        "window_days": sum(1 for s in in_window if s.interactive),
        "near_miss": "office (US) and VPN exit (DE) within the hour, farther apart than 900 km/h allows "
        "(IMPOSSIBLE_TRAVEL); but the two were used side by side every working day of the baseline",
    }
    return sc


def admin(rng: random.Random, user: User) -> Scenario:
    """The IT administrator's `az login --use-device-code` from the office on their own joined
    laptop, once in the baseline and once in the window; the CLI refreshes from the same place."""
    office = user.places[0]
    os_name, browser = os_and_browser(user.browser)
    laptop = Device(user.device_id, os_name, browser, "Azure AD joined", True, True)
    cli = Device(user.device_id, os_name, "", "Azure AD joined", True, True)
    sc = Scenario(
        "admin_device_code",
        "an administrator's ordinary device-code sign-in (Azure CLI) from the usual office IP on the "
        "registered laptop, its session used only from there",
        False,
        [user.upn],
        expected=("DEVICE_CODE_FLOW",),
    )
    for start in (at(5, 17, 14, 5, 20), at(6, 6, 13, 41, 2)):
        code = sign(
            rng,
            start,
            user,
            (APP_AZURE_CLI, APP_AZURE_MANAGEMENT),
            office,
            user.browser,
            rand_uuid(rng),
            laptop,
            (password(), mfa(user, 12)),
            client_app=DESKTOP,
            protocol="deviceCode",
            transfer="deviceCodeFlow",
        )
        refresh = again(
            rng,
            code,
            start + 2820,
            ua=AZURE_CLI_UA,
            device=cli,
            steps=CLAIM,
            protocol="none",
            incoming="refreshToken",
        )
        sc.signins += [code, refresh]
    sc.facts = {
        "office_ip": office.ip,
        "device_id": user.device_id,
        "expected_severity": {"DEVICE_CODE_FLOW": "medium"},
        "must_not_fire_at": {"DEVICE_CODE_FLOW": "high"},
        "note": "not a decoy for DEVICE_CODE_FLOW itself: SPEC §10 fires it (medium) on any device-code "
        "sign-in. A decoy only for its escalation to high: the session is used from no IP or device new "
        "to the user",
    }
    return sc


def must_not_fire(sc: Scenario) -> list[str]:
    """Every identity code a decoy must not fire (the admin's DEVICE_CODE_FLOW fires, at medium)."""
    return [c for c in IDENTITY_CODES if c not in sc.expected]
