"""Shared by the loader-kind tests: load files into a fresh DuckDB, read the events back, write
CSV exports the way Purview and the Entra portal do, and a MailItemsAccessed audit record."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.ingest.load import LoadReport, load

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJ1dGkiOiJ1dGkxIiwidGlkIjoidCJ9.c2lnbmF0dXJl"
TID = "8cf9e5e6-8f03-4bbb-9c67-f75d6ac98c97"
OID = "416c82c8-827f-4431-b820-2625d8b34ded"
APP = "00000002-0000-0ff1-ce00-000000000000"
CLIENT = "9199bf20-a13f-4107-85dc-02114787ef48"
SID = "1e628c01-98b1-4142-b5de-2c54f54e742a"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decompressed and transcoded copies go to a fresh cache, not the user's (autouse where imported)."""
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def run(paths: list[Path | str], **opts: Any) -> tuple[duckdb.DuckDBPyConnection, LoadReport]:
    con = connect()
    return con, load(con, [str(p) for p in paths], Options(**opts))


def one(report: LoadReport, name: str) -> Any:
    """The report of the input file named `name`."""
    return next(f for f in report.files if f.path.name == name)


def events(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cur = con.execute("SELECT * FROM events_base ORDER BY source, source_row")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def write_csv(path: Path, header: list[str], rows: list[list[str]], bom: bool = True) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode())
    return path


def mia_audit(**extra: Any) -> dict[str, Any]:
    base = {
        "CreationTime": "2023-06-15T04:05:03",
        "Id": "a1",
        "Operation": "MailItemsAccessed",
        "RecordType": 50,
        "UserId": "Victim@Contoso.gov",
        "ClientIPAddress": "[2001:db8::7]:51234",
        "ClientInfoString": "Client=REST;;",
        "AppId": APP,
        "ClientAppId": CLIENT,
        "MailboxOwnerUPN": "Boss@Contoso.gov",
        "SessionId": SID,
        "OperationCount": 12,
        "OperationProperties": [
            {"Name": "MailAccessType", "Value": "Bind"},
            {"Name": "IsThrottled", "Value": "False"},
        ],
        "TokenTenantId": TID,
        "TokenObjectId": OID,
        "AppAccessContext": {
            "UniqueTokenId": "uti-123",
            "AADSessionId": SID,
            "IssuedAtTime": "2023-06-15T03:55:00",
        },
        "ResultStatus": "Succeeded",
        "Folders": [
            {"FolderItems": [{"InternetMessageId": "<m2@contoso.gov>"}], "Path": "\\Sent Items"},
            {"FolderItems": [{"InternetMessageId": "<m1@contoso.gov>"}], "Path": "\\Inbox"},
        ],
    }
    base.update(extra)
    return base
