"""The filter language of SPEC §5, compiled to a parameterised DuckDB `WHERE` clause.

Grammar: space-separated terms, all of which must hold.

    field:text      contains, case-insensitive (any column, compared as text)
    field=value     equals (case-insensitive for text; a time of day/minute/second precision
                    matches that whole day/minute/second)
    field!=value    not equal (rows where the field is null count as not equal)
    field>value  field<value  field>=value  field<=value
                    times, numbers and severities (a text column with a numeric value is
                    compared as a number, e.g. `status>=400`)
    -term           exclude: any field term or bare word prefixed with `-`
    word            bare word: any text column contains it, case-insensitive
    field > value   spaces around a comparison (not `:`) are allowed: `uses > 100`, `user = bob`
    "two words"     double quotes keep spaces; `\\"` and `\\\\` escape inside them; unquoted values
                    run to the next space (so quote bare words that contain `:` or `=`), except
                    that a date followed by a clock time reads as one time: `ts>=2023-06-01 04:00`
    field=  field:""    the field is null or empty

Severities compare by rank, info < low < medium < high < critical, and an unflagged row (null)
ranks below info. Times are `2023-06-01`, `2023-06-01T04:00`, `2023-06-01 04:00:00Z` or with an
offset (`+02:00`), converted to UTC; a date alone means midnight UTC. List columns (`VARCHAR[]`)
match when any element matches. Field names are those of the caller's allow-list plus the aliases
in `ALIASES` and `code` (`code=INBOX_RULE`: one of the row's `;`-joined `indicators`); a column
typed `SEVERITY` (or a VARCHAR column named `severity`) holds severity
names. User values reach SQL only as `?` parameters; identifiers only from the allow-list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

from tui.engine.core.safe import inert

SEVERITIES = ("info", "low", "medium", "high", "critical")
ALIASES = {
    "sev": "severity",
    "ip": "client_ip",
    "app": "app_id",
    "mbx": "mailbox",
    "ua": "user_agent",
    "op": "operation",
    "time": "ts",
}
# `code=INBOX_RULE`: one of the `;`-joined codes of a row's `indicators` (every pane has them), where
# `indicators=INBOX_RULE` would ask for that code alone and `indicators:INBOX` for a part of one
CODE_FIELD = "code"
OPERATORS = ("!=", ">=", "<=", "=", ":", ">", "<")
_ORDERING = (">", "<", ">=", "<=")

_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(!=|>=|<=|=|:|>|<)")
# `uses > 100`, `ts >= 2023-06-01`, `user = bob`: a comparison written with spaces, as in SQL (`:`
# is not: `user: x` keeps meaning "user is empty" and the word x)
_SPACED_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s+(!=|>=|<=|=|>|<)\s*(?=\S)")
_SPACED_VALUE = re.compile(r"\s+(?=\S)")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?)?"
    r"(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CLOCK = re.compile(
    r" ([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?(?:Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?)(?=\s|$)"
)
_NUMERIC_TYPES = re.compile(
    r"(U?(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT)|FLOAT|REAL|DOUBLE|DECIMAL|NUMERIC)\b"
)
_SEVERITY_RANK = (
    "coalesce(CASE lower({e}) WHEN 'info' THEN 1 WHEN 'low' THEN 2 WHEN 'medium' THEN 3 "
    "WHEN 'high' THEN 4 WHEN 'critical' THEN 5 END, 0)"
)
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


class FilterError(ValueError):
    """The one error a filter raises: a message fit to show inline and where in the text it is."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Term:
    """One term as written: `field` is None for a bare word; `start`/`end` index the filter text."""

    field: str | None
    op: str
    value: str
    negate: bool = False
    start: int = 0
    end: int = 0

    def describe(self) -> str:
        """The term in canonical filter syntax (re-parses to the same term)."""
        sign = "-" if self.negate else ""
        if self.field is None:
            return sign + quote(self.value, bare=True)
        return f"{sign}{self.field}{self.op}{quote(self.value)}"

    def chip(self) -> str:
        """The term as a chip label, control characters shown inert."""
        return inert(self.describe()).replace("\n", "\\n").replace("\t", "\\t")


@dataclass(frozen=True)
class Compiled:
    """A filter ready for `WHERE (...)`: SQL with `?` placeholders and the values in order."""

    where: str
    params: tuple[object, ...]
    terms: tuple[Term, ...]


def quote(value: str, *, bare: bool = False) -> str:
    """Quote a value only when it would otherwise not read back as itself."""
    needs = (
        value == ""
        or value.startswith('"')
        or any(c.isspace() for c in value)
        # `user>` + `=x` would read as `user>=x`; a bare `>` would join the word before it (`uses > 5`)
        or value[0] in "=!<>"
        or (bare and (value.startswith("-") or _FIELD.match(value) is not None))
    )
    if not needs:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_terms(text: str) -> tuple[Term, ...]:
    """Split filter text into terms (syntax only; field names are checked by `compile_filter`)."""
    terms: list[Term] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return tuple(terms)
        start = i
        negate = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        j = i + 1 if negate else i
        m = _FIELD.match(text, j) or _SPACED_FIELD.match(text, j)
        field, op = (m.group(1).lower(), m.group(2)) if m else (None, ":")
        at = m.end() if m else j
        if m and op in _ORDERING and (gap := _SPACED_VALUE.match(text, at)):
            at = gap.end()  # `uses> 100` as `uses>100` (an ordering needs a value)
        value, i = _read_value(text, at)
        clock = _CLOCK.match(text, i) if m and _DATE.fullmatch(value) else None
        if clock:  # `ts>=2023-06-01 04:00` reads as one time, as an analyst would mean it
            value, i = f"{value} {clock.group(1)}", clock.end()
        if field is None and value == "":
            raise FilterError("empty search word", start)
        terms.append(Term(field, op, value, negate, start, i))


def _read_value(text: str, i: int) -> tuple[str, int]:
    """Read an unquoted value up to the next space, or a double-quoted one with escapes."""
    n = len(text)
    if i >= n or text[i] != '"':
        j = i
        while j < n and not text[j].isspace():
            j += 1
        return text[i:j], j
    out: list[str] = []
    j = i + 1
    while j < n:
        c = text[j]
        if c == "\\" and j + 1 < n and text[j + 1] in '"\\':
            out.append(text[j + 1])
            j += 2
        elif c == '"':
            if j + 1 < n and not text[j + 1].isspace():
                raise FilterError("expected a space after the closing quote", j + 1)
            return "".join(out), j + 1
        else:
            out.append(c)
            j += 1
    raise FilterError("unterminated quote", i)


def compile_filter(
    text: str, columns: Mapping[str, str], lower_case: frozenset[str] = frozenset()
) -> Compiled:
    """Compile filter text against an allow-list of columns (name → DuckDB type).

    `lower_case` names text columns whose values are all lower-case already (the engine's
    `LOWER_CASE_FIELDS`): `=` and `:` on them lower only the value, not every row (10M events:
    ip= 107 ms -> 38 ms a count)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FilterError("filter contains text that is not valid Unicode", exc.start) from None
    names = {name.lower(): name for name in columns}
    aliases = {a: t for a, t in ALIASES.items() if t in columns and a not in names}
    text_columns = [c for c, t in columns.items() if _kind(c, t).split(":")[-1] in ("text", "severity")]
    parts: list[str] = []
    params: list[object] = []
    terms: list[Term] = []
    for term in parse_terms(text):
        if term.field is None:
            if not text_columns:
                raise FilterError("no text columns to search", term.start)
            word = replace(term, op=":")
            conds = [_condition(_ident(c), _kind(c, columns[c]), word, term.start, 0) for c in text_columns]
            sql = "(" + " OR ".join(cond for cond, _ in conds) + ")"
            values = [v for _, vs in conds for v in vs]
        elif term.field == CODE_FIELD and CODE_FIELD not in names and "indicators" in names:
            sql, values = _code_condition(_ident(names["indicators"]), term, term.start + term.negate)
        else:
            column = names.get(term.field) or aliases.get(term.field)
            if column is None:
                code = [CODE_FIELD] if "indicators" in names else []
                valid = ", ".join(sorted([*names, *aliases, *code]))
                raise FilterError(f"unknown field '{term.field}' (fields: {valid})", term.start + term.negate)
            value_at = term.start + term.negate + len(term.field) + len(term.op)
            term = replace(term, field=column)
            kind = _kind(column, columns[column])
            # `severity` is derived from a stored `sev_rank` (0 = none) wherever both exist: comparing
            # the integer skips a CASE over every row (10M events: severity>=high 225 ms -> ~3 ms).
            rank = 'coalesce("sev_rank", 0)' if kind == "severity" and _is_rank(columns, names) else None
            lower = column in lower_case and kind == "text"
            sql, values = _condition(_ident(column), kind, term, value_at, 0, rank=rank, lower=lower)
        if term.negate != (term.op == "!="):
            sql = f"(({sql}) IS NOT TRUE)"
        parts.append(sql)
        params.extend(values)
        terms.append(term)
    where = " AND ".join(parts) if parts else "TRUE"
    return Compiled(where, tuple(params), tuple(terms))


def _code_condition(expr: str, term: Term, at: int) -> tuple[str, list[object]]:
    """`code=X` / `code!=X`: X is (not) one of the row's codes; `code:X`: a code contains X."""
    if term.op in _ORDERING:
        raise FilterError(f"'{term.op}' compares times, numbers and severities; code is a code", at)
    if term.value == "":
        return f"({expr} IS NULL OR {expr} = '')", []
    if term.op == ":":
        return f"contains(lower({expr}), lower(?))", [term.value]
    return f"contains(';' || upper({expr}) || ';', ';' || upper(?) || ';')", [term.value.strip()]


def add_term(text: str, field: str, op: str, value: object, *, negate: bool = False) -> str:
    """Append `field op value` to the filter text, quoting the value when needed (the `f`/`x` keys)."""
    if op not in OPERATORS:
        raise FilterError(f"unknown operator '{op}' (operators: {' '.join(OPERATORS)})")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field):
        raise FilterError(f"field '{field}' cannot be named in a filter")
    term = Term(field, op, format_value(value), negate).describe()
    return f"{text.strip()} {term}".strip()


def remove_term(text: str, index: int) -> str:
    """The filter text without its `index`-th term, the others kept as the analyst wrote them."""
    terms = parse_terms(text)
    if not 0 <= index < len(terms):
        raise IndexError(f"no term {index} in a filter of {len(terms)} terms")
    return " ".join(text[t.start : t.end] for k, t in enumerate(terms) if k != index)


def format_value(value: object) -> str:
    """A cell value as filter text: times in UTC ISO form, null as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ident(name: str) -> str:
    """Quote an allow-listed identifier for SQL."""
    return '"' + name.replace('"', '""') + '"'


def _kind(name: str, dtype: str) -> str:
    """Classify a DuckDB type: text, number, time, timetz, bool, severity or other, `list:` prefixed."""
    t = dtype.strip().upper()
    if t.endswith("[]"):
        return "list:" + _kind(name, t[:-2])
    if t == "SEVERITY" or (t == "VARCHAR" and name.lower() == "severity"):
        return "severity"
    if t in ("VARCHAR", "TEXT", "STRING") or t.startswith("VARCHAR("):
        return "text"
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return "timetz"
    if t.startswith(("TIMESTAMP", "DATETIME")) or t == "DATE":
        return "time"
    if t in ("BOOLEAN", "BOOL"):
        return "bool"
    if _NUMERIC_TYPES.match(t):
        return "number"
    return "other"


def _is_rank(columns: Mapping[str, str], names: Mapping[str, str]) -> bool:
    """Whether the allow-list has an integer `sev_rank` column (the pane tables and events do)."""
    name = names.get("sev_rank")
    return name is not None and _kind(name, columns[name]) == "number"


def _condition(
    expr: str, kind: str, term: Term, at: int, depth: int, *, rank: str | None = None, lower: bool = False
) -> tuple[str, list[object]]:
    """SQL for one field term (before negation) over `expr` of the given kind, and its values;
    `rank` is the severity's rank as SQL when a column holds it; `lower`: the column is lower-case."""
    op, value, field = term.op, term.value, term.field
    as_text = expr if kind in ("text", "severity") else f"CAST({expr} AS VARCHAR)"
    if value == "":
        if op in _ORDERING:
            raise FilterError(f"'{op}' needs a value", at)
        if kind.startswith("list:"):
            return f"({expr} IS NULL OR len({expr}) = 0)", []
        if kind in ("text", "severity", "other"):
            return f"({expr} IS NULL OR {as_text} = '')", []
        return f"({expr} IS NULL)", []
    if kind.startswith("list:"):
        var = f"_e{depth}"
        inner, values = _condition(var, kind[5:], term, at, depth + 1)
        return f"(len(list_filter({expr}, lambda {var}: {inner})) > 0)", values
    if op == ":":
        return f"contains({as_text if lower else f'lower({as_text})'}, lower(?))", [value]
    sql_op = "=" if op == "!=" else op
    if kind == "severity":
        if value.lower() not in SEVERITIES:
            raise FilterError(f"{field} must be one of {', '.join(SEVERITIES)}", at)
        ranked = rank or _SEVERITY_RANK.format(e=expr)
        return f"({ranked} {sql_op} ?)", [SEVERITIES.index(value.lower()) + 1]
    if kind in ("time", "timetz"):
        low, high = _parse_time(value, at, aware=kind == "timetz")
        if sql_op == "=":
            return f"({expr} >= ? AND {expr} <= ?)", [low, high]
        return f"({expr} {sql_op} ?)", [low]
    if kind == "number":
        return f"({expr} {sql_op} ?)", [_parse_number(value, field, at)]
    if kind == "bool":
        if value.lower() not in _TRUE + _FALSE:
            raise FilterError(f"{field} must be true or false", at)
        return f"({expr} {sql_op} ?)", [value.lower() in _TRUE]
    if sql_op == "=":
        return f"({as_text if lower else f'lower({as_text})'} = lower(?))", [value]
    if _NUMBER.fullmatch(value):
        return f"(TRY_CAST({as_text} AS DOUBLE) {sql_op} ?)", [float(_parse_number(value, field, at))]
    raise FilterError(f"'{op}' compares times, numbers and severities; {field} is text", at - len(op))


def _parse_number(value: str, field: str | None, at: int) -> int | float:
    """A number the way DuckDB can bind it: int within 64 bits, else a finite float."""
    if not _NUMBER.fullmatch(value):
        raise FilterError(f"{field} expects a number, got '{inert(value)}'", at)
    try:
        if re.fullmatch(r"[+-]?[0-9]{1,38}", value):
            return int(value)
        number = float(value)
    except ValueError:
        number = math.inf
    if not math.isfinite(number):
        raise FilterError(f"number out of range '{inert(value)}'", at)
    return number


def _parse_time(value: str, at: int, *, aware: bool) -> tuple[datetime, datetime]:
    """The UTC instant a time names and the last instant of its precision (day, minute, second)."""
    m = _TIME.fullmatch(value)
    bad = FilterError(f"bad time '{inert(value)}'", at)
    if not m:
        raise bad
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    step = (
        timedelta(days=1)
        if hour is None
        else timedelta(minutes=1)
        if second is None
        else timedelta(seconds=1)
        if fraction is None
        else timedelta(microseconds=1)
    )
    tz = timezone.utc
    if offset and offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        if delta >= timedelta(hours=24):
            raise bad
        tz = timezone(delta if offset[0] == "+" else -delta)
    try:
        local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        low = (local.replace(microsecond=micro, tzinfo=tz)).astimezone(timezone.utc)
        high = low + (step - timedelta(microseconds=1))
    except (ValueError, OverflowError):
        raise bad from None
    if aware:
        return low, high
    return low.replace(tzinfo=None), high.replace(tzinfo=None)
