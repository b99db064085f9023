"""`triage scan` on the committed sample incident: golden files, determinism, the planted truth, secrets."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import pytest
from sample_truth import identity_users, identity_utis
from typer.testing import CliRunner

from tui.cli import app

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "sample"
FILES = ("tokens.csv", "mailboxes.csv", "drift.csv", "sessions.csv", "actions.csv", "manifest.json")
SEV = {"none": 0, "info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}


def _scan(out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["scan", "sample_logs", "--out", str(out), *extra])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scan")
    old = os.getcwd()
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        os.chdir(REPO)
        code, output = _scan(out)
    finally:
        os.chdir(old)
        del os.environ["SOURCE_DATE_EPOCH"]
    assert code == 0, output
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_scan_matches_the_committed_golden_files(scanned: Path) -> None:
    if os.environ.get("TRIAGE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            (GOLDEN / name).write_bytes((scanned / name).read_bytes())
    for name in FILES:
        assert (scanned / name).read_bytes() == (GOLDEN / name).read_bytes(), f"{name} differs from golden"


def test_two_runs_are_byte_identical(scanned: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    code, _ = _scan(tmp_path)
    assert code == 0
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (scanned / name).read_bytes(), name


def test_findings_have_the_spec_columns(scanned: Path) -> None:
    header = {name: next(csv.reader((scanned / name).open(encoding="utf-8"))) for name in FILES[:5]}
    assert header["tokens.csv"] == (
        "tok_sha256,uti,severity,indicators,evidence,kid,alg,iss,tid,aud,appid,upn,oid,iat,exp,sig,"
        "first_seen,last_seen,uses,users,mailboxes,ips,countries,amr,mfa,session_id"
    ).split(",")
    assert header["mailboxes.csv"] == (
        "mailbox,severity,indicators,accesses,items,flagged_accesses,flagged_tokens,first_access,"
        "last_access,identities,ips,app_ids"
    ).split(",")
    assert header["drift.csv"] == (
        "user,drift_score,reasons,new_ips,new_countries,new_app_ids,new_user_agents,baseline_start,"
        "baseline_end,window_start,window_end,severity,indicators,anomaly_score,anomalies"
    ).split(",")
    assert header["sessions.csv"] == (
        "session_id,user,severity,indicators,evidence,mfa,first_seen,last_seen,events,signins,tokens,"
        "ips,countries,user_agents,devices,apps"
    ).split(",")
    assert header["actions.csv"] == (
        "ts,user,operation,code,severity,target,params,client_ip,session_id,evidence,source,source_row"
    ).split(",")
    manifest = json.loads((scanned / "manifest.json").read_text())
    assert [Path(i["path"]).name for i in manifest["inputs"]] == sorted(
        Path(i["path"]).name for i in manifest["inputs"]
    )
    gateway = next(i for i in manifest["inputs"] if i["path"].endswith("gateway.parquet"))
    assert gateway["kind"] == "http" and gateway["rows"] > 10_000
    # each input's hash (computed in a thread while the engine ran) is that file's
    for entry in manifest["inputs"]:
        assert entry["sha256"] == hashlib.sha256(Path(entry["path"]).read_bytes()).hexdigest(), entry["path"]


def test_every_planted_forgery_is_high_or_critical(scanned: Path) -> None:
    truth = json.loads((REPO / "sample_logs" / "truth.json").read_text())
    tokens = {r["tok_sha256"]: r for r in _rows(scanned / "tokens.csv") if r["tok_sha256"]}
    for forged in truth["forged_tokens"]:
        row = tokens[forged["tok_sha256"]]
        assert SEV[row["severity"]] >= SEV["high"], forged["tok_sha256"]
        assert set(forged["expected_indicators"]) <= set(row["indicators"].split(";"))


def test_no_genuine_token_is_above_medium(scanned: Path) -> None:
    truth = json.loads((REPO / "sample_logs" / "truth.json").read_text())
    forged = {f["tok_sha256"] for f in truth["forged_tokens"]}
    forged_uti = {f["uti"] for f in truth["forged_tokens"]}
    forged |= {o["sha256"] for o in truth["opaque_bearers"]}  # the attacker's probes, MALFORMED from IOC IPs
    stolen = identity_utis(REPO / "sample_logs", truth)  # the identity intrusions' sign-ins' tokens
    for row in _rows(scanned / "tokens.csv"):
        if row["tok_sha256"] in forged or row["uti"] in forged_uti or row["uti"] in stolen:
            continue
        assert SEV[row["severity"]] <= SEV["medium"], (row["tok_sha256"], row["uti"], row["indicators"])


def test_every_victim_mailbox_is_flagged(scanned: Path) -> None:
    truth = json.loads((REPO / "sample_logs" / "truth.json").read_text())
    boxes = {r["mailbox"]: r for r in _rows(scanned / "mailboxes.csv")}
    # the forged tokens' victims, and the mailboxes the identity intrusions read with a stolen session
    victims = {v["mailbox"] for v in truth["victim_mailboxes"]} | identity_users(truth)
    for victim in victims:
        assert SEV[boxes[victim]["severity"]] >= SEV["high"], victim
        assert int(boxes[victim]["flagged_accesses"]) > 0
    flagged = {m for m, r in boxes.items() if SEV[r["severity"]] >= SEV["high"]}
    assert flagged == victims


def test_drift_ranks_hard_evidence_then_the_model(scanned: Path) -> None:
    """SPEC §11: the compromised accounts first (forged-token victims, identity intrusions: hard evidence
    and the model agree), above the spray's targets and the administrator decoy in the same tier; below
    every indicator, the model's first is the traveller (a new country and network)."""
    truth = json.loads((REPO / "sample_logs" / "truth.json").read_text())
    compromised = {v["mailbox"] for v in truth["victim_mailboxes"]} | identity_users(truth)
    rows = _rows(scanned / "drift.csv")
    assert {r["user"] for r in rows[: len(compromised)]} == compromised
    quiet = [r["user"] for r in rows if r["severity"] == "none"]
    assert quiet[0] == truth["decoys"]["traveller"]["user"]
    order = [(-SEV[r["severity"]], -float(r["anomaly_score"])) for r in rows]
    assert order == sorted(order)


def test_raw_tokens_only_with_include_secrets(
    scanned: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    for name in FILES:
        assert "eyJ" not in (scanned / name).read_text(encoding="utf-8"), name
    code, _ = _scan(tmp_path, "--include-secrets")
    assert code == 0
    rows = _rows(tmp_path / "tokens.csv")
    assert rows[0]["token"].startswith("eyJ")
    # every raw token is its own row's: its SHA-256 is the row's tok_sha256 (token_text joined on tok_key)
    with_token = [r for r in rows if r["tok_sha256"]]
    assert len(with_token) > 600 and all(r["token"] for r in with_token)
    for r in with_token:
        assert hashlib.sha256(r["token"].encode()).hexdigest() == r["tok_sha256"], r["tok_sha256"]
    assert not any(r["token"] for r in rows if not r["tok_sha256"])  # uti-only subjects carry none


def test_scan_refuses_to_write_into_the_evidence_folder(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "gw.csv").write_text("time,authorization\n2023-06-01T00:00:00Z,Bearer abc\n")
    result = CliRunner().invoke(app, ["scan", str(evidence), "--out", str(evidence / "out")])
    assert result.exit_code == 2
    assert "inside the evidence folder" in result.output
    assert sorted(p.name for p in evidence.iterdir()) == ["gw.csv"]


def test_formula_cells_from_the_data_are_neutralised(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "mail.csv").write_text(
        "CreationTime,UserId,Operation,MailboxOwnerUPN,ClientIPAddress,ClientAppId\n"
        '2023-06-01T10:00:00Z,=HYPERLINK("http://x"),MailItemsAccessed,@SUM(1),10.0.0.1,+cmd\n'
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", str(evidence), "--out", str(out)])
    assert result.exit_code == 0, result.output
    boxes = _rows(out / "mailboxes.csv")
    assert boxes[0]["mailbox"] == "'@sum(1)"
    assert boxes[0]["identities"] == '\'=hyperlink("http://x")'


def test_tokens_order_breaks_ties_as_tkey_does() -> None:
    """`TOKENS_ORDER` sorts on (tok_sha256, uti) instead of the prefixed `tkey` text: the same order,
    ties included ('sha256:…' subjects before 'uti:…' ones, each by its own value)."""
    import duckdb

    from tui.engine.analyses.tables import TOKENS_ORDER

    con = duckdb.connect()
    con.execute(
        """CREATE TABLE tokens AS
        SELECT CASE WHEN tok_sha256 IS NOT NULL THEN 'sha256:' || tok_sha256 ELSE 'uti:' || uti END AS tkey, *
        FROM (VALUES ('ff01', 'zz', 3, 2, TIMESTAMP '2023-06-01'), (NULL, 'Aa', 3, 2, TIMESTAMP '2023-06-01'),
                     ('0a9c', NULL, 3, 2, TIMESTAMP '2023-06-01'), (NULL, '-x', 3, 2, TIMESTAMP '2023-06-01'),
                     ('77', 'b', 3, 2, TIMESTAMP '2023-06-01'), (NULL, 'Ab', 5, 1, NULL),
                     ('00', NULL, 5, 1, NULL))
             t(tok_sha256, uti, sev_rank, uses, first_seen)"""
    )
    ours = con.execute(f"SELECT tkey FROM tokens ORDER BY {TOKENS_ORDER}").fetchall()
    by_tkey = con.execute(
        "SELECT tkey FROM tokens ORDER BY sev_rank DESC, uses DESC, first_seen, tkey"
    ).fetchall()
    assert [t for (t,) in ours] == [
        "sha256:00",
        "uti:Ab",
        "sha256:0a9c",
        "sha256:77",
        "sha256:ff01",
        "uti:-x",
        "uti:Aa",
    ]
    assert ours == by_tkey


def test_a_log_without_client_addresses_is_scanned(tmp_path: Path) -> None:
    """No input has an IP column, so `client_ip` is a NULL constant the loader does not store: the
    countries are looked up from nothing (this raised a binder error on `client_ip` before)."""
    from tests.hostile import jwt

    token = jwt(
        {"alg": "RS256", "kid": "k1", "typ": "JWT"},
        {"iss": "https://sts.windows.net/t1/", "tid": "t1", "upn": "ana@contoso.com", "uti": "u1"},
    )
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "gw.csv").write_text(
        f"time,authorization\n2023-06-01T00:00:00Z,Bearer {token}\n2023-06-02T00:00:00Z,Bearer {token}\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", str(evidence), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = _rows(out / "tokens.csv")
    assert row["tok_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert (row["upn"], row["uses"], row["ips"], row["countries"]) == ("ana@contoso.com", "2", "", "")
    assert row["first_seen"] == "2023-06-01T00:00:00Z"


def test_a_mistyped_input_is_refused_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["scan", str(REPO / "sample_logs"), str(tmp_path / "nope.csv"), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert result.output.strip() == f"triage scan: not found: {tmp_path / 'nope.csv'} (no such file)"
    assert not out.exists()


def test_the_summary_lists_what_was_not_used(tmp_path: Path) -> None:
    """A --map column no file has, a --jwks file without keys and an --ioc line that is not one are
    listed under the inputs (they were dropped without a word)."""
    ioc = tmp_path / "ioc.csv"
    ioc.write_text("ip,203.0.113.7,test\nnot an indicator\n")
    out = tmp_path / "out"
    logs = REPO / "sample_logs"
    args = ["scan", str(logs), "--out", str(out), "--map", "user=nosuchcol"]
    args += ["--jwks", str(logs / "truth.json"), "--ioc", str(ioc)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    # truth.json is named by --jwks but holds no key: it is not among the key lists used
    assert f"\nkey lists used for signatures: {logs / 'jwks.json'}\n" in result.output
    notes = [
        line.strip() for line in result.output.splitlines() if line.startswith(("  note:", "  skipped:"))
    ]
    assert notes == [
        # five log files share the note: said once, naming the first (`load_report.said_once`)
        f"note: 5 files: --map user=nosuchcol: no such column (e.g. {logs / 'entra_audit.json'})",
        f"skipped: {logs / 'truth.json'}: a single JSON object without a record list: not an event log",
        "note: truth.json: no keys (a key list holds JWKs with a 'kty')",
        "note: ioc.csv:2: expected type,value[,note] with type in ip/cidr/kid/thumbprint/app/ua",
    ]


def test_the_summary_says_once_what_many_files_share(tmp_path: Path) -> None:
    """An evidence folder with a checksum beside each export: one summary line for the checksums."""
    folder = tmp_path / "case"
    folder.mkdir()
    for n in range(5):
        (folder / f"ual{n}.json").write_text(
            json.dumps([{"CreationTime": f"2023-06-0{n + 1}T00:00:00", "UserId": "a@x.com"}])
        )
        (folder / f"ual{n}.json.sha256").write_text(f"{n:064d}  ual{n}.json\n")
    (folder / "one.md").write_text("# case notes\n")
    result = CliRunner().invoke(app, ["scan", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if line.startswith("  ")][:2]
    assert said == [
        f"  skipped: {folder / 'one.md'}: .md is not a log format",
        f"  skipped: 5 files: .sha256 is not a log format (e.g. {folder / 'ual0.json.sha256'})",
    ]


def test_said_once_keeps_order_and_merges_only_past_the_limit() -> None:
    from tui.engine.ingest.load_report import said_once

    said = [("a", "x"), ("b", "y"), ("c", "x"), ("d", "x"), ("e", "x"), ("f", "y")]
    assert said_once(said) == [("4 files", "x (e.g. a)"), ("b", "y"), ("f", "y")]
    assert said_once(said, most=4) == said[:1] + [("c", "x"), ("d", "x"), ("e", "x"), ("b", "y"), ("f", "y")]


def test_the_summary_counts_in_words_that_agree_with_them(tmp_path: Path) -> None:
    """One use, one flagged access, one token are said singular ("1 uses", "1 flagged accesses by 1
    token(s)" before): one mail read through a Storm-0558 proxy, in a Purview export (a token by uti)."""
    audit = {
        "CreationTime": "2023-06-15T04:05:03",
        "Operation": "MailItemsAccessed",
        "UserId": "victim@contoso.gov",
        "MailboxOwnerUPN": "victim@contoso.gov",
        "ClientIPAddress": "195.26.87.219",
        "AppId": "00000002-0000-0ff1-ce00-000000000000",
        "AppAccessContext": {"UniqueTokenId": "uti-once"},
        "OperationCount": 1,
    }
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    with (evidence / "purview.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["CreationDate", "UserIds", "Operations", "AuditData"])
        writer.writerow(
            ["6/15/2023 4:05:03 AM", "victim@contoso.gov", "MailItemsAccessed", json.dumps(audit)]
        )
    result = CliRunner().invoke(app, ["scan", str(evidence), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:4] for line in lines if line.startswith("  high")] == [
        ["high", "uti:uti-once", "1", "use"],  # the token
        ["high", "victim@contoso.gov", "1", "flagged"],  # its mailbox
    ]
    assert "  high     victim@contoso.gov  1 flagged access by 1 token" in lines
    assert (
        "token(s)" not in result.output
        and "1 flagged accesses" not in result.output
        and " 1 uses " not in result.output
    )
