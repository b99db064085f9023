"""Country from IP, offline (iptocc), looked up once per distinct address rather than per row."""

from __future__ import annotations

import duckdb
import iptocc
import pyarrow as pa
import pyarrow.compute as pc

BATCH = 100_000


def build_ip_country(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    """Fill `ip_country(ip, country)` for every distinct `client_ip` in `relation`; returns the count.

    The distinct addresses come out as Arrow in batches and go back as one Arrow table: no Python
    tuple per row and no index to maintain (10M gateway rows have ~1.8M distinct addresses; the
    former row-wise fetch and PRIMARY KEY inserts took ~1 µs more each).
    """
    cursor = con.cursor()  # a second cursor, so creating the table does not close the pending result
    # No `WHERE client_ip IS NOT NULL`: DuckDB pushes that filter below the DISTINCT and then computes
    # the normalising expression twice (filter and projection), 6.0 s instead of 1.9 s at 10M rows.
    # The one NULL group is dropped here instead.
    reader = cursor.sql(f"SELECT DISTINCT client_ip FROM {relation}").to_arrow_reader(BATCH)
    ips: list[pa.Array] = []
    countries: list[str | None] = []
    for batch in reader:
        column = pc.drop_null(batch.column(0))
        ips.append(column)
        # iptocc answers None for private, reserved and malformed addresses; anything but a code is None
        countries.extend(
            c if isinstance(c, str) and c else None for c in iptocc.country_code(column.to_pylist())
        )
    cursor.close()
    ip = pa.concat_arrays(ips) if ips else pa.array([], pa.string())
    table = pa.table({"ip": ip.cast(pa.string()), "country": pa.array(countries, pa.string())})
    con.register("ip_country_batch", table)
    try:
        con.execute("CREATE OR REPLACE TABLE ip_country AS SELECT ip, country FROM ip_country_batch")
    finally:
        con.unregister("ip_country_batch")
    return len(ip)
