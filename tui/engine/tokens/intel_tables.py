"""The threat intel as the TEMP tables the indicator catalogue joins (`tui.engine.indicators.catalogue`).

`_bad_key(ident, not_after, note)`: every identifier of a compromised signing key (kid, x5t, the
x5t of its SHA-1 thumbprint) and the kid / thumbprint IOCs; `_ioc(kind, value, note)`: the IP, user
agent and app IOCs; `_app_name(app, name)`: Microsoft first-party apps; `_ioc_ip_hit(ip, note)`:
the distinct client IPs an IP or CIDR IOC names (CIDRs matched in Python over the distinct IPs only).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import duckdb
import pyarrow as pa

from tui.engine.ingest.work import exists
from tui.engine.tokens.intel import Intel, thumbprint_to_x5t


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, types: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Append `rows` to the TEMP `table` (a name from code) in one statement.

    `executemany` runs one INSERT per row: an `--ioc` file naming 200k client IPs took 40 s of a
    1M-row scan that way (bench/RESULTS.md, session 13). Text columns go in as an Arrow table, which
    DuckDB scans in place: bound lists (`unnest(?::VARCHAR[])`) became one DuckDB value per element,
    outside the memory cap (an `--ioc` of 1.8M IPs: session 14). Other types (the few compromised
    keys' times) keep the bound lists, whose time-zone handling the key checks were tested with."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    if any(t != "VARCHAR" for t in types):
        unnest = ", ".join(f"unnest(?::{t}[])" for t in types)
        con.execute(f"INSERT INTO {table} SELECT {unnest}", columns)
        return
    batch = pa.table({f"c{i}": pa.array(column, type=pa.string()) for i, column in enumerate(columns)})
    view = f"_insert_{table.strip('_')}"
    con.register(view, batch)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM {view}")
    finally:
        con.unregister(view)


def bad_key_table(con: duckdb.DuckDBPyConnection, intel: Intel) -> None:
    """`_bad_key(ident, not_after, note)` (TEMP): the compromised keys' kids, x5ts and thumbprints."""
    bad: list[tuple[str, Any, str]] = []
    for key in intel.bad_keys:
        x5t_of_thumb = thumbprint_to_x5t(key.thumbprint_sha1)
        for ident in dict.fromkeys([key.kid, key.x5t, x5t_of_thumb]):
            if ident:
                bad.append((ident, key.not_after, key.note))
    for ioc in intel.values("kid"):
        bad.append((ioc.value, None, ioc.note))
    for ioc in intel.values("thumbprint"):
        bad.append((thumbprint_to_x5t(ioc.value) or ioc.value, None, ioc.note))
    con.execute("CREATE OR REPLACE TEMP TABLE _bad_key (ident VARCHAR, not_after TIMESTAMP, note VARCHAR)")
    if bad:
        _insert(con, "_bad_key", ("VARCHAR", "TIMESTAMP", "VARCHAR"), bad)


def intel_tables(con: duckdb.DuckDBPyConnection, intel: Intel) -> None:
    """`_bad_key`, `_ioc`, `_app_name` and `_ioc_ip_hit` (the distinct client IPs an IP or CIDR IOC names)."""
    bad_key_table(con, intel)
    con.execute("CREATE OR REPLACE TEMP TABLE _ioc (kind VARCHAR, value VARCHAR, note VARCHAR)")
    plain = [(i.kind, i.value, i.note) for i in intel.iocs if i.kind in ("ip", "ua", "app")]
    if plain:
        _insert(con, "_ioc", ("VARCHAR", "VARCHAR", "VARCHAR"), plain)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _app_name AS "
        "SELECT unnest(?::VARCHAR[]) AS app, unnest(?::VARCHAR[]) AS name",
        [[a.lower() for a, _ in intel.first_party_apps], [n for _, n in intel.first_party_apps]],
    )
    # The loader's `ip_country` already holds every distinct stored IP (work._add_countries): no
    # second distinct pass over the 10M rows (0.2 s); a hand-built events table has none.
    distinct = (
        "(SELECT ip AS client_ip FROM ip_country)"
        if exists(con, "ip_country")
        else "(SELECT DISTINCT client_ip FROM events_t WHERE client_ip IS NOT NULL)"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ioc_ip_hit AS
        SELECT DISTINCT b.client_ip AS ip, i.note FROM {distinct} b
        JOIN _ioc i ON i.kind = 'ip' AND i.value = lower(b.client_ip)"""
    )
    networks = [(ipaddress.ip_network(i.value), i.note) for i in intel.values("cidr")]
    if networks:
        # CIDR matching on the distinct IPs only (a small set), in Python's ipaddress.
        hits: list[tuple[str, str]] = []
        for (ip_text,) in con.execute(f"SELECT client_ip FROM {distinct}").fetchall():
            try:
                address = ipaddress.ip_address(ip_text)
            except ValueError:
                continue
            hits.extend((ip_text, f"in {net} ({note})") for net, note in networks if address in net)
        if hits:
            _insert(con, "_ioc_ip_hit", ("VARCHAR", "VARCHAR"), hits)
