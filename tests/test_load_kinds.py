"""Loader kinds: each export analysts hold, with its real quirks, becomes the right event fields."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from load_kinds import APP, CLIENT, JWT, OID, SID, TID, events, mia_audit, run, write_csv

from tui.engine.ingest.detect import detect
from tui.engine.ingest.normalise import events_select
from tui.engine.ingest.source_sql import TimeProfile


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def test_purview_new_layout(tmp_path: Path) -> None:
    header = [
        "RecordId",
        "CreationDate",
        "RecordType",
        "Operation",
        "UserId",
        "AuditData",
        "AssociatedAdminUnits",
        "AssociatedAdminUnitsNames",
    ]
    rows = [
        [
            "a1",
            "6/15/2023 4:05:03 AM",
            "50",
            "MailItemsAccessed",
            "victim@contoso.gov",
            json.dumps(mia_audit()),
            "",
            "",
        ],
        [
            "a2",
            "6/15/2023 4:07:00 PM",
            "15",
            "UserLoggedIn",
            "victim@contoso.gov",
            json.dumps(
                {
                    "CreationTime": "2023-06-15T16:07:00",
                    "ClientIP": "203.0.113.9:443",
                    "Operation": "UserLoggedIn",
                }
            ),
            "",
            "",
        ],
    ]
    con, report = run([write_csv(tmp_path / "purview.csv", header, rows)])
    f = report.files[0]
    assert (f.kind, f.rows, f.time_format) == ("purview_audit", 2, "locale M/D/YYYY h:mm:ss (taken as UTC)")
    assert f.mapping["token_id"] == "AuditData.AppAccessContext.UniqueTokenId"
    first, second = events(con)
    assert first == {
        "ts": datetime(2023, 6, 15, 4, 5, 3),
        "source": str(tmp_path / "purview.csv"),
        "source_row": 1,
        "kind": "purview_audit",
        "user": "victim@contoso.gov",
        "mailbox": "boss@contoso.gov",
        "operation": "MailItemsAccessed",
        "client_ip": "2001:db8::7",
        "country": None,
        "user_agent": "Client=REST;;",
        "app_id": APP,
        "client_app_id": CLIENT,
        "session_id": SID,
        "token_id": "uti-123",
        "token_tenant_id": TID,
        "token_object_id": OID,
        "token_iat": datetime(2023, 6, 15, 3, 55),
        "items": 12,
        "access_type": "Bind",
        "folders": "\\Inbox; \\Sent Items",  # sorted
        "status": "Succeeded",
        # a mail read carries no sign-in facts (SPEC §10's fields are a sign-in's or a change's)
        **dict.fromkeys(
            (
                "category device_id request_id target params auth_requirement auth_steps mfa "
                "incoming_token_type transfer_method auth_protocol token_protection client_app_used "
                "interactive ca_status"
            ).split()
        ),
        "token": None,
    }
    assert (second["ts"], second["client_ip"], second["items"]) == (
        datetime(2023, 6, 15, 16, 7),
        "203.0.113.9",
        None,
    )


def test_audit_json_is_parsed_once_a_row_with_the_same_values(tmp_path: Path) -> None:
    """Every AuditData member comes from one parse of the record (`normalise.JsonReads`): the
    event SELECT reads the column once as a list of members (and once more for the folders'
    wildcard path), where it read it 77 times; a record that is not JSON, or whose member is an
    object, reads as it did member by member."""
    header = ["CreationDate", "UserIds", "Operations", "AuditData"]
    rows = [
        ["2023-06-15T04:05:03Z", "victim@contoso.gov", "MailItemsAccessed", json.dumps(mia_audit())],
        ["2023-06-15T04:06:00Z", "victim@contoso.gov", "MailItemsAccessed", '{"CreationTime": "2023-06-1'],
        [
            "2023-06-15T04:07:00Z",
            "victim@contoso.gov",
            "MailItemsAccessed",
            json.dumps(
                mia_audit(SessionId={"Id": 7}, ClientIPAddress=None, MailboxOwnerUPN="Other@Contoso.gov")
            ),
        ],
    ]
    path = write_csv(tmp_path / "audit.csv", header, rows)
    det = detect([(h, "VARCHAR") for h in header], rows)
    select = events_select(det, "src", str(path), dict.fromkeys(header, "VARCHAR"), TimeProfile("ISO 8601"))
    assert select.count('json_extract_string("AuditData", [') == 1
    assert select.count('json_extract_string("AuditData", ') == 2  # the list, and `$."Folders"[*].Path`
    con, _ = run([path])
    whole, broken, odd = events(con)
    assert (whole["mailbox"], whole["token_id"], whole["items"], whole["session_id"]) == (
        "boss@contoso.gov",
        "uti-123",
        12,
        SID,
    )
    assert (whole["folders"], whole["token_iat"]) == ("\\Inbox; \\Sent Items", datetime(2023, 6, 15, 3, 55))
    # not JSON: every AuditData member NULL, the CSV's own columns still read
    assert (broken["ts"], broken["user"], broken["mailbox"], broken["token_id"], broken["items"]) == (
        datetime(2023, 6, 15, 4, 6),
        "victim@contoso.gov",
        None,
        None,
        None,
    )
    # a member that is an object reads as its JSON text; a JSON null as NULL
    assert (odd["session_id"], odd["client_ip"], odd["mailbox"]) == ('{"Id":7}', None, "other@contoso.gov")


def test_purview_classic_layout(tmp_path: Path) -> None:
    rows = [
        ["2023-06-15T04:05:03.0000000Z", "victim@contoso.gov", "MailItemsAccessed", json.dumps(mia_audit())]
    ]
    con, report = run(
        [write_csv(tmp_path / "c.csv", ["CreationDate", "UserIds", "Operations", "AuditData"], rows)]
    )
    assert report.files[0].kind == "purview_audit"
    (ev,) = events(con)
    assert (ev["operation"], ev["token_id"], ev["items"], ev["ts"]) == (
        "MailItemsAccessed",
        "uti-123",
        12,
        datetime(2023, 6, 15, 4, 5, 3),
    )


def test_management_activity_json(tmp_path: Path) -> None:
    recs = [
        dict(mia_audit(), Workload="Exchange"),
        {
            "CreationTime": "2023-06-15T05:00:00",
            "Operation": "Send",
            "Workload": "Exchange",
            "UserId": "x@contoso.gov",
        },
    ]
    path = tmp_path / "ual.json"
    path.write_text(json.dumps(recs, indent=2))
    con, report = run([path])
    assert report.files[0].kind == "management_activity"
    first, second = events(con)
    assert (first["token_id"], first["session_id"], first["access_type"], first["client_ip"]) == (
        "uti-123",
        SID,
        "Bind",
        "2001:db8::7",
    )
    assert (second["operation"], second["token_id"]) == ("Send", None)


def test_gateway_parquet_is_http(tmp_path: Path) -> None:
    path = tmp_path / "gateway.parquet"
    gen = duckdb.connect()
    gen.execute("SET TimeZone = 'UTC'")
    gen.execute(
        "COPY (SELECT * FROM (VALUES "
        "(TIMESTAMPTZ '2023-06-15 04:05:03+00', '203.0.113.7:50123', 'POST', "
        "'https://outlook.office.com/owa/service.svc?action=GetItem&app=Mail', 200, 'Mozilla/5.0', "
        f"'Bearer {JWT}', 'SMTP:Boss@Contoso.gov', 1234::BIGINT), "
        "(TIMESTAMPTZ '2023-06-15 04:06:00+00', '[2001:db8::9]:443', 'GET', "
        "'https://graph.microsoft.com/v1.0/me/messages?$top=10', 200, 'curl', 'Bearer EwBopaque', "
        "NULL, 10::BIGINT)) "
        "t(time, client, method, url, status, user_agent, request_header_authorization, "
        f"request_header_x_anchormailbox, bytes)) TO '{path}' (FORMAT parquet)"
    )
    con, report = run([path])
    f = report.files[0]
    assert (f.kind, f.mapping["token"], f.mapping["mailbox"]) == (
        "http",
        "request_header_authorization",
        "request_header_x_anchormailbox",
    )
    first, second = events(con)
    assert (first["user"], first["mailbox"], first["operation"], first["client_ip"], first["token"]) == (
        None,
        "boss@contoso.gov",
        "GetItem",
        "203.0.113.7",
        JWT,
    )
    assert (second["operation"], second["client_ip"], second["token"]) == (
        "GET /v1.0/me/messages",
        "2001:db8::9",
        "EwBopaque",
    )


def test_token_and_mailbox_columns_found_by_value(tmp_path: Path) -> None:
    header = ["when", "hdr7", "hdr9", "src"]
    rows = [
        ["2023-06-15T04:05:03Z", JWT, "SMTP:a@contoso.gov", "192.0.2.1"],
        ["2023-06-15T04:05:04Z", f"Bearer {JWT}", "smtp:b@contoso.gov", "192.0.2.2:80"],
    ]
    con, report = run([write_csv(tmp_path / "proxy.csv", header, rows, bom=False)])
    f = report.files[0]
    assert (f.kind, f.mapping["token"], f.mapping["mailbox"]) == ("http", "hdr7", "hdr9")
    assert [(e["token"], e["mailbox"]) for e in events(con)] == [
        (JWT, "a@contoso.gov"),
        (JWT, "b@contoso.gov"),
    ]


def test_generic_table_and_map_override(tmp_path: Path) -> None:
    header = ["stamp", "who", "addr", "what"]
    rows = [["2023-06-15 04:05:03", "ann", "192.0.2.1:9", "x"]]
    path = write_csv(tmp_path / "misc.csv", header, rows, bom=False)
    con, report = run([path])
    f = report.files[0]
    assert (f.kind, f.mapping) == ("generic", {"ts": "stamp", "client_ip": "addr"})
    con2, report2 = run([path], mapping={"user": "WHO", "operation": "what", "token": "nope"})
    assert report2.files[0].mapping["user"] == "who"
    assert report2.files[0].note == "--map token=nope: no such column"
    (ev,) = events(con2)
    assert (ev["user"], ev["operation"], ev["client_ip"]) == ("ann", "x", "192.0.2.1")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), max_size=60), st.sampled_from([0.5, 0.8]))
@example([True] * 28 + [False] * 7, 0.8)
def test_the_detectors_early_stopping_share_test_decides_as_the_full_count(
    flags: list[bool], share: float
) -> None:
    """`detect._enough` stops counting once the answer is known; it must answer what counting every
    value and comparing `passed / n >= share` answers (0.8 of 35 is not 28.000000000000004)."""
    from tui.engine.ingest.detect import _enough

    texts = [("x" if f else "y") + str(n) for n, f in enumerate(flags)]
    full = bool(texts) and sum(t.startswith("x") for t in texts) / len(texts) >= share
    assert _enough(texts, lambda t: t.startswith("x"), share) is full


def test_the_folders_a_mail_read_names_in_each_kind(tmp_path: Path) -> None:
    """`folders` (the Mailboxes pane's folders, SPEC §5): the `Path` of each of a record's `Folders`,
    sorted and `; `-joined, from a Management Activity record's JSON, Sentinel OfficeActivity's
    `Folders` JSON string and a Defender copy's PowerShell `@{Path=…}` text."""
    two = mia_audit()["Folders"]
    (tmp_path / "ma.json").write_text(
        json.dumps([mia_audit(), mia_audit(Id="a2", Folders=[{"Path": "\\Drafts"}]), mia_audit(Folders=[])])
    )
    write_csv(
        tmp_path / "office.csv",
        ["TimeGenerated [UTC]", "OfficeId", "Operation", "UserId", "MailboxOwnerUPN", "Folders"],
        [["6/15/2023, 4:05:03.000 AM", "o1", "MailItemsAccessed", "v@c.gov", "boss@c.gov", json.dumps(two)]],
    )
    raw = mia_audit(Folders="@{Path=\\Archive; FolderItems=System.Object[]}")
    write_csv(
        tmp_path / "cae.csv",
        ["Timestamp", "ActionType", "AccountObjectId", "IPAddress", "RawEventData", "ReportId"],
        [["2023-06-15T04:05:03Z", "MailItemsAccessed", OID, "1.2.3.4", json.dumps(raw), "r1"]],
    )
    con, report = run([tmp_path])
    assert {f.path.name: (f.kind, f.mapping["folders"]) for f in report.files} == {
        "cae.csv": ("defender_cloudappevents", "RawEventData.Folders"),
        "ma.json": ("management_activity", "Folders"),
        "office.csv": ("sentinel_officeactivity", "Folders"),
    }
    rows = con.execute("SELECT source, source_row, folders FROM events_base ORDER BY ALL").fetchall()
    assert [(Path(s).name, n, f) for s, n, f in rows] == [
        ("cae.csv", 1, "\\Archive"),
        ("ma.json", 1, "\\Inbox; \\Sent Items"),
        ("ma.json", 2, "\\Drafts"),
        ("ma.json", 3, None),
        ("office.csv", 1, "\\Inbox; \\Sent Items"),
    ]
