"""Bearer tokens and anchor mailboxes inside longer cells: header dumps, JSON cells, URL queries."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jwt

from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.ingest.load import load

TID = "11111111-1111-1111-1111-111111111111"


def _token(n: int) -> str:
    claims = {"upn": f"user{n}@contoso.gov", "tid": TID, "iat": 1685600000, "exp": 1685603600, "uti": f"u{n}"}
    return jwt.encode(claims, "a-test-secret-that-is-long-enough-for-hs256", algorithm="HS256")


def test_token_and_mailbox_in_an_api_management_header_cell(tmp_path: Path) -> None:
    path = tmp_path / "apim.csv"
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["TimeGenerated", "CallerIpAddress", "Url", "BackendRequestHeaders"])
        for n in range(4):
            headers = {"Authorization": f"Bearer {_token(n)}", "X-AnchorMailbox": f"SMTP:Boss{n}@Contoso.gov"}
            out.writerow(
                [
                    f"2023-06-01T10:0{n}:00Z",
                    "1.2.3.4",
                    "https://graph.microsoft.com/v1.0/me",
                    json.dumps(headers),
                ]
            )
    con = connect()
    report = load(con, [str(path)], Options())
    assert report.files[0].kind == "http"
    assert report.files[0].mapping["token"] == "BackendRequestHeaders (embedded)"
    rows = con.execute("SELECT token, mailbox FROM events_base ORDER BY source_row").fetchall()
    assert rows == [(_token(n), f"boss{n}@contoso.gov") for n in range(4)]


def test_token_in_a_url_query_string(tmp_path: Path) -> None:
    path = tmp_path / "iis.csv"
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["time", "ip", "request"])
        for n in range(3):
            out.writerow(
                [
                    f"2023-06-01T10:0{n}:00Z",
                    "1.2.3.4:443",
                    f"GET /owa/?action=GetItem&access_token={_token(n)} HTTP/1.1",
                ]
            )
    con = connect()
    report = load(con, [str(path)], Options())
    assert report.files[0].kind == "http"
    rows = con.execute("SELECT token, client_ip, operation FROM events_base ORDER BY source_row").fetchall()
    assert rows == [(_token(n), "1.2.3.4", "GetItem") for n in range(3)]
