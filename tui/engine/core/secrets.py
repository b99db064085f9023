"""Raw bearer values found by what they are, wherever they are, and withheld (SPEC §8).

The column a token was read from is dropped by name (`token`), but a raw token can sit in any
other cell: a session id a broken export filled with the ticket, a user agent column mapped from
the wrong header, a URL with `access_token=`, a header dump, an action's parameters. So every text
cell of a findings file or a saved view is searched for one, in DuckDB (`redacted`: one vectorised
projection, RE2 over each text column, never a Python loop over rows), and every text the TUI
shows through `mask_text` (a page of cells, a detail panel, a notification).

What counts as a raw bearer value (`TOKEN`, one pattern for DuckDB's RE2 and Python's `re`):
- a JWT: `eyJ` (a JSON header's first bytes, base64url) and two or more dot-separated segments
  (a JWE's five included);
- an opaque MSA compact ticket: `EwA`…`EwD` and 40 or more base64 characters (Storm-0558's
  consumer tokens, Outlook.com's `EwB…`);
- whatever follows a `Bearer` scheme (16 or more token characters), and the value of an
  `access_token=`, `refresh_token=` or `id_token=` URL parameter.

Each is replaced by `‹token sha256:<first 16 hex>… (<n> characters)›` — the key the Tokens pane and
`tokens.csv` know it by — and a `Bearer ` or `access_token=` before it stays readable.
"""

from __future__ import annotations

import hashlib
import re

import duckdb

from tui.engine.core.sql import ident, literal

# `[ \t\n\f\r]`, not `\s`: RE2's `\s` is these five, Python's any Unicode space.
_SPACE = r"[ \t\n\f\r]"
_PREFIX = rf"(?i:bearer){_SPACE}+|[?&#](?i:access_token|refresh_token|id_token)="
TOKEN = (
    rf"(?i:bearer){_SPACE}+[A-Za-z0-9._~+/=-]{{16,}}"
    rf"|[?&#](?i:access_token|refresh_token|id_token)=[^&#\"' \t\n\f\r]+"
    r"|eyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){2,4}"
    r"|Ew[A-D][A-Za-z0-9+/_-]{40,}={0,2}"
)
_TOKEN_RE = re.compile(TOKEN)
_PREFIX_RE = re.compile(f"^(?:{_PREFIX})")


def token_mark(token: str) -> str:
    """How a withheld token is shown: by the key the Tokens pane knows it under, and its length."""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]
    return f"‹token sha256:{digest}… ({len(token):,} characters)›"


def _marked(match: re.Match[str]) -> str:
    text = match.group(0)
    prefix = _PREFIX_RE.match(text)
    kept = prefix.group(0) if prefix else ""
    return kept + token_mark(text[len(kept) :])


def mask_text(text: str) -> str:
    """`text` with every raw bearer value in it replaced by its mark."""
    return _TOKEN_RE.sub(_marked, text) if text else text


def holds_token(text: str) -> bool:
    return bool(text) and _TOKEN_RE.search(text) is not None


def mask_sql(expr: str) -> str:
    """SQL for the text `expr` with every raw bearer value replaced by its mark (as `mask_text`).

    The text is cut at the tokens (`regexp_split_to_array`) and each piece but the last followed by
    its token's mark (`regexp_extract_all`); a text without a token comes back as it was. Two
    regular expressions, each ~0.3 ms to compile and ~10 ns a byte to run (RE2 with counted
    repetitions): `redacted` runs this only on the cells `holds_token_sql` lets through."""
    p = literal(TOKEN)
    spaces = literal(" \t\n\f\r")
    # Each value is computed once and named by a one-element list's lambda (`_mask_t` the token,
    # `_mask_s` its secret): every mention of a regular expression is compiled apart. The lambda
    # parameters are named so that no column of ours is hidden by them.
    secret = (  # what stays readable before it: `Bearer ` or `?access_token=` (TOKEN's first forms)
        "CASE WHEN _mask_t ILIKE 'bearer%' THEN ltrim(substr(_mask_t, 7), " + spaces + ") "
        "WHEN left(_mask_t, 1) IN ('?', '&', '#') THEN substr(_mask_t, strpos(_mask_t, '=') + 1) "
        "ELSE _mask_t END"
    )
    mark = (
        "left(_mask_t, length(_mask_t) - length(_mask_s)) || '‹token sha256:' || left(sha256(_mask_s), 16) "
        "|| '… (' || format('{:,}', length(_mask_s)) || ' characters)›'"
    )
    token = f"list_transform([{secret}], lambda _mask_s: {mark})[1]"
    nth = f"regexp_extract_all({expr}, {p})[_mask_i]"  # NULL after the last piece
    marked = (
        f"list_transform(regexp_split_to_array({expr}, {p}), lambda _mask_piece, _mask_i: _mask_piece || "
        f"coalesce(list_transform([{nth}], lambda _mask_t: {token})[1], ''))"
    )
    return f"array_to_string({marked}, '')"


def holds_token_sql(expr: str) -> str:
    """SQL true for a text `expr` that holds a raw bearer value (`TOKEN` finds one in it).

    Substring searches first — each of TOKEN's forms holds `eyJ`, `Ew`, `bearer` or `token=` in
    any case — and the regular expression only on the texts they let through: on tokens.csv of a
    1M-row scan (36 MB of text, one core) the searches take 0.17 s and RE2 alone 0.40 s, and they
    let ~1% of the cells through (a uti with `Ew` in it, the evidence "bearer value is not…")."""
    near = " OR ".join(
        (
            f"contains({expr}, 'eyJ')",
            f"contains({expr}, 'Ew')",
            f"{expr} ILIKE '%bearer%'",
            f"{expr} ILIKE '%token=%'",
        )
    )
    return f"(({near}) AND regexp_matches({expr}, {literal(TOKEN)}))"


# Types whose values cannot hold text, passed as they are.
_PLAIN = frozenset(
    "BOOLEAN TINYINT SMALLINT INTEGER BIGINT HUGEINT UTINYINT USMALLINT UINTEGER UBIGINT UHUGEINT FLOAT "
    "DOUBLE DATE TIME TIMESTAMP TIMESTAMP_S TIMESTAMP_MS TIMESTAMP_NS INTERVAL UUID".split()
) | {"TIMESTAMP WITH TIME ZONE"}


def _candidate(col: str, kind: str) -> str | None:
    """SQL true for a cell of column `col` (quoted) of type `kind` that holds a token; None for
    types that cannot."""
    if kind == "VARCHAR":
        return holds_token_sql(col)
    if kind == "VARCHAR[]":
        return holds_token_sql(f"array_to_string({col}, ' ')")  # the separator keeps elements apart
    if kind in _PLAIN or kind.startswith("DECIMAL"):
        return None
    return holds_token_sql(f"CAST({col} AS VARCHAR)")


def redacted(rel: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The relation with every raw bearer value in a text cell replaced by its mark, whatever the
    column is called: text columns and lists of text are masked token by token (`mask_sql`, on the
    cells that hold one, `holds_token_sql`), and a cell of any other non-numeric type (a struct, a
    map) that holds one when read as text is withheld whole (NULL). Numbers, booleans and times
    pass as they are; the columns keep names, types and order."""
    exprs = []
    for name, kind in zip(rel.columns, rel.types, strict=True):
        col, text = ident(name), str(kind)
        holds = _candidate(col, text)
        if holds is None:
            exprs.append(col)
            continue
        if text == "VARCHAR":
            masked = mask_sql(col)
        elif text == "VARCHAR[]":
            masked = f"list_transform({col}, lambda _mask_x: {mask_sql('_mask_x')})"
        else:
            masked = "NULL"  # a struct or map: withheld whole
        exprs.append(f"CASE WHEN {holds} THEN {masked} ELSE {col} END AS {col}")
    return rel.project(", ".join(exprs)) if exprs else rel
