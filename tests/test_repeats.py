"""Repeated records (`tui.engine.ingest.repeats`): exact copies of an audit or sign-in record, from
overlapping exports or a search that returned a record twice, are counted as events and said so in
`triage inspect`, its JSON and the scan summary's notes; a web log's identical lines are not."""

from __future__ import annotations

import json
from pathlib import Path

from load_kinds import isolated_cache, mia_audit, write_csv  # noqa: F401  (isolated_cache: autouse)
from typer.testing import CliRunner

from tui.cli import app

runner = CliRunner()
HEADER = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData"]


def record(n: int) -> list[str]:
    audit = mia_audit(Id=f"rec-{n}", CreationTime=f"2023-06-15T04:{n:02d}:00")
    return [
        f"rec-{n}",
        f"6/15/2023 4:{n:02d}:00 AM",
        "50",
        "MailItemsAccessed",
        "victim@contoso.gov",
        json.dumps(audit),
    ]


def test_overlapping_purview_exports_are_said_to_repeat_records(tmp_path: Path) -> None:
    out_dir, tmp_path = tmp_path / "out", tmp_path / "evidence"
    tmp_path.mkdir()
    # two date windows that share records 6-9; the second also holds record 12 twice
    write_csv(tmp_path / "export-1.csv", HEADER, [record(n) for n in range(10)])
    write_csv(tmp_path / "export-2.csv", HEADER, [record(n) for n in range(6, 14)] + [record(12)])
    # a layout of its own (no RecordId column) holding record 0 again: another shape, not compared
    classic = ["CreationDate", "UserIds", "Operations", "AuditData"]
    write_csv(tmp_path / "classic.csv", classic, [[r[1], r[4], r[3], r[5]] for r in map(record, (0, 1))])

    text = runner.invoke(app, ["inspect", str(tmp_path)])
    assert text.exit_code == 0, text.output
    said = (
        "  repeated records:   5 purview_audit records are exact copies of another "
        "(export-1.csv, export-2.csv): each copy counts as an event"
    )
    assert said in text.output.splitlines()
    as_json = json.loads(runner.invoke(app, ["inspect", "--json", str(tmp_path)]).output)
    assert as_json["repeated_records"] == [
        {
            "kind": "purview_audit",
            "copies": 5,
            "files": [str(tmp_path / "export-1.csv"), str(tmp_path / "export-2.csv")],
        }
    ]
    assert as_json["rows"] == 10 + 9 + 2  # nothing is removed: every row is an event

    scan = runner.invoke(app, ["scan", str(tmp_path), "--out", str(out_dir)])
    assert scan.exit_code == 0, scan.output
    assert (
        "  note: repeated records: 5 purview_audit records are exact copies of another "
        "(export-1.csv, export-2.csv): each copy counts as an event (overlapping exports?)"
    ) in scan.output.splitlines()


def test_one_copy_in_one_json_export_and_none_in_a_web_log(tmp_path: Path) -> None:
    audit = [mia_audit(Id="a1"), mia_audit(Id="a2"), mia_audit(Id="a1")]
    (tmp_path / "activity.json").write_text(json.dumps(audit), encoding="utf-8")
    # a proxy log with two identical lines (second-resolution times, no port): two requests
    jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJ1dGkiOiJ1dGkxIiwidGlkIjoidCJ9.c2lnbmF0dXJl"
    line = ["2023-06-15T04:05:03Z", "203.0.113.9", "GET", "/owa/", f"Bearer {jwt}"]
    write_csv(tmp_path / "proxy.csv", ["time", "client", "method", "url", "authorization"], [line, line])

    out = runner.invoke(app, ["inspect", str(tmp_path)]).output
    assert (
        "  repeated records:   1 management_activity record is an exact copy of another "
        "(activity.json): each copy counts as an event"
    ) in out.splitlines()
    assert "http" not in out.split("repeated records:")[1]


def test_no_repeats_is_said_too(tmp_path: Path) -> None:
    write_csv(tmp_path / "export.csv", HEADER, [record(n) for n in range(3)])
    out = runner.invoke(app, ["inspect", str(tmp_path)]).output
    assert "  repeated records:   none: no audit or sign-in record appears twice" in out.splitlines()
