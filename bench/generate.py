"""A gateway Parquet in the shape of sample_logs/gateway.parquet, N rows and about K distinct tokens.

Everything is generated inside DuckDB (no Python per row or per token). Tokens are RS256-shaped
JWTs of about 1.2 KB: a fixed Entra header (kid/x5t), genuine-looking claims per token (aud, iss,
iat/nbf/exp, amr, appid, idtyp, ipaddr, name, oid, scp, sub, tid, upn, uti, ver, sid), and a
*random* 256-byte signature segment (md5-derived bytes, base64url) — signature validity does not
matter for speed, and the benchmark passes no key list. One token in 997 is an opaque `EwB…` MSA
ticket instead. Rows are in time order over 30 days; each row uses a token issued to its user at
most ~55 minutes earlier (so nothing is expired), and every token is used at least once. The file
is written with `COPY … (FORMAT parquet)` and DuckDB's default writer settings.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

START_EPOCH = 1_682_899_200  # 2023-05-01T00:00:00Z
SPAN_S = 30 * 86_400
TENANT = "8cf9e5e6-8f03-4bbb-9c67-f75d6ac98c97"
DOMAIN = "contoso-agency.gov"
HEADER = {
    "alg": "RS256",
    "kid": "Es2aYbeZIFUXcB0g5-2MMxIeZM8",
    "typ": "JWT",
    "x5t": "Es2aYbeZIFUXcB0g5-2MMxIeZM8",
}
USERS = 5_000
LIFETIME_S = 55 * 60

_B64URL = "rtrim(translate(to_base64(encode({x})), '+/', '-_'), '=')"


def _b64url_text(expr: str) -> str:
    return _B64URL.format(x=expr)


def _uuid(seed: str) -> str:
    """A GUID-formatted string from md5 of a SQL expression."""
    m = f"md5({seed})"
    return (
        f"substr({m},1,8)||'-'||substr({m},9,4)||'-4'||substr({m},14,3)||'-a'||substr({m},18,3)"
        f"||'-'||substr({m},21,12)"
    )


def _random_bytes_b64(seed: str, n_md5: int) -> str:
    """base64url of n_md5*16 pseudo-random bytes derived from a SQL expression."""
    hexes = " || ".join(f"md5({seed} || '/{j}')" for j in range(n_md5))
    return f"rtrim(translate(to_base64(unhex({hexes})), '+/', '-_'), '=')"


def generate(path: Path, rows: int, tokens: int, memory_limit: str = "4GB", shift_hours: int = 0) -> None:
    """Write the benchmark Parquet (overwrites `path`).

    `shift_hours`: the dense-expiry case of issue 24 — every row's time moved that many hours later,
    as an export written in local time and read as UTC looks: the same rows and tokens, and with a
    shift past the tokens' lifetime (≤ 90 minutes) every use is after its token's `exp`."""
    import json

    header64 = (
        __import__("base64").urlsafe_b64encode(json.dumps(HEADER, separators=(",", ":")).encode()).decode()
    ).rstrip("=")
    tokens = max(1, min(tokens, rows))
    window = max(1, tokens * LIFETIME_S // SPAN_S)  # tokens issued within one lifetime
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    # its spill beside the output (bench/out, ignored by git), not in the working directory
    con.execute(f"SET temp_directory = '{path.parent / '.generate-spill'}'")
    con.execute(
        f"""CREATE TEMP TABLE tok AS
        SELECT k, u, iat,
            CASE WHEN k % 997 = 996 THEN 'EwB' || {_random_bytes_b64("'msa' || k", 40)}
            ELSE '{header64}.' || {_b64url_text("claims")} || '.' || {_random_bytes_b64("'sig' || k", 16)}
            END AS token
        FROM (
            SELECT k, u, iat, json_object(
                'aud', 'https://outlook.office.com',
                'iss', 'https://sts.windows.net/{TENANT}/',
                'iat', iat, 'nbf', iat, 'exp', iat + 3600 + (k % 1800),
                'amr', ['pwd', 'mfa'],
                'appid', CASE k % 3 WHEN 0 THEN '9199bf20-a13f-4107-85dc-02114787ef48'
                                   WHEN 1 THEN '00000002-0000-0ff1-ce00-000000000000'
                                   ELSE 'd3590ed6-52b3-4102-aeff-aad2292ab01c' END,
                'idtyp', 'user',
                'ipaddr', '81.' || (u % 200) || '.' || (u // 200 % 250) || '.' || (10 + u % 97),
                'name', 'User ' || u,
                'oid', {_uuid("'oid' || u")},
                'scp', 'Mail.ReadWrite Mail.Send User.Read EWS.AccessAsUser.All',
                'sub', {_random_bytes_b64("'sub' || u", 2)},
                'tid', '{TENANT}',
                'upn', 'user' || u || '@{DOMAIN}',
                'uti', {_random_bytes_b64("'uti' || k", 1)},
                'ver', '1.0',
                'sid', {_uuid("'sid' || k")})::VARCHAR AS claims
            FROM (SELECT k, (k * 7919) % {USERS} AS u,
                         {START_EPOCH} + (k * {SPAN_S}) // {tokens} AS iat
                  FROM range({tokens}) r(k))
        )"""
    )
    rows_sql = f"""
        SELECT make_timestamptz(CAST(({START_EPOCH} + {shift_hours * 3600} + (i * {SPAN_S}) / {rows})
                                     * 1000000 AS BIGINT)) AS time,
               CASE WHEN h % 5 = 0
                    THEN '102.' || (h // 5 % 200) || '.' || (h // 1000 % 250) || '.' || (h % 199)
                    ELSE t.ipaddr END || ':' || (1024 + h % 60000) AS client,
               CASE WHEN h % 3 = 0 THEN 'GET' ELSE 'POST' END AS method,
               'https://outlook.office.com/owa/service.svc?action='
                   || ['GetItem', 'FindItem', 'FindConversation', 'GetConversationItems',
                       'CreateItem', 'SyncFolderItems'][1 + h % 6] || '&app=Mail&n=' || i AS url,
               CASE WHEN h % 50 = 0 THEN 401 ELSE 200 END AS status,
               ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
                    || 'Chrome/114.0.0.0 Safari/537.36',
                'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) '
                    || 'Version/16.5 Safari/605.1.15',
                'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.16529; Pro)'][1 + t.u % 3]
                   AS user_agent,
               'Bearer ' || t.token AS request_header_authorization,
               'SMTP:' || CASE WHEN h % 20 = 0 THEN 'shared' || (h // 20 % 50) ELSE 'user' || t.u END
                   || '@{DOMAIN}' AS request_header_x_anchormailbox,
               CAST(200 + h % 250000 AS BIGINT) AS bytes
        FROM (
            SELECT i, h,
                   CASE WHEN base <> (i - 1) * {tokens} // {rows} OR i = 0 THEN base
                        ELSE greatest(0, base - CAST(h // 7 % {window} AS BIGINT)) END AS k
            FROM (SELECT i, i * {tokens} // {rows} AS base, CAST(hash(i) >> 1 AS BIGINT) AS h
                  FROM range({{lo}}, {{hi}}) r(i))
        ) r
        JOIN (SELECT k, u, token,
                     '81.' || (u % 200) || '.' || (u // 200 % 250) || '.' || (10 + u % 97) AS ipaddr
              FROM tok WHERE k BETWEEN {{k_lo}} AND {{k_hi}}) t USING (k)
        ORDER BY i"""
    if rows <= ONE_COPY_ROWS:  # one COPY, as every input measured before session 14 was written
        chunk = rows_sql.format(lo=0, hi=rows, k_lo=0, k_hi=tokens)
        con.execute(f"COPY ({chunk}) TO '{path}' (FORMAT parquet)")
    else:
        _write_chunks(con, path, rows_sql, rows, tokens, window)
    con.close()


def _write_chunks(
    con: duckdb.DuckDBPyConnection, path: Path, rows_sql: str, rows: int, tokens: int, window: int
) -> None:
    """Past `ONE_COPY_ROWS`: the rows in order, `CHUNK_ROWS` at a time, into one Parquet file.

    One `COPY … ORDER BY i` sorts every joined row with its 1.2 KB token: at 100M rows its spill
    passed 18 GB within minutes on its way to ~150 GB (session 14). A chunk joins only the tokens its
    rows use (token k's rows lie within `window` tokens of the chunk's own), and sorts only itself."""
    import pyarrow.parquet as pq

    writer = None
    try:
        for lo in range(0, rows, CHUNK_ROWS):
            hi = min(rows, lo + CHUNK_ROWS)
            k_lo, k_hi = max(0, lo * tokens // rows - window - 1), hi * tokens // rows + 1
            reader = con.sql(rows_sql.format(lo=lo, hi=hi, k_lo=k_lo, k_hi=k_hi)).to_arrow_reader(ROW_GROUP)
            for batch in reader:
                if writer is None:
                    writer = pq.ParquetWriter(
                        str(path),
                        batch.schema,
                        compression="snappy",
                        dictionary_pagesize_limit=DICTIONARY_BYTES,
                    )
                writer.write_batch(batch, row_group_size=ROW_GROUP)
    finally:
        if writer is not None:
            writer.close()


ONE_COPY_ROWS = 20_000_000  # up to this many rows: one COPY (the 1M and 10M files of earlier sessions)
CHUNK_ROWS = 2_000_000  # past it: ~3 GB of joined rows sorted at a time, under the 4 GB limit
ROW_GROUP = 122_880  # DuckDB's own row group size
# A row group's distinct tokens (~3,700 of 1.3 KB at 100M rows) in one dictionary, as DuckDB's writer
# keeps them: pyarrow's default 1 MB limit fell back to writing every row's token (a 9.7 GB file
# at 18% of the rows, session 14).
DICTIONARY_BYTES = 64 << 20


# The sizes bench.py --size names: (rows, distinct tokens), tokens growing with the rows (issue 24).
SIZES = {"1m": (1_000_000, 55_000), "10m": (10_000_000, 300_000), "100m": (100_000_000, 3_000_000)}


def dense_ioc(parquet: Path, out: Path) -> int:
    """The dense-hit case: an `--ioc` file naming every client IP of `parquet` (its `client`
    column is `ip:port`), so `IOC_IP` fires on every row. Returns how many IPs it names."""
    con = duckdb.connect()
    try:
        con.execute(
            r"""CREATE TEMP TABLE ips AS SELECT DISTINCT regexp_replace(client, ':\d+$', '') AS ip
            FROM read_parquet(?) WHERE client IS NOT NULL""",
            [str(parquet)],
        )
        con.execute(
            f"COPY (SELECT 'ip' AS type, ip, 'dense-hit bench' AS note FROM ips ORDER BY ip) "
            f"TO '{str(out).replace(chr(39), chr(39) * 2)}' (HEADER false)"
        )
        return int(con.execute("SELECT count(*) FROM ips").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


if __name__ == "__main__":
    # python bench/generate.py PATH ROWS TOKENS   (bench.py runs it as a child)
    # python bench/generate.py --dense-ioc PARQUET OUT.csv   (every client IP as an --ioc file)
    # python bench/generate.py --shift-hours H PATH ROWS TOKENS   (every row H hours late: all expired)
    import sys

    if sys.argv[1] == "--shift-hours":
        generate(Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), shift_hours=int(sys.argv[2]))
    elif sys.argv[1] == "--dense-ioc":
        print(dense_ioc(Path(sys.argv[2]), Path(sys.argv[3])), "client IPs")
    else:
        generate(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
