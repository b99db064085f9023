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

The rewrites (`_REWRITES`), each for a construct with no portable spelling (the JSON ones in
`json_rewrites`, the regex and text ones in `text_rewrites`, list aggregates in `aggregates`):
- DuckDB's JSON values are JSON text on Spark (as DuckDB's JSON type is text underneath; a JSON
  function is given text as often as JSON), read by Spark's VARIANT: `CAST(x AS JSON)` → `x` (the
  engine checks `json_valid` first), a function's JSON argument `j` → `try_parse_json(j)`, `json_valid(x)`
  → whether `x` parses whole (Spark's reader ignores what follows the first value, DuckDB refuses
  it: `x` is read as the one element of `[x]`, and `[x,0]` must have two),
  `j ->> p` / `json_extract_string` → `variant_get(j, p, 'string')`,
  `json_extract` → the JSON text of `variant_get(j, p)`, `json_exists` → `variant_get(j, p) IS
  NOT NULL` (a JSON null is a variant null, not SQL NULL, as in DuckDB), `json_array_length` →
  `array_size` of the array,
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
- `count(DISTINCT x) OVER w` → `size(collect_set(x) OVER w)` (Spark has no DISTINCT window
  aggregate; the set leaves NULLs out, as the count does); `row_number() OVER ()` → `… OVER (ORDER BY
  NULL)` (Spark numbers only an ordered window; both number the rows in no particular order).
- `list(x)`, `list(x ORDER BY …)`, `first(x ORDER BY …)`: NULLs kept and the order honoured
  (`spark.aggregates`; sqlglot's `collect_list` drops both).
- `list_bool_and(l)` / `list_bool_or(l)` → `forall` / `exists` over the elements not NULL (NULL over
  none, as DuckDB's aggregates); `a && b` → `arrays_overlap(a, b)`.
- `list[i]` → `try_element_at(list, i)`, the index as written (`DuckDBAsWritten`): sqlglot's DuckDB
  parser shifts only the indices it can type (`l[1]`, and `l[-1]` wrongly to -2), not `l[r]`.
- `isodow(t)` → `weekday(t) + 1` (Monday 1 … Sunday 7; sqlglot's `dayofweek(t) % 7 + 1` is not),
  `dayofweek(t)` → `dayofweek(t) - 1` (DuckDB's Sunday is 0, Spark's 1).
- `make_timestamp(µs)` → `CAST(timestamp_micros(µs) AS TIMESTAMP_NTZ)`: a naive UTC time, as DuckDB's.
- `strftime(t, fmt)` → `date_format` with the pattern translated, literal text quoted (sqlglot
  leaves `T` and `Z` unquoted); `format('{} …', …)` → `format_string('%s …', CAST(… AS STRING))`, NULL
  when an argument is (DuckDB's); `time_bucket` → epoch seconds floored; `x IGNORE NULLS` of an
  aggregate → its `ignoreNulls` argument; `epoch_us`, `ord`, `hash` (→ `xxhash64`: a join key);
  `epoch(x)` a DOUBLE, and `round(x, n)` of it half away from zero on the exact `x * 10^n`, as
  DuckDB's (`_HALF_AWAY`);
  regexes translated from RE2 (`java_regex`), `regexp_replace` without `'g'` replacing the first
  match only, as DuckDB's does (Spark's replaces all).

Imports nothing of the engine but this package's `aggregates`, `json_rewrites` and `text_rewrites`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

from tui.engine.spark.aggregates import rewrite_aggregate, rewrite_around
from tui.engine.spark.json_rewrites import (
    _JSON_VALID,
    _extract,
    _from_json,
    _json_object,
    _json_type,
    _path,
    _variant,
)
from tui.engine.spark.json_rewrites import spark as _spark
from tui.engine.spark.text_rewrites import (
    _format,
    _regex_arg,
    _regexp_full_match,
    _regexp_replace,
    _strftime,
    java_time_format,
)


class DuckDBAsWritten(DuckDB):
    """DuckDB as written: list indices kept 1-based in the tree (`list[i]` → `try_element_at`, `[a:b]`
    → `slice`: both 1-based). sqlglot's own DuckDB parser shifts an index it can type (`l[1]` → 0,
    `l[-1]` → -2) and leaves the rest (`l[r]`), so its tree cannot say which element was meant."""

    INDEX_OFFSET = 0


READ = DuckDBAsWritten

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
            self.bodies[head.group(1).lower()] = (params, sqlglot.parse_one(body, read=READ))

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


def _cast(node: exp.Cast) -> exp.Expr:
    if node.to.is_type(exp.DataType.Type.TIMESTAMPTZ):  # an instant (sqlglot writes TIMESTAMP: NTZ here)
        node.set("to", exp.DataType.build("TIMESTAMP_LTZ", dialect="spark"))
        return node
    if node.to.is_type(exp.DataType.Type.JSON):  # JSON is text on Spark; the engine checks it first
        return node.this
    return node


_B64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\\z"


_INTERVALS = {"to_days": 0, "to_hours": 1, "to_minutes": 2, "to_seconds": 3}


def _anonymous(node: exp.Anonymous) -> exp.Expr:
    name = str(node.this).lower()
    args = node.expressions
    if name == "json_valid":
        return _spark(_JSON_VALID, x=args[0])
    if name == "json_exists":
        return _spark("__v IS NOT NULL", v=_variant(args[0], _path(args[1])))
    if name == "json_array_length":
        path = _path(args[1]) if len(args) > 1 else exp.Literal.string("$")
        target = _variant(args[0], path, "array<variant>")
        return _spark("array_size(__a)", a=target)
    if name == "to_json" and len(args) == 1 and args[0].meta.get("json_text"):
        return args[0]  # a list's JSON text already (`json_rewrites._extract`)
    if name == "epoch_us":
        return _spark("unix_micros(CAST(__t AS TIMESTAMP_LTZ))", t=args[0])
    if name == "ord":  # the first character's code point (0 for '')
        return _spark("ascii(__x)", x=args[0])
    if name == "timezone" and len(args) == 2 and isinstance(args[0], exp.Literal) and args[0].this == "UTC":
        return _spark("CAST(__t AS TIMESTAMP_NTZ)", t=args[1])  # the session's zone is UTC
    if name == "try_strptime" and isinstance(args[1], exp.Literal) and args[1].is_string:
        pattern = exp.Literal.string(java_time_format(args[1].this, parse=True))
        return _spark("CAST(try_to_timestamp(__s, __f) AS TIMESTAMP_NTZ)", s=args[0], f=pattern)
    if name == "current_setting":  # DuckDB's settings are not Spark's: none is set
        return _spark("CAST(NULL AS STRING)")
    if name == "hash":  # a key, never shown: any 64-bit hash joins alike (Spark's is xxhash64)
        return _spark("xxhash64(__x)", x=args[0])
    if name in ("list_position", "list_indexof", "array_position"):  # NULL when absent (Spark: 0)
        return _spark("nullif(array_position(__l, __x), 0)", l=args[0], x=args[1])
    if name in _INTERVALS:  # to_days(n) and the like: an interval of n units
        zeros = ", ".join(["0"] * _INTERVALS[name])
        return _spark(f"make_dt_interval({zeros}{', ' if zeros else ''}__n)", n=args[0])
    if name in ("list_bool_and", "list_bool_or"):  # the aggregate over the elements: NULLs left out,
        # NULL over none (Spark's forall/exists say true/false over none, NULL beside a NULL)
        test = (
            "forall(__l, e -> coalesce(e, true))"
            if name == "list_bool_and"
            else "exists(__l, e -> coalesce(e, false))"
        )
        return _spark(
            f"CASE WHEN size(filter(__l, e -> e IS NOT NULL)) = 0 THEN NULL ELSE {test} END", l=args[0]
        )
    return node


_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}


def _date_bin(node: exp.DateBin) -> exp.Expr:
    """`time_bucket(INTERVAL n UNIT, ts)`: buckets of n units from DuckDB's origin, 2000-01-03 for
    days and shorter (a Monday; every unit here divides a day, so midnight of any day is an edge)."""
    width = node.this
    if not isinstance(width, exp.Interval) or node.args.get("origin") is not None:
        raise NotImplementedError(f"time_bucket({node.sql('duckdb')})")
    unit = str(width.args["unit"].this).upper().rstrip("S")
    if unit not in _SECONDS:
        raise NotImplementedError(f"time_bucket by {unit}")
    seconds = int(str(width.this.this)) * _SECONDS[unit]
    if 86400 % seconds:
        raise NotImplementedError(f"time_bucket of {seconds} s (not a divisor of a day)")
    return _spark(
        f"CAST(timestamp_seconds(floor(unix_seconds(CAST(__t AS TIMESTAMP_LTZ)) / {seconds}) * {seconds})"
        " AS TIMESTAMP_NTZ)",
        t=node.expression,
    )


def _ignore_nulls(node: exp.IgnoreNulls) -> exp.Expr:
    """`any_value(x) IGNORE NULLS` → `any_value(x, true)` (Spark takes no IGNORE NULLS beside FILTER)."""
    inner = node.this
    names = {exp.AnyValue: "any_value", exp.First: "first", exp.Last: "last"}
    name = names.get(type(inner))
    if name is None:
        return node
    return exp.Anonymous(this=name, expressions=[inner.this, exp.true()])


def _epoch(node: exp.Expr) -> exp.Expr:
    """DuckDB's `epoch(x)`: seconds (DOUBLE) of a time since 1970, or of an interval (a time
    difference, `a - b`), with the microseconds."""
    value = node.this
    if isinstance(value, exp.Sub):  # an interval: the time it leads to from the epoch
        value = _spark("TIMESTAMP_NTZ'1970-01-01 00:00:00' + (__i)", i=value)
    # a DOUBLE, as DuckDB's (`/ 1000000.0` made a DECIMAL: `9.000000000` in a text, rounded otherwise)
    seconds = _spark("CAST(unix_micros(CAST(__t AS TIMESTAMP_LTZ)) AS DOUBLE) / 1000000", t=value)
    seconds.meta["double"] = True
    return seconds


# DuckDB rounds a DOUBLE half away from zero on the exact product `x * 10^n` (`round(0.85, 1)` is
# 0.8: 0.85 is 0.8499999… in binary; `round(1.25, 1)` 1.3); Spark on the decimal it prints, half up
# (0.9). The product's rounding error (Dekker's exact product: each factor split in halves of 26
# bits) says which side of a tie the exact product lies.
_SPLIT = "(134217729.0D * (__a) - (134217729.0D * (__a) - (__a)))"
_XH, _MH = _SPLIT.replace("__a", "__x"), _SPLIT.replace("__a", "__m")
_ERROR = (
    f"((({_XH} * {_MH} - (__p)) + {_XH} * ((__m) - {_MH})) + ((__x) - {_XH}) * {_MH})"
    f" + ((__x) - {_XH}) * ((__m) - {_MH})"
)
_HALF_AWAY = f"""CASE WHEN (__p) - floor(__p) = 0.5D
    THEN CASE WHEN {_ERROR} > 0 OR ({_ERROR} = 0 AND (__p) > 0) THEN ceil(__p) ELSE floor(__p) END
    ELSE rint(__p) END / (__m)"""


def _round(node: exp.Round) -> exp.Expr:
    """`round(x, n)` of a DOUBLE (here: of seconds from `epoch`) as DuckDB rounds it (`_HALF_AWAY`)."""
    if not any(n.meta.get("double") for n in node.this.walk()):
        return node
    places = node.args.get("decimals") or exp.Literal.number(0)
    scale = _spark("power(10, __n)", n=places)
    product = _spark("((__x) * (__m))", x=node.this, m=scale)
    return _spark(f"CAST({_HALF_AWAY} AS DOUBLE)", p=product, m=scale, x=node.this)


_RANKS = (exp.RowNumber, exp.Rank, exp.DenseRank)


def _window(node: exp.Window) -> exp.Expr:
    """`count(DISTINCT x) OVER w` (Spark has no DISTINCT window aggregate) → the size of the set of
    `x` over the same frame (`collect_set` leaves NULLs out, as count does)."""
    inner = node.this
    if isinstance(inner, exp.ArrayAgg | exp.First):
        return rewrite_around(node)
    if isinstance(inner, _RANKS) and not node.args.get("order") and not node.args.get("alias"):
        window = node.copy()  # `row_number() OVER ()`: rows numbered in no particular order
        window.set("order", exp.Order(expressions=[exp.Ordered(this=exp.Null())]))
        return window
    if isinstance(inner, exp.Count) and isinstance(inner.this, exp.Distinct):
        values = inner.this.expressions
        if len(values) != 1:
            raise NotImplementedError("count(DISTINCT a, b) over a window")
        window = node.copy()
        window.set("this", exp.Anonymous(this="collect_set", expressions=[values[0].copy()]))
        return exp.ArraySize(this=window)
    return node


def _bracket(node: exp.Bracket) -> exp.Expr:
    """DuckDB's `list[i]` (1-based, negative from the end, NULL past either end) is Spark's
    `try_element_at(list, i)`; sqlglot shifts a literal index to Spark's 0-based `[]` but leaves
    `list[r]` as it is (one element off). A text index (`map['k']`, `struct['f']`) is left."""
    if len(node.expressions) != 1:
        return node
    index = node.expressions[0]
    if isinstance(index, exp.Slice) or (isinstance(index, exp.Literal) and index.is_string):
        return node
    if not (
        isinstance(index, exp.Literal) or (isinstance(index, exp.Neg) and isinstance(index.this, exp.Literal))
    ):
        index = exp.cast(index, "INT")  # Spark's index is an INT; the engine's are small
    return exp.Anonymous(this="try_element_at", expressions=[node.this, index])


_REWRITES: dict[type[exp.Expr], Callable[[exp.Expr], exp.Expr]] = {
    exp.JSONType: _json_type,  # type: ignore[dict-item]
    exp.JSONExtractScalar: lambda n: _extract(n, "string"),
    exp.JSONExtract: lambda n: _extract(n, None),
    exp.Cast: _cast,  # type: ignore[dict-item]
    exp.TryCast: _cast,  # type: ignore[dict-item]
    exp.Anonymous: _anonymous,  # type: ignore[dict-item]
    exp.Try: lambda n: n.this,
    exp.FromBase64: lambda n: _spark(
        f"CASE WHEN __x RLIKE '{_B64.replace(chr(92), chr(92) * 2)}' THEN unbase64(__x) END", x=n.this
    ),
    exp.Decode: lambda n: _spark("try_validate_utf8(CAST(__b AS STRING))", b=n.this),
    exp.RegexpFullMatch: _regexp_full_match,  # type: ignore[dict-item]
    exp.FromJson: _from_json,  # type: ignore[dict-item]
    exp.JSONObject: _json_object,  # type: ignore[dict-item]
    exp.RegexpReplace: _regexp_replace,  # type: ignore[dict-item]
    exp.DateBin: _date_bin,  # type: ignore[dict-item]
    exp.IgnoreNulls: _ignore_nulls,  # type: ignore[dict-item]
    exp.TimeToStr: _strftime,  # type: ignore[dict-item]
    exp.TimeToUnix: _epoch,
    exp.Round: _round,  # type: ignore[dict-item]
    exp.ToDays: lambda n: _spark("make_dt_interval(__n)", n=n.this),
    exp.Bracket: _bracket,  # type: ignore[dict-item]
    exp.Window: _window,  # type: ignore[dict-item]
    exp.DayOfWeekIso: lambda n: _spark("(weekday(__t) + 1)", t=n.this),
    exp.DayOfWeek: lambda n: _spark("(dayofweek(__t) - 1)", t=n.this),
    exp.ArrayAgg: rewrite_aggregate,
    exp.First: rewrite_aggregate,
    exp.Filter: rewrite_around,
    exp.ArrayOverlaps: lambda n: exp.Anonymous(this="arrays_overlap", expressions=[n.this, n.expression]),
    exp.Format: _format,  # type: ignore[dict-item]
    exp.RegexpLike: _regex_arg,
    exp.RegexpExtract: _regex_arg,
    exp.RegexpSplit: _regex_arg,
    exp.UnixToTime: lambda n: _spark("CAST(timestamp_micros(__m) AS TIMESTAMP_NTZ)", m=n.this),
}


def _zipped_unnests(node: exp.Select) -> exp.Expr:
    """`SELECT unnest(a) AS x, unnest(b) AS y`: DuckDB puts the lists side by side (the shorter
    padded with NULLs), Spark's two EXPLODEs make every pair → `inline(arrays_zip(a, b)) AS (x, y)`,
    which pads alike."""
    at = [
        i
        for i, e in enumerate(node.expressions)
        if isinstance(e, exp.Alias) and isinstance(e.this, exp.Explode)
    ]
    if len(at) < 2:
        return node
    if at != list(range(at[0], at[0] + len(at))):
        raise NotImplementedError("unnest() beside other columns in a SELECT, not side by side")
    unnests = [node.expressions[i] for i in at]
    zipped = exp.Anonymous(this="arrays_zip", expressions=[u.this.this.copy() for u in unnests])
    inline = exp.Aliases(
        this=exp.Anonymous(this="inline", expressions=[zipped]),
        expressions=[exp.to_identifier(u.alias) for u in unnests],
    )
    columns = node.expressions[: at[0]] + [inline] + node.expressions[at[-1] + 1 :]
    node.set("expressions", columns)
    return node


_REWRITES[exp.Select] = _zipped_unnests  # type: ignore[assignment]


def _rewrite(node: exp.Expr) -> exp.Expr:
    rule = _REWRITES.get(type(node))
    return rule(node) if rule else node


def _placeholder(node: exp.Placeholder) -> exp.Expr:
    """`$1` (a bound parameter, `con._named_params`) → Spark's named `:p1`."""
    if node.this and str(node.this).isdigit():
        return exp.Placeholder(this=f"p{node.this}")
    return node


_REWRITES[exp.Placeholder] = _placeholder  # type: ignore[assignment]


def rewrite(tree: exp.Expr) -> exp.Expr:
    """`tree` (DuckDB, macros expanded) with the rewrites for Spark applied."""
    # bottom-up, so a rewrite sees its arguments already rewritten (`try(from_base64(…))`); what a
    # rewrite makes is Spark already and is not rewritten again
    for node in reversed(list(tree.dfs())):
        new = _rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def to_spark(tree: exp.Expr) -> str:
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def transpile(sql: str, macros: Macros | None = None) -> str:
    """The DuckDB statement `sql` as Spark SQL, its macro calls expanded (`macros`)."""
    tree = sqlglot.parse_one(sql, read=READ)
    if macros is not None:
        tree = macros.expand(tree)
    return to_spark(rewrite(tree))
