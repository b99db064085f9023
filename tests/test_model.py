"""The behaviour model (SPEC §11, issue 22): known answers on small labelled incidents built here.

A tenant of office workers (four weeks of weekday office hours from their own /24, Windows Chrome,
Outlook), then a hunt window in which one account is taken over from abroad with a script, one user
travels (new country, same laptop and apps), and a password spray tries everyone. The bits are
checked against the formula computed here from the counts the incident was built with.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import duckdb

from tests.indicator_kit import event, run
from tui.engine.analyses import tables
from tui.engine.analyses.model import score_events
from tui.engine.core.options import Options
from tui.engine.core.schema import Kind
from tui.engine.indicators.split import drift_split

START = datetime(2023, 5, 1)  # a Monday
UNTIL = datetime(2023, 5, 29)  # the window starts here (--baseline-until)
OUTLOOK = "00000002-0000-0ff1-ce00-000000000000"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/114.0 Safari/537.36"
)
SCRIPT = "python-requests/2.31.0"
OPTIONS = Options(baseline_until=UNTIL, window_days=14)


def office(
    user: str, net: int, days: int = 28, per_day: int = 3, start: datetime = START
) -> list[dict[str, Any]]:
    """A user's weekday office hours: `per_day` mail reads at 09, 11, 13… UTC from 10.<net>.0.x."""
    rows = []
    for d in range(days):
        day = start + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        for i in range(per_day):
            rows.append(
                event(
                    ts=day + timedelta(hours=9 + 2 * i),
                    user=user,
                    mailbox=user,
                    operation="MailItemsAccessed",
                    client_ip=f"10.{net}.0.{i + 1}",
                    country="US",
                    user_agent=CHROME,
                    app_id=OUTLOOK,
                    kind=Kind.HTTP,
                )
            )
    return rows


def tenant() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, user in enumerate(("ann@contoso.gov", "bob@contoso.gov", "cat@contoso.gov", "dan@contoso.gov")):
        rows += office(user, n + 1)
        rows += office(user, n + 1, days=10, start=UNTIL)  # their ordinary window
    return rows


def intruder() -> list[dict[str, Any]]:
    """Ann's account from a Romanian VPS, a script, another app, at 03h UTC, reading the CFO's mail."""
    return [
        event(
            ts=UNTIL + timedelta(days=3, hours=3, minutes=i),
            user="ann@contoso.gov",
            mailbox="cfo@contoso.gov",
            operation="MailItemsAccessed",
            client_ip="185.244.25.7",
            country="RO",
            user_agent=SCRIPT,
            app_id="d3590ed6-52b3-4102-aeff-aad2292ab01c",
            kind=Kind.HTTP,
        )
        for i in range(6)
    ]


def traveller() -> list[dict[str, Any]]:
    """Bob in Tokyo: new country and network, his own laptop, browser, app and mailbox, at 01h UTC."""
    return [
        event(
            ts=UNTIL + timedelta(days=4, hours=1, minutes=10 * i),
            user="bob@contoso.gov",
            mailbox="bob@contoso.gov",
            operation="MailItemsAccessed",
            client_ip="126.77.133.79",
            country="JP",
            user_agent=CHROME,
            app_id=OUTLOOK,
            kind=Kind.HTTP,
        )
        for i in range(6)
    ]


def spray() -> list[dict[str, Any]]:
    """Failed sign-ins (50126) from one Lithuanian address against every user."""
    return [
        event(
            ts=UNTIL + timedelta(days=5, hours=2, minutes=i),
            user=user,
            mailbox=None,
            operation="Sign-in activity",
            client_ip="141.98.10.60",
            country="LT",
            user_agent="BAV2ROPC",
            app_id=OUTLOOK,
            status="50126",
            kind=Kind.SIGNIN,
        )
        for i, user in enumerate(("ann@contoso.gov", "bob@contoso.gov", "cat@contoso.gov", "dan@contoso.gov"))
    ]


def analysed(rows: list[dict[str, Any]], options: Options = OPTIONS) -> duckdb.DuckDBPyConnection:
    con = run(rows, options)
    tables.build(con, drift_split(con, options))
    score_events(con)
    return con


def _scores(con: duckdb.DuckDBPyConnection, user: str) -> list[float]:
    return [
        r[0]
        for r in con.execute(
            'SELECT anomaly FROM events WHERE "user" = ? AND ts >= ? ORDER BY anomaly DESC', [user, UNTIL]
        ).fetchall()
    ]


def test_the_intruders_events_and_account_outrank_the_travellers() -> None:
    con = analysed(tenant() + intruder() + traveller())
    ann_window = con.execute(
        "SELECT min(anomaly) FROM events WHERE \"user\" = 'ann@contoso.gov' AND client_ip = '185.244.25.7'"
    ).fetchone()[0]  # type: ignore[index]
    bob_trip = con.execute(
        "SELECT max(anomaly) FROM events WHERE \"user\" = 'bob@contoso.gov' AND country = 'JP'"
    ).fetchone()[0]  # type: ignore[index]
    ordinary = con.execute(
        "SELECT max(anomaly) FROM events WHERE ts >= ? AND country = 'US'", [UNTIL]
    ).fetchone()[0]  # type: ignore[index]
    # every intruder event above every travelling event, and those above every ordinary window event
    assert ann_window > bob_trip > ordinary
    users = dict(con.execute('SELECT "user", anomaly_score FROM drift').fetchall())
    assert (
        users["ann@contoso.gov"]
        > users["bob@contoso.gov"]
        > max(users["cat@contoso.gov"], users["dan@contoso.gov"])
    )
    # ann's reasons name what was new, with the counts behind it
    reasons = con.execute("SELECT anomalies FROM drift WHERE \"user\" = 'ann@contoso.gov'").fetchone()[0]  # type: ignore[index]
    assert "never seen for this user (0 of 60)" in reasons
    assert "country RO" in reasons or "network 185.244.25.0/24" in reasons


def test_bits_follow_the_formula_from_the_counts() -> None:
    """The RO country bit of an intruder event: user → peers → tenant, computed here from the counts."""
    con = analysed(tenant() + intruder())
    prior = OPTIONS.model_prior
    n_user = 60  # ann: 20 weekdays × 3 reads in the baseline
    n_tenant = 4 * 60
    n_peers = n_tenant - n_user  # no app or mailbox sets anyone apart: the rest of the tenant are peers
    k = 1  # the tenant saw one country in the baseline
    p_tenant = (0 + 1) / (n_tenant + k + 1)
    p_peers = (0 + prior * p_tenant) / (n_peers + prior)
    p_user = (0 + prior * p_peers) / (n_user + prior)
    bits = con.execute(
        "SELECT bits FROM model_bits WHERE u = 'ann@contoso.gov' AND f = 'country' AND v = 'RO' AND NOT learn"
    ).fetchone()[0]  # type: ignore[index]
    assert math.isclose(bits, -math.log2(p_user), rel_tol=1e-9)
    # and US, seen in all 60 of ann's events, costs −log₂((60 + 5·P_peers(US)) / 65) for a window event
    p_t_us = (n_tenant + 1) / (n_tenant + k + 1)
    p_g_us = (n_peers + prior * p_t_us) / (n_peers + prior)
    us = con.execute(
        "SELECT bits FROM model_bits WHERE u = 'ann@contoso.gov' AND f = 'country' AND v = 'US' AND NOT learn"
    ).fetchone()[0]  # type: ignore[index]
    assert math.isclose(us, -math.log2((n_user + prior * p_g_us) / (n_user + prior)), rel_tol=1e-9)
    # a baseline event is scored leave-one-out: its own count is out of the user's and the tenant's
    us_base = con.execute(
        "SELECT bits FROM model_bits WHERE u = 'ann@contoso.gov' AND f = 'country' AND v = 'US' AND learn"
    ).fetchone()[0]  # type: ignore[index]
    p_t_loo = (n_tenant - 1 + 1) / (n_tenant - 1 + k + 1)
    p_g_loo = (n_peers + prior * p_t_loo) / (n_peers + prior)
    assert math.isclose(
        us_base, -math.log2((n_user - 1 + prior * p_g_loo) / (n_user - 1 + prior)), rel_tol=1e-9
    )


def test_failed_sign_ins_feed_the_spray_not_the_targets_behaviour() -> None:
    without = analysed(tenant())
    with_spray = analysed(tenant() + spray())
    before = dict(without.execute('SELECT "user", anomaly_score FROM drift').fetchall())
    after = dict(with_spray.execute('SELECT "user", anomaly_score FROM drift').fetchall())
    assert before == after  # the attempts change no user's score …
    drift = dict(with_spray.execute('SELECT "user", reasons FROM drift').fetchall())
    assert all("new country" not in r for r in drift.values())  # … nor the fixed drift score
    counted = with_spray.execute("SELECT count(*) FROM model_combos WHERE failed AND learn").fetchone()[0]  # type: ignore[index]
    assert counted == 0  # never learned from
    # but they are scored, and stand out: a country and network no one used
    attempts = with_spray.execute(
        "SELECT min(anomaly) FROM events WHERE client_ip = '141.98.10.60'"
    ).fetchone()[0]  # type: ignore[index]
    assert attempts > max(_scores(with_spray, "cat@contoso.gov")[4:])  # above cat's own ordinary events


def test_thin_and_missing_evidence_is_scored_with_what_exists_and_labelled() -> None:
    rows = tenant() + [
        # eve: one baseline event; fay: seen only in the window; a record with no user; one with no IP
        event(
            ts=START + timedelta(days=2, hours=10),
            user="eve@contoso.gov",
            mailbox="eve@contoso.gov",
            operation="MailItemsAccessed",
            client_ip="10.9.0.1",
            country="US",
            user_agent=CHROME,
            app_id=OUTLOOK,
        ),
        event(
            ts=UNTIL + timedelta(days=1, hours=10),
            user="fay@contoso.gov",
            mailbox="fay@contoso.gov",
            operation="MailItemsAccessed",
            client_ip="10.8.0.1",
            country="US",
            user_agent=CHROME,
            app_id=OUTLOOK,
        ),
        event(
            ts=UNTIL + timedelta(days=1, hours=11),
            user=None,
            mailbox=None,
            operation="GET /owa/",
            client_ip="10.1.0.1",
            country="US",
            user_agent=CHROME,
            app_id=None,
        ),
        event(
            ts=UNTIL + timedelta(days=1, hours=13),
            user="dan@contoso.gov",
            mailbox="dan@contoso.gov",
            operation="MailItemsAccessed",
            client_ip=None,
            country=None,
            user_agent=None,
            app_id=None,
        ),
    ]
    con = analysed(rows)
    nan = con.execute(
        "SELECT count(*) FROM events WHERE anomaly IS NULL OR isnan(anomaly) OR isinf(anomaly)"
    ).fetchone()[0]  # type: ignore[index]
    assert nan == 0
    basis = dict(
        con.execute(
            "SELECT u, any_value(basis) FROM model_combos JOIN model_scores USING (cid) GROUP BY u"
        ).fetchall()
    )
    assert basis["eve@contoso.gov"] == "learning"  # one event: peers and tenant
    assert basis["fay@contoso.gov"] == "learning"  # nothing in the baseline
    assert basis[""] == "no user"
    assert basis["dan@contoso.gov"] == "user"
    fay = con.execute(
        "SELECT anomaly_score, anomalies FROM drift WHERE \"user\" = 'fay@contoso.gov'"
    ).fetchone()
    assert fay is not None and fay[0] > 0 and not math.isnan(fay[0])
    # dan's record without IP, country, agent or app is scored on what it has: his usual operation and
    # mailbox (~0 bits each) and an hour he uses for a third of his reads (log₂ 3 ≈ 1.6 bits)
    no_ip = con.execute(
        "SELECT anomaly FROM events WHERE \"user\" = 'dan@contoso.gov' AND client_ip IS NULL"
    ).fetchone()[0]  # type: ignore[index]
    assert 1.5 < no_ip < 2


def test_one_user_tenant() -> None:
    con = analysed(
        office("ann@contoso.gov", 1) + office("ann@contoso.gov", 1, days=10, start=UNTIL) + intruder()
    )
    rows = con.execute('SELECT "user", anomaly_score FROM drift').fetchall()
    assert [u for u, _ in rows] == ["ann@contoso.gov"] and rows[0][1] > 0
    peers = con.execute("SELECT grp, peers FROM model_peers").fetchall()
    assert peers == [(None, 0)]


def test_peers_come_from_shared_apps_and_mailboxes() -> None:
    """Finance shares a mailbox; a new finance user learning from 5 events is scored against finance:
    reading the shared mailbox costs them fewer bits than it would cost anyone else."""
    rows = tenant()
    for user in ("fin1@contoso.gov", "fin2@contoso.gov", "fin3@contoso.gov"):
        for r in office(user, 7):
            rows.append({**r, "mailbox": "finance@contoso.gov"})
    newbie = [
        {**r, "mailbox": "finance@contoso.gov"} for r in office("fin4@contoso.gov", 8, days=3, per_day=2)
    ]
    probe = [
        event(
            ts=UNTIL + timedelta(days=1, hours=10),
            user=u,
            mailbox="finance@contoso.gov",
            operation="MailItemsAccessed",
            client_ip=ip,
            country="US",
            user_agent=CHROME,
            app_id=OUTLOOK,
        )
        for u, ip in (("fin4@contoso.gov", "10.8.0.1"), ("dan@contoso.gov", "10.4.0.1"))
    ]
    con = analysed(rows + newbie + probe)
    groups = dict(con.execute("SELECT u, grp FROM model_peers").fetchall())
    assert {groups[f"fin{i}@contoso.gov"] for i in range(1, 5)} == {"mailbox finance@contoso.gov"}
    assert groups["ann@contoso.gov"] is None
    learning = con.execute("SELECT learning FROM model_peers WHERE u = 'fin4@contoso.gov'").fetchone()[0]  # type: ignore[index]
    assert learning is True
    mbx = dict(
        con.execute(
            "SELECT u, bits FROM model_bits WHERE f = 'mbx' AND v = 'finance@contoso.gov' AND NOT learn"
        ).fetchall()
    )
    assert mbx["fin4@contoso.gov"] < 1 < 8 < mbx["dan@contoso.gov"]


def test_moving_the_split_relearns() -> None:
    rows = tenant() + intruder()
    con = analysed(rows)
    first = con.execute("SELECT be FROM model_split").fetchone()[0]  # type: ignore[index]
    moved = drift_split(con, Options(baseline_until=UNTIL + timedelta(days=5), window_days=14))
    tables.build_drift(con, moved)
    assert con.execute("SELECT be FROM model_split").fetchone()[0] == UNTIL + timedelta(days=5) != first  # type: ignore[index]
    # the intrusion (day 3 of the old window) is baseline now: scored leave-one-out, never learned from
    # (its events carry no high indicator here, so they teach): its later reads cost fewer bits
    learned = con.execute(
        "SELECT count(*) FROM model_combos WHERE u = 'ann@contoso.gov' AND country = 'RO' AND learn"
    ).fetchone()[0]  # type: ignore[index]
    assert learned == 1  # the six reads are one combination (same day, hour and features)
