"""The filter language against a real DuckDB table: exact rows per operator, errors, and properties."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.engine.analyses.filter import (
    ALIASES,
    OPERATORS,
    FilterError,
    Term,
    add_term,
    compile_filter,
    parse_terms,
    quote,
    remove_term,
)

COLUMNS = {
    "id": "BIGINT",
    "ts": "TIMESTAMP",
    "seen": "TIMESTAMP WITH TIME ZONE",
    "severity": "SEVERITY",
    "user": "VARCHAR",
    "mailbox": "VARCHAR",
    "client_ip": "VARCHAR",
    "user_agent": "VARCHAR",
    "app_id": "VARCHAR",
    "operation": "VARCHAR",
    "uses": "BIGINT",
    "ips": "VARCHAR[]",
    "status": "VARCHAR",
    "flag": "BOOLEAN",
}

ROWS = """
(1, '2023-05-31 23:59:59', 'info', 'alex.wilber@contoso.com', 'alex.wilber@contoso.com', '10.0.0.1',
    'Mozilla/5.0', 'app-1', 'MailItemsAccessed', 1, ['10.0.0.1'], '200', true),
(2, '2023-06-01 00:00:00', 'low', 'adele vance', 'adele.vance@contoso.com', '10.0.0.2',
    'curl/8.0', 'app-2', 'Send', 5, ['10.0.0.2', '203.0.113.9'], '404', false),
(3, '2023-06-01 04:05:03', 'high', 'Adele.Vance@contoso.com', 'ceo@contoso.com', '203.0.113.9',
    'python-requests/2.31', 'app-3', 'MailItemsAccessed', 150, ['203.0.113.9'], '500', true),
(4, '2023-06-02 12:00:00', 'critical', 'megan "mb" bowen', NULL, '2001:db8::1',
    'Mozilla/5.0 (X11)', 'app-1', 'MailItemsAccessed', -2, [], NULL, NULL),
(5, NULL, NULL, NULL, 'shared@contoso.com', NULL, '', NULL, NULL, NULL, NULL, '200', NULL)
"""


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    db.execute(
        'CREATE TABLE ev (id BIGINT, ts TIMESTAMP, severity VARCHAR, "user" VARCHAR, mailbox VARCHAR, '
        "client_ip VARCHAR, user_agent VARCHAR, app_id VARCHAR, operation VARCHAR, uses BIGINT, "
        "ips VARCHAR[], status VARCHAR, flag BOOLEAN)"
    )
    db.execute(f"INSERT INTO ev VALUES {ROWS}")
    db.execute("ALTER TABLE ev ADD COLUMN seen TIMESTAMPTZ")
    db.execute("UPDATE ev SET seen = ts::TIMESTAMPTZ")
    yield db
    db.close()


def ids(con: duckdb.DuckDBPyConnection, text: str) -> list[int]:
    c = compile_filter(text, COLUMNS)
    return [r[0] for r in con.execute(f"SELECT id FROM ev WHERE {c.where} ORDER BY id", c.params).fetchall()]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [1, 2, 3, 4, 5]),
        ("   ", [1, 2, 3, 4, 5]),
        # text: contains, equals, not equals (null counts as not equal), exclusion
        ("user:adele", [2, 3]),
        ("USER:ADELE", [2, 3]),
        ("user=adele.vance@CONTOSO.com", [3]),
        ('user!="adele vance"', [1, 3, 4, 5]),
        ("-user:adele", [1, 4, 5]),
        ('-user="adele vance"', [1, 3, 4, 5]),
        ('-user!="adele vance"', [2]),
        ("status>=400", [2, 3]),
        ("status<300", [1, 5]),
        # numbers
        ("uses>5", [3]),
        ("uses>=5", [2, 3]),
        ("uses<1", [4]),
        ("uses<=1", [1, 4]),
        ("uses=-2", [4]),
        ("uses!=5", [1, 3, 4, 5]),
        ("uses>1e2", [3]),
        ("uses<1.5", [1, 4]),
        ("-uses>1", [1, 4, 5]),
        ("uses:15", [3]),
        # times: date alone is midnight UTC; = covers the precision given; offsets go to UTC
        ("ts>=2023-06-01", [2, 3, 4]),
        ("ts>2023-06-01", [3, 4]),
        ("ts<2023-06-01", [1]),
        ("ts<=2023-06-01", [1, 2]),
        ("ts=2023-06-01", [2, 3]),
        ("ts!=2023-06-01", [1, 4, 5]),
        ("ts=2023-06-01T04:05", [3]),
        ("ts=2023-06-01T04:05:03Z", [3]),
        ("ts=2023-06-01T04:05:04Z", []),
        ('ts="2023-06-01 04:05:03Z"', [3]),
        ("ts=2023-06-01T06:05:03+02:00", [3]),
        ("ts>=2023-06-01T01:00-03:00", [3, 4]),
        ("ts>=2023-06-01 04:05", [3, 4]),
        ("ts:2023-06-02", [4]),
        ("seen>=2023-06-01T04:00", [3, 4]),
        ("seen=2023-06-01T06:05:03+0200", [3]),
        # severities by rank; unflagged ranks below info
        ("severity>=high", [3, 4]),
        ("severity>medium", [3, 4]),
        ("severity<low", [1, 5]),
        ("severity<=info", [1, 5]),
        ("severity=critical", [4]),
        ("severity!=critical", [1, 2, 3, 5]),
        ("severity=HIGH", [3]),
        ("severity:crit", [4]),
        ("severity=", [5]),
        # lists: any element
        ("ips:203.0", [2, 3]),
        ("ips=10.0.0.2", [2]),
        ("ips!=10.0.0.2", [1, 3, 4, 5]),
        ("-ips:203.0", [1, 4, 5]),
        ("ips=", [4, 5]),
        ("ips!=", [1, 2, 3]),
        # aliases
        ("ip=203.0.113.9", [3]),
        ("mbx:ceo", [3]),
        ("ua:mozilla", [1, 4]),
        ("app=app-1", [1, 4]),
        ("op=send", [2]),
        ("time>=2023-06-02", [4]),
        ("sev=low", [2]),
        ("sev>=HIGH", [3, 4]),
        # null / empty
        ("mailbox=", [4]),
        ('mailbox:""', [4]),
        ("mailbox:", [4]),
        ("mailbox!=", [1, 2, 3, 5]),
        ("user_agent=", [5]),
        ("uses=", [5]),
        ("ts=", [5]),
        # booleans
        ("flag=true", [1, 3]),
        ("flag=no", [2]),
        # quoting
        ('user:"megan \\"mb\\" bowen"', [4]),
        ('user:"\\"mb\\""', [4]),
        ('user:"adele vance"', [2]),
        ('user:"ADELE "', [2]),
        ('user:"vance "', []),
        # bare words: any text column (including lists and severity), case-insensitive
        ("contoso", [1, 2, 3, 5]),
        ("MOZILLA", [1, 4]),
        ("-contoso", [4]),
        ('"adele vance"', [2]),
        ("203.0.113.9", [2, 3]),
        ("critical", [4]),
        ("2001:db8::1", [4]),
        ('"http://x"', []),
        # combinations: all must hold
        ("contoso severity>=high", [3]),
        ("ua:mozilla -sev=critical", [1]),
        ("op=MailItemsAccessed uses>=1 ts<2023-06-02", [1, 3]),
        ("adele -ip:203 ts>=2023-06-01", [2]),
    ],
)
def test_rows(con: duckdb.DuckDBPyConnection, text: str, expected: list[int]) -> None:
    assert ids(con, text) == expected


def test_values_are_parameters(con: duckdb.DuckDBPyConnection) -> None:
    evil = "'); DROP TABLE ev; --"
    c = compile_filter(f'user:"{evil}" ips={quote(evil)}', COLUMNS)
    assert c.where == (
        'contains(lower("user"), lower(?)) AND '
        '(len(list_filter("ips", lambda _e0: (lower(_e0) = lower(?)))) > 0)'
    )
    assert c.params == (evil, evil)
    assert ids(con, f'user:"{evil}"') == []
    assert con.execute("SELECT count(*) FROM ev").fetchone() == (5,)


def test_compiled_parts() -> None:
    c = compile_filter("sev>=high ts>=2023-06-01T04:00+02:00", COLUMNS)
    assert c.params == (4, datetime(2023, 6, 1, 2, 0))
    assert compile_filter("", COLUMNS).where == "TRUE"
    assert compile_filter("", COLUMNS).params == ()
    huge = compile_filter("uses=99999999999999999999", COLUMNS)
    assert huge.params == (99999999999999999999,)


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("a sev>=hi", "severity must be one of info, low, medium, high, critical", 7),
        ("ts>=2023-13-01", "bad time '2023-13-01'", 4),
        ("ts>=2023-06-01T25:00", "bad time '2023-06-01T25:00'", 4),
        ("ts>=yesterday", "bad time 'yesterday'", 4),
        ("ts>=0001-01-01T00:00+01:00", "bad time '0001-01-01T00:00+01:00'", 4),
        ("uses>abc", "uses expects a number, got 'abc'", 5),
        ("uses>1e999", "number out of range '1e999'", 5),
        ("user>bob", "'>' compares times, numbers and severities; user is text", 4),
        ('user:"abc', "unterminated quote", 5),
        ('user:"a"b', "expected a space after the closing quote", 8),
        ("uses>", "'>' needs a value", 5),
        ('x ""', "empty search word", 2),
        ("flag=maybe", "flag must be true or false", 5),
        ("user:\ud800", "filter contains text that is not valid Unicode", 5),
        ("ts>\x1b[2J", "bad time '\\x1b[2J'", 3),
    ],
)
def test_errors(text: str, message: str, position: int) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(text, COLUMNS)
    assert (info.value.message, info.value.position, str(info.value)) == (message, position, message)


def test_unknown_field_lists_valid_ones() -> None:
    small = {"user": "VARCHAR", "client_ip": "VARCHAR"}
    with pytest.raises(FilterError) as info:
        compile_filter("ip:1 -usr:x", small)
    assert info.value.message == "unknown field 'usr' (fields: client_ip, ip, user)"
    assert info.value.position == 6
    assert isinstance(info.value, ValueError)
    # an alias is offered only when its target is in the allow-list
    with pytest.raises(FilterError, match=r"^unknown field 'sev' \(fields: client_ip, ip, user\)$"):
        compile_filter("sev>=high", small)
    with pytest.raises(FilterError, match="unknown field 'https'"):
        compile_filter("https://example.com", small)


def test_describe_and_chips() -> None:
    c = compile_filter('-ip=1.2.3.4 user:"adele vance" sev>=high bob "two words" "-x" mailbox=', COLUMNS)
    assert [t.describe() for t in c.terms] == [
        "-client_ip=1.2.3.4",
        'user:"adele vance"',
        "severity>=high",
        "bob",
        '"two words"',
        '"-x"',
        'mailbox=""',
    ]
    assert Term(None, ":", "\x1b[31m\u202e").chip() == "\\x1b[31m\\u202e"
    assert Term("user", "=", "a\nb").chip() == 'user="a\\nb"'
    spans = parse_terms('  a  user:"x y"')
    assert [(t.start, t.end) for t in spans] == [(2, 3), (5, 15)]


def test_add_and_remove_terms(con: duckdb.DuckDBPyConnection) -> None:
    assert add_term("sev>=high", "user", "=", "adele vance") == 'sev>=high user="adele vance"'
    assert add_term("", "user", ":", "adele", negate=True) == "-user:adele"
    quoted = add_term("", "user", "=", 'megan "mb" bowen')
    assert quoted == 'user="megan \\"mb\\" bowen"'
    assert ids(con, quoted) == [4]
    assert add_term(" ", "ts", "=", datetime(2023, 6, 1, 4, 5, 3)) == "ts=2023-06-01T04:05:03Z"
    assert ids(con, add_term("", "ts", "=", datetime(2023, 6, 1, 4, 5, 3))) == [3]
    assert add_term("", "mailbox", "=", None) == 'mailbox=""'
    assert ids(con, add_term("", "mailbox", "=", None)) == [4]
    assert ids(con, add_term("", "uses", "!=", -2)) == [1, 2, 3, 5]
    with pytest.raises(FilterError):
        add_term("", "user", "~", "x")
    assert remove_term('sev>=high  user:"adele vance"   bob', 1) == "sev>=high bob"
    assert remove_term("sev>=high", 0) == ""
    with pytest.raises(IndexError):
        remove_term("a b", 2)


# --- properties -------------------------------------------------------------------------------

_VOCABULARY = {
    "TRUE", "AND", "OR", "IS", "NOT", "NULL", "CASE", "WHEN", "THEN", "END", "CAST", "TRY_CAST", "AS",
    "VARCHAR", "DOUBLE", "lower", "contains", "len", "list_filter", "lambda", "coalesce", "_e0",
    "0", "1", "2", "3", "4", "5", "'info'", "'low'", "'medium'", "'high'", "'critical'", "''",
    "(", ")", ",", "?", "=", "<", ">", ":",
}  # fmt: skip
_IDENTIFIERS = re.compile("|".join(re.escape(f'"{name}"') for name in sorted(COLUMNS, key=len, reverse=True)))
_TOKENS = re.compile(r"'[a-z]*'|[A-Za-z_][A-Za-z_0-9]*|[0-9]+|\S")

_values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["2023-06-01", "2023-06-01T04:00", "2023-06-01 04:00:00Z", "9999-12-31", "0001-01-01T00:00+01:00",
         "2023-06-01T04:00-23:59", "high", "INFO", "1e999", "-5", "1e308", "-0.5", "9" * 40, "true", "",
         "'", '"', "\\", "%", "_", "?", "$1"]
    ),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?",
                  fullmatch=True),
)  # fmt: skip
_fields = st.sampled_from([*COLUMNS, *ALIASES, "usr", "USER", "Ts", "_", "token"])
_term = st.builds(
    lambda neg, field, op, value, quoted: (
        ("-" if neg else "") + field + op + (quote(value) if quoted else value)
    ),
    st.booleans(),
    _fields,
    st.sampled_from(OPERATORS),
    _values,
    st.booleans(),
)
_filters = st.one_of(st.text(), st.lists(st.one_of(_term, st.text(max_size=8)), max_size=4).map(" ".join))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_filters)
def test_any_text_is_safe(con: duckdb.DuckDBPyConnection, text: str) -> None:
    try:
        compiled = compile_filter(text, COLUMNS)
    except FilterError as exc:
        assert 0 <= exc.position <= len(text)
        return
    rest = _IDENTIFIERS.sub(" ", compiled.where)
    assert set(_TOKENS.findall(rest)) <= _VOCABULARY, compiled.where
    assert compiled.where.count("?") == len(compiled.params)
    con.execute(f"SELECT count(*) FROM ev WHERE {compiled.where}", compiled.params).fetchall()


@settings(max_examples=200, deadline=None)
@given(
    value=st.text(min_size=1), field=st.sampled_from(["user", "ips"]), op=st.sampled_from([":", "=", "!="])
)
def test_value_never_shapes_sql(value: str, field: str, op: str) -> None:
    try:
        compiled = compile_filter(add_term("", field, op, value), COLUMNS)
    except FilterError as exc:
        assert exc.message == "filter contains text that is not valid Unicode"
        return
    reference = compile_filter(add_term("", field, op, "x"), COLUMNS)
    assert compiled.where == reference.where
    assert compiled.params == (value,)


@settings(max_examples=200, deadline=None)
@given(value=st.text(min_size=1))
def test_quote_round_trips(value: str) -> None:
    (bare,) = parse_terms(Term(None, ":", value).describe())
    (field,) = parse_terms(Term("user", "=", value, negate=True).describe())
    assert (bare.field, bare.value, bare.negate) == (None, value, False)
    assert (field.field, field.op, field.value, field.negate) == ("user", "=", value, True)


@settings(max_examples=300, deadline=None)
@given(
    terms=st.lists(
        st.tuples(
            st.sampled_from([None, "user", "uses"]),
            st.sampled_from(["=", "!=", ">", ":"]),
            st.text(min_size=1),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_terms_round_trip_together(terms: list[tuple[str | None, str, str]]) -> None:
    """A filter written back from its terms reads as the same terms, spaced comparisons included
    (a bare word `>` or `=x` after a word is quoted, or it would join that word as `word > …`)."""
    written = [Term(f, op if f else ":", v) for f, op, v in terms]
    back = parse_terms(" ".join(t.describe() for t in written))
    assert [(t.field, t.op, t.value) for t in back] == [(t.field, t.op, t.value) for t in written]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("uses > 1", [2, 3]),
        ("uses >1", [2, 3]),
        ("uses> 1", [2, 3]),
        ("-uses >= 2", [1, 4, 5]),
        ('user = "adele vance"', [2]),
        ("ts >= 2023-06-01 04:05 contoso", [3]),
        ("sev >= high", [3, 4]),
    ],
)
def test_spaced_comparisons(con: duckdb.DuckDBPyConnection, text: str, expected: list[int]) -> None:
    """`uses > 1` is the comparison `uses>1`, not three words that match nothing."""
    assert ids(con, text) == expected
