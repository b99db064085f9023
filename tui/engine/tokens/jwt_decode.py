"""Vectorised JWT decoding in DuckDB SQL: each distinct bearer value decoded once, no Python per row.

The decoder accepts exactly what PyJWT's `jwt.decode(t, options={"verify_signature": False})` and
`jwt.get_unverified_header(t)` accept (differential test: tests/test_tokens_decode.py):
three dot-separated segments; each segment base64url, canonical, with optional `=` padding only
when the segment length is a multiple of 4; header and payload UTF-8 JSON objects; `kid` a string;
`crit` only `["b64"]`; `b64: false` refused. Anything else sets `decode_error` (never raises).
When only the signature segment or a header member is bad, the header and claims are still
surfaced (with `decode_error` set), so an analyst sees what a broken token claimed.

Claims are surfaced as text: a JSON string as its value, any other JSON value as its JSON text
(`aud: ["a","b"]` → `["a","b"]`, `true` → `true`). `appid` is `appid` else `azp`; `upn` is `upn`,
else `preferred_username`, else `unique_name`.

Times (`iat`, `nbf`, `exp`) become naive UTC TIMESTAMPs the way PyJWT's own claim validation reads
them, `int(value)`: an integer, a float truncated toward zero, or a string holding an integer
(`"1690000000"` → 2023-07-22 04:26:40). Other strings, booleans, objects and times outside years
1-9999 (Python's `datetime`) give NULL; `claims_json` always keeps the raw value.

The same text runs on Spark (`tui.engine.spark.sql` transpiles it): hence `array_length` for the
segments' count, regex classes spelled out, and the time range checked rather than an error caught.

Known, documented differences from Python's `json` (DuckDB's reader is the lenient one): a
trailing comma in an object is accepted; with duplicate keys the *first* wins (Python: the last);
a UTF-8 byte-order mark or UTF-16/32 encoded JSON is refused (Python detects them).
"""

from __future__ import annotations

import duckdb

# `=` only ever trails (the regex checks it first), so replace() stands in for rtrim(); replace()
# and nested replace() are ~20× faster than rtrim(x, chars) and translate() on kilobyte segments.
# A segment that passes `_seg_ok` is canonical base64url (decoding and re-encoding gives it back)
# exactly when the bits its last character carries beyond the data are zero: with 2 characters
# left over (after groups of 4) the last one's value is a multiple of 16 (A Q g w), with 3 a multiple
# of 4. Checked on the text, the signature is never decoded (0.4 s of 300k tokens' decode).
# The header and payload are decoded anyway, and DuckDB's from_base64 refuses any character outside
# the standard alphabet, so `_seg_ok_decoded` checks only what the mapping to it would hide (`+`, `/`,
# an `=` before the end) instead of the alphabet regex over the kilobyte payload (exact: tested).
_MACROS = r"""
CREATE OR REPLACE TEMP MACRO _seg_ok(x) AS
    regexp_full_match(x, '[A-Za-z0-9_-]*={0,2}')
    AND (NOT x LIKE '%=' OR length(x) % 4 = 0)
    AND length(replace(x, '=', '')) % 4 <> 1;
CREATE OR REPLACE TEMP MACRO _seg_ok_decoded(x) AS
    NOT contains(x, '+') AND NOT contains(x, '/')
    AND (strpos(x, '=') = 0
         OR strpos(x, '=') >= length(x) - 1 AND right(x, length(x) - strpos(x, '=') + 1) IN ('=', '=='))
    AND (NOT x LIKE '%=' OR length(x) % 4 = 0)
    AND length(replace(x, '=', '')) % 4 <> 1;
CREATE OR REPLACE MACRO _seg_blob(x) AS
    try(from_base64(replace(replace(replace(x, '=', ''), '-', '+'), '_', '/')
        || repeat('=', CAST((4 - length(replace(x, '=', '')) % 4) % 4 AS BIGINT))));
CREATE OR REPLACE TEMP MACRO _seg_canonical(x) AS
    contains(
        ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', '', 'AQgw', 'AEIMQUYcgkosw048']
            [length(replace(x, '=', '')) % 4 + 1],
        substr(x, length(replace(x, '=', '')), 1));
CREATE OR REPLACE TEMP MACRO _claim_secs(j, path) AS
    CASE
        WHEN json_type(j, path) IN ('UBIGINT', 'BIGINT') THEN TRY_CAST(j ->> path AS BIGINT)
        WHEN json_type(j, path) = 'DOUBLE' THEN TRY_CAST(trunc(TRY_CAST(j ->> path AS DOUBLE)) AS BIGINT)
        WHEN json_type(j, path) = 'VARCHAR'
             AND regexp_full_match(j ->> path, '[ \t\n\r\x0b\x0c]*[+-]?[0-9]{1,18}[ \t\n\r\x0b\x0c]*')
            THEN TRY_CAST(trim(j ->> path, E' \t\n\r\x0b\x0c') AS BIGINT)
    END;
CREATE OR REPLACE TEMP MACRO _claim_time(secs) AS
    CASE WHEN secs BETWEEN -62135596800 AND 253402300799 THEN make_timestamp(secs * 1000000) END;
"""


def decode_sql(source: str) -> str:
    """SELECT decoding every row of relation `source(tok_key, token)`; `source` is an internal name."""
    return f"""
WITH s AS (
    SELECT tok_key, token, string_split(token, '.') AS p FROM {source}
), seg AS (
    SELECT tok_key, token, array_length(p) AS nseg,
           CASE WHEN array_length(p) = 3 THEN p[1] END AS h64,
           CASE WHEN array_length(p) = 3 THEN p[2] END AS c64,
           CASE WHEN array_length(p) = 3 THEN p[3] END AS s64
    FROM s
), blobs AS (
    SELECT *, CASE WHEN _seg_ok_decoded(h64) THEN _seg_blob(h64) END AS hb,
              CASE WHEN _seg_ok_decoded(c64) THEN _seg_blob(c64) END AS cb,
              _seg_ok(s64) AND _seg_canonical(s64) AS s_ok
    FROM seg
), texts AS (
    SELECT *, try(decode(hb)) AS ht, try(decode(cb)) AS ct FROM blobs
), parsed AS (
    SELECT *, CASE WHEN json_valid(ht) THEN CAST(ht AS JSON) END AS hj,
              CASE WHEN json_valid(ct) THEN CAST(ct AS JSON) END AS cj
    FROM texts
), checked AS (
    SELECT *,
        CASE
            WHEN nseg <> 3
                THEN 'not a JWT: ' || nseg || CASE WHEN nseg = 1 THEN ' segment' ELSE ' segments' END
            WHEN hb IS NULL OR NOT _seg_canonical(h64) THEN 'header: invalid base64url'
            WHEN ht IS NULL THEN 'header: not UTF-8'
            WHEN hj IS NULL THEN 'header: not JSON'
            WHEN json_type(hj) <> 'OBJECT' THEN 'header: not a JSON object'
            WHEN json_type(hj, '$.b64') = 'BOOLEAN' AND hj ->> '$.b64' = 'false'
                THEN 'header: b64=false (unencoded payload)'
            WHEN cb IS NULL OR NOT _seg_canonical(c64) THEN 'payload: invalid base64url'
            WHEN ct IS NULL THEN 'payload: not UTF-8'
            WHEN cj IS NULL THEN 'payload: not JSON'
            WHEN json_type(cj) <> 'OBJECT' THEN 'payload: not a JSON object'
            WHEN NOT s_ok THEN 'signature: invalid base64url'
            WHEN json_exists(hj, '$.kid') AND json_type(hj, '$.kid') <> 'VARCHAR'
                THEN 'header: kid is not a string'
            WHEN json_exists(hj, '$.crit') AND NOT (
                    json_type(hj, '$.crit') = 'ARRAY' AND json_array_length(hj, '$.crit') > 0
                    AND list_bool_and(list_transform(CAST(json_extract(hj, '$.crit[*]') AS VARCHAR[]),
                                                     lambda x: x = '"b64"'))
                    AND json_exists(hj, '$.b64'))
                THEN 'header: unsupported crit'
        END AS decode_error
    FROM parsed
), ok AS (
    SELECT *, CASE WHEN readable THEN hj END AS h, CASE WHEN readable THEN cj END AS c
    FROM (SELECT *, decode_error IS NULL OR starts_with(decode_error, 'signature:')
                    OR decode_error IN ('header: kid is not a string', 'header: unsupported crit') AS readable
          FROM checked)
), fields AS (
    -- One parse per document: a list of paths is extracted in a single pass over the JSON text.
    SELECT *, json_extract_string(h, ['$.alg', '$.typ', '$.kid', '$.x5t', '$.jku', '$.x5u']) AS hv,
              json_extract_string(c, ['$.iss', '$.tid', '$.aud', '$.appid', '$.azp', '$.upn',
                                      '$.preferred_username', '$.unique_name', '$.oid', '$.uti', '$.sid',
                                      '$.ver', '$.idp', '$.scp', '$.amr', '$.deviceid']) AS cv,
              json_extract(c, ['$.iat', '$.nbf', '$.exp']) AS tv
    FROM ok
), secs AS (
    -- each time claim's seconds once (the range check and the conversion both read them)
    SELECT *, _claim_secs(tv[1], '$') AS iat_s, _claim_secs(tv[2], '$') AS nbf_s,
              _claim_secs(tv[3], '$') AS exp_s
    FROM fields
)
SELECT
    tok_key,
    sha256(token) AS tok_sha256,
    length(token) AS token_length,
    hv[1] AS alg,
    hv[2] AS typ,
    hv[3] AS kid,
    hv[4] AS x5t,
    hv[5] AS jku,
    hv[6] AS x5u,
    CASE WHEN h IS NOT NULL THEN json_exists(h, '$.jwk') END AS has_jwk,
    cv[1] AS iss,
    cv[2] AS tid,
    cv[3] AS aud,
    coalesce(cv[4], cv[5]) AS appid,
    coalesce(cv[6], cv[7], cv[8]) AS upn,
    cv[9] AS oid,
    cv[10] AS uti,
    cv[11] AS sid,
    cv[12] AS ver,
    cv[13] AS idp,
    cv[14] AS scp,
    -- `amr` (v1 tokens only; a v2 token carries none: unknown, not "no MFA") as its methods, `,`-joined
    CASE WHEN starts_with(cv[15], '[') THEN array_to_string(try(from_json(cv[15], '["VARCHAR"]')), ',')
         ELSE cv[15] END AS amr,
    cv[16] AS deviceid,
    _claim_time(iat_s) AS iat,
    _claim_time(nbf_s) AS nbf,
    _claim_time(exp_s) AS exp,
    CAST(NULL AS VARCHAR) AS sig,
    decode_error,
    readable
FROM secs
"""


# The header and claims JSON text is not stored (~1 KB a token, written for every token: 2 s of the
# 22.6 s decoding 2M all-distinct tokens) but decoded again where it is shown, from the token's first
# two segments, which `readable` says are canonical base64url holding UTF-8 JSON objects. Not TEMP
# (nor is `_seg_blob`, which it decodes with): the detail panel reads it on a pane's cursor.
_JSON_MACRO = """
CREATE OR REPLACE MACRO _jwt_json(token, n) AS decode(_seg_blob(split_part(token, '.', n)));
"""


def json_text_sql(part: str, claims: str = "c", text: str = "t") -> str:
    """SQL for a token's `header` or `claims` JSON text: NULL unless the token is readable.

    For the few rows a reader shows (the detail panel's token, `triage decode`'s tokens), over
    `token_claims {claims} LEFT JOIN token_text {text} ON {text}.tok_key = {claims}.tok_key` (`JSON_FROM`).
    A correlated lookup of the text instead took 2-3 s a token at 10M rows (DuckDB scanned token_text)."""
    segment = {"header": 1, "claims": 2}[part]
    return f"CASE WHEN {claims}.readable THEN _jwt_json({text}.token, {segment}) END"


# The relation `json_text_sql`'s default aliases read.
JSON_FROM = "token_claims c LEFT JOIN token_text t ON t.tok_key = c.tok_key"


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The helper macros the decode SQL uses (temporary, per connection), and `_jwt_json`."""
    con.execute(_MACROS)
    con.execute(_JSON_MACRO)


def build_claims(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Create `token_claims` from the relation `source(tok_key, token)` (`work.DISTINCT_TOKENS`)."""
    install_macros(con)
    con.execute("CREATE OR REPLACE TABLE token_claims AS " + decode_sql(source))


def decode_values(con: duckdb.DuckDBPyConnection, tokens: list[str]) -> None:
    """Decode a short list of tokens into `token_claims` (for `triage decode` and tests)."""
    from tui.engine.ingest.work import DISTINCT_TOKENS, keep_token_text

    con.execute("CREATE OR REPLACE TEMP TABLE _given_tokens (token VARCHAR)")
    con.executemany("INSERT INTO _given_tokens VALUES (?)", [[t] for t in tokens])
    con.execute(
        """CREATE OR REPLACE TABLE _tok_map AS
        SELECT hash(token) AS raw_key, hash(token) AS tok_key, token
        FROM (SELECT DISTINCT token FROM _given_tokens)"""
    )
    keep_token_text(con)
    build_claims(con, DISTINCT_TOKENS)
