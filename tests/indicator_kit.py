"""Shared by the indicator tests: keys generated here, tokens signed by PyJWT, events annotated in a
fresh DuckDB, and what fired for a token or a uti."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tui.engine.case.annotate import annotate
from tui.engine.case.context import Case
from tui.engine.core.options import Options
from tui.engine.core.schema import EVENT_COLUMNS, EVENT_FIELDS, Kind

ORG = "8cf9e5e6-8f03-4bbb-9c67-f75d6ac98c97"
OTHER = "251bae45-8d94-454b-8d0d-626fdf07eeb6"
CONSUMER = "9188040d-6c67-4c5b-b112-36a304b66dad"
STOLEN = "1LTMzakihiRla_8z2BEJVXeWMqo"
V1_ISS = f"https://sts.windows.net/{ORG}/"
T0 = datetime(2023, 6, 6, 9, 0, 0)


@dataclass(frozen=True)
class Report:
    jwks_files: tuple[Path, ...] = ()


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {
        "ent": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "msa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "other": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
    }


@pytest.fixture()
def jwks(tmp_path: Path, keys: dict[str, Any]) -> Path:
    def rsa_jwk(key: rsa.RSAPrivateKey, kid: str, issuer: str) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return {**jwk, "kid": kid, "x5t": kid, "use": "sig", "issuer": issuer}

    ec_jwk = {**ECAlgorithm.to_jwk(keys["ec"].public_key(), as_dict=True), "kid": "ec-1", "use": "sig"}
    doc = {
        "keys": [
            rsa_jwk(keys["ent"], "ent-1", "https://login.microsoftonline.com/{tenantid}/v2.0"),
            rsa_jwk(keys["msa"], "msa-1", f"https://login.microsoftonline.com/{CONSUMER}/v2.0"),
            rsa_jwk(keys["msa"], STOLEN, f"https://login.microsoftonline.com/{CONSUMER}/v2.0"),
            ec_jwk,
        ]
    }
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def claims(**over: Any) -> dict[str, Any]:
    iat = int((T0 - datetime(1970, 1, 1)).total_seconds()) - 600
    base = {
        "aud": "https://outlook.office.com",
        "iss": V1_ISS,
        "tid": ORG,
        "iat": iat,
        "nbf": iat,
        "exp": iat + 3600,
        "upn": "ann@contoso.gov",
        "oid": "11111111-2222-3333-4444-555555555555",
        "appid": "9199bf20-a13f-4107-85dc-02114787ef48",
        "uti": "uti-genuine",
        "ver": "1.0",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def sign(keys: dict[str, Any], key: str = "ent", kid: str = "ent-1", alg: str = "RS256", **over: Any) -> str:
    headers = {"kid": kid, "x5t": kid}
    headers.update(over.pop("headers", {}))
    secret = b"k" * 32 if alg.startswith("HS") else keys[key]
    return jwt.encode(claims(**over), secret, algorithm=alg, headers=headers)


def unsigned(**over: Any) -> str:
    head = jwt.utils.base64url_encode(b'{"typ":"JWT","alg":"none"}').decode()
    body = jwt.utils.base64url_encode(json.dumps(claims(**over)).encode()).decode()
    return f"{head}.{body}."


def event(**values: Any) -> dict[str, Any]:
    row = {"ts": T0, "kind": Kind.HTTP, "user": None, "mailbox": "ann@contoso.gov", "client_ip": "10.1.1.1"}
    row.update(values)
    return row


def run(
    rows: list[dict[str, Any]], options: Options | None = None, jwks: Path | None = None
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cols = ", ".join(f'"{n}" {t}' for n, t in EVENT_COLUMNS)
    con.execute(f"CREATE TABLE events_base ({cols})")
    for i, row in enumerate(rows, start=1):
        full = {"source": row.pop("source", "t.csv"), "source_row": i, **row}
        con.execute(
            f"INSERT INTO events_base VALUES ({', '.join('?' for _ in EVENT_FIELDS)})",
            [full.get(n) for n in EVENT_FIELDS],
        )
    report = Report((jwks,) if jwks else ())
    annotate(Case.start(options or Options(tenants=(ORG,), domains=("contoso.gov",)), con), report)
    return con


def fired(con: duckdb.DuckDBPyConnection, token: str | None = None, uti: str | None = None) -> dict[str, str]:
    if token is not None:
        tkey = con.execute("SELECT 'sha256:' || sha256(?)", [token]).fetchone()[0]  # type: ignore[index]
    else:
        tkey = f"uti:{uti}"
    rows = con.execute("SELECT code, severity FROM token_indicators WHERE tkey = ?", [tkey]).fetchall()
    return dict(rows)


def sig(con: duckdb.DuckDBPyConnection, token: str) -> str:
    return con.execute("SELECT sig FROM token_claims WHERE tok_key = hash(?)", [token]).fetchone()[0]  # type: ignore[index]
