"""Every named query runs against the committed sample incident and returns what its header says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.engine.analyses import tables as analyses
from tui.engine.analyses.filter import FilterError, compile_filter
from tui.engine.case.session import Session
from tui.engine.core.options import Options
from tui.engine.core.queries import all_query_names, named_query
from tui.engine.core.sql import ident
from tui.engine.indicators.split import drift_split

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"


@pytest.fixture(scope="module")
def session() -> Session:
    s = Session.open([str(SAMPLE)], Options())
    analyses.build(s.con, drift_split(s.con, Options()))
    yield s
    s.close()


def test_every_query_file_declares_what_it_returns_and_uses_no_paths() -> None:
    names = all_query_names()
    assert {"tokens", "mailboxes", "drift", "timeline", "events_page", "events_count"} <= set(names)
    for name in names:
        q = named_query(name)
        assert q.returns, name
        assert "sample_logs" not in q.sql and "read_parquet" not in q.sql, name


@pytest.mark.parametrize("name", all_query_names())
def test_every_query_runs_on_the_sample(session: Session, name: str) -> None:
    params: list[object] = []
    if name == "drift":
        params = analyses.split_params(drift_split(session.con, Options()))
    if name.endswith("_page"):
        params = [50, 0]
    if name in ("events_flagged_after", "events_flagged_before"):
        params = [0 if name.endswith("after") else 10**9, 3]  # from before the first / after the last row
    if name == "events_place":
        params = [100]
    table = analyses.run(session.con, name, params)
    assert table.num_rows > 0, name
    columns = table.column_names
    assert all(columns) and len(set(columns)) == len(columns), (name, columns)  # rows become dicts
    pane = name.removesuffix("_page").removesuffix("_count")
    if name.endswith(("_page", "_count")):  # against the pane's table, counted without the named queries
        total = session.con.execute(f"SELECT count(*) FROM {ident(pane)}").fetchone()[0]
        assert total > 0
        if name.endswith("_page"):
            assert table.num_rows == min(50, total), name
        else:
            assert table.num_rows == 1 and table.column(0)[0].as_py() == total, name


def test_a_tokens_position_is_its_place_in_the_pages_order(session: Session) -> None:
    """`token_position` sorts by `TOKENS_ORDER`, tokens_page.sql by its own ORDER BY: the two must
    agree, filtered or not."""
    from tui.engine.analyses.panes import token_position
    from tui.engine.analyses.tables import Where

    for where in (Where(), Where("severity = ?", ("critical",))):
        page = analyses.run(session.con, "tokens_page", [10_000, 0], where).column("tkey").to_pylist()
        assert len(page) > (3 if where.params else 1000)
        for index in range(0, len(page), max(len(page) // 25, 1)):
            assert token_position(session.con, where, page[index]) == index
    kept = analyses.run(session.con, "tokens_page", [10_000, 0], Where("severity = ?", ("none",)))
    assert (
        token_position(session.con, Where("severity = ?", ("critical",)), kept.column("tkey")[0].as_py())
        is None
    )


def test_tokens_are_one_row_per_subject_worst_first(session: Session) -> None:
    rows = session.con.execute("SELECT tkey, sev_rank, uses FROM tokens").fetchall()
    keys = [r[0] for r in rows]
    assert len(keys) == len(set(keys))
    page = analyses.run(session.con, "tokens_page", [len(rows), 0])  # what the pane shows, in order
    ranks = list(zip(page.column("sev_rank").to_pylist(), page.column("uses").to_pylist(), strict=True))
    assert len(ranks) == len(rows) and ranks == sorted(ranks, reverse=True)
    assert ranks[0][0] > ranks[-1][0]  # the sample has flagged and unflagged tokens
    distinct_tokens = session.con.execute(
        "SELECT count(DISTINCT tok_key) FROM events WHERE tok_key IS NOT NULL"
    ).fetchone()[0]
    raw = session.con.execute("SELECT count(*) FROM tokens WHERE tkey LIKE 'sha256:%'").fetchone()[0]
    assert raw == distinct_tokens


def test_mailbox_items_are_the_sum_of_operation_counts(session: Session) -> None:
    mailbox = "juno.hargreave@contoso-agency.gov"
    expected = session.con.execute(
        "SELECT sum(coalesce(items, 1)), count(*) FROM events WHERE lower(mailbox) = ? "
        "AND (tok_key IS NOT NULL OR operation = 'MailItemsAccessed')",
        [mailbox],
    ).fetchone()
    got = session.con.execute("SELECT items, accesses FROM mailboxes WHERE mailbox = ?", [mailbox]).fetchone()
    assert got == expected


@pytest.mark.parametrize(
    "filter_text", ["", "mailbox=ximena.albright@contoso-agency.gov", "kind=purview_audit"]
)
def test_the_next_and_previous_flagged_events_are_the_neighbours_in_the_pages_order(
    session: Session, filter_text: str
) -> None:
    """`n` / `N` on the Events pane (`flagged_neighbour`): from any row, the place of the nearest
    event after / before it at severity medium or worse, in the order the pages show, under the
    filter; None at the ends."""
    from tui.engine.analyses.panes import FLAGGED_RANK, flagged_neighbour

    where = compile_filter(filter_text, analyses.columns(session.con, "events"))
    page = analyses.run(session.con, "events_page", [100_000, 0], where)
    rns, ranks = page.column("rn").to_pylist(), page.column("sev_rank").to_pylist()
    flagged = [i for i, rank in enumerate(ranks) if (rank or 0) >= FLAGGED_RANK]
    assert 0 < len(flagged) < len(rns) / 2  # some rows flagged, most not: the jumps skip rows
    spread = range(0, len(rns), max(len(rns) // 40, 1))
    starts = sorted({0, len(rns) - 1, *flagged[:3], *flagged[-3:], *spread})
    for start in starts:
        after = next((i for i in flagged if i > start), None)
        before = next((i for i in reversed(flagged) if i < start), None)
        assert flagged_neighbour(session.con, analyses.Where.of(where), rns[start], True) == after, start
        assert flagged_neighbour(session.con, analyses.Where.of(where), rns[start], False) == before, start


def test_a_question_mark_in_a_query_comment_is_not_a_placeholder() -> None:
    """The filter's values go after the placeholders before the marker; a `?` in the query's header
    comment was counted as one, and the values went to the wrong places (a binder error, or worse, a
    wrong answer)."""
    sql = "-- returns: rows after row ? (a comment)\nSELECT 1 WHERE (/*FILTER*/ TRUE) AND x > ?"
    spliced, params = analyses.splice(sql, analyses.Where("a = ?", ("v",)), [7])
    assert spliced.endswith("WHERE ((a = ?)) AND x > ?")
    assert params == ["v", 7]


def test_filtered_page_and_count_agree(session: Session) -> None:
    cols = analyses.columns(session.con, "tokens")
    where = compile_filter("severity>=high", cols)
    page = analyses.run(session.con, "tokens_page", [1000, 0], where)
    n = analyses.run(session.con, "tokens_count", (), where).column("n")[0].as_py()
    plain = session.con.execute(
        "SELECT count(*) FROM tokens WHERE severity IN ('high', 'critical')"
    ).fetchone()[0]
    assert page.num_rows == n == plain > 0
    assert set(page.column("severity").to_pylist()) == {"critical", "high"}
    assert "token" not in page.column_names


def test_timeline_counts_every_event_once(session: Session) -> None:
    table = analyses.run(session.con, "timeline")
    total = session.con.execute("SELECT count(*) FROM events WHERE ts IS NOT NULL").fetchone()[0]
    assert sum(table.column("events").to_pylist()) == total
    pairs = zip(table.column("flagged").to_pylist(), table.column("events").to_pylist(), strict=True)
    assert all(f <= e for f, e in pairs)


@pytest.mark.parametrize("pane", ["tokens", "mailboxes", "events"])
def test_severity_filters_on_the_stored_rank_match_the_severity_text(session: Session, pane: str) -> None:
    """`severity op value` compiles to the stored `sev_rank` where the table has it; same rows as the
    severity text ranked by the filter's own CASE (what it compiles to without `sev_rank`)."""
    cols = analyses.columns(session.con, pane)
    text_only = {c: t for c, t in cols.items() if c != "sev_rank"}
    table = "events_rows" if pane == "events" else pane
    seen = set()
    for op in (">=", "=", "<", "!=", ">"):
        for value in ("info", "low", "medium", "high", "critical"):
            ranked, texted = (
                compile_filter(f"severity{op}{value}", cols),
                compile_filter(f"severity{op}{value}", text_only),
            )
            assert "sev_rank" in ranked.where and "sev_rank" not in texted.where
            counts = [
                session.con.execute(
                    f"SELECT count(*) FROM {table} WHERE {c.where}", list(c.params)
                ).fetchone()[0]
                for c in (ranked, texted)
            ]
            assert counts[0] == counts[1], (op, value)
            seen.add(counts[0])
    assert len(seen) > 3  # the filters do separate the rows


def test_users_and_mailboxes_are_stored_lower_case(session: Session) -> None:
    """The analyses and marks compare `user`/`mailbox` without lower(): the loader must lower them."""
    mixed = session.con.execute(
        """SELECT count(*) FILTER (WHERE "user" <> lower("user") OR mailbox <> lower(mailbox)),
                  count("user"), count(mailbox)
        FROM events"""
    ).fetchone()
    assert mixed[0] == 0 and mixed[1] > 100 and mixed[2] > 100


def test_filters_on_lower_case_columns_match_the_case_folding_ones(session: Session) -> None:
    """`user`, `mailbox`, `client_ip` are stored lower-case, so the TUI's filters lower only the value;
    the rows are the ones `lower(column)` finds, on every pane that has such a column."""
    from tui.engine.core.schema import LOWER_CASE_FIELDS

    con = session.con
    user, mailbox, ip = con.execute(
        """SELECT any_value("user"), any_value(mailbox), any_value(client_ip) FROM events
        WHERE "user" IS NOT NULL AND mailbox IS NOT NULL AND client_ip IS NOT NULL"""
    ).fetchone()
    terms = [
        f"user={user.upper()}",
        f"mailbox:{mailbox.split('@')[0].upper()}",
        f"ip={ip}",
        f"-user:{user[:3]}",
    ]
    for pane, table in (("events", "events_rows"), ("mailboxes", "mailboxes"), ("drift", "drift")):
        cols = analyses.columns(con, pane)
        for text in terms:
            try:
                fast = compile_filter(text, cols, LOWER_CASE_FIELDS)
            except FilterError:
                continue  # a field this pane does not have
            slow = compile_filter(text, cols)
            counts = [
                con.execute(f"SELECT count(*) FROM {table} WHERE {c.where}", list(c.params)).fetchone()[0]
                for c in (fast, slow)
            ]
            assert counts[0] == counts[1], (pane, text)
    fast = compile_filter(f"user={user.upper()}", analyses.columns(con, "events"), LOWER_CASE_FIELDS)
    assert fast.where == '("user" = lower(?))'
    assert (
        con.execute(f"SELECT count(*) FROM events_rows WHERE {fast.where}", list(fast.params)).fetchone()[0]
        > 0
    )


def test_ipv6_client_addresses_are_stored_lower_case() -> None:
    import duckdb

    from tui.engine.ingest.normalise import ip_sql

    rows = duckdb.sql(
        f"SELECT {ip_sql('x')} FROM (SELECT unnest(['[2001:DB8::A]:443', '2001:DB8::B', '10.0.0.1:80']) AS x)"
    ).fetchall()
    assert rows == [("2001:db8::a",), ("2001:db8::b",), ("10.0.0.1",)]


@pytest.mark.parametrize(
    ("client", "ip"),
    [
        ("1.2.3.4:80", "1.2.3.4"),
        ("10.0.0.1:65535", "10.0.0.1"),
        ("1.2.3.4", "1.2.3.4"),
        ("[::1]", "::1"),
        ("[FE80::1]:8443", "fe80::1"),
        ("1.2.3.4:", "1.2.3.4:"),  # not address:port: kept as written
        ("1.2.3.4:80:90", "1.2.3.4:80:90"),
        ("a.b.c.d:80", "a.b.c.d:80"),
        ("1.2.3.4.5:80", "1.2.3.4.5:80"),
        ("x\n1.2.3.4:80", "x\n1.2.3.4:80"),  # `^`/`$` anchor the whole value, not a line
        ("-", None),
        ("::", None),
        ("[]:80", None),
    ],
)
def test_client_address_without_its_port(client: str, ip: str | None) -> None:
    import duckdb

    from tui.engine.ingest.normalise import ip_sql

    con = duckdb.connect()  # not the module's shared connection: fetchone() leaves its result open
    try:
        assert con.execute(f"SELECT {ip_sql('x')} FROM (SELECT ?::VARCHAR AS x)", [client]).fetchall() == [
            (ip,)
        ]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("pane", "column"),
    [
        ("tokens", "first_seen"),
        ("tokens", "ips"),
        ("tokens", "severity"),
        ("mailboxes", "accesses"),
        ("mailboxes", "mailbox"),
        ("drift", "window_events"),
    ],
)
@pytest.mark.parametrize("descending", [False, True])
def test_a_pane_sorted_by_a_column_keeps_its_own_order_within_ties(
    session: Session, pane: str, column: str, descending: bool
) -> None:
    """`o` / `O` (`panes.order_sql`): the page query's rows in the column's order (`severity` by its
    rank; empty values last both ways), and among equal values in the pane's own order."""
    from tui.engine.analyses.pane_specs import PANE_BY_NAME
    from tui.engine.analyses.panes import Order, order_sql
    from tui.engine.analyses.tables import pane_columns

    spec = PANE_BY_NAME[pane]
    own = analyses.run(session.con, spec.page_query, [100_000, 0]).to_pylist()
    terms = order_sql(spec, Order(column, descending), list(pane_columns(session.con, pane)))
    rows = analyses.run(session.con, spec.page_query, [100_000, 0], None, terms).to_pylist()
    key = "sev_rank" if column == "severity" else column
    place = {spec_key(spec, r): i for i, r in enumerate(own)}
    present = sorted((r for r in own if r[key] is not None), key=lambda r: place[spec_key(spec, r)])
    present.sort(key=lambda r: r[key], reverse=descending)  # stable: ties keep the pane's own order
    expected = present + [r for r in own if r[key] is None]
    assert [spec_key(spec, r) for r in rows] == [spec_key(spec, r) for r in expected]
    assert len({str(r[key]) for r in rows}) > 2  # the column has values to sort


def spec_key(spec: object, row: dict) -> object:
    from tui.engine.analyses.panes import row_key

    return row_key(spec, row)  # type: ignore[arg-type]


def test_only_a_panes_own_shown_columns_can_be_sorted_by() -> None:
    """The sort's column is checked against the pane's columns and quoted; hidden columns, the token
    text, anything else and the Events pane (time order: a sort for every page of ten million rows)
    are refused."""
    from tui.engine.analyses.pane_specs import PANE_BY_NAME
    from tui.engine.analyses.panes import Order, order_sql

    tokens, events = PANE_BY_NAME["tokens"], PANE_BY_NAME["events"]
    columns = ["severity", "uses", "sev_rank", "token"]
    assert order_sql(tokens, Order("uses", True), columns) == '"uses" DESC NULLS LAST, '
    assert order_sql(tokens, Order("severity"), columns) == '"sev_rank" ASC NULLS LAST, '
    assert order_sql(tokens, None, columns) == ""
    for refused in ("sev_rank", "token", "ips", 'uses" DESC; DROP TABLE tokens; --'):
        with pytest.raises(ValueError):
            order_sql(tokens, Order(refused), columns)
    with pytest.raises(ValueError):
        order_sql(events, Order("ts"), ["ts"])


def test_each_sortable_page_query_has_one_order_marker_outside_its_comments() -> None:
    """The marker in a header comment was the one replaced (the sort did nothing)."""
    for name in ("tokens_page", "mailboxes_page", "drift_page"):
        sql = named_query(name).sql
        code = "\n".join(line.split("--")[0] for line in sql.splitlines())
        assert sql.count(analyses.ORDER_MARKER) == code.count(analyses.ORDER_MARKER) == 1, name


def test_a_mailboxs_folders_are_the_distinct_folders_its_counted_reads_name(session: Session) -> None:
    """Mailboxes' `folders` (SPEC §5): every folder path the mailbox's counted rows name, once, sorted."""
    expected = dict(
        session.con.execute(
            """SELECT mailbox, list_sort(list(DISTINCT f)) FROM (
                   SELECT mailbox, unnest(string_split(folders, '; ')) AS f FROM events
                   WHERE mailbox IS NOT NULL AND (tkey IS NOT NULL OR operation = 'MailItemsAccessed')
                         AND folders IS NOT NULL)
               GROUP BY mailbox"""
        ).fetchall()
    )
    got = dict(session.con.execute("SELECT mailbox, folders FROM mailboxes").fetchall())
    assert len(expected) > 10 and {m: got[m] for m in expected} == expected
    assert "\\Inbox" in expected[next(iter(expected))]


def test_a_mailboxs_detail_says_which_folders_each_suspect_token_read(session: Session) -> None:
    """The detail panel of a mailbox lists, under each token at severity medium or worse, the folders
    that token's reads of it name (audit records carry them; a request does not)."""
    from tui.engine.analyses.explain import explain

    mailbox = analyses.run(session.con, "mailboxes_page", [1, 0]).to_pylist()[0]
    section = next(
        s for s in explain(session.con, "mailboxes", mailbox).sections if s.title.startswith("tokens")
    )
    shown: dict[str, str] = {}
    token = ""
    for line in section.lines:
        if not line.label.startswith("  "):
            token = line.label
        elif line.label == "  folders":
            shown[token] = line.text
    expected = {
        tkey: ", ".join(sorted(set(folders.split("; "))))
        for tkey, folders in session.con.execute(
            "SELECT tkey, string_agg(folders, '; ') FROM events WHERE lower(mailbox) = lower(?) "
            "AND folders IS NOT NULL AND sev_rank >= 3 GROUP BY tkey",
            [mailbox["mailbox"]],
        ).fetchall()
    }
    assert shown and all(t.startswith("uti:") for t in shown)
    assert shown == {t: expected[t] for t in shown}
