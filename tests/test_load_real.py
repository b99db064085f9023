"""The public Microsoft 365 records in ../shared/data/m365 load with the values the files hold."""

from __future__ import annotations

from datetime import datetime

import pytest
from shared_data import SHARED_DATA, shared_data

from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.ingest.load import load

M365 = SHARED_DATA / "m365"
GOLDEN = M365 / "GoldenSAMLADFSMailAccess"


@pytest.fixture(autouse=True)
def _need_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    shared_data("m365")
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def test_office_activity_mail_items_accessed() -> None:
    con = connect()
    report = load(con, [str(GOLDEN / "OfficeActivityEvents.json")], Options())
    f = report.files[0]
    assert (f.format, f.kind, f.rows, f.bad_rows) == ("jsonl", "sentinel_officeactivity", 1, 0)
    row = con.execute(
        'SELECT ts, operation, app_id, client_app_id, "user", mailbox, client_ip, user_agent, access_type, '
        "status "
        "FROM events_base"
    ).fetchone()
    assert row == (
        datetime(2021, 8, 2, 13, 32, 7),
        "MailItemsAccessed",
        "00000003-0000-0000-c000-000000000000",
        "5a95e683-08ad-424e-a441-1d1aec52c02c",
        "pgustavo@simulandlabs.com",
        "pgustavo@simulandlabs.com",
        "1.2.3.4",
        "Client=REST;;",
        "Bind",
        "Succeeded",
    )
    folders = con.execute(f"SELECT json_extract_string(Folders, '$[0].Path') FROM {f.view}").fetchone()
    assert folders == ("\\Inbox",)


def test_demo_exchange_multiline_csv() -> None:
    con = connect()
    report = load(con, [str(M365 / "demo_exchange_data.csv")], Options())
    f = report.files[0]
    assert (f.format, f.kind, f.rows, f.bad_rows) == ("csv", "generic", 1334, 0)
    assert (f.ts_min, f.ts_max) == (datetime(2020, 3, 24, 14, 56, 52), datetime(2020, 5, 22, 16, 44, 30))
    first = con.execute(f"SELECT Operation, Parameters FROM {f.view} WHERE source_row = 1").fetchone()
    assert first is not None and first[0] == "Set-ConditionalAccessPolicy"
    assert first[1].startswith('[\n  {\n    "Name": "Identity"')


def test_defender_events_with_raw_event_data() -> None:
    con = connect()
    report = load(con, [str(GOLDEN / "Microsoft365DefenderEvents.json")], Options())
    f = report.files[0]
    assert (f.kind, f.rows, f.counts["mail_items_accessed"]) == ("defender_cloudappevents", 9, 1)
    row = con.execute(
        'SELECT ts, "user", mailbox, client_ip, app_id, client_app_id, items, access_type '
        "FROM events_base WHERE operation = 'MailItemsAccessed'"
    ).fetchone()
    assert row == (
        datetime(2021, 8, 2, 13, 32, 7),
        "pgustavo@simulandlabs.com",
        "pgustavo@simulandlabs.com",
        "1.2.3.4",
        "00000003-0000-0000-c000-000000000000",
        "5a95e683-08ad-424e-a441-1d1aec52c02c",
        7,
        "Bind",
    )


def test_whole_folder() -> None:
    con = connect()
    report = load(con, [str(M365)], Options())
    loaded = {f.path.name: (f.kind, f.rows) for f in report.files if f.loaded}
    assert loaded == {
        "AADAuditEvents.json": ("entra_audit", 4),
        "Microsoft365DefenderEvents.json": ("defender_cloudappevents", 9),
        "OfficeActivityEvents.json": ("sentinel_officeactivity", 1),
        "WindowsEvents.json": ("generic", 38),
        "demo_exchange_data.csv": ("generic", 1334),
    }
    assert not report.errors and report.rows == 1386
    assert con.execute("SELECT count(*) FROM events_base").fetchone() == (1386,)
