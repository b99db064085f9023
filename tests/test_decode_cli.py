"""`triage decode` through the real Typer app: text, JSON, stdin, inert output."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from typer.testing import CliRunner

from tui.cli import app

runner = CliRunner()
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
TENANT = "8cf9e5e6-8f03-4bbb-9c67-f75d6ac98c97"


def _token(**claims: object) -> str:
    base = {"iss": f"https://sts.windows.net/{TENANT}/", "tid": TENANT, "iat": 1686042000, "exp": 1686045600}
    return jwt.encode({**base, **claims}, KEY, algorithm="RS256", headers={"kid": "k1"})


def _jwks(tmp_path: Path) -> Path:
    jwk = {
        **RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True),
        "kid": "k1",
        "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
    }
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [jwk]}), encoding="utf-8")
    return path


def test_text_output_has_utc_times_signature_and_no_raw_token(tmp_path: Path) -> None:
    token = _token(upn="ann@contoso.gov")
    result = runner.invoke(app, ["decode", token, "--jwks", str(_jwks(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "  iat: 1686042000  (2023-06-06T09:00:00Z)" in result.output
    assert "  exp: 1686045600  (2023-06-06T10:00:00Z)" in result.output
    assert "Signature: valid (key list keys.json)" in result.output
    assert token not in result.output and token.split(".")[2] not in result.output


def test_without_jwks_signature_is_not_checked() -> None:
    result = runner.invoke(app, ["decode", _token()])
    assert "Signature: not checked (give key lists with --jwks)" in result.output


def test_stdin_json_one_per_line_with_indicators() -> None:
    opaque = "EwB" + "x" * 40
    unsigned = (
        ".".join(
            base64.urlsafe_b64encode(part).decode().rstrip("=")
            for part in (b'{"alg":"none"}', json.dumps({"iat": 1, "exp": 1 + 40 * 3600}).encode())
        )
        + "."
    )
    result = runner.invoke(app, ["decode", "--json"], input=f"{opaque}\n\n{unsigned}\n")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["decode_error"] for d in data] == ["not a JWT: 1 segment", None]
    assert [i["code"] for i in data[0]["indicators"]] == ["MALFORMED"]
    assert [i["code"] for i in data[1]["indicators"]] == ["ALG_NONE", "LONG_LIFETIME"]
    assert data[1]["severity"] == "critical"
    assert data[1]["times_utc"] == {"iat": "1970-01-01T00:00:01Z", "nbf": None, "exp": "1970-01-02T16:00:01Z"}


def test_control_characters_in_claims_are_made_inert() -> None:
    token = _token(name="evil\x1b[31mred\u202eflip")
    result = runner.invoke(app, ["decode", token])
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "evil\\x1b[31mred\\u202eflip" in result.output


def test_claims_nested_too_deep_for_python_are_still_shown() -> None:
    """Python's json recurses; 5,000 levels raise RecursionError. The other claims are shown and the
    deep one is named with its size, in text and JSON."""

    def b64(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    deep = "[" * 5000 + "]" * 5000
    claims = '{"upn": "a@b.c", "x": ' + deep + "}"
    token = b64(json.dumps({"alg": "RS256", "kid": "k"})) + "." + b64(claims) + ".c2ln"
    result = CliRunner().invoke(app, ["decode", token])
    assert result.exit_code == 0
    assert "  upn: a@b.c\n  x: (nested too deeply to show: 10,000 characters of JSON)\n" in result.output
    shown = json.loads(CliRunner().invoke(app, ["decode", "--json", token]).output)
    assert shown[0]["claims"] == {
        "upn": "a@b.c",
        "x": "(nested too deeply to show: 10,000 characters of JSON)",
    }
