"""Generators for the hostile-input suite (issue 7): each writes one attacker-shaped input into a folder.

Every generator takes the folder to write into (a pytest tmp_path) and returns the path it wrote.
The logs look like the gateway and sign-in exports triage reads, so they reach the same code paths
as real evidence; only the hostile part differs.
"""

from __future__ import annotations

import base64
import csv
import json
import os
from collections.abc import Callable
from pathlib import Path

import duckdb

ESC_UA = "Mozilla/5.0 \x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZWNobyBwd25lZA==\x07 \u202etxt.exe"
ESC_USER = "\x1b[31mmallory\u202e@contoso.com\x1b[0m"
HOSTILE_CHARS = ("\x1b", "\x07", "\u202e")
BIDI = (
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
)


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWTs carry it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(header: dict | bytes, claims: dict | bytes, sig: bytes = b"\x01" * 32) -> str:
    """A compact JWT from a header and claims (objects are JSON-encoded, bytes used as they are)."""
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    c = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    return f"{b64url(h)}.{b64url(c)}.{b64url(sig)}"


GOOD_CLAIMS = {
    "aud": "https://outlook.office.com",
    "iss": "https://sts.windows.net/43bf1a0e-0000-4000-8000-00000000cdf9/",
    "tid": "43bf1a0e-0000-4000-8000-00000000cdf9",
    "upn": "adele@contoso.com",
    "uti": "AAAAAAAAAAAAAAAAAAAAAA",
    "iat": 1686800000,
    "exp": 1686803600,
}
HEADER = {"alg": "RS256", "typ": "JWT", "kid": "k1"}


def bad_tokens() -> dict[str, str]:
    """Malformed and hostile bearer values, by name."""
    h = b64url(json.dumps(HEADER).encode())
    c = b64url(json.dumps(GOOD_CLAIMS).encode())
    nested = ("[" * 10_000 + "]" * 10_000).encode()
    nested_obj = b'{"upn":"a@contoso.com","x":' + nested + b"}"
    bad_payload = b'{"upn":"\xff\xfe\xc3("}'
    bad_header = b"\xff\xfe"
    sig = b64url(b"x")
    return {
        "good": jwt(HEADER, GOOD_CLAIMS),
        "bad_base64": f"{h}.{c[:10]}!!$${c[10:]}.sig",
        "bad_base64_len": f"{h}.{c}A.{b64url(b'x')}",
        "bad_json": f"{h}.{b64url(b'{not json')}.{b64url(b'x')}",
        "two_segments": f"{h}.{c}",
        "four_segments": f"{h}.{c}.{b64url(b'x')}.{b64url(b'y')}",
        "non_utf8_payload": f"{h}.{b64url(bad_payload)}.{sig}",
        "non_utf8_header": f"{b64url(bad_header)}.{c}.{sig}",
        "alg_none": jwt({"alg": "none", "typ": "JWT"}, GOOD_CLAIMS, b""),
        "huge_1mb": jwt(HEADER, {**GOOD_CLAIMS, "pad": "A" * 780_000}),
        "deep_nested": jwt(HEADER, nested_obj),
        "huge_claims": jwt(HEADER, {**GOOD_CLAIMS, **{f"c{i}": i for i in range(20_000)}}),
        "escape_claims": jwt(HEADER, {**GOOD_CLAIMS, "upn": ESC_USER, "kid": "\x1b]52;c;eA==\x07"}),
        "header_array": jwt(b"[1,2]", GOOD_CLAIMS),
        "empty": "",
        "dots": "...",
        "bearer_only": "Bearer ",
    }


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


GATEWAY_HEADER = [
    "time",
    "client",
    "method",
    "url",
    "status",
    "user_agent",
    "request_header_authorization",
    "request_header_x_anchormailbox",
]


def gateway_rows(
    tokens: list[str], ua: str = "Outlook/16.0", mailbox: str = "SMTP:adele@contoso.com"
) -> list[list[str]]:
    """One gateway row per token, a minute apart."""
    return [
        [
            f"2023-06-15T04:{i % 60:02d}:00Z",
            f"203.0.113.{i % 250}:443",
            "GET",
            "/owa/service.svc?action=GetItem",
            "200",
            ua,
            f"Bearer {t}" if t else "",
            mailbox,
        ]
        for i, t in enumerate(tokens)
    ]


def tokens_csv(folder: Path) -> Path:
    """A gateway CSV whose bearer column holds every malformed token."""
    return _write_csv(folder / "gateway.csv", GATEWAY_HEADER, gateway_rows(list(bad_tokens().values())))


def tokens_parquet(folder: Path) -> Path:
    """The same tokens in a Parquet gateway log (the sample's native shape)."""
    path = folder / "gateway.parquet"
    con = duckdb.connect()
    rows = gateway_rows(list(bad_tokens().values()))
    con.execute(
        "CREATE TABLE g (time TIMESTAMPTZ, client VARCHAR, method VARCHAR, url VARCHAR, status INTEGER, "
        "user_agent VARCHAR, request_header_authorization VARCHAR, request_header_x_anchormailbox VARCHAR)"
    )
    con.executemany("INSERT INTO g VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(f"COPY g TO '{path}' (FORMAT parquet)")
    con.close()
    return path


def escapes_csv(folder: Path) -> Path:
    """ANSI/OSC sequences and bidi controls in user agents and user names (gateway and sign-ins)."""
    tok = jwt(HEADER, {**GOOD_CLAIMS, "upn": ESC_USER})
    rows = gateway_rows([tok, tok, bad_tokens()["good"]], ua=ESC_UA, mailbox=f"SMTP:{ESC_USER}")
    _write_csv(folder / "gateway.csv", GATEWAY_HEADER, rows)
    signins = {
        "value": [
            {
                "createdDateTime": "2023-06-15T04:00:00Z",
                "userPrincipalName": ESC_USER,
                "appId": "00000002-0000-0ff1-ce00-000000000000",
                "ipAddress": "203.0.113.9",
                "userAgent": ESC_UA,
                "uniqueTokenIdentifier": "AAAAAAAAAAAAAAAAAAAAAA",
            }
        ]
    }
    (folder / "signins.json").write_text(json.dumps(signins, ensure_ascii=False), encoding="utf-8")
    return folder / "gateway.csv"


FORMULAS = ('=HYPERLINK("http://evil","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR")


def formula_csv(folder: Path) -> Path:
    """A gateway log whose user agents, mailboxes and tokens' claims start formulas."""
    rows = []
    for i, f in enumerate(FORMULAS):
        tok = jwt(HEADER, {**GOOD_CLAIMS, "upn": f, "uti": f"uti{i}", "iss": f, "aud": f})
        rows += gateway_rows([tok], ua=f, mailbox=f)
    return _write_csv(folder / "gateway.csv", GATEWAY_HEADER, rows)


def nul_csv(folder: Path) -> Path:
    """Embedded NUL bytes inside and outside quoted cells."""
    path = folder / "nul.csv"
    tok = bad_tokens()["good"]
    lines = [",".join(GATEWAY_HEADER).encode()]
    for i in range(5):
        ua = b'"Out\x00look"' if i % 2 else b"Out\x00look"
        lines.append(
            f"2023-06-15T04:0{i}:00Z,203.0.113.1:443,GET,/x,200,".encode()
            + ua
            + f",Bearer {tok},SMTP:a\x00@contoso.com".encode()
        )
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def latin1_csv(folder: Path) -> Path:
    """Non-UTF-8 bytes (Latin-1 and stray continuation bytes) in cells and in a header name."""
    path = folder / "latin1.csv"
    tok = bad_tokens()["good"]
    head = ",".join(GATEWAY_HEADER).encode() + b",caf\xe9"
    rows = [
        f"2023-06-15T04:0{i}:00Z,203.0.113.1:443,GET,/x,200,".encode()
        + b"Mozilla \xe9\xff\xfe\x80,"
        + f"Bearer {tok},SMTP:ren\xe9@contoso.com,v".encode("latin-1")
        for i in range(5)
    ]
    path.write_bytes(head + b"\n" + b"\n".join(rows) + b"\n")
    return path


def multiline_csv(folder: Path) -> Path:
    """Quoted cells holding newlines (CR, LF, CRLF) and quotes, as Purview exports have."""
    tok = bad_tokens()["good"]
    rows = gateway_rows([tok] * 4, ua='line1\nline2\r\nline3\r"quoted"')
    return _write_csv(folder / "multiline.csv", GATEWAY_HEADER, rows)


def wide_csv(folder: Path, columns: int = 10_000) -> Path:
    """A header of 10,000 columns (the gateway's eight first) and three rows."""
    header = GATEWAY_HEADER + [f"extra_{i}" for i in range(columns - len(GATEWAY_HEADER))]
    rows = [r + ["x"] * (columns - len(GATEWAY_HEADER)) for r in gateway_rows([bad_tokens()["good"]] * 3)]
    return _write_csv(folder / "wide.csv", header, rows)


def duplicate_columns_csv(folder: Path) -> Path:
    """The same column name several times (including case variants and an empty name)."""
    header = GATEWAY_HEADER + ["user_agent", "USER_AGENT", "time", "", ""]
    rows = [
        r + ["dup-ua", "DUP-UA", "not a time", "e1", "e2"] for r in gateway_rows([bad_tokens()["good"]] * 3)
    ]
    return _write_csv(folder / "dups.csv", header, rows)


def mixed_tz_csv(folder: Path) -> Path:
    """One time column mixing Z, offsets, naive, locale, epoch and junk."""
    times = [
        "2023-06-15T04:00:00Z",
        "2023-06-15T06:00:00+02:00",
        "2023-06-15 04:00:00",
        "6/15/2023 4:00:00 AM",
        "2023-06-14T23:00:00-05:00",
        "1686801600",
        "not a time",
        "",
        "2023-02-30T00:00:00Z",
    ]
    tok = bad_tokens()["good"]
    rows = [
        [t, "203.0.113.1:443", "GET", "/x", "200", "ua", f"Bearer {tok}", "SMTP:a@contoso.com"] for t in times
    ]
    return _write_csv(folder / "mixed_tz.csv", GATEWAY_HEADER, rows)


def truncated_parquet(folder: Path) -> Path:
    """A gateway Parquet cut in half (the footer and magic gone) next to a zero-byte one."""
    good = tokens_parquet(folder)
    data = good.read_bytes()
    (folder / "truncated.parquet").write_bytes(data[: len(data) // 2])
    (folder / "empty.parquet").write_bytes(b"")
    (folder / "magic_only.parquet").write_bytes(b"PAR1")
    good.unlink()
    return folder / "truncated.parquet"


def one_line_json(folder: Path, megabytes: int = 100) -> Path:
    """One JSON document on a single ~100 MB line: a `{"value": [...]}` of sign-ins, written in blocks."""
    path = folder / "big.json"
    record = json.dumps(
        {
            "createdDateTime": "2023-06-15T04:00:00Z",
            "userPrincipalName": "adele@contoso.com",
            "appId": "00000002-0000-0ff1-ce00-000000000000",
            "ipAddress": "203.0.113.9",
            "uniqueTokenIdentifier": "AAAAAAAAAAAAAAAAAAAAAA",
            "pad": "x" * 800,
        }
    ).encode()
    block = b",".join([record] * 1000)
    blocks = max(1, megabytes * 1024 * 1024 // len(block))
    with path.open("wb") as fh:
        fh.write(b'{"value":[')
        for i in range(blocks):
            if i:
                fh.write(b",")
            fh.write(block)
        fh.write(b"]}")
    return path


def unreadable_dir(folder: Path) -> Path:
    """A folder of things that are not readable files, next to one good log."""
    d = folder / "evidence"
    d.mkdir()
    _write_csv(d / "good.csv", GATEWAY_HEADER, gateway_rows([bad_tokens()["good"]] * 2))
    locked = _write_csv(d / "locked.csv", GATEWAY_HEADER, gateway_rows([bad_tokens()["good"]]))
    locked.chmod(0)
    os.mkfifo(d / "pipe.csv")
    (d / "dangling.csv").symlink_to(d / "missing-target.csv")
    (d / "folder.csv").mkdir()
    (d / "loop.json").symlink_to(d / "loop.json")
    return d


CASES: dict[str, Callable[[Path], Path]] = {
    "tokens_csv": tokens_csv,
    "tokens_parquet": tokens_parquet,
    "escapes": escapes_csv,
    "formulas": formula_csv,
    "nul": nul_csv,
    "latin1": latin1_csv,
    "multiline": multiline_csv,
    "wide": wide_csv,
    "duplicate_columns": duplicate_columns_csv,
    "mixed_tz": mixed_tz_csv,
    "truncated_parquet": truncated_parquet,
    "unreadable_dir": unreadable_dir,
}
