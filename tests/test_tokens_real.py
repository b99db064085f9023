"""The published tokens and key lists in ../shared/data: signatures and verdicts as EXPECTED.json says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_data import SHARED_DATA, shared_data

from tui.engine.core.options import Options
from tui.engine.findings.decode import decode_tokens

DATA = SHARED_DATA
TOKENS = DATA / "tokens" / "tokens.json"
EXPECTED = DATA / "tokens" / "EXPECTED.json"
V2_2019 = DATA / "jwks" / "common-v2-2019-alerta.json"
V1_2019 = DATA / "jwks" / "common-v1-2019-alerta.json"


@pytest.fixture(autouse=True)
def _need_data() -> None:
    shared_data("tokens", "tokens.json")
    shared_data("jwks", "common-v2-2019-alerta.json")


def _tokens() -> dict[str, str]:
    return {t["name"]: t["token"] for t in json.loads(TOKENS.read_text(encoding="utf-8"))}


def _verdicts(jwks: tuple[Path, ...]) -> dict[str, dict]:
    tokens = _tokens()
    results = decode_tokens(list(tokens.values()), Options(jwks=jwks))
    return dict(zip(tokens, results, strict=True))


def _codes(result: dict) -> dict[str, str]:
    return {i["code"]: i["severity"] for i in result["indicators"]}


def test_genuine_msa_tokens_verify_and_are_historic_not_critical() -> None:
    got = _verdicts((V2_2019,))
    for name in ("alerta-msa-v2-idtoken-2019", "outlook-supertest-msa-v2-idtoken-2016"):
        assert got[name]["signature"] == "valid"
        assert got[name]["signature_key_source"] == V2_2019.name
        assert _codes(got[name]) == {"KNOWN_BAD_KEY_HISTORIC": "info"}
        assert got[name]["severity"] == "info"


def test_doctored_documentation_tokens_do_not_verify() -> None:
    got = _verdicts((V2_2019,))
    for name in ("msal-js-IDTOKEN_V2_NEWCLAIM", "msal-js-IDTOKEN_V2-pre6536"):
        assert got[name]["signature"] == "invalid"
        codes = _codes(got[name])
        assert codes["BAD_SIGNATURE"] == "critical"
        assert codes["ISS_TID_MISMATCH"] == "high"  # tid 3338040d… is not iss's 9188040d…
        assert codes["KNOWN_BAD_KEY_HISTORIC"] == "info"


def test_unsigned_alerta_token_is_alg_none() -> None:
    got = _verdicts((V2_2019,))["alerta-aad-v1-idtoken-unsigned-2019"]
    assert got["signature"] == "unsupported_alg"
    assert _codes(got)["ALG_NONE"] == "critical"


def test_v1_access_token_verifies_against_v1_keys() -> None:
    got = _verdicts((V1_2019,))
    assert got["alerta-aad-v1-access-token-2019"]["signature"] == "valid"
    assert got["alerta-msa-v2-idtoken-2019"]["signature"] == "unknown_key"


def test_matches_expected_json() -> None:
    if not EXPECTED.is_file():
        pytest.skip("EXPECTED.json absent")
    expected = {e["name"]: e for e in json.loads(EXPECTED.read_text(encoding="utf-8"))}
    got = _verdicts((V2_2019,))
    for name, exp in expected.items():
        header, claims = got[name]["header"] or {}, got[name]["claims"] or {}
        assert header.get("kid") == exp["kid"], name
        assert claims.get("iss") == exp["iss"] and claims.get("tid") == exp["tid"], name
        assert got[name]["times_utc"]["iat"] == exp["iat_iso"], name
        in_v2 = "jwks/common-v2-2019-alerta.json"
        if in_v2 in exp["verifies_against"]:
            assert got[name]["signature"] == "valid", name
        elif in_v2 in exp["kid_found_in"]:
            assert got[name]["signature"] == "invalid", name
        elif exp["alg"] == "none":
            assert got[name]["signature"] == "unsupported_alg", name
        else:
            assert got[name]["signature"] == "unknown_key", name
        if exp["tid_equals_iss_tenant"] is False:
            assert "ISS_TID_MISMATCH" in _codes(got[name]), name
