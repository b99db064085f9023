"""The statement helpers of `SparkCon` (`spark.con`): DuckDB's catalogue names, rowids, list slices
and bound parameters as Spark takes them, and Spark's rows as the Python values DuckDB returns.

- `drop_schemas`: `temp.main.t` → `t`, the work database's `triage_work.t` → `triage_work__t`;
- `with_rowids`: DuckDB's hidden `rowid` of a stored table as `monotonically_increasing_id()`;
- `is_list`, `list_slice`: DuckDB's `len()` / `[a:b]` of a list, by type or by the function making it;
- `named_params`: `?` → `$1`… (Spark's `:p1`…), values bound, never spliced into the SQL text;
- `py`: a Spark Row as the tuple of Python values DuckDB's `fetchall` gives.

Imports nothing of the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlglot import exp

_LISTS = (
    exp.Split,
    exp.RegexpSplit,
    exp.Array,
    exp.ArrayAgg,
    exp.ArrayFilter,
    exp.Transform,
    exp.ArraySort,
    exp.ArrayConcat,
    exp.ArrayDistinct,
)


def is_list(node: exp.Expr) -> bool:
    """A list, by sqlglot's type annotation or by the function that makes it (a CASE whose
    branches are lists is one)."""
    if node.type is not None and node.type.is_type(exp.DataType.Type.ARRAY):
        return True
    if isinstance(node, exp.Paren):
        return is_list(node.this)
    if isinstance(node, exp.Case):
        branches = [i.args.get("true") for i in node.args.get("ifs") or []] + [node.args.get("default")]
        return any(b is not None and is_list(b) for b in branches)
    return isinstance(node, _LISTS)


CATALOGUE = ("duckdb_tables", "duckdb_views", "duckdb_databases")


def list_slice(target: exp.Expr, cut: exp.Slice) -> exp.Expr:
    """DuckDB's `x[a:b]` (1-based, both ends kept, either end optional) on a list or a text."""
    start = cut.this or exp.Literal.number(1)
    a_list = is_list(target)
    size = exp.ArraySize(this=target.copy()) if a_list else exp.Length(this=target.copy())
    end = cut.expression or size
    span = exp.Add(this=exp.Sub(this=end.copy(), expression=start.copy()), expression=exp.Literal.number(1))
    count = exp.func("greatest", span, exp.Literal.number(0))
    name = "slice" if a_list else "substring"
    return exp.Anonymous(this=name, expressions=[target.copy(), start.copy(), count])


WORK = "triage_work"  # the work database the engine attaches (`ingest.work.WORK_DB`)


def drop_schemas(tree: exp.Expr) -> None:
    """`temp.main.t` → `t`, and the work database's `triage_work.t` → `triage_work__t` (it may hold a
    table of the name a view has in the main database: `events_t`): one session holds every table."""
    for node in tree.find_all(exp.Table, exp.Column):
        db = node.args.get("db")
        if db is None and node.args.get("catalog") is None:
            continue
        name_key = "this" if isinstance(node, exp.Table) else "table"
        if db is not None and db.name.lower() == "information_schema":
            continue  # `_catalogue` answers it
        if db is not None and db.name.lower() == WORK and node.args.get(name_key) is not None:
            node.set(name_key, exp.to_identifier(f"{WORK}__{node.args[name_key].name}"))
        node.set("db", None)
        node.set("catalog", None)


def with_rowids(tree: exp.Expr, stored: set[str]) -> exp.Expr:
    """DuckDB's hidden `rowid` of a stored table: each table a `rowid` column reads is read with one
    (`monotonically_increasing_id()`: the table is checkpointed, so its ids hold for every read; they
    order the rows as stored, but are not 0…n-1)."""
    wanted = [c for c in tree.find_all(exp.Column) if c.name.lower() == "rowid" and not c.this.quoted]
    if not wanted:
        return tree
    for col in wanted:
        select = col.find_ancestor(exp.Select)
        if select is None:
            continue
        for table in [*select.find_all(exp.Table)]:
            if table.find_ancestor(exp.Select) is not select or table.name.lower() not in stored:
                continue
            if col.table and col.table.lower() != table.alias_or_name.lower():
                continue
            alias = table.alias_or_name
            sub = exp.select("*", exp.func("monotonically_increasing_id").as_("rowid")).from_(
                exp.to_table(table.name)
            )
            table.replace(sub.subquery(alias))
    return tree


def named_params(sql: str, params: Sequence[Any] | None) -> tuple[str, dict[str, Any]]:
    """`?` → `$1`, `$2`… (what sqlglot's DuckDB parser reads before `::TYPE`), with the values by name.

    A `?` inside a string literal, a quoted identifier or a comment is text, not a parameter."""
    if not params:
        return sql, {}
    out: list[str] = []
    n, i, size = 0, 0, len(sql)
    while i < size:
        c = sql[i]
        if c in "'\"":
            end = i + 1
            while end < size:
                if sql[end] == c:
                    if end + 1 < size and sql[end + 1] == c:  # a doubled quote inside
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = size if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif c == "?":
            n += 1
            out.append(f"${n}")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out), {f"p{k + 1}": _bindable(v) for k, v in enumerate(params)}


def _bindable(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.isoformat(sep=" ")
    if isinstance(value, list | tuple):
        return [_bindable(v) for v in value]
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def quoted(name: str) -> str:
    """A column name as a Spark identifier."""
    return "`" + name.replace("`", "``") + "`"


def py(row: Any) -> tuple[Any, ...]:
    return tuple(_value(v) for v in row)


def _value(v: Any) -> Any:
    from pyspark.sql import Row

    if isinstance(v, Row):
        return {k: _value(x) for k, x in v.asDict().items()}
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v
