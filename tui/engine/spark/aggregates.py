"""DuckDB's list aggregates and ordered aggregates on Spark (rewrites of `spark.sql`'s transpiler).

sqlglot translates DuckDB's `list(x)` as Spark's `collect_list(x)` and drops an aggregate's
`ORDER BY` without a word; neither means what DuckDB means:

- `list(x)` / `array_agg(x)` keeps NULL values in DuckDB; `collect_list` leaves them out. Each
  value is collected inside a one-field struct (never NULL itself) and taken out again:
  `transform(collect_list(struct(x AS v)), s -> s.v)`; `list(DISTINCT x)` the same with
  `collect_set` (a NULL kept once, as DuckDB keeps it). Where the aggregate's `FILTER` already says
  `x IS NOT NULL`, the plain `collect_list(x)` is the same and is kept.
- `list(x ORDER BY k1 [DESC] [NULLS FIRST|LAST], …)`: the keys are collected beside the value
  (`struct(k1, …, x)`), the list sorted by `array_sort` with a comparator spelling the order
  (DuckDB's default puts NULLs last, ascending or descending), then the values taken out.
- `first(x ORDER BY …)` is the first element of that list (NULL when there is none).
- a list of no rows is NULL in DuckDB, `[]` in Spark: NULL it is.

A `FILTER (WHERE …)` or `OVER (…)` stays on the aggregate, inside the `transform`.

Imports nothing of the engine.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

_VALUE = "_v"


def _key(i: int) -> str:
    return f"_k{i}"


def _field(var: str, name: str) -> exp.Expr:
    return exp.Dot(this=exp.column(var), expression=exp.to_identifier(name))


def _compare(keys: list[exp.Ordered]) -> exp.Expr:
    """The comparator `(a, b) -> -1 | 0 | 1` of DuckDB's order by `keys` over the collected structs:
    the first key's answer that is not 0 (`coalesce(nullif(c0, 0), nullif(c1, 0), …, 0)`)."""
    answers: list[exp.Expr] = []
    for i, ordered in enumerate(keys):
        desc = bool(ordered.args.get("desc"))
        nulls_first = bool(ordered.args.get("nulls_first"))
        a, b = _field("a", _key(i)), _field("b", _key(i))
        before, after = exp.Literal.number(-1), exp.Literal.number(1)
        less, more = (after, before) if desc else (before, after)
        answer = exp.Case(
            ifs=[
                exp.If(this=exp.and_(a.is_(exp.null()), b.is_(exp.null())), true=exp.Literal.number(0)),
                exp.If(this=a.copy().is_(exp.null()), true=before if nulls_first else after),
                exp.If(this=b.copy().is_(exp.null()), true=after if nulls_first else before),
                exp.If(this=exp.LT(this=a.copy(), expression=b.copy()), true=less),
                exp.If(this=exp.GT(this=a.copy(), expression=b.copy()), true=more),
            ],
            default=exp.Literal.number(0),
        )
        answers.append(exp.Nullif(this=answer, expression=exp.Literal.number(0)))
    result = exp.Coalesce(this=answers[0], expressions=[*answers[1:], exp.Literal.number(0)])
    return exp.Lambda(this=result, expressions=[exp.to_identifier("a"), exp.to_identifier("b")])


def _none_if_empty(collected: exp.Expr) -> exp.Expr:
    """NULL where nothing was collected, as DuckDB's `list` of no rows (Spark's is `[]`): every row
    collected adds an element (a struct, or a value its FILTER says is not NULL)."""
    empty = exp.EQ(this=exp.ArraySize(this=collected.copy()), expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=empty, true=exp.null())], default=collected)


def _values(collected: exp.Expr) -> exp.Expr:
    """`transform(collected, s -> s._v)`, NULL when nothing was collected."""
    take = exp.Lambda(this=_field("s", _VALUE), expressions=[exp.to_identifier("s")])
    return exp.Transform(this=_none_if_empty(collected), expression=take)


def _struct(parts: list[tuple[str, exp.Expr]]) -> exp.Expr:
    return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(n), expression=e) for n, e in parts])


def _not_null_in(condition: exp.Expr | None, value: exp.Expr) -> bool:
    """Whether `condition` (a FILTER's) says `value IS NOT NULL` as one of its AND-ed terms."""
    if condition is None:
        return False
    terms = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
    for term in terms:
        if (
            isinstance(term, exp.Not)
            and isinstance(term.this, exp.Is)
            and isinstance(term.this.expression, exp.Null)
            and term.this.this == value
        ):
            return True
    return False


Wrap = Callable[[exp.Expr], exp.Expr]


def split(agg: exp.Expr, condition: exp.Expr | None = None) -> tuple[exp.Expr, Wrap] | None:
    """(the Spark aggregate to run, what turns its result into DuckDB's) for a DuckDB `list(…)`,
    `array_agg(…)` or ordered `first(…)`; None for any other node (left as it is)."""
    inner = agg.this
    first = isinstance(agg, exp.First)
    if not isinstance(agg, exp.ArrayAgg) and not (first and isinstance(inner, exp.Order)):
        return None
    if isinstance(inner, exp.Order):
        value, keys = inner.this, list(inner.expressions)
        if isinstance(value, exp.Distinct):
            raise NotImplementedError("an aggregate of DISTINCT values with ORDER BY")
        parts = [(_key(i), k.this.copy()) for i, k in enumerate(keys)] + [(_VALUE, value.copy())]
        collected = exp.Anonymous(this="collect_list", expressions=[_struct(parts)])

        def ordered(result: exp.Expr) -> exp.Expr:
            values = _values(exp.Anonymous(this="array_sort", expressions=[result, _compare(keys)]))
            if first:
                return exp.Anonymous(this="try_element_at", expressions=[values, exp.Literal.number(1)])
            return values

        return collected, ordered
    distinct = isinstance(inner, exp.Distinct)
    value = inner.expressions[0] if distinct else inner
    name = "collect_set" if distinct else "collect_list"
    if _not_null_in(condition, value):
        return exp.Anonymous(this=name, expressions=[value.copy()]), _none_if_empty
    wrapped = exp.Anonymous(this=name, expressions=[_struct([(_VALUE, value.copy())])])
    return wrapped, _values


def rewrite_aggregate(node: exp.Expr) -> exp.Expr:
    """The rewrite of a list / ordered aggregate; one under a FILTER or OVER is left for the
    `rewrite_around` of that node (the FILTER / OVER stays on the Spark aggregate)."""
    if isinstance(node.parent, exp.Filter | exp.Window) and node.arg_key == "this":
        return node
    parts = split(node)
    if parts is None:
        return node
    aggregate, wrap = parts
    return wrap(aggregate)


def rewrite_around(node: exp.Expr) -> exp.Expr:
    """A FILTER (WHERE …) or OVER (…) on a list / ordered aggregate: the aggregate rewritten in place,
    its result turned into DuckDB's outside."""
    condition = node.args.get("expression") if isinstance(node, exp.Filter) else None
    where = condition.this if isinstance(condition, exp.Where) else condition
    parts = split(node.this, where)
    if parts is None:
        return node
    aggregate, wrap = parts
    around = node.copy()
    around.set("this", aggregate)
    return wrap(around)
