"""The sample incident says what truth.json says it says, read back with DuckDB and PyJWT only."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import iptocc
import jwt
import pytest

from tui.engine.sample.incident import FILES, run_sample
from tui.engine.sample.keys import CONSUMER_ISSUER, CONSUMER_TID, STOLEN_KID, build_keys, seeded_prime
from tui.engine.sample.world import IOC_CLIENT_INFO, IOC_UAS, STORM_IPS, build_world

REPO = Path(__file__).resolve().parents[1]
SAMPLE_LOGS = REPO / "sample_logs"
APP_EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("incident")
    text, code = run_sample(out, 3000, 11, (), ())
    assert code == 0, text
    return out


def _gateway(d: Path) -> list[tuple]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(
        "SELECT time, client, request_header_authorization, request_header_x_anchormailbox, user_agent, "
        "status, url "
        "FROM read_parquet(?) ORDER BY time",
        [str(d / "gateway.parquet")],
    ).fetchall()


def _bearers(rows: list[tuple]) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for row in rows:
        if row[2]:
            out.setdefault(row[2].removeprefix("Bearer "), []).append(row)
    return out


def _jwks(d: Path) -> dict[str, dict]:
    return {k["kid"]: k for k in json.loads((d / "jwks.json").read_text())["keys"]}


def _truth(d: Path) -> dict:
    return json.loads((d / "truth.json").read_text())


def _purview(d: Path) -> list[dict[str, str]]:
    with (d / "purview_audit.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _signins(d: Path) -> list[dict]:
    return json.loads((d / "signins.json").read_text())["value"]


def _identity_scenarios(truth: dict) -> list[dict]:
    return [*truth["identity"]["intrusions"], *truth["identity"]["decoys"]]


def _identity_request_ids(truth: dict) -> set[str]:
    """The sign-ins the identity attacks and decoys wrote beside the genuine tokens' (the traveller's
    are genuine tokens' own)."""
    return {
        rid
        for sc in _identity_scenarios(truth)
        if sc["name"] != "traveller_mfa_abroad"
        for rid in sc["request_ids"]
    }


def test_gateway_has_the_contract_columns_and_types(incident: Path) -> None:
    con = duckdb.connect()
    cols = con.execute(
        "DESCRIBE SELECT * FROM read_parquet(?)", [str(incident / "gateway.parquet")]
    ).fetchall()
    assert [(c[0], c[1]) for c in cols] == [
        ("time", "TIMESTAMP WITH TIME ZONE"),
        ("client", "VARCHAR"),
        ("method", "VARCHAR"),
        ("url", "VARCHAR"),
        ("status", "INTEGER"),
        ("user_agent", "VARCHAR"),
        ("request_header_authorization", "VARCHAR"),
        ("request_header_x_anchormailbox", "VARCHAR"),
        ("bytes", "BIGINT"),
    ]
    rows = _gateway(incident)
    assert 2500 <= len(rows) <= 4500
    assert any(r[1].startswith("[") and "]:" in r[1] for r in rows)  # an IPv6 client with a port
    assert all(r[3] is None or r[3].startswith("SMTP:") for r in rows)


def test_genuine_tokens_verify_with_the_enterprise_key_matching_their_issuer(incident: Path) -> None:
    truth = _truth(incident)
    forged = {f["tok_sha256"] for f in truth["forged_tokens"]}
    opaque = {o["sha256"] for o in truth["opaque_bearers"]}
    keys = _jwks(incident)
    kids_used = set()
    genuine = 0
    for token, rows in _bearers(_gateway(incident)).items():
        sha = hashlib.sha256(token.encode()).hexdigest()
        if sha in forged or sha in opaque:
            continue
        genuine += 1
        header = jwt.get_unverified_header(token)
        jwk = keys[header["kid"]]
        claims = jwt.decode(
            token,
            jwt.PyJWK(jwk).key,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False},
        )
        expected_v2 = jwk["issuer"].replace("{tenantid}", claims["tid"])
        assert claims["iss"] == f"https://sts.windows.net/{claims['tid']}/"
        assert expected_v2 == f"https://login.microsoftonline.com/{claims['tid']}/v2.0"
        assert jwk["issuer"] == "https://login.microsoftonline.com/{tenantid}/v2.0"
        kids_used.add(header["kid"])
        # used within its lifetime, from one IP, for its own mailbox
        for row in rows:
            t = row[0].timestamp()
            assert claims["iat"] <= t <= claims["exp"]
            assert row[3] is None or row[3] == f"SMTP:{claims['upn']}"
        assert len({r[1].rsplit(":", 1)[0] for r in rows}) == 1
        assert 3600 <= claims["exp"] - claims["iat"] <= 5400
        assert len(claims["uti"]) == 22
    assert genuine == truth["genuine"]["tokens"]
    rotation = truth["decoys"]["key_rotation"]
    assert kids_used == {rotation["old_kid"], rotation["new_kid"]}


def test_forged_tokens_match_truth(incident: Path) -> None:
    truth = _truth(incident)
    keys = _jwks(incident)
    tenant = truth["organisation"]["tenant_id"]
    by_sha = {
        hashlib.sha256(t.encode()).hexdigest(): (t, rows) for t, rows in _bearers(_gateway(incident)).items()
    }
    kinds = sorted(f["kind"] for f in truth["forged_tokens"])
    assert kinds == ["a", "a", "a", "b", "b", "c", "c"]
    victims = {v["mailbox"] for v in truth["victim_mailboxes"]}
    assert 3 <= len(victims) <= 5
    window_start = datetime.fromisoformat(truth["period"]["window_start"])
    for f in truth["forged_tokens"]:
        token, rows = by_sha[f["tok_sha256"]]
        header = jwt.get_unverified_header(token)
        jwk = keys[header["kid"]]
        claims = jwt.decode(
            token,
            jwt.PyJWK(jwk).key,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False},
        )
        assert claims["uti"] == f["uti"]
        assert jwk["issuer"] == CONSUMER_ISSUER  # every forgery is signed by a consumer key
        if f["kind"] in ("a", "b"):
            assert claims["iss"] == f"https://sts.windows.net/{tenant}/" and claims["tid"] == tenant
            assert (
                jwk["issuer"].replace("{tenantid}", claims["tid"])
                != f"https://login.microsoftonline.com/{tenant}/v2.0"
            )
            assert "KEY_SCOPE_MISMATCH" in f["expected_indicators"]
        if f["kind"] == "a":
            assert header["kid"] != STOLEN_KID
        if f["kind"] == "b":
            assert header["kid"] == STOLEN_KID == header["x5t"]
            assert datetime.fromtimestamp(claims["iat"], timezone.utc).year == 2023
            assert "KNOWN_BAD_KEY" in f["expected_indicators"]
        if f["kind"] == "c":
            assert claims["tid"] == CONSUMER_TID and claims["iss"] == CONSUMER_ISSUER
            assert claims["idp"] == "live.com"
            assert f["expected_indicators"].count("CONSUMER_TOKEN_ENTERPRISE") == 1
        assert f["expected_severity"] in ("high", "critical")
        assert {r[3] for r in rows} == {f"SMTP:{f['victim']}"}
        assert {r[1].rsplit(":", 1)[0] for r in rows} == set(f["ips"]) <= set(STORM_IPS)
        assert {r[4] for r in rows} <= set(IOC_UAS)
        assert "GetAccessTokenForResource" in rows[0][6]
        assert all(r[0] >= window_start for r in rows)
        assert len(rows) == f["gateway_rows"]


def test_signins_hold_exactly_the_genuine_tokens(incident: Path) -> None:
    truth = _truth(incident)
    identity = _identity_request_ids(truth)
    every = _signins(incident)
    assert {s["id"] for s in every} >= identity and len(identity) == truth["identity"]["signins"]
    signed_in = {s["uniqueTokenIdentifier"]: s for s in every if s["id"] not in identity}
    forged = {f["tok_sha256"] for f in truth["forged_tokens"]}
    opaque = {o["sha256"] for o in truth["opaque_bearers"]}
    assert not {f["uti"] for f in truth["forged_tokens"]} & set(signed_in)
    genuine_utis = set()
    for token, rows in _bearers(_gateway(incident)).items():
        sha = hashlib.sha256(token.encode()).hexdigest()
        if sha in forged or sha in opaque:
            continue
        claims = jwt.decode(token, options={"verify_signature": False})
        s = signed_in[claims["uti"]]
        genuine_utis.add(claims["uti"])
        assert s["sessionId"] == claims["sid"] and s["appId"] == claims["appid"]
        assert s["ipAddress"] == claims["ipaddr"] == rows[0][1].rsplit(":", 1)[0].strip("[]")
        assert s["userAgent"] == rows[0][4]
        assert s["createdDateTime"] == datetime.fromtimestamp(claims["iat"], timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        assert iptocc.country_code(s["ipAddress"]) == s["location"]["countryOrRegion"]
    assert genuine_utis == set(signed_in)


def test_purview_export_layout_and_linking(incident: Path) -> None:
    raw = (incident / "purview_audit.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfRecordId,CreationDate,RecordType,Operation,UserId,AuditData,")
    rows = _purview(incident)
    truth = _truth(incident)
    signed_in = {s["uniqueTokenIdentifier"] for s in _signins(incident)}
    forged = {f["uti"]: f for f in truth["forged_tokens"]}
    ops = {r["Operation"] for r in rows}
    assert {"MailItemsAccessed", "MailboxLogin", "Send", "FileAccessed"} <= ops
    forged_seen: set[str] = set()
    for r in rows:
        when = datetime.strptime(r["CreationDate"], "%m/%d/%Y %I:%M:%S %p")
        audit = json.loads(r["AuditData"])
        assert when == datetime.fromisoformat(audit["CreationTime"])
        assert r["RecordId"] == audit["Id"]
        uti = audit.get("AppAccessContext", {}).get("UniqueTokenId")
        if uti in forged:
            forged_seen.add(uti)
            f = forged[uti]
            assert audit["AppId"] == audit["ClientAppId"] == APP_EXCHANGE
            assert (
                audit["ClientIPAddress"].rsplit(":", 1)[0] in f["ips"] or audit["ClientIPAddress"] in f["ips"]
            )
            assert audit["ClientInfoString"] == IOC_CLIENT_INFO
            assert audit["TokenTenantId"] == f["tid"] and audit["MailboxOwnerUPN"] == f["victim"]
        elif uti is not None:
            assert uti in signed_in
            assert audit.get("ClientInfoString") != IOC_CLIENT_INFO
        if r["Operation"] == "MailItemsAccessed":
            assert r["RecordType"] == "ExchangeItemAggregated" and audit["RecordType"] == 50
            props = {p["Name"]: p["Value"] for p in audit["OperationProperties"]}
            assert props["MailAccessType"] in ("Bind", "Sync") and props["IsThrottled"] == "False"
            if props["MailAccessType"] == "Bind":
                assert audit["OperationCount"] == sum(len(f["FolderItems"]) for f in audit["Folders"])
    assert forged_seen == set(forged)
    ips = [json.loads(r["AuditData"]).get("ClientIPAddress", "") for r in rows]
    assert any(ip.count(".") == 3 and ":" in ip for ip in ips)  # IPv4 with a port


def test_forged_app_never_read_the_victims_mailboxes_in_the_baseline(incident: Path) -> None:
    truth = _truth(incident)
    window_start = datetime.fromisoformat(truth["period"]["window_start"]).replace(tzinfo=None)
    baseline: dict[str, set[str]] = {}
    window: dict[str, set[str]] = {}
    forged = {f["uti"] for f in truth["forged_tokens"]}
    stolen = {sid for sc in truth["identity"]["intrusions"] for sid in sc["sessions"]}
    for r in _purview(incident):
        a = json.loads(r["AuditData"])
        if a["Operation"] != "MailItemsAccessed" or a["AppAccessContext"]["UniqueTokenId"] in forged:
            continue
        if a["SessionId"] in stolen:  # the identity intrusions read with apps of their own choosing
            continue
        side = baseline if datetime.fromisoformat(a["CreationTime"]) < window_start else window
        side.setdefault(a["MailboxOwnerUPN"], set()).update({a["AppId"], a["ClientAppId"]})
    for v in truth["victim_mailboxes"]:
        assert APP_EXCHANGE not in baseline[v["mailbox"]]
    for mailbox, apps in window.items():  # genuine users bring no new app into the window
        assert apps <= baseline[mailbox], mailbox


def test_decoys_and_drift(incident: Path) -> None:
    truth = _truth(incident)
    world = build_world(11, (), ())
    decoys = truth["decoys"]
    assert iptocc.country_code(decoys["traveller"]["ip"]) == "JP" and decoys["traveller"]["tokens"] > 0
    assert decoys["guest"]["tid"] not in (truth["organisation"]["tenant_id"], CONSUMER_TID)
    identity_victims = [u for sc in truth["identity"]["intrusions"] for u in sc["users"]]
    assert len(identity_victims) == 3 and not set(identity_victims) & {*world.victims, world.traveller}
    assert sorted(truth["drifted_users"]) == sorted([*world.victims, world.traveller, *identity_victims])
    for u in world.users:
        for place in u.places:
            assert iptocc.country_code(place.ip) == place.site.country, place
            assert place.ip not in STORM_IPS
        assert u.browser not in IOC_UAS
    # nobody but the traveller shows a new IP in the window in the genuine tokens' sign-ins
    window_start = truth["period"]["window_start"]
    identity = _identity_request_ids(truth)
    seen: dict[str, tuple[set[str], set[str]]] = {}
    for s in (s for s in _signins(incident) if s["id"] not in identity):
        base, win = seen.setdefault(s["userPrincipalName"], (set(), set()))
        (base if s["createdDateTime"] < window_start else win).add(s["ipAddress"])
    new_ip_users = {u for u, (base, win) in seen.items() if win - base}
    assert new_ip_users == {decoys["traveller"]["user"]}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    run_sample(a, 1000, 5, ("11111111-2222-4333-8444-555555555555",), ("example-agency.gov",))
    run_sample(b, 1000, 5, ("11111111-2222-4333-8444-555555555555",), ("example-agency.gov",))
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _truth(a)["organisation"]["tenant_id"] == "11111111-2222-4333-8444-555555555555"
    assert _truth(a)["victim_mailboxes"][0]["mailbox"].endswith("@example-agency.gov")
    run_sample(c, 1000, 6, (), ())
    assert (a / "jwks.json").read_bytes() != (c / "jwks.json").read_bytes()


def test_seeded_keys_are_valid_rsa_2048() -> None:
    keys = build_keys(3)
    assert [k.private.key_size for k in keys.values()] == [2048] * 5
    assert keys["msa-stolen"].kid == STOLEN_KID and keys["msa-stolen"].issuer == CONSUMER_ISSUER
    sig = jwt.encode({"x": 1}, keys["enterprise-1"].private, algorithm="RS256")
    assert jwt.decode(sig, keys["enterprise-1"].private.public_key(), algorithms=["RS256"]) == {"x": 1}
    import random

    p = seeded_prime(random.Random(1), 64)
    assert p.bit_length() == 64 and all(p % d for d in range(2, 2000))


def test_committed_sample_logs_are_the_default_output_and_small(tmp_path: Path) -> None:
    if not (SAMPLE_LOGS / "truth.json").exists():
        pytest.skip("sample_logs/ not generated")
    sizes = {name: (SAMPLE_LOGS / name).stat().st_size for name in FILES}
    # the sign-ins carry Graph beta's authentication facts (steps, protocol, transfer method…)
    assert sum(sizes.values()) < 5_500_000, sizes
    truth = _truth(SAMPLE_LOGS)
    assert truth["generator"] == {"command": "triage sample", "seed": 7, "rows_requested": 20000, "format": 1}
    con = duckdb.connect()
    count = con.execute(
        "SELECT count(*) FROM read_parquet(?)", [str(SAMPLE_LOGS / "gateway.parquet")]
    ).fetchall()
    assert truth["files"]["gateway.parquet"] == count[0][0]
    run_sample(tmp_path, 20000, 7, (), ())  # the CLI defaults: `triage sample sample_logs`
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLE_LOGS / name).read_bytes(), (
            f"regenerate sample_logs: {name}"
        )
