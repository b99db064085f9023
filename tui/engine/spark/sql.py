"""The engine's DuckDB SQL, run on Spark: one definition of the analysis, transpiled (SPEC §9).

The analysis is written once, as the DuckDB SQL the engine runs (`tokens.jwt_decode`,
`indicators.catalogue`, …). `transpile(sql, macros)` turns that very text into Spark SQL:

1. parse it with sqlglot (the `duckdb` dialect);
2. expand the DuckDB macros it calls (`Macros.parse` reads the engine's own `CREATE MACRO` text
   once; each call is replaced by the macro's body with its arguments put in for its parameters,
   recursively; DuckDB does the same at bind time, so the meaning is unchanged);
3. rewrite the constructs whose sqlglot translation means something else on Spark (below);
4. generate Spark SQL with sqlglot (`spark` dialect).

Where the DuckDB spelling had a portable twin, the engine's SQL was changed to it instead of adding a
rewrite here (one definition, both engines): `array_length(list)` for a list's length (`len()` is
ambiguous: sqlglot makes it Spark's string `length`), regex classes spelled out (`[ \\t\\n\\r\\x0b\\x0c]`,
not `\\s`, which is RE2's `[\\t\\n\\f\\r ]` in DuckDB and includes `\\x0b` in Java), and a time claim's
range checked before `make_timestamp` instead of catching the error with `try()`.

The rewrites (`_REWRITES`), each for a construct with no portable spelling:
- DuckDB's JSON type is Spark's VARIANT: `CAST(x AS JSON)` → the variant of `x`, `json_valid(x)`
  → whether `x` parses whole (Spark's reader ignores what follows the first value, DuckDB refuses
  it: `x` is read as the one element of `[x]`, and `[x,0]` must have two),
  `j ->> p` / `json_extract_string` → `variant_get(j, p, 'string')`,
  `json_extract` → `variant_get(j, p)`, `json_exists` → `variant_get(j, p) IS NOT NULL` (a JSON null
  is a variant null, not SQL NULL, as in DuckDB), `json_array_length` → `array_size` of the array,
  `json_type` → DuckDB's type names from `schema_of_variant` (`STRING` → `VARCHAR`, an integer
  `DECIMAL(p,0)` → `BIGINT` (only `TRY_CAST … AS BIGINT` reads it, NULL past BIGINT, as DuckDB's
  `UBIGINT`), any other DECIMAL → `DOUBLE` (DuckDB reads every fraction as DOUBLE), `VOID` → `NULL`),
  and `json_extract(j, '$.a[*]')` → the list of each element's JSON text.
  `from_json(x, '["VARCHAR"]')` → `try_variant_get(try_parse_json(x), '$', 'array<string>')`.
- `from_base64(x)`: Spark's `unbase64` skips characters outside the alphabet (a MIME decoder); DuckDB
  refuses them. Spark decodes only text that is whole, padded standard base64 (checked by a regex),
  else NULL, which is what DuckDB's `try(from_base64(x))` gives.
- `decode(blob)` (bytes as UTF-8; invalid UTF-8 an error) → `try_validate_utf8(CAST(b AS STRING))`.
- `try(x)` → `x`: every function the engine wraps in `try` returns NULL on Spark where DuckDB raises
  (the rewrites above; casts, with `spark.sql.ansi.enabled=false`: `session`).
- `regexp_full_match(x, re)` → `x RLIKE '^(?:re)\\z'` (RLIKE finds; `\\z` is the end, `$` would
  allow a trailing newline).
- `list_bool_and(l)` → `forall(l, e -> e)`.
- `make_timestamp(µs)` → `CAST(timestamp_micros(µs) AS TIMESTAMP_NTZ)`: a naive UTC time, as DuckDB's.

Imports nothing of the engine but itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

_HEADER = re.compile(r"CREATE\s+OR\s+REPLACE\s+(?:TEMP\s+)?MACRO\s+(\w+)\s*\(([^)]*)\)\s+AS\s", re.I)


@dataclass
class Macros:
    """DuckDB scalar macros by name: their parameters and parsed body."""

    bodies: dict[str, tuple[list[str], exp.Expr]] = field(default_factory=dict)

    @classmethod
    def parse(cls, *texts: str) -> Macros:
        """The `CREATE [OR REPLACE] [TEMP] MACRO name(params) AS body;` statements in `texts`."""
        macros = cls()
        for text in texts:
            macros.add(text)
        return macros

    def add(self, text: str) -> None:
        heads = list(_HEADER.finditer(text))
        for i, head in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            body = text[head.end() : end].strip().rstrip(";")
            params = [p.strip().lower() for p in head.group(2).split(",") if p.strip()]
            self.bodies[head.group(1).lower()] = (params, sqlglot.parse_one(body, read="duckdb"))

    def expand(self, tree: exp.Expr) -> exp.Expr:
        """`tree` with every call of a macro replaced by its body (recursively)."""
        for _ in range(20):  # macros calling macros: a few levels deep
            calls = [
                node
                for node in tree.find_all(exp.Anonymous)
                if isinstance(node.this, str) and node.this.lower() in self.bodies
            ]
            if not calls:
                return tree
            for call in calls:
                params, body = self.bodies[call.this.lower()]
                args = dict(zip(params, call.expressions, strict=True))
                replaced = body.copy().transform(
                    lambda n, a=args: (
                        a[n.name.lower()].copy()
                        if isinstance(n, exp.Column) and not n.table and n.name.lower() in a
                        else n
                    )
                )
                if call is tree:
                    tree = replaced
                else:
                    call.replace(exp.Paren(this=replaced))
        raise ValueError("macros nest more than 20 deep")


def _spark(template: str, **parts: exp.Expr) -> exp.Expr:
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
_B64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\\z"


def _variant(j: exp.Expr, path: exp.Expr, as_type: str | None = None) -> exp.Expr:
    args = [j, path] + ([exp.Literal.string(as_type)] if as_type else [])
    return exp.Anonymous(this="try_variant_get", expressions=args)


def _json_type(node: exp.JSONType) -> exp.Expr:
    target = node.this
    if node.expression is not None:
        target = _variant(target, _path(node.expression))
    return _spark(_JSON_TYPE, s=exp.Anonymous(this="schema_of_variant", expressions=[target]))


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
        return _spark(f"transform(__l, e -> {text})", l=elements)
    many = _paths(node.expression)
    if many is not None:
        return exp.Array(expressions=[_variant(node.this, p, as_type) for p in many])
    return _variant(node.this, _path(node.expression), as_type)


def _cast(node: exp.Cast) -> exp.Expr:
    if node.to.is_type(exp.DataType.Type.JSON):
        return _spark("try_variant_get(try_parse_json(concat('[', __x, ']')), '$[0]')", x=node.this)
    return node


def _anonymous(node: exp.Anonymous) -> exp.Expr:
    name = str(node.this).lower()
    args = node.expressions
    if name == "json_valid":
        return _spark(_JSON_VALID, x=args[0])
    if name == "json_exists":
        return _spark("__v IS NOT NULL", v=_variant(args[0], _path(args[1])))
    if name == "json_array_length":
        target = _variant(args[0], _path(args[1]), "array<variant>") if len(args) > 1 else args[0]
        return _spark("array_size(__a)", a=target)
    if name == "list_bool_and":
        return _spark("forall(__l, e -> e)", l=args[0])
    return node


def _regexp_full_match(node: exp.RegexpFullMatch) -> exp.Expr:
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        anchored: exp.Expr = exp.Literal.string(f"^(?:{pattern.this})\\z")
    else:
        anchored = _spark("concat('^(?:', __p, ')\\\\z')", p=pattern)
    return exp.RegexpLike(this=node.this, expression=anchored)


def _from_json(node: exp.FromJson) -> exp.Expr:
    schema = node.expression
    if isinstance(schema, exp.Literal) and schema.this.replace(" ", "") == '["VARCHAR"]':
        parsed = exp.Anonymous(this="try_parse_json", expressions=[node.this])
        return _variant(parsed, exp.Literal.string("$"), "array<string>")
    raise NotImplementedError(f"from_json with schema {schema.sql()} is not transpiled")


_REWRITES: dict[type[exp.Expr], Callable[[exp.Expr], exp.Expr]] = {
    exp.JSONType: _json_type,  # type: ignore[dict-item]
    exp.JSONExtractScalar: lambda n: _extract(n, "string"),
    exp.JSONExtract: lambda n: _extract(n, None),
    exp.Cast: _cast,  # type: ignore[dict-item]
    exp.Anonymous: _anonymous,  # type: ignore[dict-item]
    exp.Try: lambda n: n.this,
    exp.FromBase64: lambda n: _spark(
        f"CASE WHEN __x RLIKE '{_B64.replace(chr(92), chr(92) * 2)}' THEN unbase64(__x) END", x=n.this
    ),
    exp.Decode: lambda n: _spark("try_validate_utf8(CAST(__b AS STRING))", b=n.this),
    exp.RegexpFullMatch: _regexp_full_match,  # type: ignore[dict-item]
    exp.FromJson: _from_json,  # type: ignore[dict-item]
    exp.UnixToTime: lambda n: _spark("CAST(timestamp_micros(__m) AS TIMESTAMP_NTZ)", m=n.this),
}


def _rewrite(node: exp.Expr) -> exp.Expr:
    rule = _REWRITES.get(type(node))
    return rule(node) if rule else node


def transpile(sql: str, macros: Macros | None = None) -> str:
    """The DuckDB statement `sql` as Spark SQL, its macro calls expanded (`macros`)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if macros is not None:
        tree = macros.expand(tree)
    # bottom-up, so a rewrite sees its arguments already rewritten (`try(from_base64(…))`); what a
    # rewrite makes is Spark already and is not rewritten again
    for node in reversed(list(tree.dfs())):
        new = _rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
