"""Quoting for the only SQL text built from data: identifiers and file paths (never filter values)."""

from __future__ import annotations


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
