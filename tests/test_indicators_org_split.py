"""Organisation inference and the drift split that FOREIGN_TENANT and NEW_APP_FOR_MAILBOX rely on."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from tui.engine.core.options import Options
from tui.engine.core.schema import EVENT_COLUMNS, EVENT_FIELDS
from tui.engine.indicators.org import infer_org
from tui.engine.indicators.split import drift_split

ORG = "8cf9e5e6-8f03-4bbb-9c67-f75d6ac98c97"
PARTNER = "251bae45-8d94-454b-8d0d-626fdf07eeb6"
CONSUMER = "9188040d-6c67-4c5b-b112-36a304b66dad"


def _con(rows: list[dict]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE events_base (" + ", ".join(f'"{n}" {t}' for n, t in EVENT_COLUMNS) + ")")
    if not rows:
        return con
    con.executemany(
        f"INSERT INTO events_base VALUES ({', '.join('?' for _ in EVENT_FIELDS)})",
        [[r.get(n) for n in EVENT_FIELDS] for r in rows],
    )
    return con


def test_org_inferred_from_tenants_and_addresses() -> None:
    rows = [{"token_tenant_id": ORG, "mailbox": f"u{i}@contoso.gov"} for i in range(6)]
    rows += [{"token_tenant_id": CONSUMER, "user": "x@outlook.com"} for _ in range(9)]
    rows += [{"token_tenant_id": PARTNER, "user": "guest@fabrikam.com"}]
    org = infer_org(_con(rows), Options())
    assert org.tenants == (ORG,)  # the consumer tenant is never the organisation, however common
    assert org.domains == ("contoso.gov", "fabrikam.com")  # fabrikam holds 1 of 7 addresses (> 5%)
    assert org.inferred and "6 of 7 rows" in org.evidence


def test_org_given_is_not_inferred() -> None:
    org = infer_org(_con([{"token_tenant_id": PARTNER}]), Options(tenants=(ORG,), domains=("contoso.gov",)))
    assert (org.tenants, org.domains, org.inferred) == ((ORG,), ("contoso.gov",), False)
    assert "given (--tenant)" in org.evidence


def test_split_default_and_baseline_until() -> None:
    start = datetime(2023, 5, 1)
    con = _con([{"ts": start + timedelta(days=d)} for d in range(0, 42)])
    last = start + timedelta(days=41)
    split = drift_split(con, Options())
    assert (split.baseline_start, split.window_start, split.window_end) == (
        start,
        last - timedelta(days=14),
        last,
    )
    assert split.baseline_end == split.window_start
    split = drift_split(con, Options(window_days=7, baseline_until=datetime(2023, 5, 20)))
    assert (split.baseline_end, split.window_start, split.window_end) == (
        datetime(2023, 5, 20),
        datetime(2023, 5, 20),
        last,
    )
    assert drift_split(_con([]), Options()).window_start is None
