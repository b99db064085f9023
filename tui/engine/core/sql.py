"""Quoting for the only SQL text built from data: identifiers and file paths (never filter values)."""

from __future__ import annotations

import re
from pathlib import Path

# DuckDB's file readers take every path as a glob pattern: `*`, `?` and `[…]` match other names.
_GLOB = re.compile(r"[\[*?]")


def ident(name: str) -> str:
    """Quote a column or table name as a DuckDB identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """Quote a string constant (a file path or a JSON path from code) where DuckDB takes no parameter.

    DuckDB string literals do not process backslash escapes, so doubling quotes is complete;
    NUL cannot appear in a path or a JSON key we build.
    """
    if "\x00" in text:
        raise ValueError("NUL in SQL literal")
    return "'" + text.replace("'", "''") + "'"


def file_literal(path: Path | str) -> str:
    """A file path as a DuckDB reader's argument, naming that file and no other.

    DuckDB expands `*`, `?` and `[…]` in every path it reads, even when a file has that very name:
    `export[1].csv` read `export1.csv` instead, and `a?.json` read `a1.json` as well, its rows under
    the first name. Each such character is written as a one-character class (`[[]`, `[*]`, `[?]`),
    which matches only itself; `filename` still reports the path as it is.
    """
    return literal(_GLOB.sub(lambda m: f"[{m.group()}]", str(path)))
