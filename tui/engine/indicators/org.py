"""Who the organisation is: given by --tenant/--domain, else inferred from the data and said how."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from tui.engine.core.options import Options

CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
# Personal-mail domains are never the organisation's, however often they appear.
CONSUMER_DOMAINS = (
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "passport.com",
    "gmail.com",
    "yahoo.com",
    "icloud.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
)
DOMAIN_SHARE = 0.05


@dataclass(frozen=True)
class Org:
    """The organisation's tenant ids and mail domains, and how we know them."""

    tenants: tuple[str, ...]
    domains: tuple[str, ...]
    inferred: bool
    evidence: str


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()
    return bool(row and row[0])


def _infer_tenant(con: duckdb.DuckDBPyConnection) -> tuple[tuple[str, ...], str]:
    # While annotating, events_base carries `tok_key` instead of the token text (same null-ness).
    keyed = con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'events_base' "
        "AND column_name = 'tok_key'"
    ).fetchone()
    no_token = "tok_key IS NULL" if keyed and keyed[0] else "token IS NULL"
    parts = [
        f"""SELECT lower(trim(token_tenant_id)) AS tid, count(*) AS n FROM events_base
           WHERE token_tenant_id IS NOT NULL AND {no_token} GROUP BY 1"""
    ]
    if _has_table(con, "token_claims") and _has_table(con, "token_stats"):
        parts.append(
            """SELECT lower(trim(c.tid)) AS tid, sum(s.uses) AS n FROM token_claims c
               JOIN token_stats s USING (tok_key) WHERE c.tid IS NOT NULL GROUP BY 1"""
        )
    rows = con.execute(
        f"""SELECT tid, sum(n) AS n, sum(sum(n)) OVER () AS total FROM ({" UNION ALL ".join(parts)})
            WHERE tid <> ? GROUP BY tid ORDER BY n DESC, tid LIMIT 1""",
        [CONSUMER_TENANT],
    ).fetchall()
    if not rows:
        return (), "no tenant: no token or audit row names a non-consumer tenant"
    tid, n, total = rows[0]
    return (tid,), f"tenant {tid} inferred: most common non-consumer token tenant ({n:,} of {total:,} rows)"


def _infer_domains(con: duckdb.DuckDBPyConnection) -> tuple[tuple[str, ...], str]:
    rows = con.execute(
        """WITH addr AS (  -- the regex once per distinct address, not per row
               SELECT lower(regexp_extract(v, '@([A-Za-z0-9.-]+)[>\\s]*$', 1)) AS domain, n
               FROM (SELECT v, sum(n) AS n FROM (
                         -- each column grouped on its own: unnest([user, mailbox]) built 10M lists
                         SELECT "user" AS v, count(*) AS n FROM events_base WHERE "user" LIKE '%@%' GROUP BY 1
                         UNION ALL
                         SELECT mailbox, count(*) FROM events_base WHERE mailbox LIKE '%@%' GROUP BY 1)
                     GROUP BY v)
           ), counted AS (
               SELECT domain, sum(n) AS n FROM addr
               WHERE domain <> '' AND NOT list_contains(?, domain) GROUP BY 1
           )
           SELECT domain, n, sum(n) OVER () AS total FROM counted ORDER BY n DESC, domain""",
        [list(CONSUMER_DOMAINS)],
    ).fetchall()
    if not rows:
        return (), "no domain: no user or mailbox address outside personal-mail domains"
    total = rows[0][2]
    kept = [(d, n) for d, n, _ in rows if n >= DOMAIN_SHARE * total] or [rows[0][:2]]
    named = ", ".join(f"{d} ({n:,})" for d, n in kept)
    return tuple(d for d, _ in kept), (
        f"domains {named} inferred: user/mailbox address domains holding at least "
        f"{DOMAIN_SHARE:.0%} of {total:,} addressed rows"
    )


def infer_org(con: duckdb.DuckDBPyConnection, options: Options) -> Org:
    """--tenant/--domain when given; otherwise the most common tenant and address domains in the data."""
    inferred = False
    if options.tenants:
        tenants = tuple(options.tenants)
        tenant_note = f"tenant {', '.join(tenants)} given (--tenant)"
    else:
        tenants, tenant_note = _infer_tenant(con)
        inferred = True
    if options.domains:
        domains = tuple(options.domains)
        domain_note = f"domains {', '.join(domains)} given (--domain)"
    else:
        domains, domain_note = _infer_domains(con)
        inferred = True
    return Org(tenants=tenants, domains=domains, inferred=inferred, evidence=f"{tenant_note}; {domain_note}")
