"""`--ioc` files: the IPv4 fast path gives exactly `ipaddress`'s answer, and the IOC tables hold what
the file said (the Arrow insert of `intel_tables`)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from tui.engine.tokens.intel import _normalise, load_intel, read_ioc_file
from tui.engine.tokens.intel_tables import intel_tables


def _reference(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _ours(value: str) -> str | None:
    try:
        return _normalise("ip", value)
    except ValueError:
        return None


_PART = st.one_of(
    st.integers(0, 300).map(str),
    st.sampled_from(["00", "01", "007", "255", "256", "", "٣", "1e1", " 1", "+1", "0x1"]),
)


@given(st.lists(_PART, min_size=3, max_size=5).map(".".join))
def test_ipv4_fast_path_agrees_with_ipaddress(value: str) -> None:
    assert _ours(value) == _reference(value)


def test_ipv4_fast_path_known_answers() -> None:
    assert _ours("203.0.113.7") == "203.0.113.7"
    assert _ours("0.0.0.0") == "0.0.0.0"
    assert _ours("010.0.0.1") is None  # leading zeros: ipaddress refuses them (ambiguous octal)
    assert _ours("256.1.1.1") is None
    assert _ours("2001:DB8:0:0::1") == "2001:db8::1"  # not IPv4: ipaddress canonicalises


def test_ioc_file_to_tables(tmp_path: Path) -> None:
    ioc = tmp_path / "feed.csv"
    ioc.write_text(
        "# a comment\n"
        "ip,203.0.113.7,feed A\n"
        "ip,2001:DB8::1\n"
        "ip,010.1.1.1,leading zero\n"
        'ua,"Mozilla/5.0 (X11, Linux) =cmd",feed B\n'
        "app,9199BF20-A13F-4107-85DC-02114787EF48,feed A\n"
        "cidr,198.51.100.0/24,net\n",
        encoding="utf-8",
    )
    found, notes = read_ioc_file(ioc)
    assert [(i.kind, i.value, i.note) for i in found] == [
        ("ip", "203.0.113.7", "feed A"),
        ("ip", "2001:db8::1", "feed.csv:3"),
        ("ua", "Mozilla/5.0 (X11, Linux) =cmd", "feed B"),
        ("app", "9199bf20-a13f-4107-85dc-02114787ef48", "feed A"),
        ("cidr", "198.51.100.0/24", "net"),
    ]
    assert len(notes) == 1 and notes[0].startswith("feed.csv:4: ip '010.1.1.1'")
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events_t AS SELECT * FROM (VALUES ('203.0.113.7'), ('198.51.100.9'), "
        "('2001:db8::1'), ('192.0.2.1')) v(client_ip)"
    )
    intel_tables(con, load_intel((ioc,)))
    extra = con.execute(
        "SELECT kind, value, note FROM _ioc WHERE note LIKE 'feed%' ORDER BY kind, value"
    ).fetchall()
    assert extra == [
        ("app", "9199bf20-a13f-4107-85dc-02114787ef48", "feed A"),
        ("ip", "2001:db8::1", "feed.csv:3"),
        ("ip", "203.0.113.7", "feed A"),
        ("ua", "Mozilla/5.0 (X11, Linux) =cmd", "feed B"),
    ]
    hits = con.execute("SELECT ip, note FROM _ioc_ip_hit ORDER BY ip").fetchall()
    assert hits == [
        ("198.51.100.9", "in 198.51.100.0/24 (net)"),
        ("2001:db8::1", "feed.csv:3"),
        ("203.0.113.7", "feed A"),
    ]
