"""DuckDB's JSON functions on Spark: JSON values as text, read by Spark's VARIANT.

Rewrites of `spark.sql`'s transpiler (its docstring lists them all): DuckDB's JSON values are JSON
text on Spark (as DuckDB's JSON type is text underneath), read by `try_parse_json`/`try_variant_get`:
`json_type`, `json_extract[_string]` (one path, a list of paths, `$.a[*]`, `$.a[*].b`: the
elements without a `b` left out, as DuckDB does), `from_json(x,
'["VARCHAR"]')`; `json_valid` (`_JSON_VALID`: whole text only) and `json_exists` /
`json_array_length` in `sql._anonymous`. `spark` makes a Spark SQL fragment from a template, for
these rewrites and `sql`'s.

Imports nothing of the engine.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp


def spark(template: str, **parts: exp.Expr) -> exp.Expr:
    """A Spark SQL fragment with `parts` put in for its `__name` placeholder columns."""
    tree = sqlglot.parse_one(template, read="spark")
    return tree.transform(
        lambda n: (
            parts[n.name[2:]].copy()
            if isinstance(n, exp.Column) and n.name.startswith("__") and n.name[2:] in parts
            else n
        )
    )


def _path(node: exp.Expr) -> exp.Expr:
    """A JSON path argument as a string literal (`'$.a'`), whatever sqlglot parsed it into."""
    if isinstance(node, exp.JSONPath):
        return exp.Literal.string(node.sql(dialect="spark").strip("'"))
    return node


def _paths(node: exp.Expr) -> list[exp.Expr] | None:
    """The paths of a `[p1, p2, …]` list argument, else None."""
    if isinstance(node, exp.Array):
        return [_path(p) for p in node.expressions]
    return None


_JSON_TYPE = """CASE
    WHEN __s IS NULL THEN NULL
    WHEN __s LIKE 'OBJECT%' THEN 'OBJECT'
    WHEN __s LIKE 'ARRAY%' THEN 'ARRAY'
    WHEN __s = 'STRING' THEN 'VARCHAR'
    WHEN __s IN ('TINYINT', 'SMALLINT', 'INT', 'BIGINT') OR __s RLIKE '^DECIMAL\\\\([0-9]+,0\\\\)$'
        THEN 'BIGINT'
    WHEN __s LIKE 'DECIMAL%' OR __s IN ('DOUBLE', 'FLOAT') THEN 'DOUBLE'
    WHEN __s = 'BOOLEAN' THEN 'BOOLEAN'
    WHEN __s = 'VOID' THEN 'NULL'
    ELSE __s
END"""
# Spark's JSON reader stops after the first value and ignores what follows (`{"a":1}}` reads);
# DuckDB refuses it. Read as the one element of `[x]`, the text is whole JSON exactly when `[x,0]`
# has two elements: a reader that stopped early inside `x` stops there in both.
_ELEMENTS = "array_size(try_variant_get(try_parse_json(concat('[', __x, '{end}')), '$', 'array<variant>'))"
_JSON_VALID = f"{_ELEMENTS.format(end=']')} = 1 AND {_ELEMENTS.format(end=',0]')} = 2"


def _parsed(j: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this="try_parse_json", expressions=[j])


def _variant(j: exp.Expr, path: exp.Expr, as_type: str | None = None) -> exp.Expr:
    """The value at `path` of the JSON text `j`: as `as_type`, else as a VARIANT."""
    args = [_parsed(j), path] + ([exp.Literal.string(as_type)] if as_type else [])
    return exp.Anonymous(this="try_variant_get", expressions=args)


def _json_text(value: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this="to_json", expressions=[value])


def _json_type(node: exp.JSONType) -> exp.Expr:
    target = _parsed(node.this)
    if node.expression is not None:
        target = _variant(node.this, _path(node.expression))
    return spark(_JSON_TYPE, s=exp.Anonymous(this="schema_of_variant", expressions=[target]))


def _wildcard_at(path: exp.Expr) -> int | None:
    """The place of a `[*]` step inside a JSON path (not its last step), else None."""
    if not isinstance(path, exp.JSONPath):
        return None
    for i, step in enumerate(path.expressions[:-1]):
        if isinstance(step, exp.JSONPathSubscript) and isinstance(step.this, exp.JSONPathWildcard):
            return i
    return None


def _extract(node: exp.Expr, as_type: str | None) -> exp.Expr:
    path = node.expression
    if (
        isinstance(path, exp.JSONPath)
        and isinstance(path.expressions[-1], exp.JSONPathSubscript)
        and isinstance(path.expressions[-1].this, exp.JSONPathWildcard)
    ):  # json_extract(j, '$.a[*]'): the list of each element's JSON text
        base = path.copy()
        base.set("expressions", base.expressions[:-1])
        elements = _variant(node.this, _path(base), "array<variant>")
        text = "to_json(e)" if as_type is None else "CAST(e AS STRING)"
        return spark(f"transform(__l, e -> {text})", l=elements)
    star = _wildcard_at(path)
    if star is not None:  # '$.a[*].b': each element's b, elements without one left out (DuckDB's)
        base, rest = path.copy(), path.copy()
        base.set("expressions", path.expressions[:star])
        rest.set("expressions", [path.expressions[0], *path.expressions[star + 1 :]])
        elements = _variant(node.this, _path(base), "array<variant>")
        text = "to_json(v)" if as_type is None else "CAST(v AS STRING)"
        return spark(
            f"transform(filter(transform(coalesce(__l, array()), e -> try_variant_get(e, __r)), "
            f"v -> v IS NOT NULL), v -> {text})",
            l=elements,
            r=_path(rest),
        )
    many = _paths(node.expression)

    def one(p: exp.Expr) -> exp.Expr:
        got = _variant(node.this, p, as_type)
        return got if as_type else _json_text(got)  # json_extract: JSON (text), as every JSON value

    if many is not None:
        return exp.Array(expressions=[one(p) for p in many])
    return one(_path(node.expression))


def _spark_type(duck: object) -> str:
    """A DuckDB JSON schema (`"VARCHAR"`, `["VARCHAR"]`, `{"Name": "VARCHAR"}`, nested) as Spark's type."""
    if duck == "VARCHAR":
        return "string"
    if isinstance(duck, list) and len(duck) == 1:
        return f"array<{_spark_type(duck[0])}>"
    if isinstance(duck, dict) and duck and all(k.isidentifier() for k in duck):
        return "struct<" + ",".join(f"{k}:{_spark_type(v)}" for k, v in duck.items()) + ">"
    raise NotImplementedError(f"from_json with schema {duck!r} is not transpiled")


def _from_json(node: exp.FromJson) -> exp.Expr:
    """`from_json(x, schema)` of text values (`VARCHAR` leaves, in lists and objects) → the value read
    by `try_variant_get` as that Spark type."""
    import json

    schema = node.expression
    if not (isinstance(schema, exp.Literal) and schema.is_string):
        raise NotImplementedError(f"from_json with schema {schema.sql()} is not transpiled")
    return _variant(node.this, exp.Literal.string("$"), _spark_type(json.loads(schema.this)))
