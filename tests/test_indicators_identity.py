"""Known answers for SPEC §10's sign-in indicators: each fires on the rows that show it, and not on
its near misses (a phone moving from Wi-Fi to cellular, a traveller who signs in again abroad with
MFA, a VPN exit used every day in the baseline, an administrator's device-code sign-in from the
usual place). Rows are written as the loader normalises them (tests/test_load_auth_facts.py reads
the real export shapes into these columns)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
from indicator_kit import ORG, run

from tui.engine.core.options import Options
from tui.engine.core.schema import Kind

T0 = datetime(2023, 6, 6, 9, 0, 0)
OFFICE = ("24.0.0.10", "US")
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0"
LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
PERFORMED = "Password [Primary authentication] ok: Correct password; Authenticator App [MFA] ok"
OPTIONS = Options(tenants=(ORG,), domains=("contoso.gov",), baseline_until=T0 - timedelta(days=1))


def signin(user: str, at: datetime, ip: tuple[str, str], **extra: Any) -> dict[str, Any]:
    """A successful interactive sign-in with MFA on the user's own registered device."""
    row = {
        "ts": at,
        "kind": Kind.SIGNIN,
        "operation": "SignIn",
        "user": user,
        "client_ip": ip[0],
        "country": ip[1],
        "user_agent": WINDOWS,
        "status": "0",
        "category": "interactiveUser",
        "interactive": True,
        "device_id": f"dev-{user}",
        "session_id": f"s-{user}-{at:%m%d%H%M}",
        "mfa": "performed",
        "auth_steps": PERFORMED,
        "auth_requirement": "multiFactorAuthentication",
        "client_app_used": "Browser",
        "request_id": f"r-{user}-{at:%m%d%H%M%S}",
    }
    row.update(extra)
    return row


def read(user: str, at: datetime, ip: tuple[str, str], session: str, ua: str = WINDOWS) -> dict[str, Any]:
    """A MailItemsAccessed audit record of the session (audit records name no device)."""
    return {
        "ts": at,
        "kind": Kind.PURVIEW,
        "operation": "MailItemsAccessed",
        "user": user,
        "mailbox": user,
        "client_ip": ip[0],
        "country": ip[1],
        "user_agent": ua,
        "session_id": session,
        "status": "Succeeded",
    }


def history(user: str, days: int = 10, ip: tuple[str, str] = OFFICE) -> list[dict[str, Any]]:
    """A working day of the user's, every day before T0: one sign-in and one mail read."""
    rows = []
    for d in range(days, 0, -1):
        at = T0 - timedelta(days=d)
        s = signin(user, at, ip)
        rows += [s, read(user, at + timedelta(minutes=5), ip, s["session_id"])]
    return rows


def hits(con: duckdb.DuckDBPyConnection, code: str) -> dict[int, str]:
    """source_row → severity of `code`'s hits."""
    rows = con.execute(
        "SELECT source_row, severity FROM row_indicators WHERE code = ? ORDER BY source_row", [code]
    ).fetchall()
    return {int(r): str(s) for r, s in rows}


def rows_of(rows: list[dict[str, Any]], **match: Any) -> list[int]:
    """The 1-based source rows (as `run` numbers them) of the rows matching every `match` value."""
    return [i for i, r in enumerate(rows, start=1) if all(r.get(k) == v for k, v in match.items())]


def test_device_code_flow_is_high_from_a_new_ip_and_medium_from_the_usual_place() -> None:
    rows = history("ann@contoso.gov") + history("bob@contoso.gov")
    phish = signin(
        "ann@contoso.gov",
        T0,
        ("81.196.0.7", "RO"),
        auth_protocol="deviceCode",
        transfer_method="deviceCodeFlow",
        device_id=None,
        request_id="phish",
    )
    admin = signin("bob@contoso.gov", T0, OFFICE, auth_protocol="deviceCode", request_id="admin")
    rows += [phish, admin]
    con = run(rows, OPTIONS)
    got = hits(con, "DEVICE_CODE_FLOW")
    assert got == {
        rows_of(rows, request_id="phish")[0]: "high",
        rows_of(rows, request_id="admin")[0]: "medium",
    }
    evidence = con.execute(
        "SELECT evidence FROM row_indicators WHERE code = 'DEVICE_CODE_FLOW' AND severity = 'high'"
    )
    assert "81.196.0.7, new to the user" in evidence.fetchone()[0]  # type: ignore[index]


def test_prt_from_a_new_device_is_high_critical_when_unbound_and_silent_from_the_known_one() -> None:
    rows = history("ann@contoso.gov") + history("bob@contoso.gov") + history("cat@contoso.gov")
    rows += [
        signin(
            "ann@contoso.gov",
            T0,
            ("81.196.0.7", "RO"),
            incoming_token_type="primaryRefreshToken",
            device_id="attacker-device",
            request_id="prt-new",
        ),
        signin(
            "bob@contoso.gov",
            T0,
            ("81.196.0.8", "RO"),
            incoming_token_type="primaryRefreshToken",
            device_id="attacker-2",
            token_protection="unbound",
            request_id="prt-unbound",
        ),
        signin(
            "cat@contoso.gov", T0, OFFICE, incoming_token_type="primaryRefreshToken", request_id="prt-own"
        ),
    ]
    got = hits(run(rows, OPTIONS), "PRT_NEW_DEVICE")
    assert got == {
        rows_of(rows, request_id="prt-new")[0]: "high",
        rows_of(rows, request_id="prt-unbound")[0]: "critical",
    }


def test_session_replay_fires_on_another_device_in_a_new_country_not_on_a_phone_changing_network() -> None:
    rows = history("ann@contoso.gov") + history("pia@contoso.gov")
    stolen = signin("ann@contoso.gov", T0, OFFICE, session_id="victim")
    replayed = read("ann@contoso.gov", T0 + timedelta(minutes=40), ("81.196.0.7", "RO"), "victim", ua=LINUX)
    at_home = read("ann@contoso.gov", T0 + timedelta(minutes=10), OFFICE, "victim")
    wifi = signin(
        "pia@contoso.gov",
        T0,
        ("24.0.0.99", "US"),
        session_id="phone",
        device_id="pia-phone",
        user_agent=IPHONE,
    )
    # the same phone on the carrier's network: a sign-in naming its device, a read naming none
    cellular = signin(
        "pia@contoso.gov",
        T0 + timedelta(minutes=30),
        ("100.24.0.5", "US"),
        session_id="phone",
        device_id="pia-phone",
        user_agent=IPHONE,
        category="nonInteractiveUser",
        interactive=False,
        mfa="by_claim",
        request_id="cell",
    )
    cell_read = read("pia@contoso.gov", T0 + timedelta(minutes=31), ("100.24.0.5", "US"), "phone", ua=IPHONE)
    rows += [stolen, at_home, replayed, wifi, cellular, cell_read]
    got = hits(run(rows, OPTIONS), "SESSION_REPLAY")
    assert got == {rows.index(replayed) + 1: "high"}


def test_impossible_travel_but_not_a_flight_nor_a_vpn_used_every_day() -> None:
    base = history("ann@contoso.gov") + history("tia@contoso.gov")
    # vic's VPN exit in NL is used beside the office every day of the baseline
    for d in range(10, 1, -1):
        at = T0 - timedelta(days=d)
        base += [
            read("vic@contoso.gov", at, OFFICE, "v"),
            read("vic@contoso.gov", at + timedelta(hours=1), ("5.2.64.9", "NL"), "v"),
        ]
    jump = read("ann@contoso.gov", T0 + timedelta(minutes=30), ("81.196.0.7", "RO"), "x")
    flight = read("tia@contoso.gov", T0 + timedelta(hours=14), ("126.77.133.79", "JP"), "y")
    vpn = read("vic@contoso.gov", T0 + timedelta(minutes=10), ("5.2.64.9", "NL"), "v")
    rows = base + [
        read("ann@contoso.gov", T0, OFFICE, "x"),
        jump,
        read("tia@contoso.gov", T0, OFFICE, "y"),
        flight,
        read("vic@contoso.gov", T0, OFFICE, "v"),
        vpn,
    ]
    con = run(rows, OPTIONS)
    assert hits(con, "IMPOSSIBLE_TRAVEL") == {rows.index(jump) + 1: "medium"}
    # the same flight is impossible at a tenth of the speed bound
    slow = run(rows, Options(tenants=(ORG,), baseline_until=OPTIONS.baseline_until, travel_kmh=90.0))
    assert rows.index(flight) + 1 in hits(slow, "IMPOSSIBLE_TRAVEL")


def test_aitm_signin_is_a_deviceless_signin_followed_within_seconds_from_another_network() -> None:
    rows = history("ann@contoso.gov") + history("bob@contoso.gov")
    proxy = signin(
        "ann@contoso.gov", T0, ("81.196.0.7", "RO"), device_id=None, session_id="aitm", request_id="proxy"
    )
    replay = signin(
        "ann@contoso.gov",
        T0 + timedelta(seconds=12),
        ("2.58.56.3", "DE"),
        device_id=None,
        session_id="aitm",
        category="nonInteractiveUser",
        request_id="replay",
    )
    own = signin("bob@contoso.gov", T0, OFFICE, session_id="bob", request_id="bob-own")  # has a device id
    later = signin(
        "bob@contoso.gov",
        T0 + timedelta(seconds=20),
        ("24.0.9.1", "US"),
        session_id="bob",
        request_id="bob-later",
    )
    slow = signin(
        "bob@contoso.gov",
        T0 + timedelta(hours=2),
        ("24.0.0.50", "US"),
        device_id=None,
        session_id="bob2",
        request_id="slow",
    )
    slow_next = signin(
        "bob@contoso.gov",
        T0 + timedelta(hours=2, seconds=90),
        ("2.58.56.3", "DE"),
        device_id=None,
        session_id="bob2",
        request_id="slow-next",
    )
    rows += [proxy, replay, own, later, slow, slow_next]
    got = hits(run(rows, OPTIONS), "AITM_SIGNIN")
    assert got == {rows.index(proxy) + 1: "high"}
    tighter = run(rows, Options(tenants=(ORG,), baseline_until=OPTIONS.baseline_until, aitm_seconds=120))
    assert set(hits(tighter, "AITM_SIGNIN")) == {rows.index(proxy) + 1, rows.index(slow) + 1}


def test_legacy_auth_and_ropc() -> None:
    rows = [
        signin("ann@contoso.gov", T0, OFFICE, client_app_used="IMAP4", request_id="imap"),
        signin(
            "ann@contoso.gov",
            T0,
            OFFICE,
            client_app_used="Authenticated SMTP",
            status="50126",
            request_id="smtp",
        ),
        signin("ann@contoso.gov", T0, OFFICE, auth_protocol="ropc", request_id="ropc"),
        signin(
            "ann@contoso.gov",
            T0,
            OFFICE,
            client_app_used="Mobile Apps and Desktop clients",
            request_id="modern",
        ),
        # older exports name the legacy protocol after "Other clients; " (Graph beta's clientAppUsed)
        signin("ann@contoso.gov", T0, OFFICE, client_app_used="Other clients; POP", request_id="pop"),
        signin(
            "ann@contoso.gov",
            T0,
            OFFICE,
            client_app_used="Other clients; Older Office clients",
            request_id="old",
        ),
    ]
    con = run(rows, OPTIONS)
    assert set(hits(con, "LEGACY_AUTH")) == {1, 2, 3, 5, 6}
    assert "(failed)" in con.execute("SELECT evidence FROM row_indicators WHERE source_row = 2").fetchone()[0]  # type: ignore[index]


def test_password_spray_fires_on_the_failures_and_the_success_it_found() -> None:
    users = [f"u{n}@contoso.gov" for n in range(6)]
    spray_ip = ("81.196.0.7", "RO")
    rows: list[dict[str, Any]] = []
    for n, u in enumerate(users):
        rows.append(
            signin(
                u,
                T0 + timedelta(minutes=3 * n),
                spray_ip,
                status="50126",
                device_id=None,
                mfa="unknown",
                auth_steps=None,
                request_id=f"fail{n}",
            )
        )
    found = signin(
        "u5@contoso.gov",
        T0 + timedelta(minutes=25),
        spray_ip,
        device_id=None,
        mfa="single_factor",
        auth_steps="Password [Primary authentication] ok: Correct password",
        request_id="found",
    )
    # three users from another IP, and six users spread over six hours from a third: both below the bounds
    few = [
        signin(f"f{n}@contoso.gov", T0, ("2.58.56.3", "DE"), status="50126", request_id=f"few{n}")
        for n in range(3)
    ]
    spread = [
        signin(u, T0 + timedelta(hours=n), ("126.77.133.79", "JP"), status="50126", request_id=f"slow{n}")
        for n, u in enumerate(users)
    ]
    rows += [found, *few, *spread]
    got = hits(run(rows, OPTIONS), "PASSWORD_SPRAY")
    assert set(got) == {*range(1, 7), rows.index(found) + 1}
    assert set(got.values()) == {"high"}
    lower = run(rows, Options(tenants=(ORG,), baseline_until=OPTIONS.baseline_until, spray_users=3))
    # three users in the hour now reach the bound: the six, the one it found, and the three; the
    # six spread one an hour still do not
    assert set(hits(lower, "PASSWORD_SPRAY")) == {
        *range(1, 7),
        rows.index(found) + 1,
        *(rows.index(r) + 1 for r in few),
    }


def test_single_factor_access_is_a_read_in_a_session_that_never_did_mfa() -> None:
    single = "Password [Primary authentication] ok: Correct password"
    rows = [
        signin(
            "ann@contoso.gov",
            T0,
            OFFICE,
            session_id="weak",
            mfa="single_factor",
            auth_steps=single,
            auth_requirement="singleFactorAuthentication",
        ),
        read("ann@contoso.gov", T0 + timedelta(minutes=5), OFFICE, "weak"),
        signin("bob@contoso.gov", T0, OFFICE, session_id="strong"),
        read("bob@contoso.gov", T0 + timedelta(minutes=5), OFFICE, "strong"),
        # a session whose sign-in says nothing of its steps: unknown, not single-factor
        signin("cat@contoso.gov", T0, OFFICE, session_id="blank", mfa="unknown", auth_steps=None),
        read("cat@contoso.gov", T0 + timedelta(minutes=5), OFFICE, "blank"),
    ]
    con = run(rows, OPTIONS)
    assert hits(con, "SINGLE_FACTOR_ACCESS") == {2: "medium"}
    mfa = dict(con.execute("SELECT sid, mfa FROM session_facts").fetchall())
    assert (mfa["weak"], mfa["strong"], mfa["blank"]) == ("single_factor", "performed", "unknown")


def test_mfa_claim_unbacked_when_the_session_never_performed_it_though_its_start_is_covered() -> None:
    claim = (
        "Previously satisfied [Multi-factor authentication] ok: "
        "MFA requirement satisfied by claim in the token"
    )
    rows = (
        history("ann@contoso.gov")
        + history("bob@contoso.gov")
        + [
            # a session first seen now, days into the sign-ins, claiming an MFA nobody performed
            signin(
                "ann@contoso.gov",
                T0,
                ("81.196.0.7", "RO"),
                session_id="orphan",
                mfa="by_claim",
                auth_steps=claim,
                category="nonInteractiveUser",
                interactive=False,
                request_id="orphan",
            ),
            # a refresh of a session whose interactive sign-in did the MFA
            signin("bob@contoso.gov", T0, OFFICE, session_id="backed", request_id="backed-start"),
            signin(
                "bob@contoso.gov",
                T0 + timedelta(hours=1),
                OFFICE,
                session_id="backed",
                mfa="by_claim",
                auth_steps=claim,
                category="nonInteractiveUser",
                interactive=False,
                request_id="backed",
            ),
            # a session whose interactive sign-in was exported without its steps: unknown, not unbacked
            signin(
                "bob@contoso.gov",
                T0,
                OFFICE,
                session_id="blank",
                mfa="unknown",
                auth_steps=None,
                request_id="b0",
            ),
            signin(
                "bob@contoso.gov",
                T0 + timedelta(hours=1),
                OFFICE,
                session_id="blank",
                mfa="by_claim",
                auth_steps=claim,
                category="nonInteractiveUser",
                interactive=False,
                request_id="blank",
            ),
        ]
    )
    con = run(rows, OPTIONS)
    assert hits(con, "MFA_CLAIM_UNBACKED") == {rows_of(rows, request_id="orphan")[0]: "high"}


def test_risk_detection_takes_its_risk_level_and_marks_the_signin_it_names() -> None:
    rows = [
        signin("ann@contoso.gov", T0, OFFICE, request_id="req-1"),
        {
            "ts": T0 + timedelta(minutes=2),
            "kind": "risk_detection",
            "operation": "unfamiliarFeatures",
            "status": "high",
            "user": "ann@contoso.gov",
            "client_ip": OFFICE[0],
            "request_id": "req-1",
        },
        {
            "ts": T0 + timedelta(minutes=3),
            "kind": "risk_detection",
            "operation": "anonymizedIPAddress",
            "status": "low",
            "user": "bob@contoso.gov",
            "client_ip": "2.58.56.3",
            "request_id": "req-9",
        },
    ]
    con = run(rows, OPTIONS)
    assert hits(con, "RISK_DETECTION") == {1: "high", 2: "high", 3: "low"}
    assert (
        "unfamiliarFeatures"
        in con.execute(
            "SELECT evidence FROM row_indicators WHERE code = 'RISK_DETECTION' AND source_row = 1"
        ).fetchone()[0]
    )  # type: ignore[index]


def test_failed_sign_ins_are_attempts_against_the_user_not_its_drift() -> None:
    """A spray's failed attempts from a foreign IP do not make its target look drifted (issue 22's
    point 2, in the fixed drift score); the target's own sign-in from the same IP does."""
    from tui.engine.analyses.model import learn
    from tui.engine.analyses.sessions import build_identity_tables
    from tui.engine.core.queries import named_query

    rows = history("ann@contoso.gov", days=20) + history("bob@contoso.gov", days=20)
    rows += [
        signin(
            "ann@contoso.gov", T0, ("81.196.0.7", "RO"), status="50126", device_id=None, request_id="fail"
        ),
        signin("bob@contoso.gov", T0, ("81.196.0.7", "RO"), device_id=None, request_id="found"),
    ]
    con = run(rows, OPTIONS)
    build_identity_tables(con)
    split = [T0 - timedelta(days=21), T0 - timedelta(days=5), T0 - timedelta(days=5), T0 + timedelta(hours=1)]
    learn(con, split[1])  # drift.sql joins the behaviour model's users
    got = dict(
        con.execute(f'SELECT "user", new_countries FROM ({named_query("drift").sql})', split).fetchall()
    )
    assert got["ann@contoso.gov"] == []
    assert [c.split(" ")[0] for c in got["bob@contoso.gov"]] == ["RO"]
