"""Known-answer tests for the usage indicators: sign-in records, replay, IOCs, new apps per mailbox,
malformed values and the events view."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from indicator_kit import ORG, T0, Report, event, fired, run, sign

from tui.engine.case.annotate import annotate
from tui.engine.case.context import Case
from tui.engine.core.options import Options
from tui.engine.core.schema import EVENT_FIELDS, Kind


def _purview(uti: str, ts: datetime, **more: Any) -> dict[str, Any]:
    return event(
        kind=Kind.PURVIEW,
        operation="MailItemsAccessed",
        token_id=uti,
        token_tenant_id=ORG,
        ts=ts,
        source="audit.csv",
        **more,
    )


def _signin(uti: str, ts: datetime) -> dict[str, Any]:
    return event(kind=Kind.SIGNIN, token_id=uti, ts=ts, user="ann@contoso.gov", source="signins.json")


def test_no_signin_record_for_identifier_only_rows() -> None:
    rows = [
        _signin("known", T0 - timedelta(days=2)),
        _signin("other", T0 + timedelta(days=2)),
        _purview("known", T0 - timedelta(days=2, minutes=-5)),
        _purview("orphan", T0),
        _purview("outside", T0 + timedelta(days=9)),  # after the sign-in logs end: not covered
    ]
    con = run(rows)
    assert fired(con, uti="orphan") == {"NO_SIGNIN_RECORD": "high"}
    assert fired(con, uti="known") == {}
    assert fired(con, uti="outside") == {}
    severities = dict(
        con.execute(
            "SELECT token_id, max(severity) FROM events WHERE kind = ? GROUP BY 1", [Kind.PURVIEW]
        ).fetchall()
    )
    assert severities == {"orphan": "high", "known": None, "outside": None}


def test_no_signin_record_needs_sign_in_logs(keys: dict[str, Any]) -> None:
    token = sign(keys, uti="never-signed-in")
    con = run([event(token=token), _purview("orphan", T0)])
    assert fired(con, token) == {} and fired(con, uti="orphan") == {}
    con = run(
        [event(token=token), _signin("x", T0 - timedelta(hours=1)), _signin("y", T0 + timedelta(hours=1))]
    )
    assert fired(con, token) == {"NO_SIGNIN_RECORD": "high"}


def test_token_replay_by_country_and_ip_bound(keys: dict[str, Any]) -> None:
    two = sign(keys, uti="a")
    many = sign(keys, uti="b")
    rows = [
        event(token=two, country="US", client_ip="10.0.0.1"),
        event(token=two, country="NL", client_ip="10.0.0.2"),
    ]
    rows += [event(token=many, country="US", client_ip=f"10.0.1.{i}") for i in range(4)]
    con = run(rows)
    # one instant in the US and in the Netherlands is also impossible travel for its user (SPEC §10)
    assert fired(con, two) == {"TOKEN_REPLAY": "medium", "IMPOSSIBLE_TRAVEL": "medium"}
    assert fired(con, many) == {"TOKEN_REPLAY": "medium"}
    evidence = sorted(
        r[0]
        for r in con.execute("SELECT evidence FROM token_indicators WHERE code = 'TOKEN_REPLAY'").fetchall()
    )
    assert evidence == [
        "used from 2 IPs (10.0.0.1, 10.0.0.2) in 2 countries (NL, US)",
        "used from 4 IPs (10.0.1.0, 10.0.1.1, 10.0.1.2, 10.0.1.3) in 1 country (US)",
    ]
    con = run(
        [event(token=many, country="US", client_ip=f"10.0.1.{i}") for i in range(4)],
        Options(tenants=(ORG,), replay_ip_bound=4),
    )
    assert fired(con, many) == {}


def test_ioc_ip_ua_app(keys: dict[str, Any], tmp_path: Path) -> None:
    ioc = tmp_path / "iocs.csv"
    ioc.write_text(
        "cidr,203.0.113.0/24,lab range\napp,AAAAAAAA-0000-0000-0000-000000000001,rogue app\n"
        'ua,"Evil, Agent/1.0",quoted comma\nbogus,1\nip,not-an-ip\n'
    )
    token = sign(keys, uti="t")
    rows = [
        event(token=token, client_ip="146.70.157.45"),
        event(client_ip="203.0.113.9", operation="x"),
        event(user_agent="Client=REST;Client=RESTSystem;;"),
        event(user_agent="Evil, Agent/1.0"),
        event(app_id="aaaaaaaa-0000-0000-0000-000000000001"),
    ]
    con = run(rows, Options(tenants=(ORG,), iocs=(ioc,)))
    hits = con.execute("SELECT source_row, code FROM row_indicators ORDER BY source_row").fetchall()
    assert hits == [(1, "IOC_IP"), (2, "IOC_IP"), (3, "IOC_UA"), (4, "IOC_UA"), (5, "IOC_APP")]
    assert fired(con, token) == {"IOC_IP": "high"}
    assert (
        "SoftEther" in con.execute("SELECT evidence FROM row_indicators WHERE source_row = 1").fetchone()[0]
    )  # type: ignore[index]
    ann_notes = annotate(Case.start(Options(iocs=(ioc,)), con), Report()).notes
    assert any("iocs.csv:4" in n for n in ann_notes) and any("iocs.csv:5" in n for n in ann_notes)


def test_new_app_for_mailbox_against_baseline() -> None:
    old, new = "00000002-0000-0ff1-ce00-000000000000", "d3590ed6-52b3-4102-aeff-aad2292ab01c"
    day = timedelta(days=1)
    rows = [
        _purview(f"b{i}", T0 - 30 * day + i * day, app_id=old, mailbox="ann@contoso.gov") for i in range(5)
    ]
    rows += [
        _purview("w1", T0, app_id=old, mailbox="ann@contoso.gov"),
        _purview("w2", T0 + day, app_id=old, client_app_id=new, mailbox="ann@contoso.gov"),
        _purview("w3", T0 + day, app_id=new, mailbox="nobaseline@contoso.gov"),
        _purview("b9", T0 - 20 * day, app_id=old, mailbox="bo@contoso.gov"),
        _purview("w4", T0 + day, app_id=new, mailbox="bo@contoso.gov"),
    ]
    con = run(rows)
    hits = con.execute("SELECT tkey, code, evidence FROM row_indicators ORDER BY tkey").fetchall()
    assert [(t, c) for t, c, _ in hits] == [
        ("uti:w2", "NEW_APP_FOR_MAILBOX"),
        ("uti:w4", "NEW_APP_FOR_MAILBOX"),
    ]
    assert "Microsoft Office" in hits[0][2] and "ann@contoso.gov" in hits[0][2]
    # the mailbox's reads in the baseline, none by this app: said in agreement with their number
    assert hits[0][2].endswith("(5 reads)") and hits[1][2].endswith("(1 read)")


def test_malformed_and_events_view(keys: dict[str, Any]) -> None:
    opaque = "EwB" + "A" * 200
    good = sign(keys)
    con = run([event(token=opaque, client_ip="51.89.156.153"), event(token=good), event()])
    assert fired(con, opaque) == {"MALFORMED": "low", "IOC_IP": "high"}
    cols = [r[0] for r in con.execute("DESCRIBE events").fetchall()]
    assert cols[: len(EVENT_FIELDS)] == list(EVENT_FIELDS)
    assert set(cols[len(EVENT_FIELDS) :]) == {
        "tok_key",
        "tok_sha256",
        "tkey",
        "severity",
        "sev_rank",
        "indicators",
        "rn",  # the row's place in the Events pane's order (ts, source, source_row)
        "anomaly",  # the behaviour model's bits (SPEC §11), NULL until the TUI scores the stored rows
    }
    got = con.execute(
        "SELECT source_row, severity, sev_rank, indicators, tkey IS NOT NULL FROM events ORDER BY 1"
    ).fetchall()
    assert got == [
        (1, "high", 4, "IOC_IP;MALFORMED", True),
        (2, None, 0, None, True),
        (3, None, 0, None, False),
    ]
    key = con.execute("SELECT tok_key = hash(?) FROM events WHERE source_row = 2", [good]).fetchone()[0]  # type: ignore[index]
    assert key is True


def test_a_uti_subjects_claims_come_from_its_records() -> None:
    """A token known only by its uti (audit rows, no raw token) shows the tenant, object id, issue
    time and app id its records name: the client app (ClientAppId) over the resource's AppId."""
    from tui.engine.core.queries import named_query

    exchange, outlook = "00000002-0000-0ff1-ce00-000000000000", "9199bf20-a13f-4107-85dc-02114787ef48"
    rows = [
        _purview("both", T0, app_id=exchange, client_app_id=outlook, token_object_id="o1"),
        _purview("app-only", T0, app_id=exchange),
    ]
    con = run(rows)
    got = con.execute(
        f"SELECT uti, appid, tid, oid FROM ({named_query('tokens').sql}) ORDER BY uti"
    ).fetchall()
    assert got == [("app-only", exchange, ORG, None), ("both", outlook, ORG, "o1")]
