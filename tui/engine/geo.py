"""Country from IP, offline (iptocc), looked up once per distinct address rather than per row."""

from __future__ import annotations

import duckdb
import iptocc
import pyarrow as pa

BATCH = 100_000


def build_ip_country(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    """Fill `ip_country(ip, country)` for every distinct `client_ip` in `relation`; returns the count."""
    con.execute("CREATE OR REPLACE TABLE ip_country (ip VARCHAR PRIMARY KEY, country VARCHAR)")
    cursor = con.cursor()  # a second cursor, so inserting does not close the pending result
    cursor.execute(f"SELECT DISTINCT client_ip FROM {relation} WHERE client_ip IS NOT NULL")
    total = 0
    while True:
        rows = cursor.fetchmany(BATCH)
        if not rows:
            break
        ips = [str(r[0]) for r in rows]
        countries = iptocc.country_code(ips)
        batch = pa.table({"ip": ips, "country": [_valid(c) for c in countries]})
        con.register("ip_country_batch", batch)
        con.execute("INSERT INTO ip_country SELECT ip, country FROM ip_country_batch")
        con.unregister("ip_country_batch")
        total += len(ips)
    cursor.close()
    return total


def _valid(code: object) -> str | None:
    """iptocc answers None for private, reserved and malformed addresses."""
    return str(code) if isinstance(code, str) and code else None
