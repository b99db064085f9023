"""Per-subject usage: `token_use` (one grouped pass over `events_t`) and the indicators' `_subject`.

A subject is a distinct raw token (`tok_key`) or, for rows that carry only identifiers, a uti.
"""

from __future__ import annotations

import duckdb

# token_use's list columns: name → the event column whose distinct values it holds
SUBJECT_LISTS = (
    ("users", '"user"'),
    ("mailboxes", "mailbox"),
    ("ips", "client_ip"),
    ("countries", "country"),
)


def build_subject(con: duckdb.DuckDBPyConnection) -> None:
    """`_subject` (TEMP): what the indicators read per subject, from `token_use` (300k rows, not 10M).

    Needs `_tok_keys(tok_key, tok_sha256)` on the same connection (annotate's `_prepare`)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _subject AS
        SELECT CASE WHEN u.tok_key IS NOT NULL THEN 'sha256:' || k.tok_sha256 ELSE 'uti:' || u.uti_key END
                   AS tkey,
               u.tok_key, u.row_uti, u.row_tid, u.row_iat, u.first_ts, u.last_ts, u.uses, u.use_rows,
               coalesce(array_length(u.ips), 0) AS n_ips,
               array_to_string(coalesce(u.ips, [])[:5], ', ') AS ips,
               coalesce(array_length(u.countries), 0) AS n_countries,
               array_to_string(coalesce(u.countries, []), ', ') AS countries,
               u.org_address
        FROM token_use u LEFT JOIN _tok_keys k ON k.tok_key = u.tok_key"""
    )


def build_token_use(con: duckdb.DuckDBPyConnection, issuance: list[str]) -> None:
    """`token_use`: one row per subject (tok_key, or the uti of a row without a raw token), one pass.

    Both the indicators (`_subject`) and the Tokens table (queries/tokens.sql) are built from it, so
    the 10M rows are grouped once, on integer keys, and named after (the per-row 'sha256:' text and
    list_distinct(list(…)) made this 6.9 s at 10M; a second grouped pass for the Tokens table cost
    another ~6 s). The lists are sorted, without NULLs, and NULL when empty (as the Tokens table
    shows). `users` holds the users the rows name; `rows_without_user` says whether the token's upn
    also counts (rows that name none get it, as the `events` view fills them).

    Each list is its own grouped scan of distinct (subject, value) pairs, joined on the subject:
    with several `list(DISTINCT …)` in one aggregate DuckDB first materialised the 10M input rows
    (2.86 s at 10M; this 2.43 s, the table equal).
    """
    lists = ", ".join(
        f"""{name} AS (SELECT tok_key, uti_key, list_sort(list(v)) AS {name}
            FROM (SELECT DISTINCT tok_key, uti_key, {column} AS v FROM rows WHERE {column} IS NOT NULL)
            GROUP BY ALL)"""
        for name, column in SUBJECT_LISTS
    )
    joins = " ".join(
        f"LEFT JOIN {name} ON {name}.tok_key IS NOT DISTINCT FROM b.tok_key "
        f"AND {name}.uti_key IS NOT DISTINCT FROM b.uti_key"
        for name, _ in SUBJECT_LISTS
    )
    picked = ", ".join(f"{name}.{name}" for name, _ in SUBJECT_LISTS)
    con.execute(
        f"""CREATE OR REPLACE TABLE token_use AS
        WITH rows AS NOT MATERIALIZED (
            SELECT * EXCLUDE (tok_key), tok_key, CASE WHEN tok_key IS NULL THEN token_id END AS uti_key
            FROM events_t WHERE tok_key IS NOT NULL OR token_id IS NOT NULL
        ), base AS (
            SELECT tok_key, uti_key,
                   any_value(token_id) FILTER (WHERE token_id IS NOT NULL) AS row_uti,
                   any_value(token_tenant_id) FILTER (WHERE token_tenant_id IS NOT NULL) AS row_tid,
                   any_value(token_object_id) FILTER (WHERE token_object_id IS NOT NULL) AS row_oid,
                   any_value(session_id) FILTER (WHERE session_id IS NOT NULL) AS row_sid,
                   min(token_iat) AS row_iat,
                   -- the client app the audit record names (AppAccessContext / ClientAppId), else its AppId:
                   -- the token's appid, as tid, oid and iat come from its rows when no raw token is kept
                   min(coalesce(client_app_id, app_id)) AS row_appid,
                   min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS uses,
                   count(*) FILTER (WHERE kind NOT IN (SELECT unnest(?::VARCHAR[])) OR kind IS NULL)
                       AS use_rows,
                   count(*) - count("user") AS rows_without_user,
                   min(CASE WHEN _domain_of(mailbox) IN (SELECT domain FROM _org_domain)
                                THEN lower(mailbox)
                            WHEN _domain_of("user") IN (SELECT domain FROM _org_domain)
                                THEN lower("user") END) AS org_address
            FROM rows GROUP BY 1, 2
        ), {lists}
        SELECT b.* EXCLUDE (org_address), {picked}, b.org_address
        FROM base b {joins}""",
        [issuance],
    )


def pending_token_use(con: duckdb.DuckDBPyConnection) -> None:
    """`token_use` before the rows are read (`tui.engine.case.preview`): a row per decoded token, every
    usage column NULL, typed as `build_token_use` types them (which replaces it)."""
    lists = ", ".join(f"NULL::VARCHAR[] AS {name}" for name, _ in SUBJECT_LISTS)
    con.execute(
        f"""CREATE OR REPLACE TABLE token_use AS
        SELECT tok_key, NULL::VARCHAR AS uti_key, NULL::VARCHAR AS row_uti, NULL::VARCHAR AS row_tid,
               NULL::VARCHAR AS row_oid, NULL::VARCHAR AS row_sid, NULL::TIMESTAMP AS row_iat,
               NULL::VARCHAR AS row_appid,
               NULL::TIMESTAMP AS first_ts,
               NULL::TIMESTAMP AS last_ts, NULL::BIGINT AS uses, NULL::BIGINT AS use_rows,
               NULL::BIGINT AS rows_without_user, {lists}, NULL::VARCHAR AS org_address
        FROM token_claims"""
    )


__all__ = ["SUBJECT_LISTS", "build_subject", "build_token_use", "pending_token_use"]
