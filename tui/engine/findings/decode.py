"""`triage decode`: the same decoder, verifier and catalogue as a scan, on tokens given by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.engine.case.annotate import annotate
from tui.engine.case.context import Case
from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.core.safe import inert
from tui.engine.core.schema import EVENT_COLUMNS
from tui.engine.core.sql import ident
from tui.engine.tokens.jwt_decode import JSON_FROM, json_text_sql

TIME_CLAIMS = ("iat", "nbf", "exp")


@dataclass(frozen=True)
class _NoFiles:
    """A load report with no inputs: decode has only the key lists given by --jwks."""

    jwks_files: tuple[Path, ...] = ()


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _loads(text: str | None, con: Any) -> dict[str, Any] | None:
    """A header's or claims' JSON text as a dict (None when it is not an object).

    JSON nested deeper than Python's reader recurses (RecursionError) is still shown: its top-level
    members are listed through DuckDB's reader, which decoded it, and each member too deep to show is
    said to be so, with its size, rather than the whole part vanishing without a word."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    except RecursionError:
        members = con.execute(
            "SELECT k, CAST(json_extract(CAST(? AS JSON), '/' || replace(replace(k, '~', '~0'), '/', '~1'))"
            " AS VARCHAR) FROM unnest(json_keys(CAST(? AS JSON))) AS u(k)",
            [text, text],
        ).fetchall()
        return {name: _member(member) for name, member in members}
    return value if isinstance(value, dict) else None


def _member(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        return f"(nested too deeply to show: {len(text):,} characters of JSON)"


def decode_tokens(tokens: list[str], options: Options) -> list[dict[str, Any]]:
    """One result dict per given token (in order): header, claims, UTC times, signature, indicators."""
    con = connect()
    try:
        columns = ", ".join(f"{ident(name)} {kind}" for name, kind in EVENT_COLUMNS)
        con.execute(f"CREATE TABLE events_base ({columns})")
        con.executemany(
            "INSERT INTO events_base (source, source_row, kind, token) VALUES ('<decode>', ?, 'decode', ?)",
            [[i, t] for i, t in enumerate(tokens, start=1)],
        )
        annotation = annotate(Case.start(options, con), _NoFiles())
        claims = {
            row[0]: row[1:]
            for row in con.execute(
                f"""SELECT c.tok_key, c.tok_sha256, {json_text_sql("header")}, {json_text_sql("claims")},
                          c.iat, c.nbf, c.exp, c.sig, c.decode_error, c.token_length, k.jwk_source
                   FROM {JSON_FROM} LEFT JOIN token_keys k ON k.tok_key = c.tok_key"""
            ).fetchall()
        }
        fired: dict[str, list[dict[str, Any]]] = {}
        for tkey, code, severity, evidence in con.execute(
            "SELECT tkey, code, severity, evidence FROM token_indicators ORDER BY sev_rank DESC, code"
        ).fetchall():
            fired.setdefault(tkey, []).append({"code": code, "severity": severity, "evidence": evidence})
        parts = {key: (_loads(row[1], con), _loads(row[2], con)) for key, row in claims.items()}
        keys = [
            r[0] for r in con.execute("SELECT hash(t) FROM unnest(?::VARCHAR[]) AS u(t)", [tokens]).fetchall()
        ]
    finally:
        con.close()
    out = []
    for key in keys:
        sha, _header, _payload, iat, nbf, exp, sig, error, length, jwk_source = claims[key]
        indicators = fired.get(f"sha256:{sha}", [])
        out.append(
            {
                "sha256": sha,
                "length": length,
                "decode_error": error,
                "header": parts[key][0],
                "claims": parts[key][1],
                "times_utc": {"iat": _iso(iat), "nbf": _iso(nbf), "exp": _iso(exp)},
                "signature": sig,
                "signature_key_source": jwk_source if sig in ("valid", "invalid") else None,
                "severity": indicators[0]["severity"] if indicators else None,
                "indicators": indicators,
                "organisation": annotation.org.evidence,
            }
        )
    return out


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _text(result: dict[str, Any], number: int, total: int) -> str:
    lines = [f"Token {number} of {total}  sha256:{result['sha256']}  ({result['length']:,} characters)"]
    if result["decode_error"]:
        lines.append(f"Not a decodable JWT: {result['decode_error']}")
    for title, part in (("Header", result["header"]), ("Claims", result["claims"])):
        if part is None:
            continue
        lines.append(title)
        for name, value in part.items():
            shown = _value(value)
            if title == "Claims" and name in TIME_CLAIMS:
                when = result["times_utc"][name]
                shown += f"  ({when})" if when else "  (not a time)"
            lines.append(f"  {name}: {shown}")
    sig = result["signature"]
    if sig == "no_jwks" or sig is None:
        lines.append("Signature: not checked (give key lists with --jwks)")
    else:
        source = f" (key list {result['signature_key_source']})" if result["signature_key_source"] else ""
        lines.append(f"Signature: {sig}{source}")
    lines.append(f"Severity: {result['severity'] or 'none'}")
    if result["indicators"]:
        lines.append("Indicators")
        lines.extend(f"  {i['severity']:<8} {i['code']:<26} {i['evidence']}" for i in result["indicators"])
    return "\n".join(lines)


def run_decode(tokens: list[str], options: Options, as_json: bool) -> tuple[str, int]:
    """Decode each token and render it as text or JSON, made inert; exit code 0."""
    results = decode_tokens(tokens, options)
    if as_json:
        return inert(json.dumps(results, indent=2, ensure_ascii=True)), 0
    blocks = [_text(r, i, len(results)) for i, r in enumerate(results, start=1)]
    if results:
        blocks.append(f"Organisation: {results[0]['organisation']}")
    return inert("\n\n".join(blocks)), 0
