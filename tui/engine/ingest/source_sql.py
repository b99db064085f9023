"""How one source (a column, a member of a JSON column, a `{Name, Value}` list entry, a pattern in a
longer cell) is read as SQL, and the type families the readers tell apart: the layer under the
event fields (`tui.engine.ingest.normalise`) and the time profile (`tui.engine.ingest.time_profile`).

Only identifiers (quoted) and constants from code enter the SQL text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tui.engine.core.sql import ident, literal
from tui.engine.ingest.detect import Source
from tui.engine.ingest.json_reads import JsonReads

TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATETIME", "DATE")
NUMBER_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
    "DOUBLE",
    "FLOAT",
    "REAL",
)
TEXT_TYPES = ("VARCHAR", "JSON")


@dataclass(frozen=True)
class TimeProfile:
    """How a file writes its times, for the analyst and for the parser (day-first locales)."""

    label: str
    dayfirst: bool = False
    # the first time column holds a time of day without a date (a Sentinel portal export's
    # `TimeGenerated`): the date comes from the file's next time column, the nearest day to it
    time_only: bool = False


_STEP = re.compile(r'"[^"]*"|[^.]+')


def json_path(path: str) -> str:
    """`a.b` → `$."a"."b"`, so member names with spaces or dashes stay one step; a quoted step keeps
    its dots (an Azure Activity claim `claims."http://schemas…/upn"`); `0` is a list's first element
    and `*` each of its elements."""
    out = "$"
    for seg in _STEP.findall(path):
        if seg == "*" or seg.isdigit():
            out += f"[{seg}]"
        else:
            out += '."' + seg.strip('"') + '"'
    return out


_NAME_VALUE = literal('[{"Name": "VARCHAR", "Value": "VARCHAR"}]')


def named_sql(text: str, name: str) -> str:
    """The `Value` of the `{Name, Value}` entry called `name` in the list `text` (JSON, or PowerShell's
    `@{Name=…; Value=…}` of a flattened export, either order); NULL when it has none."""
    lowered = literal(name.lower())
    entry = f"list_filter(from_json({text}, {_NAME_VALUE}), lambda p: lower(p.Name) = {lowered})"
    listed = f"try({entry}[1].Value)"
    key = re.escape(name)
    shell = (
        f"coalesce(nullif(regexp_extract({text}, {literal(f'(?i)@{{Name={key}; Value=([^}}]*)}}')}, 1), ''), "
        f"nullif(regexp_extract({text}, {literal(f'(?i)@{{Value=([^}}]*?); Name={key}}}')}, 1), ''))"
    )
    return f"coalesce({listed}, CASE WHEN contains({text}, 'Name=') THEN {shell} END)"


def source_sql(src: Source, types: Mapping[str, str], reads: JsonReads | None = None) -> str:
    """The value of one source; a JSON path reads the column's JSON text (NULL when it is not JSON).

    With `reads`, a member is taken from the column's list of members (`JsonReads`) instead of a
    parse of its own."""
    column = ident(src.column)
    if src.when is not None:
        sibling = text_sql(source_sql(Source(src.when[0], src.when[1]), types, reads))
        value = source_sql(dataclasses.replace(src, when=None), types, reads)
        allowed = ", ".join(literal(v) for v in src.when[2])
        return f"CASE WHEN {sibling} IN ({allowed}) THEN {value} END"
    if src.named is not None:
        listed = source_sql(Source(src.column, src.path), types, reads)
        return named_sql(f"CAST({listed} AS VARCHAR)", src.named)
    if src.extract is not None:
        inner = source_sql(Source(src.column, src.path), types, reads)
        return f"nullif(regexp_extract(CAST({inner} AS VARCHAR), {literal(src.extract)}, 1), '')"
    if src.path is None:
        return column
    typ = types.get(src.column, "VARCHAR").upper()
    text = column if typ in TEXT_TYPES else f"to_json({column})"
    path = json_path(src.path)
    if reads is not None and "*" not in path:  # DuckDB reads several paths at once only without wildcards
        return reads.member(src.column, text, path)
    return f"try(json_extract_string({text}, {literal(path)}))"


def json_text_sql(src: Source, types: Mapping[str, str], reads: JsonReads | None = None) -> str:
    """A source's value as JSON text: a nested column (Graph JSON read as STRUCT lists) as JSON; a
    path through each element of a list (`targetResources.*.modifiedProperties.*`) as one JSON list
    of what it reaches (NULL when that is empty)."""
    if src.path is not None and "*" in src.path.split("."):
        typ = types.get(src.column, "VARCHAR").upper()
        text = ident(src.column) if typ in TEXT_TYPES else f"to_json({ident(src.column)})"
        found = f"try(CAST(to_json(json_extract({text}, {literal(json_path(src.path))})) AS VARCHAR))"
        return f"nullif(nullif({found}, '[]'), 'null')"
    value = source_sql(src, types, reads)
    typ = types.get(src.column, "VARCHAR").upper() if src.path is None else "VARCHAR"
    return text_sql(value if typ in TEXT_TYPES else f"to_json({value})")


def text_sql(expr: str) -> str:
    return f"nullif(trim(CAST({expr} AS VARCHAR)), '')"


def long_text_sql(expr: str) -> str:
    """`text_sql` for long, mostly distinct values (URLs): `trim` only runs when an end can be trimmed.

    DuckDB's `trim` strips Unicode space separators (U+0020, U+00A0 and others above U+1680) and costs
    ~0.4 µs on a 70-character URL; reading the first and last code point costs a tenth of that.
    """
    v = f"CAST({expr} AS VARCHAR)"
    ends = f"ord({v}) = 32 OR ord({v}) >= 160 OR ord(substr({v}, -1)) = 32 OR ord(substr({v}, -1)) >= 160"
    return f"nullif(CASE WHEN {ends} THEN trim({v}) ELSE {v} END, '')"


def type_in(typ: str, family: Sequence[str]) -> bool:
    """Whether a DuckDB type name (`DECIMAL(18,3)`, `timestamp`) is one of `family`."""
    base = typ.upper().split("(")[0].strip()
    return base in family


__all__ = [
    "NUMBER_TYPES",
    "TEXT_TYPES",
    "TIMESTAMP_TYPES",
    "TimeProfile",
    "json_path",
    "json_text_sql",
    "long_text_sql",
    "named_sql",
    "source_sql",
    "text_sql",
    "type_in",
]
