"""Evidence values from the data are cut to 120 characters and say so: a cut list must not read as whole."""

from __future__ import annotations

import duckdb

from tui.engine.indicators.catalogue import MACROS


def test_long_values_end_in_an_ellipsis_and_short_ones_are_whole() -> None:
    con = duckdb.connect()
    try:
        con.execute(MACROS)
        countries = ", ".join(["AO", "BF", "ZA"] * 20)  # 178 characters
        got = con.execute(
            "SELECT _v(?), _v(?), _v('ZA'), _v(NULL::VARCHAR)", [countries, "x" * 120]
        ).fetchall()
        assert got == [(countries[:119] + "…", "x" * 120, "ZA", "missing")]
    finally:
        con.close()
