"""Each token's usage columns in `triage scan`'s tokens.csv, derived again from the raw sample without
the engine: plain DuckDB over sample_logs/gateway.parquet, hashlib for the token's key, the
token's own payload (base64url JSON) for its upn, and iptocc for the countries. Opaque `EwB…`
tickets are tokens too (keyed the same way; no claims, so no user).

The rules written here are the SPEC's, not the engine's code: a token is the bearer value after
`Bearer `, keyed by the SHA-256 of its text; its uses are the rows that carry it; its IPs are the
rows' client addresses without the port (`[v6]:port` or `v4:port`); its countries are those IPs'
countries; a gateway row names no user, so a token's users are its own upn, lower-cased; first
and last seen are its earliest and latest row. (The upn is `upn`, else `preferred_username`, else
`unique_name`, as SPEC §3 names it.) The sample's other files carry no raw token
(checked), so the Parquet is the whole of each token's use.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import iptocc
import pytest
from typer.testing import CliRunner

from tui.cli import app

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs"
GATEWAY = SAMPLE / "gateway.parquet"

pytestmark = pytest.mark.skipif(not GATEWAY.is_file(), reason="sample_logs/ not generated")

PER_TOKEN = """
WITH r AS (
    SELECT substr(request_header_authorization, 8) AS token,
           time,
           CASE WHEN starts_with(client, '[') THEN regexp_extract(client, '^\\[([^]]+)\\]', 1)
                ELSE regexp_extract(client, '^([^:]+):[0-9]+$', 1) END AS ip
    FROM read_parquet(?)
    WHERE request_header_authorization IS NOT NULL
)
SELECT token, count(*) AS uses, min(time) AS first_seen, max(time) AS last_seen,
       list_sort(list(DISTINCT ip) FILTER (WHERE ip IS NOT NULL AND ip <> '')) AS ips
FROM r GROUP BY token
"""


def _upn(token: str) -> str | None:
    """The JWT's user, lower-cased (None for an opaque ticket, which has no claims to read)."""
    if not token.startswith("eyJ"):
        return None
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # SPEC §3: `upn` is the claim `upn`, else `preferred_username` (v2), else `unique_name`
    upn = next((claims[k] for k in ("upn", "preferred_username", "unique_name") if claims.get(k)), None)
    return upn.lower() if isinstance(upn, str) else None


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def _listed(cell: str) -> list[str]:
    return sorted(cell.split(";")) if cell else []


def test_token_usage_columns_follow_from_the_raw_parquet_alone(tmp_path: Path) -> None:
    for other in SAMPLE.iterdir():
        if other != GATEWAY:
            data = other.read_bytes()
            assert b"eyJ" not in data and b"EwB" not in data, f"{other.name} carries a raw token"
    con = duckdb.connect()
    headers = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE regexp_full_match(request_header_authorization, "
        "'Bearer (eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*|EwB[A-Za-z0-9+/=]+)')) "
        "FROM read_parquet(?) WHERE request_header_authorization IS NOT NULL",
        [str(GATEWAY)],
    ).fetchone()
    # every bearer value is `Bearer <JWT>` or `Bearer <opaque EwB… ticket>`: only the prefix to strip
    assert headers is not None and headers[0] == headers[1] > 10_000
    expected = {}
    for token, uses, first, last, ips in con.execute(PER_TOKEN, [str(GATEWAY)]).fetchall():
        upn = _upn(token)
        expected[hashlib.sha256(token.encode("utf-8")).hexdigest()] = {
            "uses": uses,
            "users": [upn] if upn else [],
            "ips": sorted(ips),
            "countries": sorted({c for c in (iptocc.country_code(ip) for ip in ips) if c}),
            "first_seen": first.astimezone(timezone.utc),
            "last_seen": last.astimezone(timezone.utc),
        }
    assert len(expected) > 500

    out = tmp_path / "scan"
    result = CliRunner().invoke(app, ["scan", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with (out / "tokens.csv").open(newline="", encoding="utf-8") as fh:
        scanned = {r["tok_sha256"]: r for r in csv.DictReader(fh) if r["tok_sha256"]}

    assert set(scanned) == set(expected)  # every raw token, and no other
    for sha, want in expected.items():
        row = scanned[sha]
        got = {
            "uses": int(row["uses"]),
            "users": _listed(row["users"]),
            "ips": _listed(row["ips"]),
            "countries": _listed(row["countries"]),
            "first_seen": _utc(row["first_seen"]),
            "last_seen": _utc(row["last_seen"]),
        }
        assert got == want, sha
    # the comparison has something to compare: tokens used from several IPs and countries
    assert sum(len(w["ips"]) > 1 for w in expected.values()) >= 2
    assert sum(len(w["countries"]) > 1 for w in expected.values()) >= 2
