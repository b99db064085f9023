"""Window frame bounds as literals: Spark parses only a literal `RANGE … PRECEDING/FOLLOWING` bound.

The engine's SQL bounds a frame by a setting kept in a one-row parameter table
(`RANGE BETWEEN to_minutes(q.spray_minutes) PRECEDING AND CURRENT ROW`, `q` being
`_identity_params`, made from `Options` by bound parameters). DuckDB takes that expression; Spark
refuses anything but a literal there. `inline_frame_bounds(tree, value_of)` replaces such a bound by
its value, computed on Spark (`value_of`: the bound's expression selected from the one-row tables
its columns name, each checked to hold exactly one row), written back as a typed literal:

- an `int` as a number, a finite `float` as a number (`repr`, which reads back exactly), a
  `timedelta` (a DuckDB interval) as `INTERVAL '<seconds>.<µs>' SECOND`;
- anything else (text, NULL, a list) is refused (`NotImplementedError`), never spliced.

Why this is safe (STYLE: no SQL text from input): the literal is written from a Python number or
`timedelta` that Spark returned for the engine's own expression, formatted by this module's code
(`int`/`float` repr, digits only), so no text of the evidence or of the user reaches the SQL; the
values are the engine's settings (`Options`: integers and floats parsed by the CLI), not data.

Imports nothing of the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlglot import exp

# (bound expression, {alias: table}) → its one value
ValueOf = Callable[[exp.Expr, dict[str, str]], Any]


def _literal(value: Any) -> exp.Expr:
    if isinstance(value, bool) or value is None:
        raise NotImplementedError(f"a window frame bound of {value!r}")
    if isinstance(value, int):
        return exp.Literal.number(str(int(value)))
    if isinstance(value, float) and math.isfinite(value):
        return exp.Literal.number(repr(float(value)))
    if isinstance(value, timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        sign, micros = ("-" if micros < 0 else ""), abs(micros)
        text = f"{sign}{micros // 1_000_000}.{micros % 1_000_000:06d}"
        return exp.Interval(this=exp.Literal.string(text), unit=exp.var("SECOND"))
    raise NotImplementedError(f"a window frame bound of type {type(value).__name__}")


def _tables(tree: exp.Expr) -> dict[str, str]:
    """Every table the statement reads, by its alias (or name)."""
    return {t.alias_or_name.lower(): t.name for t in tree.find_all(exp.Table) if t.name}


def inline_frame_bounds(tree: exp.Expr, value_of: ValueOf) -> exp.Expr:
    """`tree` with each frame bound that is not a literal replaced by its value, as a literal."""
    specs = list(tree.find_all(exp.WindowSpec))
    if not specs:
        return tree
    tables = _tables(tree)
    for spec in specs:
        for side in ("start", "end"):
            bound = spec.args.get(side)
            if (
                bound is None
                or isinstance(bound, str | exp.Literal)
                or (isinstance(bound, exp.Var | exp.Interval) and not list(bound.find_all(exp.Column)))
            ):
                continue  # UNBOUNDED / CURRENT ROW / a literal already
            sources = {}
            for col in bound.find_all(exp.Column):
                alias = (col.table or "").lower()
                if alias not in tables:
                    raise NotImplementedError(f"a window frame bound reading {col.sql('duckdb')}")
                sources[alias] = tables[alias]
            spec.set(side, _literal(value_of(bound.copy(), sources)))
    return tree
