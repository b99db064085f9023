"""Known-answer tests for every indicator code, with keys generated here and signed by PyJWT:
the token's keys, signatures, issuers, tenants and times (usage indicators: test_indicators_usage.py)."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any

from indicator_kit import (
    CONSUMER,
    ORG,
    OTHER,
    STOLEN,
    T0,
    V1_ISS,
    claims,
    event,
    fired,
    run,
    sig,
    sign,
    unsigned,
)

from tui.engine.core.options import Options
from tui.engine.indicators.catalogue import CATALOGUE


def test_catalogue_has_every_spec_code_once() -> None:
    codes = [i.code for i in CATALOGUE]
    assert sorted(codes) == sorted(
        "KNOWN_BAD_KEY KNOWN_BAD_KEY_HISTORIC KEY_SCOPE_MISMATCH BAD_SIGNATURE UNKNOWN_KEY ALG_NONE WEAK_ALG "
        "KEY_INJECTION CONSUMER_TOKEN_ENTERPRISE ISS_TID_MISMATCH FOREIGN_TENANT LONG_LIFETIME USED_EXPIRED "
        "USED_BEFORE_NBF SUBJECT_MISMATCH NO_SIGNIN_RECORD TOKEN_REPLAY IOC_IP IOC_UA IOC_APP "
        "NEW_APP_FOR_MAILBOX MALFORMED "
        # SPEC §10's sign-in indicators
        "MFA_CLAIM_UNBACKED SINGLE_FACTOR_ACCESS DEVICE_CODE_FLOW PRT_NEW_DEVICE SESSION_REPLAY "
        "IMPOSSIBLE_TRAVEL "
        "AITM_SIGNIN LEGACY_AUTH PASSWORD_SPRAY RISK_DETECTION "
        # SPEC §10's action indicators
        "INBOX_RULE MAIL_FORWARDING MAILBOX_PERMISSION AUDIT_TAMPERING AUTH_METHOD_CHANGE APP_CONSENT "
        "ROLE_ADD".split()
    )


def test_genuine_enterprise_token_is_clean(keys: dict[str, Any], jwks: Path) -> None:
    good = sign(keys)
    con = run([event(token=good)], jwks=jwks)
    assert sig(con, good) == "valid"
    assert fired(con, good) == {}
    assert con.execute("SELECT sev_rank, severity, indicators FROM events").fetchone() == (0, None, None)


def test_consumer_key_signing_enterprise_token_is_key_scope_mismatch(
    keys: dict[str, Any], jwks: Path
) -> None:
    forged = sign(keys, key="msa", kid="msa-1")
    con = run([event(token=forged)], jwks=jwks)
    assert sig(con, forged) == "valid"  # the signature is fine: only the key's scope is wrong
    assert fired(con, forged) == {"KEY_SCOPE_MISMATCH": "critical"}
    evidence = con.execute("SELECT evidence FROM token_indicators").fetchone()[0]  # type: ignore[index]
    assert CONSUMER in evidence and V1_ISS in evidence
    assert con.execute("SELECT severity, indicators FROM events").fetchone() == (
        "critical",
        "KEY_SCOPE_MISMATCH",
    )


def test_v2_issuer_of_own_tenant_matches_template(keys: dict[str, Any], jwks: Path) -> None:
    good = sign(keys, iss=f"https://login.microsoftonline.com/{ORG}/v2.0", ver="2.0")
    con = run([event(token=good)], jwks=jwks)
    assert "KEY_SCOPE_MISMATCH" not in fired(con, good)


def test_stolen_kid_after_retirement_is_known_bad_key(keys: dict[str, Any], jwks: Path) -> None:
    forged = sign(keys, key="msa", kid=STOLEN)
    old = sign(
        keys,
        key="msa",
        kid=STOLEN,
        iat=1559894249,
        nbf=1559894249,
        exp=1559894249 + 3600,
        iss=f"https://login.microsoftonline.com/{CONSUMER}/v2.0",
        tid=CONSUMER,
        upn="x@hotmail.com",
    )
    con = run([event(token=forged), event(token=old)], jwks=jwks)
    assert fired(con, forged)["KNOWN_BAD_KEY"] == "critical"
    got = fired(con, old)
    assert got.get("KNOWN_BAD_KEY_HISTORIC") == "info" and "KNOWN_BAD_KEY" not in got


def test_ioc_kid_and_thumbprint(keys: dict[str, Any], tmp_path: Path) -> None:
    ioc = tmp_path / "iocs.csv"
    thumb = "00112233445566778899AABBCCDDEEFF00112233"
    ioc.write_text(f"# ours\nkid,evil-kid,seen in case 12\nthumbprint,{thumb}\n")
    x5t = base64.urlsafe_b64encode(bytes.fromhex(thumb)).decode().rstrip("=")
    a = sign(keys, kid="evil-kid")
    b = sign(keys, kid="zzz", headers={"x5t": x5t})
    con = run([event(token=a), event(token=b)], Options(tenants=(ORG,), iocs=(ioc,)))
    assert fired(con, a)["KNOWN_BAD_KEY"] == "critical"
    evidence = con.execute(
        "SELECT evidence FROM token_indicators WHERE evidence LIKE '%evil-kid%'"
    ).fetchall()
    assert len(evidence) == 1 and "seen in case 12" in evidence[0][0]
    assert fired(con, b)["KNOWN_BAD_KEY"] == "critical"


def test_bad_signature_and_unknown_key(keys: dict[str, Any], jwks: Path) -> None:
    wrong = sign(keys, key="other", kid="ent-1")
    unknown = sign(keys, key="other", kid="nobody")
    con = run([event(token=wrong), event(token=unknown)], jwks=jwks)
    assert (sig(con, wrong), fired(con, wrong)) == ("invalid", {"BAD_SIGNATURE": "critical"})
    assert (sig(con, unknown), fired(con, unknown)) == ("unknown_key", {"UNKNOWN_KEY": "high"})


def test_without_key_lists_nothing_is_unknown(keys: dict[str, Any]) -> None:
    token = sign(keys, key="other", kid="nobody")
    con = run([event(token=token)])
    assert (sig(con, token), fired(con, token)) == ("no_jwks", {})


def test_alg_none_weak_alg_and_key_injection(keys: dict[str, Any], jwks: Path) -> None:
    none = unsigned()
    hmac = sign(keys, alg="HS256")
    es = sign(keys, key="ec", kid="ec-1", alg="ES256")
    ps = sign(keys, alg="PS256")
    inj = sign(keys, headers={"jku": "https://evil.example/keys"})
    con = run([event(token=t) for t in (none, hmac, es, ps, inj)], jwks=jwks)
    assert (sig(con, none), fired(con, none)) == ("unsupported_alg", {"ALG_NONE": "critical"})
    assert (sig(con, hmac), fired(con, hmac)) == ("unsupported_alg", {"WEAK_ALG": "high"})
    assert (sig(con, es), fired(con, es)) == ("valid", {"WEAK_ALG": "high"})
    assert (sig(con, ps), fired(con, ps)) == ("valid", {"WEAK_ALG": "high"})
    assert fired(con, inj) == {"KEY_INJECTION": "high"}


def test_tenant_indicators(keys: dict[str, Any], jwks: Path) -> None:
    consumer = sign(
        keys,
        key="msa",
        kid="msa-1",
        iss=f"https://login.microsoftonline.com/{CONSUMER}/v2.0",
        tid=CONSUMER,
        upn=None,
        preferred_username="ann@contoso.gov",
    )
    mismatch = sign(keys, tid=OTHER)
    foreign = sign(keys, iss=f"https://sts.windows.net/{OTHER}/", tid=OTHER)
    con = run([event(token=t, mailbox="ann@contoso.gov") for t in (consumer, mismatch, foreign)], jwks=jwks)
    assert fired(con, consumer) == {"CONSUMER_TOKEN_ENTERPRISE": "high"}
    # the enterprise key's issuer template filled with tid names OTHER's issuer, not iss: scope fails too
    assert fired(con, mismatch) == {
        "ISS_TID_MISMATCH": "high",
        "FOREIGN_TENANT": "low",
        "KEY_SCOPE_MISMATCH": "critical",
    }
    assert fired(con, foreign) == {"FOREIGN_TENANT": "low"}


def test_consumer_token_of_personal_account_is_not_enterprise(keys: dict[str, Any], jwks: Path) -> None:
    personal = sign(
        keys,
        key="msa",
        kid="msa-1",
        iss=f"https://login.microsoftonline.com/{CONSUMER}/v2.0",
        tid=CONSUMER,
        upn="someone@hotmail.com",
    )
    con = run([event(token=personal, mailbox=None)], jwks=jwks)
    assert fired(con, personal) == {}


def test_times_and_subject(keys: dict[str, Any], jwks: Path) -> None:
    long = sign(keys, exp=claims()["iat"] + 48 * 3600)
    tok = sign(keys)
    con = run(
        [
            event(token=long),
            event(token=tok),  # in validity: no row-level hit
            event(token=tok, ts=T0 + timedelta(hours=2)),  # exp was T0+50min
            event(token=tok, ts=T0 - timedelta(hours=1)),  # nbf was T0-10min
            event(token=tok, user="bob@contoso.gov"),
        ],
        jwks=jwks,
    )
    assert fired(con, long) == {"LONG_LIFETIME": "medium"}
    assert fired(con, tok) == {
        "USED_EXPIRED": "medium",
        "USED_BEFORE_NBF": "medium",
        "SUBJECT_MISMATCH": "medium",
    }
    rows = con.execute("SELECT source_row, code FROM row_indicators ORDER BY source_row").fetchall()
    assert rows == [(3, "USED_EXPIRED"), (4, "USED_BEFORE_NBF"), (5, "SUBJECT_MISMATCH")]
    assert (
        "ann@contoso.gov"
        in con.execute("SELECT evidence FROM row_indicators WHERE code = 'SUBJECT_MISMATCH'").fetchone()[0]
    )  # type: ignore[index]
