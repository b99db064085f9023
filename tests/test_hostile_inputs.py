"""Hostile inputs through `triage inspect` and `triage scan` (issue 7 point 1): a clear message or a
counted bad row for each, never a traceback, never a hang."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import hostile
import pytest
from typer.testing import CliRunner, Result

from tui.cli import app

runner = CliRunner()
TRIAGE = Path(sys.executable).parent / "triage"


@pytest.fixture(autouse=True)
def _dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(tmp_path_factory.mktemp("state")))


def run(*args: str) -> Result:
    """Invoke the CLI; any exception other than a clean exit is a failure with its traceback."""
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"triage {args[0]} raised") from result.exception
    assert "Traceback" not in result.output
    return result


def inspect_json(folder: Path) -> dict[str, dict]:
    result = run("inspect", "--json", str(folder))
    files = json.loads(result.output)["files"]
    return {Path(f["path"]).name: f for f in files}


def scan(folder: Path, out: Path) -> tuple[Result, dict[str, list[dict[str, str]]]]:
    result = run("scan", str(folder), "--out", str(out))
    tables = {}
    for name in ("tokens.csv", "mailboxes.csv", "drift.csv"):
        with (out / name).open(newline="", encoding="utf-8") as fh:
            tables[name] = list(csv.DictReader(fh))
    return result, tables


@pytest.mark.timeout(240)
@pytest.mark.parametrize("maker", [hostile.tokens_csv, hostile.tokens_parquet], ids=["csv", "parquet"])
def test_malformed_tokens_each_get_a_decode_error(tmp_path: Path, maker) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "in").mkdir()
    maker(tmp_path / "in")
    info = inspect_json(tmp_path / "in")
    (only,) = info.values()
    assert only["rows"] == len(hostile.bad_tokens()) and only["bad_rows"] == 0
    result, tables = scan(tmp_path / "in", tmp_path / "out")
    assert result.exit_code == 0, result.output
    tokens = tables["tokens.csv"]
    # every non-empty bearer value is one token row: "", "Bearer " (→ empty) carry none
    assert len(tokens) == 16
    assert "ALG_NONE" in {t["indicators"] for t in tokens if t["alg"] == "none"}
    # a broken token still becomes a row, and it is never the raw value
    assert all(t["tok_sha256"] and len(t["tok_sha256"]) == 64 for t in tokens)
    assert "critical" in result.output and "ALG_NONE" in result.output


@pytest.mark.timeout(240)
def test_decode_reports_each_malformed_token(tmp_path: Path) -> None:
    tokens = hostile.bad_tokens()
    names = [
        "bad_base64",
        "bad_json",
        "two_segments",
        "four_segments",
        "non_utf8_payload",
        "non_utf8_header",
        "deep_nested",
        "header_array",
        "dots",
    ]
    expected = {
        "bad_base64": "payload: invalid base64url",
        "bad_json": "payload: not JSON",
        "two_segments": "not a JWT: 2 segments",
        "four_segments": "not a JWT: 4 segments",
        "non_utf8_payload": "payload: not UTF-8",
        "non_utf8_header": "header: not UTF-8",
        "header_array": "header: not a JSON object",
        "dots": "not a JWT: 4 segments",
    }
    for name in names:
        res = runner.invoke(app, ["decode", "--json", tokens[name]])
        assert res.exception is None or isinstance(res.exception, SystemExit), name
        assert "Traceback" not in res.output
        if name in expected:
            assert expected[name] in res.output, (name, res.output[:300])
    big = runner.invoke(app, ["decode", "--json", tokens["huge_1mb"]])
    assert big.exception is None or isinstance(big.exception, SystemExit)
    assert '"upn": "adele@contoso.com"' in big.output


@pytest.mark.timeout(240)
def test_deeply_nested_claims_do_not_crash(tmp_path: Path) -> None:
    """Claims nested 10,000 levels deep: decoded as the token it is (a JWT whose payload is a JSON
    object), named by its own hash, not a crash nor an exit 2."""
    token = hostile.bad_tokens()["deep_nested"]
    res = runner.invoke(app, ["decode", "--json", token])
    assert res.exit_code == 0 and res.exception is None and "Traceback" not in res.output
    (result,) = json.loads(res.output)
    assert result["sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert result["length"] == len(token) > 20_000
    assert result["decode_error"] is None and result["header"] == {"alg": "RS256", "typ": "JWT", "kid": "k1"}
    assert result["signature"] == "no_jwks"


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    "maker, rows",
    [
        (hostile.nul_csv, 5),
        (hostile.latin1_csv, 5),
        (hostile.multiline_csv, 4),
        (hostile.duplicate_columns_csv, 3),
        (hostile.mixed_tz_csv, 9),
        (hostile.formula_csv, 6),
        (hostile.escapes_csv, 3),
    ],
    ids=["nul", "latin1", "multiline", "duplicate_columns", "mixed_tz", "formulas", "escapes"],
)
def test_text_inputs_load_every_row(tmp_path: Path, maker, rows: int) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "in"
    folder.mkdir()
    path = maker(folder)
    info = inspect_json(folder)
    report = info[path.name]
    assert report.get("error") is None, report
    assert report["rows"] == rows
    result, tables = scan(folder, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert tables["tokens.csv"], "the bearer column was still found"


@pytest.mark.timeout(240)
def test_latin1_is_noted_and_decoded(tmp_path: Path) -> None:
    hostile.latin1_csv(tmp_path)
    report = inspect_json(tmp_path)["latin1.csv"]
    assert report["note"] == "text is latin-1, converted to UTF-8"
    _, tables = scan(tmp_path, tmp_path.parent / (tmp_path.name + "-out"))
    assert [m["mailbox"] for m in tables["mailboxes.csv"]] == ["rené@contoso.com"]


@pytest.mark.timeout(240)
def test_invalid_utf8_in_jsonl_and_json_counts_replacements(tmp_path: Path) -> None:
    rec = (
        b'{"createdDateTime":"2023-06-15T04:00:00Z","userPrincipalName":"a@contoso.com","appId":"x",'
        b'"userAgent":"%s","uniqueTokenIdentifier":"u%d"}'
    )
    lines = [rec % (b"ok", i) for i in range(3000)]
    lines[2000] = rec % (b"bad \xff\xfe", 2000)
    (tmp_path / "s.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (tmp_path / "d.json").write_bytes(b'{"value":[' + b",".join(lines[1998:2002]) + b"]}")
    info = inspect_json(tmp_path)
    assert info["s.jsonl"]["rows"] == 3000
    assert info["s.jsonl"]["note"] == "invalid UTF-8: 2 character(s) shown as U+FFFD"
    assert info["d.json"]["rows"] == 4  # the bad bytes are in the sniffed prefix: taken as Latin-1
    assert info["d.json"]["note"] == "text is latin-1, converted to UTF-8"


@pytest.mark.timeout(240)
def test_mixed_time_zones_all_convert_and_junk_is_counted(tmp_path: Path) -> None:
    hostile.mixed_tz_csv(tmp_path)
    result = run("inspect", str(tmp_path))
    # six spellings of 2023-06-15 04:00 UTC; three cells are not times and are counted, not dropped
    assert "time (UTC): 2023-06-15 04:00:00 .. 2023-06-15 04:00:00" in result.output
    assert "3 rows have no readable time" in result.output
    assert inspect_json(tmp_path)["mixed_tz.csv"]["rows"] == 9


@pytest.mark.timeout(240)
def test_ten_thousand_columns(tmp_path: Path) -> None:
    hostile.wide_csv(tmp_path)
    report = inspect_json(tmp_path)["wide.csv"]
    assert report["rows"] == 3 and report["kind"] == "http"
    result, tables = scan(tmp_path, tmp_path.parent / (tmp_path.name + "-out"))
    assert result.exit_code == 0 and len(tables["tokens.csv"]) == 1


@pytest.mark.timeout(240)
def test_truncated_and_empty_parquet_are_named_with_a_reason(tmp_path: Path) -> None:
    hostile.truncated_parquet(tmp_path)
    result = run("inspect", str(tmp_path))
    assert result.exit_code == 2
    info = inspect_json(tmp_path)
    assert info["empty.parquet"]["error"] == "empty file"
    assert "too small to be a Parquet file" in info["magic_only.parquet"]["error"]
    assert "No magic bytes found at end of file" in info["truncated.parquet"]["error"]
    scanned = run("scan", str(tmp_path), "--out", str(tmp_path.parent / "pq-out"))
    assert scanned.exit_code == 2
    assert scanned.output.count("  unreadable: ") == 3


@pytest.mark.timeout(240)
@pytest.mark.unprivileged  # root reads a chmod-000 file (tests/unprivileged.py)
def test_folder_of_unreadable_things(tmp_path: Path) -> None:
    folder = hostile.unreadable_dir(tmp_path)
    info = inspect_json(folder)
    assert info["good.csv"]["rows"] == 2
    assert info["pipe.csv"]["note"] == "skipped: a named pipe (FIFO), not a regular file"
    assert info["dangling.csv"]["note"] == "skipped: dangling symlink"
    assert info["loop.json"]["note"] == "skipped: dangling symlink"
    assert info["locked.csv"]["error"] == "permission denied"
    result, tables = scan(folder, tmp_path / "out")
    assert len(tables["tokens.csv"]) == 1


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", ["pipe.csv", "dangling.csv", "folder.csv"])
def test_explicit_non_file_arguments_fail_clearly(tmp_path: Path, name: str) -> None:
    folder = hostile.unreadable_dir(tmp_path)
    # a subprocess so that a blocking open() on the FIFO would be killed by the timeout, not hang pytest
    proc = subprocess.run(
        [str(TRIAGE), "inspect", "--json", str(folder / name)],
        capture_output=True,
        timeout=180,
        env=os.environ,
    )
    assert b"Traceback" not in proc.stderr
    if name == "folder.csv":  # a folder is walked: it holds nothing
        assert proc.returncode == 2
        return
    (report,) = json.loads(proc.stdout)["files"]
    assert (
        report["error"]
        == {"pipe.csv": "a named pipe (FIFO), not a regular file", "dangling.csv": "dangling symlink"}[name]
    )
    assert proc.returncode == 2


@pytest.mark.timeout(240)
def test_one_line_json_of_100_mb(tmp_path: Path) -> None:
    hostile.one_line_json(tmp_path)
    proc = subprocess.run(
        [str(TRIAGE), "inspect", "--json", str(tmp_path)], capture_output=True, timeout=180, env=os.environ
    )
    assert proc.returncode == 0, proc.stdout[-500:] + proc.stderr[-500:]
    (report,) = json.loads(proc.stdout)["files"]
    assert report["format"] == "json {value: [...]}" and report["rows"] == 102_000


@pytest.mark.timeout(240)
def test_json_nested_ten_thousand_levels_in_a_cell_and_a_line(tmp_path: Path) -> None:
    nested = "[" * 10_000 + "]" * 10_000
    (tmp_path / "deep.jsonl").write_text('{"createdDateTime":"2023-06-15T04:00:00Z","x":' + nested + "}\n")
    audit = '"{""Operation"":""MailItemsAccessed"",""x"":' + nested + '}"'
    (tmp_path / "deep.csv").write_text(
        f"CreationDate,UserIds,Operations,AuditData\n2023-06-15T04:00:00Z,a@x.com,MailItemsAccessed,{audit}\n"
    )
    info = inspect_json(tmp_path)
    assert info["deep.csv"]["rows"] == 1 and info["deep.csv"]["kind"] == "purview_audit"
    assert info["deep.jsonl"]["note"] == "a single JSON object without a record list: not an event log"
    result, _ = scan(tmp_path, tmp_path.parent / "deep-out")
    assert result.exit_code == 0


@pytest.mark.timeout(240)
def test_names_with_glob_characters_read_that_file_only(tmp_path: Path) -> None:
    """DuckDB takes a path as a glob: `c[1].csv` read `c1.csv` instead, `b?.json` read `b1.json` too."""
    import duckdb

    folder = tmp_path / "odd"
    folder.mkdir()
    for name, n in (("b?.json", 1), ("b1.json", 2), ("d*.jsonl", 1), ("dx.jsonl", 3)):
        records = [
            {"time": f"2023-06-0{k + 1}T00:00:00Z", "user": f"{name}-{k}@contoso.com"} for k in range(n)
        ]
        text = json.dumps(records) if name.endswith(".json") else "\n".join(map(json.dumps, records)) + "\n"
        (folder / name).write_text(text)
    for name, n in (("c[1].csv", 1), ("c1.csv", 4)):
        lines = ["time,user"] + [f"2023-06-0{k + 1}T00:00:00Z,{name}-{k}@contoso.com" for k in range(n)]
        (folder / name).write_text("\n".join(lines) + "\n")
    for name, n in (("e[x].parquet", 5), ("ex.parquet", 1)):
        duckdb.sql(
            f"COPY (SELECT TIMESTAMP '2023-06-01' + INTERVAL (range) HOUR AS time, 'u' || range AS user "
            f"FROM range({n})) TO '{folder / name}' (FORMAT parquet)"
        )
    info = inspect_json(folder)
    rows = {name: f["rows"] for name, f in info.items()}
    assert rows == {
        "b?.json": 1,
        "b1.json": 2,
        "d*.jsonl": 1,
        "dx.jsonl": 3,
        "c[1].csv": 1,
        "c1.csv": 4,
        "e[x].parquet": 5,
        "ex.parquet": 1,
    }


@pytest.mark.timeout(240)
def test_a_handed_over_folder_with_checksums_and_os_leftovers_is_not_unreadable(tmp_path: Path) -> None:
    """Evidence comes with its hash and signature files, and folders copied from Windows or a Mac
    carry Thumbs.db, shortcuts and __MACOSX (whose `._` files are hidden, so not listed); listed as
    skipped, they do not make the inputs 'unreadable' (exit 2)."""
    folder = tmp_path / "case-0558"
    (folder / "__MACOSX").mkdir(parents=True)
    records = [{"CreationTime": "2023-06-15T04:05:03", "Operation": "MailItemsAccessed", "UserId": "a@x.com"}]
    (folder / "ual.json").write_text(json.dumps(records))
    (folder / "ual.json.sha256").write_text(
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  ual.json\n"
    )
    (folder / "ual.json.asc").write_text("-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\n")
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64))
    (folder / "case notes.url").write_text("[InternetShortcut]\nURL=https://example.org/\n")
    (folder / "__MACOSX" / "._ual.json").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    result = run("inspect", str(folder))
    assert result.exit_code == 0, result.output
    info = inspect_json(folder)
    assert info["ual.json"]["rows"] == 1 and info["ual.json"]["error"] is None
    assert info["ual.json.sha256"]["note"] == "skipped: .sha256 is not a log format"
    assert info["Thumbs.db"]["note"] == "skipped: left by the operating system, not a log"
    assert {name: f["loaded"] for name, f in info.items()} == {
        "ual.json": True,
        "ual.json.sha256": False,
        "ual.json.asc": False,
        "Thumbs.db": False,
        "case notes.url": False,
    }
