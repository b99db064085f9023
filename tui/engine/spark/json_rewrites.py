"""DuckDB's JSON functions on Spark: JSON values as text, read by Spark's VARIANT and JSON reader.

Rewrites of `spark.sql`'s transpiler (its docstring lists them all): DuckDB's JSON values are JSON
text on Spark (as DuckDB's JSON type is text underneath), read by `try_parse_json`/`try_variant_get`:
`json_type`, `json_extract[_string]`, `->`, `->>` (one path, a list of paths, any number of `[*]`
steps: the values each reaches flattened in order, those without the rest of the path left out, as
DuckDB does; DuckDB's quoted keys `$."a"` as Spark's `$['a']`), `from_json(x, '["VARCHAR"]')`,
`json_object` (`_json_object`); `json_valid` (`_JSON_VALID`: whole text only) and `json_exists` /
`json_array_length` in `sql._anonymous`. A value's JSON text is the document's own for an object or
a list, its members in their order (`get_json_object`, `from_json(…, 'array<string>')` copy it;
VARIANT's `to_json` sorts an object's members), and VARIANT's for a scalar (`_at`, `_each`).
`spark` makes a Spark SQL fragment from a template, for these rewrites and `sql`'s (a placeholder
that may be an operation is written `(__x)`: the fragment is put in as it is, not parenthesised).

Imports nothing of the engine.
"""

from __future__ import annotations

import re

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


_QUOTED_KEY = re.compile(r'\."((?:[^"\\]|\\.)*)"')


def _path(node: exp.Expr) -> exp.Expr:
    """A JSON path argument as a string literal (`'$.a'`), whatever sqlglot parsed it into; a quoted
    key (DuckDB's `$."a"."b"`, which Spark's paths do not read: NULL) as Spark's `$["a"]["b"]`."""
    if isinstance(node, exp.JSONPath):
        # sqlglot writes a key that needs quoting as `['a b']` inside the literal, escaped: unescaped
        return exp.Literal.string(node.sql(dialect="spark")[1:-1].replace("\\'", "'"))
    if isinstance(node, exp.Literal) and node.is_string and node.this.startswith("$"):
        return exp.Literal.string(_QUOTED_KEY.sub(lambda m: f'["{m.group(1)}"]', node.this))
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


def _is_wildcard(step: exp.Expr) -> bool:
    return isinstance(step, exp.JSONPathSubscript) and isinstance(step.this, exp.JSONPathWildcard)


def _steps_path(steps: list[exp.Expr]) -> exp.Expr:
    """Key and index steps as a path both `get_json_object` and Spark's VARIANT read (`$['a'][0]`)."""
    text = "$"
    for step in steps:
        if isinstance(step, exp.JSONPathKey) and "'" not in str(step.this):
            text += f"['{step.this}']"
        elif isinstance(step, exp.JSONPathSubscript) and isinstance(step.this, int) and step.this >= 0:
            text += f"[{step.this}]"
        else:
            raise NotImplementedError(f"a JSON path step {step.sql('duckdb')}")
    return exp.Literal.string(text)


# A value's JSON text as DuckDB writes it: an object or a list as the document has it, its members
# in their order (Spark's JSON reader copies them: `get_json_object`, `from_json(… 'array<string>')`;
# VARIANT sorts an object's members), a scalar from the VARIANT (a string quoted, `null`)
_NESTED = "(schema_of_variant(__v) LIKE 'OBJECT%' OR schema_of_variant(__v) LIKE 'ARRAY%')"


# Jackson writes a character past U+FFFF as its escaped UTF-16 pair (`\uD83D\uDE00`); DuckDB as itself
_PAIR = r"'\\\\uD[89AB][0-9A-F]{2}\\\\uD[C-F][0-9A-F]{2}'"
_PAIRS = (
    f"aggregate(regexp_extract_all(__x, {_PAIR}, 0), __x, "
    "(acc, m) -> replace(acc, m, decode(unhex(concat(substr(m, 3, 4), substr(m, 9, 4))), 'UTF-16BE')))"
)


def _copied(t: exp.Expr, path: exp.Expr) -> exp.Expr:
    """The JSON text at `path` of `t` as Spark's JSON reader copies it: compact, members in order."""
    return spark(_PAIRS, x=exp.Anonymous(this="get_json_object", expressions=[t, path]))


def _at(t: exp.Expr, steps: list[exp.Expr], as_type: str | None) -> exp.Expr:
    """The value at key/index `steps` of the JSON text `t`: its JSON text (`as_type` None), or its text
    (`string`: a string unquoted, JSON null NULL, an object or a list as JSON text); NULL if absent."""
    path = _steps_path(steps)
    raw = _copied(t, path)
    variant = exp.Anonymous(this="try_variant_get", expressions=[_parsed(t.copy()), path.copy()])
    scalar = "to_json(__v)" if as_type is None else "CAST(__v AS STRING)"
    return spark(
        f"CASE WHEN __v IS NULL THEN NULL WHEN {_NESTED} THEN __r ELSE {scalar} END", v=variant, r=raw
    )


def _each(t: exp.Expr, level: int) -> exp.Expr:
    """The JSON texts of the elements of the JSON list text `t` (none when it is not a list)."""
    raws = exp.Anonymous(this="from_json", expressions=[t, exp.Literal.string("array<string>")])
    variants = _variant(t.copy(), exp.Literal.string("$"), "array<variant>")
    r, v = f"r{level}", f"v{level}"
    pick = _NESTED.replace("__v", v)
    copied = _PAIRS.replace("__x", r)
    return spark(
        f"coalesce(zip_with(__a, __b, ({r}, {v}) -> CASE WHEN {pick} THEN {copied} ELSE to_json({v}) END), "
        "array())",
        a=raws,
        b=variants,
    )


def _elements(j: exp.Expr, steps: list[exp.Expr]) -> exp.Expr:
    """The JSON texts of the values a path with `[*]` steps reaches, as DuckDB lists them: each
    wildcard's elements in order, flattened, those without the rest of the path left out."""
    parts: list[list[exp.Expr]] = [[]]
    for step in steps[1:]:  # after `$`
        if _is_wildcard(step):
            parts.append([])
        else:
            parts[-1].append(step)
    first, *rest = parts
    found = spark("filter(array(__x), x0 -> x0 IS NOT NULL)", x=_at(j, first, None))
    for level, keys in enumerate(rest, start=1):
        x, e = f"x{level}", f"e{level}"
        reach = _at(exp.column(e), keys, None)
        inner = spark(
            f"filter(transform(__l, {e} -> __r), y -> y IS NOT NULL)", l=_each(exp.column(x), level), r=reach
        )
        found = spark(f"flatten(transform(__f, {x} -> __i))", f=found, i=inner)
    return found


def _extract(node: exp.Expr, as_type: str | None) -> exp.Expr:
    path = node.expression
    if isinstance(path, exp.JSONPath) and any(_is_wildcard(s) for s in path.expressions):
        # `$.a[*]`, `$.a[*].b`, `$[*].a[*]`: the list of what the path reaches, each value's JSON
        # text (json_extract) or its text (json_extract_string); the list's JSON text when the list
        # itself is made JSON (`to_json(json_extract(…))`: the values, not their texts quoted)
        # (NULL when the document is NULL or not JSON, as DuckDB's `try(json_extract(…))`)
        elements = _elements(node.this, path.expressions)
        parent = node.parent
        listed = isinstance(parent, exp.Anonymous) and str(parent.this).lower() == "to_json"
        if as_type is None and listed:  # `sql._anonymous` drops the `to_json` around it
            elements = spark("concat('[', array_join(__l, ','), ']')", l=elements)
        elif as_type is not None:
            unquoted = (
                "CASE WHEN t LIKE '{%' OR t LIKE '[%' THEN t ELSE CAST(try_parse_json(t) AS STRING) END"
            )
            elements = spark(f"transform(__l, t -> {unquoted})", l=elements)
        found = spark("CASE WHEN __d IS NOT NULL THEN __e END", d=_parsed(node.this.copy()), e=elements)
        found.meta["json_text"] = as_type is None and listed
        return found
    paths = node.expression.expressions if isinstance(node.expression, exp.Array) else [node.expression]
    values = [_at(node.this.copy(), _key_steps(p), as_type) for p in paths]
    return exp.Array(expressions=values) if isinstance(node.expression, exp.Array) else values[0]


def _key_steps(path: exp.Expr) -> list[exp.Expr]:
    """The steps after `$` of a JSON path (sqlglot's, or DuckDB's text `$."a".b[0]`)."""
    if isinstance(path, exp.Literal) and path.is_string:
        path = exp.JSONPath(expressions=_parse_path(path.this))
    if not isinstance(path, exp.JSONPath):
        raise NotImplementedError(f"a JSON path that is not a literal: {path.sql('duckdb')}")
    return list(path.expressions[1:])


def _parse_path(text: str) -> list[exp.Expr]:
    parsed = sqlglot.parse_one(f"SELECT x -> '{text.replace(chr(39), chr(39) * 2)}'", read="duckdb")
    found = parsed.find(exp.JSONPath)
    if found is None:
        raise NotImplementedError(f"the JSON path {text}")
    return list(found.expressions)


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


def _json_object(node: exp.JSONObject) -> exp.Expr:
    """`json_object('k', v, …)` → the JSON text of a struct of those fields in that order, a NULL
    value written `null` as DuckDB writes it (Spark's `to_json` leaves NULL fields out by default)."""
    fields: list[exp.Expr] = []
    for pair in node.expressions:
        if not isinstance(pair, exp.JSONKeyValue):
            raise NotImplementedError(f"json_object({node.sql('duckdb')})")
        fields += [pair.this.copy(), pair.expression.copy()]
    struct = exp.Anonymous(this="named_struct", expressions=fields)
    return spark("to_json(__s, map('ignoreNullFields', 'false'))", s=struct)
