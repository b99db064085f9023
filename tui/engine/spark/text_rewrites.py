"""DuckDB's text functions on Spark: regexes (RE2 → Java), `regexp_replace`, `strftime`, `format()`.

Rewrites of `spark.sql`'s transpiler (its docstring lists them all), each for a construct whose
sqlglot translation means something else on Spark:
- `regexp_full_match(x, re)` → `x RLIKE '^(?:re)\\z'` (RLIKE finds; `\\z` is the end, `$` would
  allow a trailing newline); RLIKE / regexp_extract / regexp split patterns translated (`java_regex`);
- `regexp_replace` without `'g'` replacing the first match only, as DuckDB's does (Spark's replaces
  every match), its replacement's `\\1` as Java's `$1`;
- `strftime(t, fmt)` → `date_format` with the pattern translated, literal text quoted
  (`java_time_format`); `format('{} …', …)` → `format_string('%s …', CAST(… AS STRING))`, NULL
  when an argument is (DuckDB's).

Imports nothing of the engine.
"""

from __future__ import annotations

import re

from sqlglot import exp


def _regexp_full_match(node: exp.RegexpFullMatch) -> exp.Expr:
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        anchored: exp.Expr = exp.Literal.string(f"^(?:{java_regex(pattern.this)})\\z")
    else:
        anchored = exp.Concat(
            expressions=[exp.Literal.string("^(?:"), pattern, exp.Literal.string(")\\z")], safe=True
        )
    return exp.RegexpLike(this=node.this, expression=anchored)


_RE2_SPACE = "\t\n\f\r "  # RE2's `\s` (DuckDB's regexes); Java's also holds \x0b


def java_regex(pattern: str) -> str:
    r"""An RE2 pattern (DuckDB) as the Java pattern (Spark) that matches the same: `\s` is spelled out
    (Java's includes the vertical tab) and `(?P<name>` is Java's `(?<name>`."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "s":
                out.append(_RE2_SPACE if in_class else f"[{_RE2_SPACE}]")
            elif nxt == "S" and not in_class:
                out.append(f"[^{_RE2_SPACE}]")
            elif nxt == "S":
                raise NotImplementedError(f"\\S inside a character class: {pattern}")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":  # a `]` first in a class is itself
                out.append("]")
                i += 1
        elif c == "]" and in_class:
            in_class = False
            out.append(c)
        elif pattern.startswith("(?P<", i) and not in_class:
            out.append("(?<")
            i += 4
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _pattern(node: exp.Expr, where: str) -> str:
    if not (isinstance(node, exp.Literal) and node.is_string):
        raise NotImplementedError(f"a {where} pattern that is not a literal: {node.sql('duckdb')}")
    return java_regex(node.this)


def _java_replacement(text: str, shift: int = 0) -> str:
    """A DuckDB replacement (`\\1` a group, `\\\\` a backslash) as Java's (`$1`, `\\$` a dollar)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(f"${int(nxt) + shift}" if nxt.isdigit() else "\\" + nxt)
            i += 2
            continue
        out.append("\\$" if c == "$" else c)
        i += 1
    return "".join(out)


def _regexp_replace(node: exp.RegexpReplace) -> exp.Expr:
    flags = node.args.get("modifiers")
    flag_text = flags.this if isinstance(flags, exp.Literal) else ""
    if flags is not None and not isinstance(flags, exp.Literal) or set(flag_text) - set("gi"):
        raise NotImplementedError(f"regexp_replace options {flags.sql('duckdb') if flags else ''}")
    pattern = ("(?i)" if "i" in flag_text else "") + _pattern(node.expression, "regexp_replace")
    replacement = node.args["replacement"]
    if not (isinstance(replacement, exp.Literal) and replacement.is_string):
        raise NotImplementedError("a regexp_replace replacement that is not a literal")
    if "g" in flag_text:  # every match
        return exp.RegexpReplace(
            this=node.this,
            expression=exp.Literal.string(pattern),
            replacement=exp.Literal.string(_java_replacement(replacement.this)),
        )
    # DuckDB replaces the first match only; Spark every one: the text before the first match is
    # kept as group 1 (the shortest prefix, so the match found is the leftmost, as DuckDB's)
    return exp.RegexpReplace(
        this=node.this,
        expression=exp.Literal.string(f"^([\\s\\S]*?)(?:{pattern})"),
        replacement=exp.Literal.string("$1" + _java_replacement(replacement.this, shift=1)),
    )


def _regex_arg(node: exp.Expr) -> exp.Expr:
    """RLIKE / regexp_extract / regexp split: the pattern as Java's."""
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        node.set("expression", exp.Literal.string(java_regex(pattern.this)))
        return node
    raise NotImplementedError(f"a regex pattern that is not a literal: {pattern.sql('duckdb')}")


_STRFTIME = {
    "Y": "yyyy",
    "m": "MM",
    "d": "dd",
    "H": "HH",
    "M": "mm",
    "S": "ss",
    "f": "SSSSSS",
    "y": "yy",
    "b": "MMM",
    "a": "EEE",
    "B": "MMMM",
    "A": "EEEE",
    "j": "DDD",
    "I": "hh",
    "p": "a",
}


# Parsing (`try_strptime`), DuckDB reads a month, day, hour, minute or second of one digit or two
# (Purview's `6/1/2023 4:05:03 AM`); Spark's `MM` reads two only, its `M` one or two
_PARSE = {"m": "M", "d": "d", "H": "H", "I": "h", "M": "m", "S": "s"}


def java_time_format(fmt: str, parse: bool = False) -> str:
    """A strftime format (DuckDB) as a Spark datetime pattern: codes mapped, other text quoted.
    `parse`: for reading text (`_PARSE`), where a number's field is followed by other text."""
    out: list[str] = []
    text: list[str] = []
    i = 0

    def flush() -> None:
        if text:
            out.append("'" + "".join(text).replace("'", "''") + "'")
            text.clear()

    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code == "%":
                text.append("%")
            elif code in _STRFTIME:
                flush()
                follows = fmt[i + 2 : i + 3]
                lenient = parse and code in _PARSE and follows != "%"  # `%m%d` stays two digits each
                out.append(_PARSE[code] if lenient else _STRFTIME[code])
            else:
                raise NotImplementedError(f"strftime %{code}")
            i += 2
            continue
        text.append(fmt[i])
        i += 1
    flush()
    return "".join(out)


def _strftime(node: exp.TimeToStr) -> exp.Expr:
    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise NotImplementedError("strftime with a format that is not a literal")
    pattern = exp.Literal.string(java_time_format(fmt.this))
    return exp.Anonymous(this="date_format", expressions=[node.this, pattern])


_FORMAT_FIELD = re.compile(r"\{(:[^}]*)?\}")


def _constant_text(node: exp.Expr) -> exp.Literal | None:
    """A string literal, or literals joined with `||` / concat(), as one literal."""
    if isinstance(node, exp.Literal) and node.is_string:
        return node
    if isinstance(node, exp.Paren):
        return _constant_text(node.this)
    parts = node.expressions if isinstance(node, exp.Concat) else None
    if isinstance(node, exp.DPipe):
        parts = [node.this, node.expression]
    if parts is None:
        return None
    texts = [_constant_text(p) for p in parts]
    if any(t is None for t in texts):
        return None
    return exp.Literal.string("".join(t.this for t in texts if t is not None))


def _format(node: exp.Format) -> exp.Expr:
    """DuckDB's `format('… {} …', a, …)` (NULL when an argument is NULL; `{}` a value as text,
    `{:,}` an integer with thousands separators, `{:.1f}` a fixed-point number) as `format_string`."""
    fmt = _constant_text(node.this)
    if fmt is None:
        raise NotImplementedError(f"format() with a format that is not a literal: {node.this.sql()}")
    args = list(node.expressions)
    specs = [m.group(1) for m in _FORMAT_FIELD.finditer(fmt.this)]
    if len(specs) != len(args):
        raise NotImplementedError(f"format({fmt.this!r}) with {len(args)} arguments")
    java: list[exp.Expr] = []
    for spec, arg in zip(specs, args, strict=True):
        if spec is None:
            java.append(exp.cast(arg.copy(), "STRING"))  # DuckDB's text of a value, as a cast gives it
        elif spec in (":,", ":.1f", ":.2f", ":d"):
            java.append(arg.copy())
        else:
            raise NotImplementedError(f"format field {{{spec}}}")
    pieces = {None: "%s", ":,": "%,d", ":.1f": "%.1f", ":.2f": "%.2f", ":d": "%d"}
    text = _FORMAT_FIELD.sub(lambda m: pieces[m.group(1)], fmt.this.replace("%", "%%"))
    call = exp.Anonymous(this="format_string", expressions=[exp.Literal.string(text), *java])
    if not args:
        return call
    any_null = exp.or_(*[exp.Is(this=a.copy(), expression=exp.Null()) for a in args])
    return exp.Case(ifs=[exp.If(this=any_null, true=exp.Null())], default=call)
