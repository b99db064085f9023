"""What runs inside each fresh child process of the benchmark; each prints one JSON line.

`floor`    the bare DuckDB pass of SPEC §7 (default DuckDB settings).
`tui`      the Textual app through its test driver, until the Tokens pane shows its first page
           (the preview of the decoded tokens), and until it shows the complete table.
`latency`  a session as the TUI opens it, then Events-pane filters and random-offset page fetches
           through the engine calls the panes use (`panes.count_rows`/`fetch_page` → `analyses.run`).
`pyjwt`    PyJWT decoding each row of a slice in a loop (unverified header + claims).
`identity_floor` the bare DuckDB pass over the identity mix (bench/generate_identity.py).
`essential` a lower bound for `triage scan`: the distinct sets its findings list, and hashing and
           parsing each distinct token once, as bare DuckDB queries (bench/RESULTS.md, "the bound").
Times are measured from the top of the child (interpreter start, imports included).
"""

from __future__ import annotations

import time

T0 = time.monotonic()

import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402


def _emit(**values: object) -> None:
    print(json.dumps(values), flush=True)


def floor(path: str) -> None:
    """count(*), count(distinct) of the token, IP and mailbox columns, min/max of the time."""
    import duckdb

    con = duckdb.connect()
    row = con.execute(
        "SELECT count(*), count(DISTINCT request_header_authorization), count(DISTINCT client), "
        "count(DISTINCT request_header_x_anchormailbox), min(time), max(time) FROM read_parquet(?)",
        [path],
    ).fetchone()
    assert row is not None
    _emit(seconds=time.monotonic() - T0, rows=row[0], tokens=row[1], clients=row[2], mailboxes=row[3])


def identity_floor(folder: str) -> None:
    """The identity mix's bare DuckDB pass (`bench/identity.py`): the sign-ins' count, distinct
    sessions, users, addresses and time range, and the mail reads' count and distinct sessions (their
    `AuditData` parsed once a row, as any reader must)."""
    import duckdb

    con = duckdb.connect()
    signins = con.execute(
        "SELECT count(*), count(DISTINCT SessionId), count(DISTINCT UserPrincipalName), "
        "count(DISTINCT IPAddress), min(TimeGenerated), max(TimeGenerated) FROM read_parquet(?)",
        [f"{folder}/signins.parquet"],
    ).fetchone()
    reads = con.execute(
        "SELECT count(*), count(DISTINCT json_extract_string(AuditData, '$.SessionId')) FROM read_parquet(?)",
        [f"{folder}/purview.parquet"],
    ).fetchone()
    assert signins is not None and reads is not None
    _emit(
        seconds=time.monotonic() - T0,
        signins=signins[0],
        sessions=signins[1],
        users=signins[2],
        ips=signins[3],
        audit=reads[0],
        audit_sessions=reads[1],
    )


def tui(path: str, *more: str) -> None:
    """Time until the Tokens pane (the first pane) has its count and first page on screen, and until
    it shows the complete table (with the preview, `tui.engine.case.preview`, the first one is the decoded
    tokens with their claim and key indicators, usage pending). `more`: other inputs (a key list)."""
    import asyncio
    import os

    from tui.app import TriageApp
    from tui.engine.core.options import Options
    from tui.screens.main import MainScreen
    from tui.widgets.pane_view import PaneView

    async def run() -> None:
        app = TriageApp([path, *more], Options())
        first: dict[str, object] = {}
        async with app.run_test(size=(160, 48)) as pilot:
            while True:
                # Every pause walks the DOM and waits for the message queues (Pilot._wait_for_screen):
                # at 0.02 s that was ~1.5 s of main-thread CPU over a 10M-row open, taken from the
                # engine on 2 cores. 0.1 s adds at most 0.1 s to the figure, never subtracts.
                await pilot.pause(0.1)
                screen = app.screen
                if isinstance(screen, MainScreen):
                    view = screen.query_one("#pane-tokens", PaneView)
                    if view.ready and not view.has_class("-querying"):
                        seconds = time.monotonic() - T0
                        if not first:
                            first = {"seconds": seconds, "first_total": view.total, "preview": view.pending}
                        if not view.pending:
                            _emit(**first, complete_seconds=seconds, shown=view.shown, total=view.total)
                            os._exit(0)  # the other panes keep building; the Tokens pane is what we time

    asyncio.run(run())


def latency(path: str, samples: int) -> None:
    """p50/p95 of an Events-pane filter (count + first page), of a page at a random offset, of the
    detail panel's token sections (`explain.token_sections`) for random tokens, and of `n` / `N`
    (`panes.flagged_neighbour`) from random rows."""
    from tui.engine.analyses import tables as analyses
    from tui.engine.analyses.explain import token_sections
    from tui.engine.analyses.filter import compile_filter
    from tui.engine.analyses.pane_specs import PANE_BY_NAME
    from tui.engine.analyses.panes import PAGE_SIZE, count_rows, fetch_page, flagged_neighbour
    from tui.engine.analyses.tables import Where
    from tui.engine.case.session import Session
    from tui.engine.core.options import Options
    from tui.engine.core.schema import LOWER_CASE_FIELDS

    session = Session.open([path], Options())
    analyses.build(session.con, session.annotation.split)
    opened = time.monotonic() - T0
    spec = PANE_BY_NAME["events"]
    cur = session.cursor()
    cols = analyses.columns(cur, "events")
    rng = random.Random(8)
    users = [
        r[0] for r in cur.execute('SELECT DISTINCT "user" FROM events USING SAMPLE 2000').fetchall() if r[0]
    ]
    ips = [
        r[0]
        for r in cur.execute("SELECT DISTINCT client_ip FROM events USING SAMPLE 2000").fetchall()
        if r[0]
    ]
    days = [r[0] for r in cur.execute("SELECT DISTINCT CAST(ts AS DATE) FROM events").fetchall() if r[0]]
    ops = ["GetItem", "FindItem", "CreateItem", "SyncFolderItems"]

    def a_filter() -> str:
        pick = rng.randrange(6)
        if pick == 0:
            return f"user={rng.choice(users)}" if users else "severity>=medium"
        if pick == 1:
            return f"ip={rng.choice(ips)}" if ips else "severity>=low"
        if pick == 2:
            return f"severity>={rng.choice(['medium', 'high', 'low'])}"
        if pick == 3:
            day = rng.choice(days) if days else None
            return f"ts>={day} op={rng.choice(ops)}" if day else f"op={rng.choice(ops)}"
        if pick == 4:
            return f"status>=400 mailbox:shared{rng.randrange(50)}"
        return f"op={rng.choice(ops)} -ua:Macintosh"

    total = count_rows(cur, spec)
    filters, pages, texts = [], [], []
    for _ in range(samples):
        text = a_filter()
        texts.append(text)
        t = time.monotonic()
        where = Where.of(compile_filter(text, cols, LOWER_CASE_FIELDS))
        count_rows(cur, spec, where)
        fetch_page(cur, spec, where, 0)
        filters.append(time.monotonic() - t)
    for _ in range(samples):
        offset = rng.randrange(max(total // PAGE_SIZE, 1)) * PAGE_SIZE
        t = time.monotonic()
        fetch_page(cur, spec, Where(), offset)
        pages.append(time.monotonic() - t)
    tokens = cur.execute("SELECT tkey, tok_sha256 FROM tokens USING SAMPLE 2000").fetchall()
    details = []
    for _ in range(samples if tokens else 0):
        tkey, sha = rng.choice(tokens)
        t = time.monotonic()
        token_sections(cur, tkey, sha)
        details.append(time.monotonic() - t)
    # `n` / `N` on the Events pane: the next / previous flagged event from a random row, half of them
    # under one of the filters above
    jumps = []
    for i in range(samples):
        where = Where.of(compile_filter(texts[i], cols, LOWER_CASE_FIELDS)) if i % 2 else Where()
        rn = rng.randrange(max(total, 1))
        t = time.monotonic()
        flagged_neighbour(cur, where, rn, forward=i % 4 < 2)
        jumps.append(time.monotonic() - t)
    _emit(
        opened=opened,
        events=total,
        jump_p50=_pct(jumps, 50),
        jump_p95=_pct(jumps, 95),
        detail_p50=_pct(details, 50) if details else None,
        detail_p95=_pct(details, 95) if details else None,
        filter_p50=_pct(filters, 50),
        filter_p95=_pct(filters, 95),
        page_p50=_pct(pages, 50),
        page_p95=_pct(pages, 95),
        slowest_filter=texts[filters.index(max(filters))],
        filters=sorted(([round(f * 1000), t] for f, t in zip(filters, texts, strict=True)), reverse=True),
    )


def _pct(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def pyjwt(path: str, slice_rows: int) -> None:
    """Seconds to decode `slice_rows` rows with PyJWT in a Python loop (no signature check)."""
    import duckdb
    import jwt

    con = duckdb.connect()
    values = [
        r[0]
        for r in con.execute(
            "SELECT regexp_replace(request_header_authorization, '^Bearer ', '') "
            "FROM read_parquet(?) LIMIT ?",
            [path, slice_rows],
        ).fetchall()
    ]
    t = time.monotonic()
    failed = 0
    for token in values:
        try:
            jwt.get_unverified_header(token)
            jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            failed += 1
    _emit(seconds=time.monotonic() - t, rows=len(values), failed=failed)


# The work no engine can skip, each as one bare query over the gateway Parquet (engine settings:
# `tui.engine.core.db.connect`, 1.2 GB cap). Every findings row lists distinct sets: a token's IPs (the
# Tokens table, TOKEN_REPLAY) and when each (token, IP) pair was first seen (drift's "new IP"
# against the baseline, the user being the token's) — one grouping gives both — and a mailbox's IPs
# (the Mailboxes table). Nothing is normalised, joined or written, and the raw client text stands in
# for the IP. (Until session 6 the token's IPs and the pairs' first times were two queries, which
# overstated the bound by ~1.5 s at 10M; one GROUPING SETS query for all three is slower than two.)
ESSENTIAL_SETS = {
    "token_ips_first_seen": """SELECT count(*), sum(n), min(f) FROM (
        SELECT t, count(*) AS n, min(f) AS f FROM (
            SELECT hash(request_header_authorization) AS t, client, min(time) AS f FROM read_parquet(?)
            WHERE request_header_authorization IS NOT NULL GROUP BY ALL)
        GROUP BY t)""",
    "mailbox_ips": """SELECT count(*), sum(n) FROM (SELECT m, count(*) AS n FROM (
        SELECT DISTINCT request_header_x_anchormailbox AS m, client FROM read_parquet(?)
        WHERE request_header_x_anchormailbox IS NOT NULL) GROUP BY m)""",
}
# Per distinct token, already in memory (extracting them is not counted): its SHA-256 (the findings'
# tok_sha256) and one parse of its payload for the claims every indicator reads.
ESSENTIAL_DECODE = """SELECT count(sha256(t)), count(try(json_extract_string(
        decode(from_base64(replace(replace(split_part(t, '.', 2), '-', '+'), '_', '/')
                           || repeat('=', CAST((4 - len(split_part(t, '.', 2)) % 4) % 4 AS BIGINT)))),
        ['$.iss', '$.tid', '$.aud', '$.appid', '$.upn', '$.oid', '$.uti', '$.iat', '$.nbf', '$.exp'])))
    FROM _distinct_tokens"""


def essential(path: str) -> None:
    """Seconds of each essential query (and their sum): what any DuckDB engine must spend."""
    from tui.engine.core.db import connect

    con = connect()
    seconds: dict[str, float] = {}
    for name, sql in ESSENTIAL_SETS.items():
        t = time.monotonic()
        con.execute(sql, [path]).fetchall()
        seconds[name] = time.monotonic() - t
    con.execute(
        """CREATE TEMP TABLE _distinct_tokens AS SELECT any_value(substr(a, 8)) AS t
        FROM (SELECT request_header_authorization AS a, hash(a) AS k, file_row_number AS r
              FROM read_parquet(?, file_row_number = true) WHERE a IS NOT NULL)
        WHERE r IN (SELECT min(file_row_number) FROM read_parquet(?, file_row_number = true)
                    WHERE request_header_authorization IS NOT NULL
                    GROUP BY hash(request_header_authorization))
        GROUP BY k""",
        [path, path],
    )
    t = time.monotonic()
    con.execute(ESSENTIAL_DECODE).fetchall()
    seconds["decode_distinct"] = time.monotonic() - t
    tokens = con.execute("SELECT count(*) FROM _distinct_tokens").fetchone()
    _emit(**seconds, total=sum(seconds.values()), tokens=tokens[0] if tokens else 0)


def main(argv: list[str]) -> None:
    name, path, *rest = argv
    if name == "floor":
        floor(path)
    elif name == "tui":
        tui(path, *rest)
    elif name == "latency":
        latency(path, int(rest[0]))
    elif name == "pyjwt":
        pyjwt(path, int(rest[0]))
    elif name == "essential":
        essential(path)
    elif name == "identity_floor":
        identity_floor(path)
    else:
        raise SystemExit(f"unknown probe {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
